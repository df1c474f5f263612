"""The `phalp` tracking backend: PHALP from its pinned git release (services/tracking/Dockerfile.gpu), run over
the whole video, then converted by the importer (importer.py) like any PHALP results file.

What it changes from PHALP's defaults (phalp/configs/base.py, phalp/trackers/PHALP.py at PHALP_COMMIT):
- the frames are decoded here (mshot/video.py, so every stage sees the same frames) and given to PHALP as an
  image folder, so the `.mp4`-only source check and FrameExtractor's `video.end_frame = 1300` cap never apply;
  `video.end_frame` and `phalp.end_frame` are set to the video's length anyway and `phalp.start_frame = -1`;
- `detect_shots = True` (PySceneDetect cuts -> `shot` flags); `render.enable = False` unless asked;
- PYOPENGL_PLATFORM: osmesa by default, egl by option (the image patches PHALP to respect the variable);
- `track()` catches every exception, prints it and returns None: the exception is captured here (PHALP's
  module-level `traceback.format_exc` runs inside its `except` block) and becomes a stage failure with its cause;
- progress per frame: PHALP's module-level `progress_bar` is replaced for the run by one that reports here.
PHALP master moves its HMAR inputs with `.cuda()`, so it needs a CUDA device. It runs PHALP's own HMAR model;
4D-Humans' HMR2 variant lives in its track.py script, which is not an installable module.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import cv2

from mshot.errors import FailedPrecondition, InvalidInput, MshotError, StageFailed
from mshot.progress import Progress, scaled
from mshot.video import iter_frames, probe_video

OPENGL_PLATFORMS = ("osmesa", "egl")


def phalp_installed() -> bool:
    return importlib.util.find_spec("phalp") is not None


@dataclass(frozen=True)
class PhalpOptions:
    device: str = "cuda"  # "cuda" or "cuda:N"
    render: bool = False  # PHALP's own rendered video (slow)
    opengl: str = "osmesa"  # PYOPENGL_PLATFORM for PHALP's renderer: osmesa or egl
    detect_shots: bool = True


class PhalpTracker:
    """Runs `phalp.trackers.PHALP.PHALP`; models load once, in the constructor."""

    def __init__(self, options: PhalpOptions = PhalpOptions()):
        if not phalp_installed():
            raise FailedPrecondition("the PHALP backend needs the 'phalp' package (PHALP from git at the commit "
                                     "pinned in services/tracking/Dockerfile.gpu); it is not installed here")
        if options.opengl not in OPENGL_PLATFORMS:
            raise InvalidInput(f"OpenGL platform '{options.opengl}': choose one of {', '.join(OPENGL_PLATFORMS)}")
        if not options.device.startswith("cuda"):
            raise FailedPrecondition(f"PHALP git master runs its models with .cuda() and needs a CUDA device, not "
                                     f"'{options.device}'; use the cpu backend on machines without one")
        os.environ["PYOPENGL_PLATFORM"] = options.opengl  # read when PHALP's renderer is imported
        self.options = options
        self.lock = threading.Lock()
        try:
            from omegaconf import OmegaConf
            from phalp.configs.base import FullConfig

            self.module = importlib.import_module("phalp.trackers.PHALP")
            cfg = OmegaConf.structured(FullConfig)
            cfg.device = options.device
            cfg.render.enable = options.render
            cfg.detect_shots = options.detect_shots
            cfg.overwrite = True
            self.tracker = self.module.PHALP(cfg)
        except MshotError:
            raise
        except Exception as exc:  # noqa: BLE001 - PHALP's set-up: weights, detectron2, CUDA
            raise StageFailed(f"PHALP could not be set up: {type(exc).__name__}: {exc}") from exc

    def run(self, video: Path, workdir: Path, progress: Progress) -> Path:
        """Track `video`; returns the results .pkl PHALP wrote (convert it with importer.read_phalp_results).
        One run at a time: PHALP keeps its configuration and tracker state on the instance."""
        with self.lock:
            return self._run(video, workdir, progress)

    def _run(self, video: Path, workdir: Path, progress: Progress) -> Path:
        info = probe_video(video)
        frames_dir = workdir / "phalp" / "frames"
        frames_dir.mkdir(parents=True, exist_ok=True)
        decode = scaled(progress, 0.0, 0.05)
        for index, frame in iter_frames(video):
            if not cv2.imwrite(str(frames_dir / f"{index:06d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise StageFailed(f"could not write frame {index} for PHALP under {frames_dir}")
            decode((index + 1) / info.num_frames, f"frame {index + 1}/{info.num_frames} extracted for PHALP")
        cfg = self.tracker.cfg
        cfg.video.source = str(frames_dir)
        cfg.video.output_dir = str(workdir / "phalp")
        cfg.video.start_frame, cfg.video.end_frame = -1, info.num_frames
        cfg.phalp.start_frame, cfg.phalp.end_frame = -1, info.num_frames
        captured: list[BaseException] = []
        patches = {"progress_bar": _progress_bar(scaled(progress, 0.05, 1.0), captured),
                   "traceback": _traceback_recorder(captured)}
        saved = {name: getattr(self.module, name, None) for name in patches}
        try:
            for name, value in patches.items():
                setattr(self.module, name, value)
            result = self.tracker.track()
        except MshotError:
            raise
        except Exception as exc:  # noqa: BLE001 - raised outside track()'s own try
            raise StageFailed(f"PHALP failed: {type(exc).__name__}: {exc}") from exc
        finally:
            for name, value in saved.items():
                setattr(self.module, name, value)
        if captured:
            cause = captured[-1]
            if isinstance(cause, MshotError):  # cancellation or shutdown raised by our progress, swallowed by PHALP
                raise cause
            raise StageFailed(f"PHALP failed while tracking: {type(cause).__name__}: {cause}") from cause
        if not isinstance(result, tuple) or len(result) != 2:
            raise StageFailed(f"PHALP's track() returned {result!r} instead of (results, pkl_path)")
        pkl = Path(result[1])
        if not pkl.is_file():
            raise StageFailed(f"PHALP reported results at {pkl}, which does not exist")
        return pkl


def _progress_bar(progress: Progress, captured: list[BaseException]):
    """Stands in for phalp.utils.utils.progress_bar(iterable, description, total, disable): reports each frame."""

    def progress_bar(iterable, description: str = "", total: int | None = None, disable: bool = False):
        for done, item in enumerate(iterable):
            yield item
            try:
                progress((done + 1) / max(total or 1, 1), f"PHALP tracked frame {done + 1}/{total}")
            except BaseException as exc:  # PHALP's except would swallow it: remember it
                captured.append(exc)
                raise

    return progress_bar


def _traceback_recorder(captured: list[BaseException]) -> types.SimpleNamespace:
    """Stands in for the `traceback` module inside PHALP.py: format_exc() runs in track()'s except block."""

    def format_exc(*args, **kwargs) -> str:
        exc = sys.exc_info()[1]
        if exc is not None and (not captured or captured[-1] is not exc):
            captured.append(exc)
        return traceback.format_exc(*args, **kwargs)

    return types.SimpleNamespace(**{name: getattr(traceback, name) for name in dir(traceback)
                                    if not name.startswith("_")} | {"format_exc": format_exc})
