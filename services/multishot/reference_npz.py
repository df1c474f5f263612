"""Input files of the multishot reference (geopavlakos/multishot): one person per npz with pred_aa (N, 72),
pred_betas (N, 10), cam_trans (N, 3), body_keypoints (N, 25, 3), width, height, shot, valid (and imgname,
center, scale, pred_torso, seqname, which the fit does not need). Focal length 5000 px, principal point at
the image centre. Converted to the canonical tracklets and keypoints artifacts so `mshot fit` runs on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.artifacts.keypoints import save_keypoints
from mshot.artifacts.tracklets import save_tracklets
from mshot.errors import InvalidInput
from mshot.npzio import load_npz, require_finite, require_keys, require_shape
from mshot.store import sha256_file

REFERENCE_FOCAL_PX = 5000.0
REQUIRED = ("pred_aa", "pred_betas", "cam_trans", "body_keypoints", "width", "height")


def is_reference_npz(data: dict) -> bool:
    return "pred_aa" in data and "schema" not in data


def _scalar(data, key, path) -> int:
    value = np.asarray(data[key]).ravel()
    if value.size == 0 or not np.all(value == value[0]) or value[0] <= 0:
        raise InvalidInput(f"reference file {path}: key '{key}' must be one positive image dimension, got {value[:3]}")
    return int(value[0])


def shot_ids(shot: np.ndarray) -> np.ndarray:
    """The reference's `shot` as ids: kept if non-decreasing ids, else read as 0/1 cut flags."""
    shot = np.asarray(shot).astype(np.int64).ravel()
    if np.all(np.diff(shot) >= 0):
        return (shot - shot.min()).astype(np.int32)
    return np.cumsum(shot > 0).astype(np.int32) - int(shot[0] > 0)


def convert_reference_npz(path: str | Path, out_dir: Path) -> dict[str, Path]:
    data = load_npz(path, "reference")
    require_keys(data, list(REQUIRED), "reference", path)
    count = len(data["pred_aa"])
    if count == 0:
        raise InvalidInput(f"reference file {path} is an empty tracklet (0 frames)")
    for key, shape in (("pred_aa", (None, 72)), ("pred_betas", (None, 10)), ("cam_trans", (None, 3)),
                       ("body_keypoints", (None, 25, 3))):
        require_shape(data[key], shape, key, "reference", path)
        if len(data[key]) != count:
            raise InvalidInput(f"reference file {path}: key '{key}' has {len(data[key])} frames, pred_aa has {count}")
        require_finite(np.asarray(data[key], dtype=np.float64), key, "reference", path)
    width, height = _scalar(data, "width", path), _scalar(data, "height", path)
    shot = shot_ids(data["shot"]) if "shot" in data else np.zeros(count, np.int32)
    if len(shot) != count:
        raise InvalidInput(f"reference file {path}: key 'shot' has {len(shot)} frames, pred_aa has {count}")
    frames = np.arange(count, dtype=np.int32)
    frame_shot = shot
    principal = np.array([width / 2, height / 2])
    tracklets = {
        "source": "multishot-reference", "image_size": [height, width], "fps": 30.0, "num_frames": count,
        "frame_shot_id": frame_shot, "mask_source": "none", "person_id": np.zeros(count, np.int32),
        "frame_index": frames, "time_s": frames / 30.0, "shot_id": shot,
        "observed": np.asarray(data["valid"]).astype(bool) if "valid" in data else np.ones(count, bool),
        "bbox_xyxy": _boxes(data["body_keypoints"]), "det_conf": np.ones(count), "mask_rle": np.full(count, ""),
        "global_orient": data["pred_aa"][:, :3], "body_pose": data["pred_aa"][:, 3:], "betas": data["pred_betas"],
        "transl": data["cam_trans"], "focal_px": np.full(count, REFERENCE_FOCAL_PX),
        "principal_px": np.tile(principal, (count, 1)),
    }
    tracklets_path = save_tracklets(out_dir / "tracklets.npz", tracklets)
    keypoints = np.asarray(data["body_keypoints"], dtype=np.float32)
    keypoints_path = save_keypoints(out_dir / "keypoints.npz", {
        "source": "multishot-reference", "tracklets_sha256": sha256_file(tracklets_path)[0],
        "person_id": np.zeros(count, np.int32), "frame_index": frames, "keypoints_body25": keypoints,
        "match_score": np.ones(count), "det_frame_index": frames, "det_keypoints_body25": keypoints,
        "det_person_id": np.zeros(count, np.int32)})
    return {"tracklets": tracklets_path, "keypoints": keypoints_path}


def _boxes(keypoints: np.ndarray) -> np.ndarray:
    boxes = np.zeros((len(keypoints), 4), np.float32)
    for i, kp in enumerate(keypoints):
        seen = kp[kp[:, 2] > 0, :2]
        if len(seen):
            boxes[i] = [*seen.min(0), *seen.max(0)]
    return boxes
