"""Jittered exponential backoff, shared by every retry loop (orchestrator stage calls, busy-stage queue,
job-book writes, the CLI's watch).

Delays double from `initial_s` up to `max_s`; each is drawn uniformly from [d/2, d] ("equal jitter"), so many
clients retrying after the same failure spread out instead of arriving together, and no wait is shorter than
half its nominal value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random)
    _nominal_s: float = field(default=0.0, init=False)

    def next_delay(self) -> float:
        """The next wait in seconds: in [d/2, d] for nominal d = initial_s, 2 initial_s, ... capped at max_s."""
        self._nominal_s = self.initial_s if self._nominal_s == 0.0 else min(self._nominal_s * 2.0, self.max_s)
        nominal = min(self._nominal_s, self.max_s)
        return self.rng.uniform(nominal / 2.0, nominal)

    def reset(self) -> None:
        """After a success: the next failure waits `initial_s` again."""
        self._nominal_s = 0.0
