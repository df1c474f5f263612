"""keypoints.npz (`mshot.keypoints/1`): BODY_25 keypoints aligned with the tracklets rows, and optionally
BlazePose world landmarks (docs/artifacts.md). Files without world landmarks (older files, OpenPose imports) load."""

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
    "world_landmarks": f("M", 33, 4), "det_world_landmarks": f("D", 33, 4),
}, optional=("world_landmarks", "det_world_landmarks"))
WORLD_KEYS = ("world_landmarks", "det_world_landmarks")


def load_keypoints(path: str | Path) -> dict[str, np.ndarray]:
    """Read and validate: schema, shapes, finite values, confidences, visibilities and match scores in [0, 1],
    det_person_id >= -1, both world-landmark keys or neither. InvalidInput naming the file and key otherwise.
    Row order is the tracklets' order: consumers check it against the tracklets with check_aligned."""
    data = KEYPOINTS.load(path)
    check_values(data, path)
    return data


def save_keypoints(path: str | Path, data: dict) -> Path:
    """Validate as load_keypoints does, then write atomically."""
    KEYPOINTS.check(data, path)
    check_values(data, path)
    return KEYPOINTS.save(path, data)


def check_values(data: dict, path: str | Path) -> None:
    present = [key for key in WORLD_KEYS if key in data]
    if len(present) == 1:
        raise InvalidInput(f"keypoints file {path}: key '{present[0]}' without "
                           f"'{(set(WORLD_KEYS) - set(present)).pop()}' (world landmarks need both)")
    for key in ("keypoints_body25", "det_keypoints_body25", *present):
        conf = np.asarray(data[key])[..., -1]
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


def row_world_landmarks(keypoints: dict, det_world_landmarks: np.ndarray) -> np.ndarray:
    """(M, 33, 4): each row's matched detection's world landmarks, zeros for rows no detection matched.

    keypoints: the artifact's row and detection keys (person_id, frame_index, det_frame_index, det_person_id);
    det_world_landmarks (D, 33, 4) x, y, z metres + visibility."""
    row_of = {(int(p), int(t)): r for r, (p, t) in enumerate(zip(keypoints["person_id"], keypoints["frame_index"],
                                                                 strict=True))}
    out = np.zeros((len(row_of), *np.shape(det_world_landmarks)[1:]), dtype=np.float32)
    for d, (p, t) in enumerate(zip(keypoints["det_person_id"], keypoints["det_frame_index"], strict=True)):
        row = row_of.get((int(p), int(t)))
        if p >= 0 and row is not None:
            out[row] = det_world_landmarks[d]
    return out
