"""A small person's crop for BlazePose (mshot/pose2d/crops.py): the window grown to a minimum size, by hand
values, and what it is for, on the rendered GT video 2's child (72 px tall), whom the plain crop misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mshot.pose2d.crops import is_small, with_min_window


def test_a_small_box_grows_about_its_centre_to_the_minimum_window_and_a_large_one_stays():
    # 30 x 72 px box, centre (265, 165); context 1.3, window 112 px -> each side at least 112 / 1.3 = 86.15 px
    grown = with_min_window(np.array([250.0, 129, 280, 201]), 1.3, 112)
    half = 112 / 1.3 / 2
    np.testing.assert_allclose(grown, [265 - half, 165 - half, 265 + half, 165 + half])
    large = np.array([100.0, 50, 140, 200])  # 150 px tall: window 195 px
    np.testing.assert_allclose(with_min_window(large, 1.3, 112), large)
    thin = np.array([0.0, 0, 10, 100])  # the window is the longer side's: 130 px, enough
    np.testing.assert_allclose(with_min_window(thin, 1.3, 112), thin)
    assert is_small(np.array([250.0, 129, 280, 201]), 1.3, 112) and not is_small(large, 1.3, 112)


GT_VIDEO2 = Path("tests/data/gt_video2/gt_video2.mp4")


@pytest.mark.skipif(not GT_VIDEO2.is_file(), reason="the rendered GT video 2 is not present")
def test_blazepose_finds_a_72_px_child_in_the_wider_window_and_not_in_the_plain_crop():
    from mshot.pose2d.blazepose import BlazePoseBody25
    from mshot.video import iter_frames

    frame = next(f for i, f in iter_frames(GT_VIDEO2, start=141) if i == 141)
    child = np.array([260.0, 128, 290, 200])  # its ground-truth box in frame 141 (person 0, 1.27 m)
    pose = BlazePoseBody25(with_masks=False)

    def in_box(box):
        keypoints = pose.estimate(frame, box[None])[0][0]
        x, y, confidence = keypoints.T
        return int(((confidence >= 0.5) & (x >= child[0]) & (x <= child[2]) & (y >= child[1]) & (y <= child[3])).sum())

    assert in_box(child) == 0
    assert in_box(with_min_window(child, pose.context)) >= 8


def test_a_box_whose_window_leaves_at_a_side_grows_to_its_mirror_image_across_that_edge():
    from mshot.pose2d.crops import leaves_at_a_side, mirrored_across_sides

    # right edge of a 768 px wide image: box x 619-703, 167 px tall -> window 1.3 * 167 = 217.1 px about
    # x 661: 552.45-769.55, beyond 768 by 1.55 px; mirrored: x1 = 2 * 768 - 619 = 917
    arm = np.array([619.0, 241, 703, 408])
    assert leaves_at_a_side(arm, 768, 1.3)
    np.testing.assert_allclose(mirrored_across_sides(arm, 768, 1.3), [619, 241, 917, 408])
    # left edge: box x 10-60, 100 px tall -> window 130 px about x 35: -30-100; x0 = -60
    left = np.array([10.0, 50, 60, 150])
    np.testing.assert_allclose(mirrored_across_sides(left, 768, 1.3), [-60, 50, 60, 150])
    # both edges (a person larger than the frame): each side mirrored from the box's own extent
    wide = np.array([20.0, 0, 750, 500])  # window 949 px about x 385: -89.5-859.5
    np.testing.assert_allclose(mirrored_across_sides(wide, 768, 1.3), [-750, 0, 1516, 500])
    # a window inside the image (x 300-400, 100 px tall: 285-415): unchanged, and not leaving
    inside = np.array([300.0, 100, 400, 200])
    assert not leaves_at_a_side(inside, 768, 1.3)
    np.testing.assert_allclose(mirrored_across_sides(inside, 768, 1.3), inside)
    # the top and bottom edges are no mirror axes (people are mirror-symmetric left to right only)
    assert not leaves_at_a_side(np.array([300.0, -50, 400, 20]), 768, 1.3)
