"""The tracking stage's engine: video in, tracklets.npz out (docs/artifacts.md `mshot.tracklets/1`).

Backends: `cpu` (services/tracking/cpu, offline, any machine). `auto` picks the best available; the PHALP
backend is not part of this build yet, so asking for `phalp` fails with FAILED_PRECONDITION.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mshot.errors import FailedPrecondition, InvalidInput
from mshot.progress import Progress

BACKENDS = ("auto", "cpu", "phalp")


@dataclass(frozen=True)
class TrackingSettings:
    backend: str = "auto"
    device: str = "auto"
    body_model: str = ""

    @classmethod
    def from_env(cls) -> TrackingSettings:
        settings = cls(os.environ.get("MSHOT_TRACKING_BACKEND", "auto") or "auto",
                       os.environ.get("MSHOT_DEVICE", "auto") or "auto", os.environ.get("MSHOT_BODY_MODEL", ""))
        if settings.backend not in BACKENDS:
            raise FailedPrecondition(
                f"MSHOT_TRACKING_BACKEND={settings.backend!r}: choose one of {', '.join(BACKENDS)}")
        if not settings.body_model:
            raise FailedPrecondition("MSHOT_BODY_MODEL is not set: the tracker fits initial SMPL bodies and needs a "
                                     "body model file (SMPL .pkl/.npz)")
        return settings


@dataclass(frozen=True)
class TrackingOptions:
    backend: str = "auto"
    device: str = "auto"
    max_people: int = 0


def _resolve(backend: str) -> str:
    if backend not in BACKENDS:
        raise InvalidInput(f"unknown tracking backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if backend == "phalp":
        raise FailedPrecondition("the PHALP tracking backend is not available in this build; use backend 'cpu'")
    return "cpu"


class TrackingEngine:
    name = "tracking"

    def __init__(self, settings: TrackingSettings):
        from mshot.body.model import BodyModel
        from services.tracking.cpu.backend import CpuTracker

        self.settings = settings
        self.default_backend = _resolve(settings.backend)
        self.cpu = CpuTracker(BodyModel.from_file(settings.body_model))

    def run(self, inputs: dict[str, Path], options: TrackingOptions, workdir: Path, progress: Progress) -> dict:
        from services.tracking.cpu.backend import CpuTrackerOptions

        if "video" not in inputs:
            raise InvalidInput("the tracking stage needs a video")
        backend = self.default_backend if options.backend in ("", "auto") else _resolve(options.backend)
        out = workdir / "tracklets.npz"
        self.last_summary = {"backend": backend, **self.cpu.run(inputs["video"], out,
                                                                CpuTrackerOptions(max_people=options.max_people),
                                                                progress)}
        return {"tracklets": out}

    def summarize(self, outputs: dict) -> dict:
        return getattr(self, "last_summary", {})
