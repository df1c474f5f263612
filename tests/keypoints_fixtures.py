"""Small fixtures for the keypoints-stage tests: a short video and tracklets rows over it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mshot.artifacts.tracklets import save_tracklets


def write_video(path: Path, frames: int = 6, height: int = 48, width: int = 64, value: int = 0) -> Path:
    """An mp4v video of uniform frames (BGR = value)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (width, height))
    for _ in range(frames):
        writer.write(np.full((height, width, 3), value, np.uint8))
    writer.release()
    return path


def write_tracklets(path: Path, rows: list[tuple[int, int, bool, tuple[float, float, float, float]]],
                    num_frames: int, height: int = 48, width: int = 64) -> Path:
    """rows: (person_id, frame_index, observed, bbox_xyxy), sorted by (person_id, frame_index); no masks."""
    m = len(rows)
    frame = np.array([r[1] for r in rows], np.int32)
    return save_tracklets(path, {
        "source": "cpu", "image_size": np.array([height, width]), "fps": 10.0, "num_frames": num_frames,
        "frame_shot_id": np.zeros(num_frames, np.int32), "mask_source": "none",
        "person_id": np.array([r[0] for r in rows], np.int32), "frame_index": frame, "time_s": frame / 10.0,
        "shot_id": np.zeros(m, np.int32), "observed": np.array([r[2] for r in rows], bool),
        "bbox_xyxy": np.array([r[3] for r in rows], np.float32).reshape(m, 4), "det_conf": np.ones(m, np.float32),
        "mask_rle": np.array([""] * m), "global_orient": np.zeros((m, 3)), "body_pose": np.zeros((m, 69)),
        "betas": np.zeros((m, 10)), "transl": np.tile([0.0, 0.0, 5.0], (m, 1)), "focal_px": np.full(m, 100.0),
        "principal_px": np.tile([width / 2, height / 2], (m, 1))})
