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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mshot.artifacts.keypoints import save_keypoints
from mshot.artifacts.tracklets import load_tracklets
from mshot.config import DEVICES, env_choice, env_device, env_str
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.progress import Progress, scaled
from mshot.store import sha256_file
from services.keypoints.association import associate

BACKENDS = ("auto", "cpu", "opencv-dnn", "openpose")


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
                    source: str) -> Path:
    matched = associate(tracklets, det_frame_index, det_keypoints)
    return save_keypoints(out, {
        "source": source, "tracklets_sha256": sha256_file(tracklets_path)[0],
        "person_id": tracklets["person_id"], "frame_index": tracklets["frame_index"],
        "keypoints_body25": matched["keypoints_body25"], "match_score": matched["match_score"],
        "det_frame_index": det_frame_index, "det_keypoints_body25": det_keypoints,
        "det_person_id": matched["det_person_id"],
    })


class KeypointsEngine:
    name = "keypoints"

    def __init__(self, settings: KeypointsSettings):
        self.settings = settings
        self.default_backend = settings.resolve("auto")
        self._backends = {self.default_backend: build_backend(self.default_backend, settings, settings.device)}

    def _backend(self, options: KeypointsOptions):
        name = _check_choice(self.settings.resolve(options.backend), BACKENDS, InvalidInput, "backend")
        device = options.device if options.device not in ("", "auto") else self.settings.device
        _check_choice(device, DEVICES, InvalidInput, "device")
        key = name if device in ("auto", self.settings.device) else f"{name}@{device}"
        if key not in self._backends:
            self._backends[key] = build_backend(name, self.settings, device)
        return self._backends[key]

    def run(self, inputs: dict[str, Path], options: KeypointsOptions, workdir: Path, progress: Progress) -> dict:
        from services.keypoints.openpose_import import read_openpose

        for name in ("video", "tracklets"):
            if name not in inputs:
                raise InvalidInput(f"the keypoints stage needs '{name}'")
        tracklets = load_tracklets(inputs["tracklets"])
        if "openpose_json" in inputs:
            frames, keypoints = read_openpose(inputs["openpose_json"], int(tracklets["num_frames"]))
            source = "openpose-import"
        else:
            backend = self._backend(options)
            frames, keypoints = backend.detect(Path(inputs["video"]), tracklets, workdir, scaled(progress, 0.0, 0.95))
            source = backend.name
        progress(0.96, "matching detections to tracked persons")
        out = write_keypoints(workdir / "keypoints.npz", tracklets, inputs["tracklets"], frames, keypoints, source)
        observed = int(np.asarray(tracklets["observed"]).astype(bool).sum())
        with np.load(out, allow_pickle=False) as written:
            matched = int((written["match_score"] > 0).sum())
        self.last_summary = {"backend": source, "detections": int(len(frames)), "observed_rows": observed,
                             "matched_rows": matched}
        progress(1.0, f"{len(frames)} detections, {matched} of {observed} observed person-frames matched")
        return {"keypoints": out}

    def summarize(self, outputs: dict) -> dict:
        return getattr(self, "last_summary", {})
