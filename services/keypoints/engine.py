"""The keypoints stage's engine: video + tracklets in, keypoints.npz out (`mshot.keypoints/1`).

Backends: `cpu` (BlazePose per tracklet box, offline) and the OpenPose JSON importer (when an `openpose_json`
input - a folder or .zip of OpenPose output - comes with the request). The OpenPose binary and OpenCV-DNN
backends are not part of this build: asking for them fails with FAILED_PRECONDITION.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mshot.artifacts.keypoints import save_keypoints
from mshot.artifacts.tracklets import load_tracklets
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.progress import Progress, scaled
from mshot.store import sha256_file
from services.keypoints.association import associate

BACKENDS = ("auto", "cpu", "opencv-dnn", "openpose")


@dataclass(frozen=True)
class KeypointsSettings:
    backend: str = "auto"

    @classmethod
    def from_env(cls) -> KeypointsSettings:
        backend = os.environ.get("MSHOT_KEYPOINTS_BACKEND", "auto") or "auto"
        _check_backend(backend, FailedPrecondition, "MSHOT_KEYPOINTS_BACKEND")
        return cls(backend)


@dataclass(frozen=True)
class KeypointsOptions:
    backend: str = "auto"
    device: str = "auto"


def _check_backend(backend: str, error, what: str) -> str:
    if backend not in BACKENDS:
        raise error(f"{what}={backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend in ("opencv-dnn", "openpose"):
        raise FailedPrecondition(f"the {backend} keypoints backend is not available in this build; use 'cpu' or "
                                 "import OpenPose JSON")
    return "cpu"


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
        from mshot.pose2d.blazepose import BlazePoseBody25

        self.settings = settings
        self.pose = BlazePoseBody25()

    def run(self, inputs: dict[str, Path], options: KeypointsOptions, workdir: Path, progress: Progress) -> dict:
        from services.keypoints.cpu_backend import detect_on_boxes
        from services.keypoints.openpose_import import read_openpose

        for name in ("video", "tracklets"):
            if name not in inputs:
                raise InvalidInput(f"the keypoints stage needs '{name}'")
        tracklets = load_tracklets(inputs["tracklets"])
        if "openpose_json" in inputs:
            frames, keypoints = read_openpose(inputs["openpose_json"], int(tracklets["num_frames"]))
            source = "openpose-import"
        else:
            backend = options.backend if options.backend not in ("", "auto") else self.settings.backend
            _check_backend(backend if backend != "auto" else "cpu", InvalidInput, "backend")
            frames, keypoints = detect_on_boxes(self.pose, inputs["video"], tracklets, scaled(progress, 0.0, 0.95))
            source = "cpu"
        out = write_keypoints(workdir / "keypoints.npz", tracklets, inputs["tracklets"], frames, keypoints, source)
        matched = int((tracklets["observed"].astype(bool)).sum())
        self.last_summary = {"backend": source, "detections": int(len(frames)), "observed_rows": matched}
        progress(1.0, f"{len(frames)} detections")
        return {"keypoints": out}

    def summarize(self, outputs: dict) -> dict:
        return getattr(self, "last_summary", {})


