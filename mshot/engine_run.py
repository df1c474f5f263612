"""What a stage engine's run returns, and the pool that gives each concurrent run its own model instance.

A stage server runs up to `MSHOT_MAX_CONCURRENT_JOBS` jobs at once on one engine object, so an engine keeps no
per-run state: `run(...)` returns an `EngineRun` holding both its output files and its summary. Models that
are not thread-safe (MediaPipe graphs, cv2.dnn nets, OpenCV's HOG) are never shared between two runs at once:
the engine keeps them in a `ModelPool` and each run borrows one instance for its duration.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

Model = TypeVar("Model")


@dataclass(frozen=True)
class EngineRun:
    """One run's results: `outputs` maps artifact name -> file written; `summary` is JSON-able facts about
    the run (counts, backend, seconds) that the stage server reports with the outputs."""

    outputs: dict[str, Path]
    summary: dict = field(default_factory=dict)


class ModelPool(Generic[Model]):
    """Instances of one model, each used by at most one run at a time.

    `borrow()` hands out an idle instance, or builds a new one when all are in use and fewer than `max_size`
    exist (None: no cap, so the pool grows to the server's peak concurrency, which its job slots bound);
    at the cap it waits for an instance to be returned. `preload()` builds the first one now, so a server
    reports SERVING only once its model loads."""

    def __init__(self, build: Callable[[], Model], max_size: int | None = None):
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        self._build = build
        self.max_size = max_size
        self._idle: list[Model] = []
        self._count = 0
        self._returned = threading.Condition()

    @property
    def size(self) -> int:
        """Instances built so far."""
        with self._returned:
            return self._count

    def preload(self) -> ModelPool[Model]:
        with self.borrow():
            pass
        return self

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Model]:
        model = self._take()
        try:
            yield model
        finally:
            with self._returned:
                self._idle.append(model)
                self._returned.notify()

    def _take(self) -> Model:
        with self._returned:
            while not self._idle and self.max_size is not None and self._count >= self.max_size:
                self._returned.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1  # reserve the slot, build outside the lock (models take seconds to load)
        try:
            return self._build()
        except BaseException:
            with self._returned:
                self._count -= 1
                self._returned.notify()
            raise
