"""The robust 2D term's scale relative to the person's size (services/multishot/robust_scale.py), against
hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.multishot.losses import geman_mcclure
from services.multishot.robust_scale import person_extent_px, robust_scale_px


def _row(points_xy, confidence) -> np.ndarray:
    keypoints = np.zeros((25, 3))
    keypoints[: len(points_xy), :2] = points_xy
    keypoints[: len(points_xy), 2] = confidence
    return keypoints


def test_extent_is_the_median_over_a_persons_valid_rows_of_the_larger_side_of_its_confident_keypoints():
    rows = np.stack([
        _row([[100, 100], [160, 500], [900, 900]], [1.0, 0.9, 0.05]),  # third point below 0.1: 60 x 400 -> 400
        _row([[100, 100], [400, 300]], [1.0, 1.0]),  # 300 x 200 -> 300
        _row([[0, 0], [1000, 1000]], [1.0, 1.0]),  # not valid: left out of the median
        _row([[10, 10], [30, 90]], [1.0, 1.0]),  # person 1: 20 x 80 -> 80
    ])
    extent = person_extent_px(rows, np.array([0, 0, 0, 1]), np.array([True, True, False, True]), 0.1)
    np.testing.assert_allclose(extent, [350.0, 350.0, 350.0, 80.0])


def test_scale_is_the_fraction_of_the_extent_with_the_fixed_scale_as_floor():
    np.testing.assert_allclose(robust_scale_px(np.array([920.0, 150.0, 0.0]), 0.5, 100.0), [460.0, 100.0, 100.0])


def test_a_400_px_residual_pulls_at_a_scale_of_460_px_and_hardly_at_100_px():
    # d/dr GM(r; rho) = 2 r rho^4 / (r^2 + rho^2)^2: at r = 400, rho = 100: 2*400*1e8 / (170000)^2 = 0.00277;
    # rho = 460: 2*400*460^4 / (160000 + 211600)^2 = 0.4048: 146 times the pull
    residual = torch.tensor([400.0, 400.0], requires_grad=True)
    geman_mcclure(residual, torch.tensor([100.0, 460.0])).sum().backward()
    assert residual.grad.tolist() == pytest.approx([2 * 400 * 1e8 / 170000.0**2, 2 * 400 * 460.0**4 / 371600.0**2],
                                                   rel=1e-5)
