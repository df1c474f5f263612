"""BlazePose in a person's box, looked at again where the plain crop finds nobody: a small person in a wider
window, a person cut off by the left or right frame edge in the crop completed by the image mirrored across
that edge (mshot/pose2d/crops.py says why each); and, for a tight box (the union of a person's mask and keypoints,
in which BlazePose's person detector often finds nobody), the same looks in the box grown GROWN_LOOK times. The
tracker (verifying candidates, revisiting a track's gaps) and the keypoints stage (poses of tracked boxes) look
the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mshot.geometry.boxes import grown
from mshot.pose2d.blazepose import BlazePoseBody25
from mshot.pose2d.crops import MIN_WINDOW_PX, is_small, leaves_at_a_side, mirrored_across_sides, with_min_window

GROWN_LOOK = 1.4  # a tight box scaled by this about its centre for the looks in the grown box


@dataclass(frozen=True)
class PoseLook:
    """One person's pose from the look that found it (or the last one tried)."""

    keypoints: np.ndarray  # (25, 3) x, y px, confidence
    mask: np.ndarray  # (H, W) bool
    world: np.ndarray  # (33, 4) metres + visibility
    looked_in: np.ndarray  # (4,) xyxy px: the box BlazePose's window was made around
    mirrored: bool = False  # the crop was completed by mirroring (only the half in the image counts)


def pose_in_box(pose: BlazePoseBody25, frame_bgr: np.ndarray, box_xyxy: np.ndarray,
                found: Callable[[PoseLook], bool], min_window_px: float = MIN_WINDOW_PX) -> PoseLook:
    """BlazePose in the box's (4,) xyxy px crop; where `found(look)` is false, once more in a window at
    least `min_window_px` wide for a small box (crops.with_min_window), then on the box mirrored across the
    side edge its window leaves the image at (crops.mirrored_across_sides). `looked_in` is the candidate box
    for the first two looks, the mirrored box for the last."""
    box = np.asarray(box_xyxy, dtype=np.float64)
    look = _look(pose, frame_bgr, box, box)
    if found(look):
        return look
    if is_small(box, pose.context, min_window_px):
        look = _look(pose, frame_bgr, with_min_window(box, pose.context, min_window_px), box)
        if found(look):
            return look
    width = frame_bgr.shape[1]
    if leaves_at_a_side(box, width, pose.context):
        mirrored = mirrored_across_sides(box, width, pose.context)
        look = _look(pose, frame_bgr, mirrored, mirrored, mirror_sides=True)
    return look


def pose_in_box_or_grown(pose: BlazePoseBody25, frame_bgr: np.ndarray, box_xyxy: np.ndarray,
                         found: Callable[[PoseLook], bool], growth: float = GROWN_LOOK,
                         min_window_px: float = MIN_WINDOW_PX) -> PoseLook:
    """pose_in_box in the (4,) xyxy px box; where `found(look)` is false, pose_in_box once more in the box grown
    `growth` times about its centre (1: no such look) -> the look that found the person, else the box's own
    last look."""
    look = pose_in_box(pose, frame_bgr, box_xyxy, found, min_window_px)
    if found(look) or growth <= 1:
        return look
    retry = pose_in_box(pose, frame_bgr, grown(np.asarray(box_xyxy, dtype=np.float64), growth), found, min_window_px)
    return retry if found(retry) else look


def _look(pose: BlazePoseBody25, frame_bgr: np.ndarray, box: np.ndarray, looked_in: np.ndarray,
          mirror_sides: bool = False) -> PoseLook:
    keypoints, masks, world = pose.estimate_with_world(frame_bgr, box[None], mirror_sides)
    return PoseLook(keypoints[0], masks[0], world[0], looked_in, mirror_sides)
