"""The tracking stage's engine: video in, tracklets.npz out (docs/artifacts.md `mshot.tracklets/1`).

Backends: `phalp` (services/tracking/phalp: PHALP from git, the GPU image) and `cpu` (services/tracking/cpu,
offline, any machine). `auto` is phalp when the `phalp` package is importable, else cpu; asking for `phalp`
where it is not installed fails with FAILED_PRECONDITION. An input `phalp_results` (a PHALP results pickle)
is imported instead of tracking (services/tracking/phalp/importer.py), checked against the video.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mshot.artifacts.tracklets import tracklet_counts
from mshot.config import env_bool, env_choice, env_device, env_str
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.progress import Progress, scaled
from mshot.video import VideoInfo

BACKENDS = ("auto", "cpu", "phalp")


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
    name = "tracking"

    def __init__(self, settings: TrackingSettings):
        self.settings = settings
        self.default_backend = _resolve(settings.backend)
        self._backends: dict[str, object] = {}
        self._backend(self.default_backend, settings.device)  # load its models now (health turns SERVING after)

    def _backend(self, name: str, device: str):
        """The backend's tracker, built once (its models load in the constructor)."""
        if name not in self._backends:
            if name == "phalp":
                from services.tracking.phalp.backend import PhalpOptions, PhalpTracker

                self._backends[name] = PhalpTracker(PhalpOptions(
                    device="cuda" if device in ("", "auto") else device, opengl=self.settings.phalp_opengl,
                    render=self.settings.phalp_render))
            else:
                from mshot.body.model import BodyModel
                from services.tracking.cpu.backend import CpuTracker

                self._backends[name] = CpuTracker(BodyModel.from_file(self.settings.body_model))
        return self._backends[name]

    def run(self, inputs: dict[str, Path], options: TrackingOptions, workdir: Path, progress: Progress) -> dict:
        from services.tracking.phalp.importer import import_phalp

        if "video" not in inputs:
            raise InvalidInput("the tracking stage needs a video")
        out = workdir / "tracklets.npz"
        if "phalp_results" in inputs:
            result = import_phalp(inputs["phalp_results"], out, inputs["video"], progress=progress)
            self.last_summary = {"backend": f"phalp-import:{result.layout.name}", "notes": result.notes,
                                 **tracklet_counts(result.tracklets)}
            return {"tracklets": out}
        backend = self.default_backend if options.backend in ("", "auto") else _resolve(options.backend)
        if backend == "phalp":
            if options.device == "cpu":
                raise FailedPrecondition("the PHALP backend needs a CUDA device (PHALP master calls .cuda()); "
                                         "use backend 'cpu' for a CPU run")
            pkl = self._backend("phalp", self.settings.device).run(inputs["video"], workdir, scaled(progress, 0, 0.95))
            result = import_phalp(pkl, out, inputs["video"], progress=scaled(progress, 0.95, 1.0), source="phalp")
            self.last_summary = {"backend": "phalp", "notes": result.notes, **tracklet_counts(result.tracklets)}
            return {"tracklets": out}
        from services.tracking.cpu.backend import CpuTrackerOptions

        tracker = self._backend("cpu", self.settings.device)
        self.last_summary = {"backend": backend, **tracker.run(inputs["video"], out,
                                                               CpuTrackerOptions(max_people=options.max_people),
                                                               progress, options.video_info)}
        return {"tracklets": out}

    def summarize(self, outputs: dict) -> dict:
        return getattr(self, "last_summary", {})

