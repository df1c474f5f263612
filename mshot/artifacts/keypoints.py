"""keypoints.npz (`mshot.keypoints/1`): BODY_25 keypoints aligned with the tracklets rows (docs/artifacts.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.artifacts.schema import Schema, f, i, s
from mshot.errors import InvalidInput
from mshot.store.base import sha256_file

KEYPOINTS = Schema("mshot.keypoints/1", "keypoints", {
    "source": s(), "tracklets_sha256": s(), "person_id": i("M"), "frame_index": i("M"),
    "keypoints_body25": f("M", 25, 3), "match_score": f("M"), "det_frame_index": i("D"),
    "det_keypoints_body25": f("D", 25, 3), "det_person_id": i("D"),
})


def load_keypoints(path: str | Path) -> dict[str, np.ndarray]:
    """Read and validate: schema, shapes, finite values, confidences and match scores in [0, 1],
    det_person_id >= -1. InvalidInput naming the file and key otherwise. Row order is the tracklets' order:
    consumers check it against the tracklets with check_aligned."""
    data = KEYPOINTS.load(path)
    check_values(data, path)
    return data


def save_keypoints(path: str | Path, data: dict) -> Path:
    """Validate as load_keypoints does, then write atomically."""
    KEYPOINTS.check(data, path)
    check_values(data, path)
    return KEYPOINTS.save(path, data)


def check_values(data: dict, path: str | Path) -> None:
    for key in ("keypoints_body25", "det_keypoints_body25"):
        conf = np.asarray(data[key])[..., 2]
        if conf.size and (conf.min() < 0 or conf.max() > 1.0001):
            raise InvalidInput(f"keypoints file {path}: key '{key}' has confidences outside [0, 1]")
    score = np.asarray(data["match_score"])
    if score.size and (score.min() < 0 or score.max() > 1.0001):
        raise InvalidInput(f"keypoints file {path}: key 'match_score' has values outside [0, 1]")
    det_person = np.asarray(data["det_person_id"])
    if det_person.size and det_person.min() < -1:
        raise InvalidInput(f"keypoints file {path}: key 'det_person_id' has values below -1 (-1 = unmatched)")


def check_aligned(keypoints: dict, tracklets: dict, path: str | Path, tracklets_path: str | Path) -> None:
    """Raise InvalidInput unless the keypoints were made from the tracklets file at `tracklets_path` (its sha256 in
    `tracklets_sha256`; empty = not recorded, e.g. an OpenPose import without tracklets) and its rows are the
    tracklets rows, in order."""
    recorded = str(keypoints["tracklets_sha256"])
    if recorded:
        actual = sha256_file(tracklets_path)[0]
        if recorded != actual:
            raise InvalidInput(f"keypoints file {path} was made from other tracklets: its tracklets_sha256 is "
                               f"{recorded[:80]}, the tracklets given have sha256 {actual}")
    same = (np.array_equal(keypoints["person_id"], tracklets["person_id"])
            and np.array_equal(keypoints["frame_index"], tracklets["frame_index"]))
    if not same:
        raise InvalidInput(f"keypoints file {path} does not match the tracklets (different persons or frames)")
