"""One stage of one job: wait for the stage in its queue, call it over gRPC, record progress and the result.

Outcomes of a call:
- RESOURCE_EXHAUSTED before the stage accepted the call (all its slots busy): not a failure; the call waits
  in the stage's queue (orchestrator/stage_queue.py) and tries again when it is its turn.
- UNAVAILABLE or DEADLINE_EXCEEDED (stage down, restarting, handing work back, store unreachable from the
  stage): retried with jittered exponential backoff (MSHOT_STAGE_BACKOFF_S doubling up to
  MSHOT_STAGE_BACKOFF_MAX_S) for MSHOT_STAGE_RETRY_WINDOW_S (default 10 minutes, enough for a pod to be
  rescheduled and load its models) from the first failure; a new window starts only after a call the stage
  ran for at least a window's length (a later, separate incident).
- anything else, or the window passed: the stage and its job fail with the stage's status and message.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from mshot.backoff import Backoff
from mshot.config import OrchestratorConfig
from mshot.errors import Cancelled, MshotError, ResourceExhausted
from mshot.rpc.errors import error_for_code
from mshot.v1 import pipeline_pb2
from orchestrator.graph import StageSpec, available_artifacts
from orchestrator.jobs import JobBook
from orchestrator.stage_queue import StageQueue, Ticket

log = logging.getLogger("mshot.runner")

RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


@dataclass(frozen=True)
class CallFailure:
    """How one call of a stage ended without a result: the gRPC status and its details."""

    code: grpc.StatusCode
    details: str

    @classmethod
    def from_rpc(cls, exc: grpc.RpcError) -> CallFailure:
        return cls(exc.code(), exc.details())


class JobControl:
    """Cancellation of one job: the flag its threads look at and the stage calls in flight."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.calls: set = set()
        self.lock = threading.Lock()

    def cancel(self) -> None:
        self.cancelled.set()
        with self.lock:
            for call in self.calls:
                call.cancel()


class StageCall:
    def __init__(self, book: JobBook, config: OrchestratorConfig, queue: StageQueue, channel: grpc.Channel,
                 job_id: str, spec: StageSpec, control: JobControl):
        self.book, self.config, self.queue, self.channel = book, config, queue, channel
        self.job_id, self.spec, self.control = job_id, spec, control
        self.attempt = 0

    def run(self) -> None:
        """Until the stage is done (returns) or failed for good (raises MshotError / Cancelled)."""
        retry = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        failing_since: float | None = None
        while True:
            ticket = self.queue.enter(self.job_id)
            try:
                failure = self._attempt(ticket)
            finally:
                if not ticket.admitted:
                    self.queue.abandon(ticket)
            if failure is None:
                return
            if self.control.cancelled.is_set():
                self._set_state(pipeline_pb2.STAGE_STATE_CANCELLED, "cancelled")
                raise Cancelled("cancelled by request")
            now = time.monotonic()
            if failing_since is None or (ticket.admitted and now - ticket.admitted_at >= self.config.retry_window_s):
                failing_since = now  # a first failure, or one after a long good run: a new window starts
            delay = self._failed(failure, now - failing_since, retry)
            if self.control.cancelled.wait(delay):
                raise Cancelled("cancelled by request")

    def _attempt(self, ticket: Ticket) -> CallFailure | None:
        """Call until the stage accepts (a busy refusal waits for the next turn in the queue); None when the stage
        is done, else the error that ended the call."""
        while True:
            try:
                self.queue.wait_turn(ticket, self.control.cancelled)
            except ResourceExhausted as exc:
                self._set_state(pipeline_pb2.STAGE_STATE_FAILED, f"RESOURCE_EXHAUSTED: {exc.message}")
                raise
            self.attempt += 1
            try:
                if self._call(ticket):
                    return None
                # a stream that closed without a result is treated as the stage being unavailable
                return CallFailure(grpc.StatusCode.UNAVAILABLE,
                                   f"{self.spec.name} stage closed its stream without a result")
            except grpc.RpcError as exc:
                busy = exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and not ticket.admitted
                if not busy or self.control.cancelled.is_set():
                    return CallFailure.from_rpc(exc)
            self.attempt -= 1  # a refusal is not an attempt
            self.queue.refused(ticket)
            self._set_state(pipeline_pb2.STAGE_STATE_PENDING, f"queued: the {self.spec.name} stage is busy "
                            f"({self.queue.position(ticket)} ahead, waited {ticket.waited_s:.0f} s)")

    def _failed(self, failure: CallFailure, failing_for_s: float, retry: Backoff) -> float:
        """Record a failed call; the delay before retrying it, or raise the job's error when it is not retried."""
        error = error_for_code(failure.code, f"{self.spec.name} stage: {failure.details}")
        log.warning("stage call failed: %s", error.message,
                    extra={"stage": self.spec.name, "attempt": self.attempt, "status": failure.code.name})
        if failure.code not in RETRYABLE or failing_for_s >= self.config.retry_window_s:
            window = f" (still failing after {failing_for_s:.0f} s, MSHOT_STAGE_RETRY_WINDOW_S)" \
                if failure.code in RETRYABLE else ""
            self._set_state(pipeline_pb2.STAGE_STATE_FAILED, f"{failure.code.name}: {failure.details}{window}")
            raise error
        delay = retry.next_delay()
        self._set_state(pipeline_pb2.STAGE_STATE_PENDING,
                        f"attempt {self.attempt} failed ({failure.code.name}); retrying in {delay:.1f} s")
        return delay

    def _call(self, ticket: Ticket) -> bool:
        """One call of the stage: True when it returned its result, False when its stream closed without one."""
        job = self.book.get(self.job_id)
        request = self.spec.build_request(self.job_id, available_artifacts(job), job.options)
        stub = self.spec.stub(self.channel)
        call = getattr(stub, self.spec.method)(request, timeout=self.config.stage_deadline_s)
        with self.control.lock:
            self.control.calls.add(call)
        try:
            if self.control.cancelled.is_set():
                call.cancel()
            for event in call:
                if not ticket.admitted:
                    self._admitted(ticket)
                if event.HasField("progress"):
                    self._progress(event.progress)
                elif event.HasField("result"):
                    self._done(event.result)
                    return True
        finally:
            with self.control.lock:
                self.control.calls.discard(call)
            if ticket.admitted:
                self.queue.finished()
        return False

    def _admitted(self, ticket: Ticket) -> None:
        waited = ticket.waited_s
        self.queue.admitted(ticket)

        def running(status: pipeline_pb2.StageStatus) -> None:
            status.state = pipeline_pb2.STAGE_STATE_RUNNING
            status.attempts = self.attempt
            status.fraction = 0.0
            status.message = "started"
            status.error = ""
            status.queued_s += waited

        self.book.update_stage(self.job_id, self.spec.name, running)

    def _progress(self, progress) -> None:
        def report(status: pipeline_pb2.StageStatus) -> None:
            status.fraction = progress.fraction
            status.message = progress.message

        self.book.update_stage(self.job_id, self.spec.name, report, progress_only=True)

    def _done(self, result) -> None:
        missing = [name for name in self.spec.produces if name not in result.artifacts]
        if missing:
            raise MshotError(f"{self.spec.name} stage returned no {', '.join(missing)}")

        def done(status: pipeline_pb2.StageStatus) -> None:
            status.state = pipeline_pb2.STAGE_STATE_DONE
            status.fraction = 1.0
            status.message = "done"
            status.result.CopyFrom(result)

        self.book.update_stage(self.job_id, self.spec.name, done)
        self.book.flush(self.job_id)  # a stage done is never lost (the store may be out: the job waits here)
        log.info("stage done: %s", json.loads(result.summary_json or "{}"), extra={"stage": self.spec.name})

    def _set_state(self, state: int, message: str) -> None:
        set_stage_state(self.book, self.job_id, self.spec.name, state, message)


def set_stage_state(book: JobBook, job_id: str, stage: str, state: int, message: str) -> None:
    def change(status: pipeline_pb2.StageStatus) -> None:
        status.state = state
        status.message = message
        if state == pipeline_pb2.STAGE_STATE_FAILED:
            status.error = message

    book.update_stage(job_id, stage, change)


ChannelFor = Callable[[str], grpc.Channel]
