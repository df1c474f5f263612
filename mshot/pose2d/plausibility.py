"""Whether a BODY_25 pose from a one-person model (BlazePose) is a body at all. On things that are no people
(an instrument, a hand on it, a drum at the frame edge) BlazePose's detector often fires and its landmark model
lays a skeleton upside down over them: on seated_3people most rows of main's phantom track on a tanpura and a
hand have the face below the shoulders and the hips above them, and the mirrored look at the left edge
(retries.py) lays one over a drum with the ankles at the top. People in video are upright (standing, walking,
seated) or lying, never with the shoulders below the hips or the head below the neck with the hips above it,
so such a pose is refused, by the tracker (a candidate) and the keypoints stage (a row's pose). Not covered: a
person really upside down (a handstand) or bent double with the shoulders below the hips."""

from __future__ import annotations

import numpy as np

from mshot.body.joint_maps import BODY25_NAMES, MIDHIP_BODY25

NECK = BODY25_NAMES.index("Neck")
HEAD = tuple(BODY25_NAMES.index(n) for n in ("Nose", "REye", "LEye", "REar", "LEar"))
SHOULDERS = tuple(BODY25_NAMES.index(n) for n in ("RShoulder", "LShoulder"))
HIPS = tuple(BODY25_NAMES.index(n) for n in ("RHip", "LHip"))


def _points_down(keypoints: np.ndarray, confident: np.ndarray, top: tuple[int, ...],
                 bottom: tuple[int, ...]) -> bool | None:
    """The mean of the confident `top` joints lies below the mean of the confident `bottom` ones, within 45
    degrees of straight down (image y down); None where either group has no confident joint."""
    upper, lower = [j for j in top if confident[j]], [j for j in bottom if confident[j]]
    if not upper or not lower:
        return None
    dx, dy = keypoints[upper, :2].mean(axis=0) - keypoints[lower, :2].mean(axis=0)
    return bool(dy > abs(dx))


def is_upside_down(keypoints: np.ndarray, min_confidence: float) -> bool:
    """(25, 3) BODY_25 px + confidence -> the shoulders lie below the hips (within 45 degrees of straight down:
    a lying person's are beside them), or, where no shoulder or no hip is confident, the head below the neck
    with the mid-hip, where it is confident, above the neck; False where neither can be told."""
    confident = keypoints[:, 2] >= min_confidence
    torso = _points_down(keypoints, confident, SHOULDERS, HIPS)
    if torso is not None:
        return torso
    head = _points_down(keypoints, confident, HEAD, (NECK,))
    hips_above = not confident[MIDHIP_BODY25] or keypoints[MIDHIP_BODY25, 1] < keypoints[NECK, 1]
    return bool(head and hips_above)
