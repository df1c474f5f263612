"""Keypoints backends: each finds BODY_25 people in the frames the tracking stage observed people in and
returns raw detections (det_frame_index (D,), det_keypoints_body25 (D, 25, 3) px + confidence), which
services/keypoints/association.py then matches to the tracked persons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput
from mshot.video import iter_frames


def frames_with_observed_people(tracklets: dict) -> np.ndarray:
    """Sorted unique frame indices (int) that hold at least one observed (not coasting) tracklet row."""
    observed = np.asarray(tracklets["observed"]).astype(bool)
    return np.unique(np.asarray(tracklets["frame_index"])[observed]).astype(int)


def iter_observed_frames(video: Path, tracklets: dict) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame_index, BGR frame) for every frame with observed people, decoded by mshot.video (the same
    decoding and indices as the tracking stage). InvalidInput when the frames are not the size the tracklets
    were made on or the video ends before the last such frame."""
    needed = frames_with_observed_people(tracklets)
    if needed.size == 0:
        return
    wanted = set(needed.tolist())
    height, width = (int(v) for v in tracklets["image_size"])
    last = -1
    for index, frame in iter_frames(video, stop=int(needed[-1]) + 1):
        last = index
        if index not in wanted:
            continue
        if frame.shape[:2] != (height, width):
            raise InvalidInput(f"video {video} frames are {frame.shape[1]}x{frame.shape[0]}, the tracklets were "
                               f"made on {width}x{height}")
        yield index, frame
    if last < needed[-1]:
        raise InvalidInput(f"video {video} ends at frame {last}, the tracklets have people in frame {needed[-1]}")


def stack_detections(frames: list[int], keypoints: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame lists -> (det_frame_index (D,) int32, det_keypoints_body25 (D, 25, 3) float32)."""
    stacked = np.concatenate(keypoints).astype(np.float32) if keypoints else np.zeros((0, 25, 3), np.float32)
    return np.asarray(frames, dtype=np.int32), stacked.reshape(-1, 25, 3)
