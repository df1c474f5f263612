"""keypoints.npz (`mshot.keypoints/1`): BODY_25 keypoints aligned with the tracklets rows (docs/artifacts.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.artifacts.schema import Schema, f, i, s
from mshot.errors import InvalidInput

KEYPOINTS = Schema("mshot.keypoints/1", "keypoints", {
    "source": s(), "tracklets_sha256": s(), "person_id": i("M"), "frame_index": i("M"),
    "keypoints_body25": f("M", 25, 3), "match_score": f("M"), "det_frame_index": i("D"),
    "det_keypoints_body25": f("D", 25, 3), "det_person_id": i("D"),
})


def load_keypoints(path: str | Path) -> dict[str, np.ndarray]:
    data = KEYPOINTS.load(path)
    kp = data["keypoints_body25"]
    if kp.size and (kp[..., 2].min() < 0 or kp[..., 2].max() > 1.0001):
        raise InvalidInput(f"keypoints file {path}: confidences outside [0, 1]")
    return data


def save_keypoints(path: str | Path, data: dict) -> Path:
    return KEYPOINTS.save(path, data)


def check_aligned(keypoints: dict, tracklets: dict, path: str | Path) -> None:
    """Raise InvalidInput unless the keypoints rows are the tracklets rows, in order."""
    same = (np.array_equal(keypoints["person_id"], tracklets["person_id"])
            and np.array_equal(keypoints["frame_index"], tracklets["frame_index"]))
    if not same:
        raise InvalidInput(f"keypoints file {path} does not match the tracklets (different persons or frames)")
