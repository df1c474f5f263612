"""The `cpu` keypoints backend: BlazePose (bundled with mediapipe 0.10.21, offline) on every observed
tracklet box, mapped to BODY_25 (mshot/pose2d/blazepose.py documents the synthesized joints)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.pose2d.blazepose import BlazePoseBody25
from mshot.progress import Progress
from mshot.video import iter_frames


def detect_on_boxes(pose: BlazePoseBody25, video: Path, tracklets: dict,
                    progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """-> (det_frame_index (D,), det_keypoints_body25 (D, 25, 3)): one detection per observed row with a pose."""
    observed = tracklets["observed"].astype(bool)
    frames_needed = np.unique(tracklets["frame_index"][observed])
    num_frames = int(tracklets["num_frames"])
    det_frames, det_keypoints = [], []
    done = 0
    for index, frame in iter_frames(video, stop=int(frames_needed.max()) + 1 if frames_needed.size else 0):
        if frame.shape[:2] != tuple(int(v) for v in tracklets["image_size"]):
            from mshot.errors import InvalidInput

            raise InvalidInput(f"video frames are {frame.shape[1]}x{frame.shape[0]}, the tracklets were made on "
                               f"{int(tracklets['image_size'][1])}x{int(tracklets['image_size'][0])}")
        rows = np.flatnonzero((tracklets["frame_index"] == index) & observed)
        if rows.size == 0:
            continue
        keypoints, _ = pose.estimate(frame, tracklets["bbox_xyxy"][rows])
        found = keypoints[..., 2].max(1) > 0
        det_frames += [index] * int(found.sum())
        det_keypoints.append(keypoints[found])
        done += 1
        progress(done / max(len(frames_needed), 1), f"frame {index + 1}/{num_frames}")
    stacked = np.concatenate(det_keypoints) if det_keypoints else np.zeros((0, 25, 3), np.float32)
    return np.asarray(det_frames, dtype=np.int32), stacked
