"""Boxes clipped before they index image data (mshot/geometry/boxes.py): inside, at and beyond the border,
zero-area and non-finite boxes, against hand-computed slices."""

from __future__ import annotations

import numpy as np

from mshot.geometry.boxes import box_slices, points_in_mask


def test_a_box_inside_the_image_gives_its_rounded_pixels():
    assert box_slices(np.array([10.4, 5.6, 20.5, 30.0]), 100, 200) == (slice(6, 30), slice(10, 20))


def test_a_box_past_the_border_is_clipped_to_the_image():
    assert box_slices(np.array([-50.0, -10, 30, 500]), 100, 200) == (slice(0, 100), slice(0, 30))
    assert box_slices(np.array([190.0, 90, 260, 140]), 100, 200) == (slice(90, 100), slice(190, 200))


def test_a_box_wholly_outside_covers_nothing_instead_of_wrapping_around():
    image = np.ones((100, 200), bool)
    for box in ([-80.0, -60, -20, -5], [250.0, 10, 300, 50], [10.0, 120, 50, 180]):
        assert image[box_slices(np.array(box), 100, 200)].size == 0, box


def test_zero_area_inverted_and_non_finite_boxes_cover_nothing():
    image = np.ones((100, 200), bool)
    for box in ([40.0, 40, 40, 40], [60.0, 60, 20, 20], [np.nan, 0, 10, 10], [0.0, 0, np.inf, 10]):
        assert image[box_slices(np.array(box), 100, 200)].size == 0, box


def test_points_are_looked_up_at_their_nearest_pixel_and_outside_points_are_not_in_the_mask():
    mask = np.zeros((4, 6), bool)
    mask[1, 2] = True
    xy = np.array([[2.4, 0.6], [1.6, 1.4], [2.6, 1.0], [-0.4, 1.0], [6.0, 1.0], [np.nan, 1.0], [2.0, 4.2]])
    np.testing.assert_array_equal(points_in_mask(xy, mask), [True, True, False, False, False, False, False])
