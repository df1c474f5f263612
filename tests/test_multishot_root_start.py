"""Where the fit's root starts in the image (services/multishot/objective.py root_start_px): the initial root
projected, unless it lies outside the box of the row's seen keypoints; values by hand."""

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


def test_an_initial_root_below_the_keypoints_starts_at_the_midhip_keypoint():
    np.testing.assert_allclose(root_start_px(np.array([[101.0, 365.0]]), keypoints_of(SEEN)), [[104, 120]])


def test_without_a_midhip_keypoint_the_root_starts_at_the_keypoints_box_centre():
    seen = {k: v for k, v in SEEN.items() if k != 8}
    np.testing.assert_allclose(root_start_px(np.array([[20.0, 120.0]]), keypoints_of(seen)), [[104, 116]])


def test_a_row_without_seen_keypoints_keeps_its_initial_root():
    np.testing.assert_allclose(root_start_px(np.array([[20.0, 120.0]]), np.zeros((1, 25, 3))), [[20, 120]])
