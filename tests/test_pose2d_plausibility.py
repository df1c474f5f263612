"""A pose that is no body (mshot/pose2d/plausibility.py): upside down - the shoulders below the hips, or the head
below the neck and the hips above it - is refused; upright, lying and head-bowed people, and poses too little
of which is seen to tell, are not."""

from __future__ import annotations

import numpy as np

from mshot.pose2d.plausibility import is_upside_down


def _pose(points: dict[int, tuple[float, float]]) -> np.ndarray:
    keypoints = np.zeros((25, 3), np.float32)
    for joint, xy in points.items():
        keypoints[joint] = (*xy, 0.9)
    return keypoints


NOSE, NECK, RSH, LSH, MIDHIP, RHIP, LHIP, REYE, LEYE = 0, 1, 2, 5, 8, 9, 12, 15, 16


def test_shoulders_below_the_hips_are_upside_down_whatever_the_head():
    # the mirrored look at seated_3people's left edge, frame 212: a drum, shoulder y 541, hip y 431, no head
    assert is_upside_down(_pose({RSH: (21, 541), RHIP: (21, 431), MIDHIP: (4, 430)}), 0.5)
    # a seated musician (main's person 0, frame 0): shoulders 349-357 above hips 504-511
    upright = _pose({RSH: (129, 349), LSH: (251, 357), RHIP: (151, 511), LHIP: (222, 504), NOSE: (217, 311)})
    assert not is_upside_down(upright, 0.5)
    # lying, head to the left: shoulders beside the hips, a little lower
    assert not is_upside_down(_pose({RSH: (140, 310), LSH: (140, 290), RHIP: (260, 305), LHIP: (260, 285)}), 0.5)


def test_a_head_below_the_neck_with_the_hips_above_it_is_upside_down():
    # main's phantom on the tanpura, frame 132: nose y 470, eyes 476, neck 433, hips 319
    assert is_upside_down(_pose({NOSE: (631, 470), REYE: (635, 476), LEYE: (623, 476), NECK: (627, 433),
                                 MIDHIP: (660, 319)}), 0.5)
    assert is_upside_down(_pose({NOSE: (631, 470), NECK: (627, 433)}), 0.5)  # hips unseen


def test_upright_bowed_and_lying_people_and_unseen_heads_are_not_upside_down():
    assert not is_upside_down(_pose({NOSE: (484, 327), NECK: (469, 349), MIDHIP: (470, 488)}), 0.5)  # seated
    # head bowed below the shoulders, hips below too (a singer leaning over her instrument)
    assert not is_upside_down(_pose({NOSE: (480, 360), NECK: (470, 350), MIDHIP: (470, 480)}), 0.5)
    # lying on the floor, head to the left and a little lower than the neck, hips a little higher
    assert not is_upside_down(_pose({NOSE: (100, 310), NECK: (140, 300), MIDHIP: (260, 298)}), 0.5)
    assert not is_upside_down(_pose({NECK: (627, 433), MIDHIP: (660, 319)}), 0.5)  # no head seen
    faint = _pose({NOSE: (631, 470), NECK: (627, 433)})
    faint[NOSE, 2] = 0.3
    assert not is_upside_down(faint, 0.5)
