"""Whether a pose BlazePose verified is a body at all. On things that are no people (an instrument, a hand on
it) BlazePose's detector often fires and its landmark model then lays a skeleton upside down over them: on
seated_3people most of the rows of main's phantom track on a tanpura and a hand have the face below the
shoulders and the hips above them. People in video are upright (standing, walking, seated, lying: never
with the head below the shoulders and the hips above them), so such a pose is refused. Not covered: a person
really upside down (a handstand) or bent double with the head below the hips."""

from __future__ import annotations

import numpy as np

from mshot.body.joint_maps import BODY25_NAMES, MIDHIP_BODY25

NECK = BODY25_NAMES.index("Neck")
HEAD = tuple(BODY25_NAMES.index(n) for n in ("Nose", "REye", "LEye", "REar", "LEar"))


def is_upside_down(keypoints: np.ndarray, min_confidence: float) -> bool:
    """(25, 3) BODY_25 px + confidence (image y down) -> the confident head points' mean lies below the neck
    (within 45 degrees of straight down from it: a lying person's head is beside the neck) and the mid-hip,
    where it is confident, above the neck; False where the head or the neck is not confident."""
    confident = keypoints[:, 2] >= min_confidence
    head = [j for j in HEAD if confident[j]]
    if not head or not confident[NECK]:
        return False
    dx, dy = keypoints[head, :2].mean(axis=0) - keypoints[NECK, :2]
    hips_above = not confident[MIDHIP_BODY25] or keypoints[MIDHIP_BODY25, 1] < keypoints[NECK, 1]
    return bool(dy > abs(dx) and hips_above)
