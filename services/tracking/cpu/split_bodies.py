"""One person verified as two: BlazePose, run in the crop of a person cut off by the frame edge or a caption,
often sees the head and shoulders in one candidate and, in another candidate's crop, makes a second small (or
upside-down) "person" of the same person's lap, hands and instrument. The two boxes hardly overlap, so box IoU
and nesting do not tell them apart; the poses do: the upper one's hips are unseen, and BlazePose still places
them (and the knees) where its body continues, which is where the other one's keypoints are.

A found person A is the rest of found person B's body when
- B's hips are unseen (both below `min_confidence`): B's body continues below what BlazePose saw;
- A's nose (confident or not: BlazePose always places it) lies below B's shoulder line (image y down,
  docs/conventions.md): A's "head" is on B's chest or lap, not beside B's head, so a person standing in front
  of or behind B at the same size is never A;
- at least `min_share` of A's confident keypoints lie in B's body extent: the box around B's shoulders, hips
  and knees (placed, seen or not), widened on each side by half B's shoulder span (arms and a seated lap reach
  past the hips).
Such pairs become one person: B's keypoints (the head is B's), the union of both boxes and both masks, the
higher confidence. A child standing in front of an adult whose hips the child hides is merged into the adult
the same way (as detector.is_part_of_found drops a child's box lying inside an adult's)."""

from __future__ import annotations

import numpy as np

NOSE, RIGHT_SHOULDER, LEFT_SHOULDER = 0, 2, 5  # BODY_25
RIGHT_HIP, LEFT_HIP, RIGHT_KNEE, LEFT_KNEE = 9, 12, 10, 13
BODY_EXTENT_POINTS = [RIGHT_SHOULDER, LEFT_SHOULDER, RIGHT_HIP, LEFT_HIP, RIGHT_KNEE, LEFT_KNEE]


def body_extent(keypoints: np.ndarray) -> np.ndarray:
    """BlazePose keypoints (25, 3) px + confidence -> (4,) xyxy px: the box around the shoulders, hips and knees
    wherever BlazePose placed them, widened in x by half the shoulder span (the 2D distance between the
    shoulders) on each side. Not the person's box: a box grown by an earlier merge would grow the extent."""
    points = keypoints[BODY_EXTENT_POINTS, :2]
    margin = 0.5 * float(np.linalg.norm(keypoints[RIGHT_SHOULDER, :2] - keypoints[LEFT_SHOULDER, :2]))
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    return np.array([x0 - margin, y0, x1 + margin, y1])


def is_rest_of_body(part_keypoints: np.ndarray, whole_keypoints: np.ndarray, min_confidence: float,
                    min_share: float) -> bool:
    """The module's test: the person with keypoints `part_keypoints` (25, 3) is the rest of the body of the
    person with keypoints `whole_keypoints` (25, 3) (px + confidence)."""
    if (whole_keypoints[[RIGHT_HIP, LEFT_HIP], 2] >= min_confidence).any():
        return False
    if part_keypoints[NOSE, 1] <= whole_keypoints[[RIGHT_SHOULDER, LEFT_SHOULDER], 1].min():
        return False
    confident = part_keypoints[part_keypoints[:, 2] >= min_confidence, :2]
    if not len(confident):
        return False
    x0, y0, x1, y1 = body_extent(whole_keypoints)
    inside = (confident[:, 0] >= x0) & (confident[:, 0] <= x1) & (confident[:, 1] >= y0) & (confident[:, 1] <= y1)
    return bool(inside.mean() >= min_share)


def merge_split_bodies(found: list[tuple], min_confidence: float, min_share: float) -> list[tuple]:
    """People found in one frame, each (box (4,), confidence, keypoints (25, 3), mask (H, W) bool) -> the same
    with every person that is the rest of another's body (is_rest_of_body) merged into that one: its box
    grown to hold both, the masks' union, the higher confidence, the whole person's keypoints."""
    people = list(found)
    while (pair := _split_pair(people, min_confidence, min_share)) is not None:
        (box, score, keypoints, mask), (part_box, part_score, _, part_mask) = people[pair[0]], people[pair[1]]
        whole = (np.concatenate([np.minimum(box[:2], part_box[:2]), np.maximum(box[2:], part_box[2:])]),
                 max(score, part_score), keypoints, mask | part_mask)
        people = [whole if k == pair[0] else p for k, p in enumerate(people) if k != pair[1]]
    return people


def _split_pair(people: list[tuple], min_confidence: float, min_share: float) -> tuple[int, int] | None:
    """(whole, part) indices of the first pair where people[part] is the rest of people[whole]'s body."""
    for i, (_, _, keypoints, _) in enumerate(people):
        for j, (_, _, part_keypoints, _) in enumerate(people):
            if i != j and is_rest_of_body(part_keypoints, keypoints, min_confidence, min_share):
                return i, j
    return None
