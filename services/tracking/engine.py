"""The tracking stage's engine: video in, tracklets.npz out (docs/artifacts.md `mshot.tracklets/1`).

Backends: `phalp` (services/tracking/phalp: PHALP from git, the GPU image) and `cpu` (services/tracking/cpu,
offline, any machine). `auto` is phalp when the `phalp` package is importable, else cpu; asking for `phalp`
where it is not installed fails with FAILED_PRECONDITION. An input `phalp_results` (a PHALP results pickle)
is imported instead of tracking (services/tracking/phalp/importer.py), checked against the video. A focal
length the user gives (`focal_px`, checked against the video's size) replaces the assumed one on every path.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mshot.artifacts.tracklets import tracklet_counts
from mshot.choices import TRACKING_BACKENDS
from mshot.config import env_bool, env_choice, env_device, env_str
from mshot.engine_run import EngineRun, ModelPool
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.geometry.camera import check_given_focal
from mshot.progress import Progress, scaled
from mshot.video import VideoInfo, probe_video

BACKENDS = TRACKING_BACKENDS


@dataclass(frozen=True)
class TrackingSettings:
    backend: str = "auto"
    device: str = "auto"
    body_model: str = ""
    phalp_opengl: str = "osmesa"  # PYOPENGL_PLATFORM for PHALP: osmesa or egl
    phalp_render: bool = False  # PHALP's own rendered video

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrackingSettings:
        settings = cls(env_choice("MSHOT_TRACKING_BACKEND", BACKENDS, "auto", env), env_device(env),
                       env_str("MSHOT_BODY_MODEL", "", env),
                       env_choice("MSHOT_PHALP_OPENGL", ("osmesa", "egl"), "osmesa", env),
                       env_bool("MSHOT_PHALP_RENDER", False, env))
        if not settings.body_model:
            raise FailedPrecondition("MSHOT_BODY_MODEL is not set: the tracker fits initial SMPL bodies and needs a "
                                     "body model file (SMPL .pkl/.npz)")
        return settings


@dataclass(frozen=True)
class TrackingOptions:
    backend: str = "auto"
    device: str = "auto"
    max_people: int = 0
    focal_px: float = 0.0  # px of the video's frames, given by the user; 0 = not given (max(H, W) / PHALP's own)
    video_info: VideoInfo | None = None  # the job's probe of the video (None: the backend probes it)


def _resolve(backend: str) -> str:
    from services.tracking.phalp.backend import phalp_installed

    if backend not in BACKENDS:
        raise InvalidInput(f"unknown tracking backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "phalp" if phalp_installed() else "cpu"
    if backend == "phalp" and not phalp_installed():
        raise FailedPrecondition("the PHALP tracking backend is not installed here (it needs PHALP from git, as in "
                                 "the GPU image services/tracking/Dockerfile.gpu); use backend 'cpu'")
    return backend


class TrackingEngine:
    """Thread-safe: concurrent runs each borrow their own tracker (MediaPipe graphs and OpenCV's HOG are not
    safe to share); PHALP, one GPU model, is guarded (one run at a time, others wait for it)."""

    name = "tracking"

    def __init__(self, settings: TrackingSettings):
        self.settings = settings
        self.default_backend = _resolve(settings.backend)
        self._pools: dict[str, ModelPool] = {}
        self._pools_lock = threading.Lock()
        self._pool(self.default_backend, settings.device).preload()  # models load now (SERVING after)

    def _pool(self, name: str, device: str) -> ModelPool:
        """The backend's trackers (models load in each tracker's constructor)."""
        with self._pools_lock:
            if name not in self._pools:
                self._pools[name] = ModelPool(lambda: self._build_tracker(name, device),
                                              max_size=1 if name == "phalp" else None)
            return self._pools[name]

    def _build_tracker(self, name: str, device: str):
        if name == "phalp":
            from services.tracking.phalp.backend import PhalpOptions, PhalpTracker

            return PhalpTracker(PhalpOptions(device="cuda" if device in ("", "auto") else device,
                                             opengl=self.settings.phalp_opengl, render=self.settings.phalp_render))
        from mshot.body.model import BodyModel
        from services.tracking.cpu.backend import CpuTracker

        return CpuTracker(BodyModel.from_file(self.settings.body_model))

    def run(self, inputs: dict[str, Path], options: TrackingOptions, workdir: Path, progress: Progress) -> EngineRun:
        from services.tracking.phalp.importer import import_phalp

        if "video" not in inputs:
            raise InvalidInput("the tracking stage needs a video")
        out = workdir / "tracklets.npz"
        info = options.video_info
        if options.focal_px:
            info = info or probe_video(inputs["video"])
            check_given_focal(options.focal_px, "options.focal_px", info.height, info.width)
        if "phalp_results" in inputs:
            result = import_phalp(inputs["phalp_results"], out, inputs["video"], progress=progress,
                                  focal_px=options.focal_px)
            return EngineRun({"tracklets": out}, {"backend": f"phalp-import:{result.layout.name}",
                                                  "notes": result.notes, **tracklet_counts(result.tracklets)})
        backend = self.default_backend if options.backend in ("", "auto") else _resolve(options.backend)
        if backend == "phalp":
            if options.device == "cpu":
                raise FailedPrecondition("the PHALP backend needs a CUDA device (PHALP master calls .cuda()); "
                                         "use backend 'cpu' for a CPU run")
            with self._pool("phalp", self.settings.device).borrow() as tracker:
                pkl = tracker.run(inputs["video"], workdir, scaled(progress, 0, 0.95))
            result = import_phalp(pkl, out, inputs["video"], progress=scaled(progress, 0.95, 1.0), source="phalp",
                                  focal_px=options.focal_px)
            return EngineRun({"tracklets": out},
                             {"backend": "phalp", "notes": result.notes, **tracklet_counts(result.tracklets)})
        from services.tracking.cpu.backend import CpuTrackerOptions

        with self._pool("cpu", self.settings.device).borrow() as tracker:
            counts = tracker.run(inputs["video"], out, CpuTrackerOptions(max_people=options.max_people,
                                                                         focal_px=options.focal_px), progress, info)
        return EngineRun({"tracklets": out}, {"backend": backend, **counts})
