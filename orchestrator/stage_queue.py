"""Backpressure: stage calls waiting for a busy stage, first come, first served.

A stage server at its job-slot limit answers RESOURCE_EXHAUSTED. That is not a failure: the call waits in this
stage's queue. Only the call at the head retries, after a jittered backoff (`busy_backoff_s` doubling up to
`busy_backoff_max_s`) or at once when a call of this stage ends (a slot was freed); the others wait behind
it. So a freed slot goes to the job that has waited longest (fair across jobs), and a busy stage sees one retry
at a time from the orchestrator, not one per waiting job. The queue holds at most one call per running job
(the graph is a chain), so it is bounded by `MSHOT_MAX_RUNNING_JOBS`. A call that has waited `max_wait_s`
(`MSHOT_STAGE_QUEUE_MAX_WAIT_S`, default 1 hour) fails its job with RESOURCE_EXHAUSTED.

Every call goes through the queue (`enter` ... `admitted`): a newcomer reaching a stage that others already
wait for queues behind them instead of taking the next free slot.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from mshot.backoff import Backoff
from mshot.errors import Cancelled, ResourceExhausted

POLL_S = 0.5  # how often a waiting call looks at its job's cancellation


@dataclass(eq=False)
class Ticket:
    job_id: str
    entered: float  # monotonic seconds
    backoff: Backoff
    not_before: float = 0.0  # monotonic: the head does not retry before this ...
    woken: bool = False  # ... unless a slot was freed meanwhile
    refusals: int = 0  # RESOURCE_EXHAUSTED answers so far
    admitted: bool = False  # the stage accepted the call; the ticket has left the queue
    admitted_at: float = 0.0  # monotonic

    @property
    def waited_s(self) -> float:
        return time.monotonic() - self.entered


@dataclass
class StageQueue:
    stage: str
    busy_backoff_s: float
    busy_backoff_max_s: float
    max_wait_s: float
    _waiting: deque = field(default_factory=deque)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    in_flight: int = 0  # calls of this stage the stage has accepted and not finished

    def depth(self) -> int:
        """Calls waiting (not yet accepted by the stage)."""
        with self._changed:
            return len(self._waiting)

    def enter(self, job_id: str) -> Ticket:
        ticket = Ticket(job_id, time.monotonic(), Backoff(self.busy_backoff_s, self.busy_backoff_max_s))
        with self._changed:
            self._waiting.append(ticket)
        return ticket

    def position(self, ticket: Ticket) -> int:
        """Calls ahead of `ticket` (0: it is next)."""
        with self._changed:
            return self._waiting.index(ticket) if ticket in self._waiting else 0

    def wait_turn(self, ticket: Ticket, cancelled: threading.Event) -> None:
        """Block until `ticket` is at the head and its backoff has passed or a slot was freed. Raises
        Cancelled when the job is cancelled, ResourceExhausted after `max_wait_s` in the queue."""
        with self._changed:
            while True:
                if cancelled.is_set():
                    raise Cancelled("cancelled by request")
                now = time.monotonic()
                left = self.max_wait_s - (now - ticket.entered)
                if left <= 0:
                    raise ResourceExhausted(
                        f"the {self.stage} stage stayed busy for {self.max_wait_s:.0f} s "
                        f"(MSHOT_STAGE_QUEUE_MAX_WAIT_S); {ticket.refusals} tries refused with RESOURCE_EXHAUSTED")
                head = self._waiting[0] is ticket
                if head and (ticket.woken or now >= ticket.not_before):
                    ticket.woken = False
                    return
                wait = min(POLL_S, left, max(ticket.not_before - now, 0.0) if head else POLL_S)
                self._changed.wait(wait)

    def refused(self, ticket: Ticket) -> None:
        """The stage answered RESOURCE_EXHAUSTED: back off before the next try."""
        with self._changed:
            ticket.refusals += 1
            ticket.not_before = time.monotonic() + ticket.backoff.next_delay()

    def admitted(self, ticket: Ticket) -> None:
        """The stage accepted the call: it leaves the queue and the next call tries at once."""
        with self._changed:
            ticket.admitted, ticket.admitted_at = True, time.monotonic()
            self.in_flight += 1
            self._leave(ticket)

    def finished(self) -> None:
        """An accepted call ended (any outcome): its slot is free, the head tries at once."""
        with self._changed:
            self.in_flight -= 1
            self._wake_head()

    def abandon(self, ticket: Ticket) -> None:
        """A waiting call gives up (its job was cancelled or failed)."""
        with self._changed:
            self._leave(ticket)

    def _leave(self, ticket: Ticket) -> None:
        if ticket in self._waiting:
            self._waiting.remove(ticket)
            self._wake_head()

    def _wake_head(self) -> None:
        if self._waiting:
            self._waiting[0].woken = True
        self._changed.notify_all()
