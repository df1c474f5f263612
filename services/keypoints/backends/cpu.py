"""The `cpu` keypoints backend: BlazePose (bundled with mediapipe 0.10.21, offline) on every observed
tracklet box, mapped to BODY_25 (mshot/pose2d/blazepose.py documents the synthesized joints).
One detection per observed box in which BlazePose found a person."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.pose2d.blazepose import BlazePoseBody25
from mshot.progress import Progress
from services.keypoints.backends import frames_with_observed_people, iter_observed_frames, stack_detections


class CpuBackend:
    name = "cpu"

    def __init__(self) -> None:
        # FailedPrecondition when mediapipe's bundled model is unavailable; masks are not needed here
        self.pose = BlazePoseBody25(with_masks=False)

    def detect(self, video: Path, tracklets: dict, workdir: Path,
               progress: Progress) -> tuple[np.ndarray, np.ndarray]:
        return detect_on_boxes(self.pose, video, tracklets, progress)


def detect_on_boxes(pose: BlazePoseBody25, video: Path, tracklets: dict,
                    progress: Progress) -> tuple[np.ndarray, np.ndarray]:
    """-> (det_frame_index (D,), det_keypoints_body25 (D, 25, 3)): one detection per observed row with a pose."""
    observed = np.asarray(tracklets["observed"]).astype(bool)
    frames_needed = frames_with_observed_people(tracklets)
    det_frames: list[int] = []
    det_keypoints: list[np.ndarray] = []
    for done, (index, frame) in enumerate(iter_observed_frames(video, tracklets), start=1):
        rows = np.flatnonzero((tracklets["frame_index"] == index) & observed)
        keypoints, _ = pose.estimate(frame, tracklets["bbox_xyxy"][rows])
        found = keypoints[..., 2].max(1) > 0
        det_frames += [index] * int(found.sum())
        det_keypoints.append(keypoints[found])
        progress(done / len(frames_needed), f"frame {index + 1}: {int(found.sum())}/{len(rows)} poses")
    return stack_detections(det_frames, det_keypoints)

