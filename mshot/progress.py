"""Progress reporting for long-running stage work, transport-agnostic.

A stage's core takes a `Progress` callable and calls it as work advances: `progress(fraction, message)`
with fraction in [0, 1]. The callable raises `mshot.errors.Cancelled` when the caller has cancelled, so
cancellation reaches the core at its next progress report without any other plumbing.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, fraction: float, message: str = "") -> None: ...


def no_progress(fraction: float, message: str = "") -> None:
    """A `Progress` that ignores reports (library use, tests)."""


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """A `Progress` for a sub-task that maps its [0, 1] onto [start, end] of the parent."""

    def report(fraction: float, message: str = "") -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return report


