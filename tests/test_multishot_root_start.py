"""Where the fit's root starts in the image (services/multishot/objective.py root_start_px): the initial root
projected, unless the MidHip is seen and the root lies outside the box of the row's seen keypoints grown by
25 % per side; values by hand."""

from __future__ import annotations

import numpy as np

from services.multishot.objective import root_start_px


def keypoints_of(points: dict[int, tuple[float, float]]) -> np.ndarray:
    """(1, 25, 3): the given BODY_25 keypoints seen (confidence 0.9), the others unseen."""
    out = np.zeros((1, 25, 3))
    for index, (x, y) in points.items():
        out[0, index] = (x, y, 0.9)
    return out


SEEN = {0: (100.0, 50.0), 8: (104.0, 120.0), 11: (98.0, 180.0), 14: (110.0, 182.0)}  # box x 98..110, y 50..182


def test_an_initial_root_inside_the_keypoints_box_is_kept():
    np.testing.assert_allclose(root_start_px(np.array([[101.0, 130.0]]), keypoints_of(SEEN)), [[101, 130]])


def test_an_initial_root_far_below_the_keypoints_starts_at_the_midhip_keypoint():
    np.testing.assert_allclose(root_start_px(np.array([[101.0, 365.0]]), keypoints_of(SEEN)), [[104, 120]])


def test_without_a_midhip_keypoint_the_initial_root_is_kept():
    seen = {k: v for k, v in SEEN.items() if k != 8}  # legs or hips hidden: the seen box need not hold the root
    np.testing.assert_allclose(root_start_px(np.array([[20.0, 120.0]]), keypoints_of(seen)), [[20, 120]])


def test_an_initial_root_within_the_margin_around_the_keypoints_box_is_kept():
    # box 98..110 x 50..182 grown by 0.25 of its size per side: x 95..113, y 17..215
    np.testing.assert_allclose(root_start_px(np.array([[112.0, 214.0]]), keypoints_of(SEEN)), [[112, 214]])
    np.testing.assert_allclose(root_start_px(np.array([[114.0, 130.0]]), keypoints_of(SEEN)), [[104, 120]])


def test_a_row_without_seen_keypoints_keeps_its_initial_root():
    np.testing.assert_allclose(root_start_px(np.array([[20.0, 120.0]]), np.zeros((1, 25, 3))), [[20, 120]])
