"""The keypoints stage's engine: video + tracklets in, keypoints.npz out (`mshot.keypoints/1`).

Backends (services/keypoints/backends/): `openpose` (the OpenPose binary), `opencv-dnn` (OpenPose's BODY_25
Caffe model through cv2.dnn) and `cpu` (BlazePose per tracked box, offline). `auto` picks `openpose` when a
binary is configured, else `opencv-dnn` when the model folder holds the BODY_25 Caffe files, else `cpu`.
An `openpose_json` input (a folder or .zip of OpenPose JSON output) bypasses the backends: it is imported.
Detections are matched to the tracked persons by services/keypoints/association.py.

Settings (environment): MSHOT_KEYPOINTS_BACKEND (auto|cpu|opencv-dnn|openpose), MSHOT_OPENPOSE_BIN,
MSHOT_OPENPOSE_MODEL_DIR (OpenPose `models/` folder), MSHOT_OPENPOSE_MODEL_SHA256 (optional checksum of
pose_iter_584000.caffemodel), MSHOT_DEVICE (auto|cpu|cuda; opencv-dnn only, the binary uses its own build).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mshot.artifacts.keypoints import row_world_landmarks, save_keypoints
from mshot.artifacts.tracklets import load_tracklets
from mshot.choices import KEYPOINTS_BACKENDS
from mshot.config import DEVICES, env_choice, env_device, env_str
from mshot.engine_run import EngineRun, ModelPool
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.progress import Progress, scaled
from mshot.store import sha256_file
from services.keypoints.association import associate

BACKENDS = KEYPOINTS_BACKENDS


@dataclass(frozen=True)
class KeypointsSettings:
    backend: str = "auto"
    openpose_bin: str = ""
    openpose_model_dir: str = ""
    openpose_model_sha256: str = ""
    device: str = "auto"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KeypointsSettings:
        return cls(backend=env_choice("MSHOT_KEYPOINTS_BACKEND", BACKENDS, "auto", env),
                   openpose_bin=env_str("MSHOT_OPENPOSE_BIN", "", env),
                   openpose_model_dir=env_str("MSHOT_OPENPOSE_MODEL_DIR", "", env),
                   openpose_model_sha256=env_str("MSHOT_OPENPOSE_MODEL_SHA256", "", env),
                   device=env_device(env))

    def resolve(self, backend: str) -> str:
        """A concrete backend name for `backend` ('auto' or '' -> the configured one, then by availability)."""
        if backend in ("", "auto"):
            backend = self.backend
        if backend != "auto":
            return backend
        if self.openpose_bin:
            return "openpose"
        if self.openpose_model_dir:
            from services.keypoints.backends.opencv_dnn import find_model_files

            try:
                find_model_files(Path(self.openpose_model_dir))
                return "opencv-dnn"
            except FailedPrecondition:
                pass
        return "cpu"


@dataclass(frozen=True)
class KeypointsOptions:
    backend: str = "auto"
    device: str = "auto"


def _check_choice(value: str, choices: tuple[str, ...], error, what: str) -> str:
    if value not in choices:
        raise error(f"{what}={value!r}: choose one of {', '.join(choices)}")
    return value


def build_backend(name: str, settings: KeypointsSettings, device: str):
    """Construct a backend (models loaded now); FailedPrecondition naming what is missing."""
    if name == "cpu":
        from services.keypoints.backends.cpu import CpuBackend

        return CpuBackend()
    if name == "opencv-dnn":
        from services.keypoints.backends.opencv_dnn import OpenCvDnnBackend

        if not settings.openpose_model_dir:
            raise FailedPrecondition("the opencv-dnn backend needs MSHOT_OPENPOSE_MODEL_DIR (folder holding "
                                     "pose/body_25/pose_deploy.prototxt and pose_iter_584000.caffemodel)")
        return OpenCvDnnBackend(Path(settings.openpose_model_dir), "cuda" if device == "cuda" else "cpu",
                                settings.openpose_model_sha256)
    if name == "openpose":
        from services.keypoints.backends.openpose import OpenPoseBinaryBackend

        if not settings.openpose_bin:
            raise FailedPrecondition("the openpose backend needs MSHOT_OPENPOSE_BIN (path of openpose.bin)")
        model_dir = Path(settings.openpose_model_dir) if settings.openpose_model_dir else None
        return OpenPoseBinaryBackend(settings.openpose_bin, model_dir)
    raise InvalidInput(f"backend={name!r}: choose one of {', '.join(BACKENDS)}")


def write_keypoints(out: Path, tracklets: dict, tracklets_path: Path, det_frame_index, det_keypoints,
                    source: str, det_world_landmarks: np.ndarray | None = None) -> Path:
    """det_world_landmarks (D, 33, 4) or None (backends without world landmarks): stored with each row's."""
    matched = associate(tracklets, det_frame_index, det_keypoints)
    data = {
        "source": source, "tracklets_sha256": sha256_file(tracklets_path)[0],
        "person_id": tracklets["person_id"], "frame_index": tracklets["frame_index"],
        "keypoints_body25": matched["keypoints_body25"], "match_score": matched["match_score"],
        "det_frame_index": det_frame_index, "det_keypoints_body25": det_keypoints,
        "det_person_id": matched["det_person_id"],
    }
    if det_world_landmarks is not None:
        data["det_world_landmarks"] = det_world_landmarks
        data["world_landmarks"] = row_world_landmarks(data, det_world_landmarks)
    return save_keypoints(out, data)


def openpose_coverage(det_frames: np.ndarray, num_frames: int) -> dict:
    """Which frames imported OpenPose output has people for: OpenPose JSON often covers only part of a video
    (the shared concert sets: the first 125 of 250 frames); rows of the other frames get no keypoints, so they
    are not fitted and the dataset stage rejects them (gate `keypoints`)."""
    if not len(det_frames):
        return {"openpose_frames": "none", "frames_without_openpose": num_frames}
    first, last = int(det_frames.min()), int(det_frames.max())
    return {"openpose_frames": f"{first}-{last}", "frames_without_openpose": num_frames - len(np.unique(det_frames))}


class KeypointsEngine:
    """Thread-safe: concurrent runs each borrow their own backend instance (MediaPipe graphs and cv2.dnn nets
    are not safe to share)."""

    name = "keypoints"

    def __init__(self, settings: KeypointsSettings):
        self.settings = settings
        self.default_backend = settings.resolve("auto")
        self._pools: dict[str, ModelPool] = {}
        self._pools_lock = threading.Lock()
        self._pool(self.default_backend, settings.device).preload()  # models load now (SERVING after)

    def _pool(self, name: str, device: str) -> ModelPool:
        key = name if device in ("auto", self.settings.device) else f"{name}@{device}"
        with self._pools_lock:
            if key not in self._pools:
                self._pools[key] = ModelPool(lambda: build_backend(name, self.settings, device))
            return self._pools[key]

    def _backend_pool(self, options: KeypointsOptions) -> ModelPool:
        name = _check_choice(self.settings.resolve(options.backend), BACKENDS, InvalidInput, "backend")
        device = options.device if options.device not in ("", "auto") else self.settings.device
        _check_choice(device, DEVICES, InvalidInput, "device")
        return self._pool(name, device)

    def run(self, inputs: dict[str, Path], options: KeypointsOptions, workdir: Path, progress: Progress) -> EngineRun:
        from services.keypoints.openpose_import import read_openpose

        for name in ("video", "tracklets"):
            if name not in inputs:
                raise InvalidInput(f"the keypoints stage needs '{name}'")
        tracklets = load_tracklets(inputs["tracklets"])
        coverage = {}
        if "openpose_json" in inputs:
            frames, keypoints = read_openpose(inputs["openpose_json"], int(tracklets["num_frames"]))
            source, world = "openpose-import", None
            coverage = openpose_coverage(frames, int(tracklets["num_frames"]))
        else:
            with self._backend_pool(options).borrow() as backend:
                # (frames, keypoints) or, from backends with world landmarks (cpu), (frames, keypoints, world)
                frames, keypoints, *extra = backend.detect(Path(inputs["video"]), tracklets, workdir,
                                                           scaled(progress, 0.0, 0.95))
                source, world = backend.name, (extra[0] if extra else None)
        progress(0.96, "matching detections to tracked persons")
        out = write_keypoints(workdir / "keypoints.npz", tracklets, inputs["tracklets"], frames, keypoints, source,
                              world)
        observed = int(np.asarray(tracklets["observed"]).astype(bool).sum())
        with np.load(out, allow_pickle=False) as written:
            matched = int((written["match_score"] > 0).sum())
        progress(1.0, f"{len(frames)} detections, {matched} of {observed} observed person-frames matched")
        return EngineRun({"keypoints": out}, {"backend": source, "detections": int(len(frames)),
                                              "observed_rows": observed, "matched_rows": matched, **coverage})
