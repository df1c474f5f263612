"""Per-shot up direction, ankle plane, upright and ground-contact terms (services/multishot/scene.py) against
hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.multishot.scene import estimate_scene, ground_contact_cost, upright_cost

PELVIS, LEFT_ANKLE, RIGHT_ANKLE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 7, 8, 16, 17


def _body(torso_axis, ankle_heights_along_y, depth=5.0) -> np.ndarray:
    """(24, 3) joints: pelvis at (0, 0, depth), shoulders' middle 0.5 m along torso_axis, ankles at the given
    camera y (y down), x +-0.1."""
    points = np.zeros((24, 3))
    points[:, 2] = depth
    middle = points[PELVIS] + 0.5 * np.asarray(torso_axis, dtype=float)
    points[LEFT_SHOULDER], points[RIGHT_SHOULDER] = middle + [0.2, 0, 0], middle - [0.2, 0, 0]
    points[LEFT_ANKLE, :2] = [0.1, ankle_heights_along_y[0]]
    points[RIGHT_ANKLE, :2] = [-0.1, ankle_heights_along_y[1]]
    return points


def test_up_is_the_mean_torso_axis_of_the_upright_people_and_the_plane_the_median_lower_ankle():
    tilted = np.array([0.0, -0.8, 0.6])  # a camera looking down: the people's up leans towards +z in its frame
    points = np.stack([_body(tilted, (0.9, 0.7)), _body(tilted, (0.8, 0.8)), _body([0, 0, 1.0], (0.85, 0.6)),
                       _body([0, -1.0, 0], (0.5, 0.5))])
    # shot 0: rows 0-2; the third bends over (53 degrees from the first two, 36 from the mean of all three: left
    # out). Shot 1: row 3 alone.
    scene = estimate_scene(points, np.array([4, 4, 4, 7]), np.array([True, True, True, True]))
    np.testing.assert_allclose(scene.up[0], tilted, atol=1e-9)
    np.testing.assert_allclose(scene.up[1], [0, -1, 0], atol=1e-9)
    assert scene.upright.tolist() == [True, True, False, True]
    # lower ankle along up = min(-0.8 y + 0.6 z): rows 0, 1, 2 -> -0.72 + 3, -0.64 + 3, -0.68 + 3 (z = 5 m)
    assert scene.ground[0] == pytest.approx(-0.68 + 3.0)
    assert scene.ground[1] == pytest.approx(-0.5)
    assert scene.shot.tolist() == [0, 0, 0, 1] and scene.near_ground.all()


def test_a_shot_without_fitted_rows_keeps_the_images_up():
    points = np.stack([_body([0.0, -0.8, 0.6], (0.9, 0.9))])
    scene = estimate_scene(points, np.array([0]), np.array([False]))
    np.testing.assert_allclose(scene.up[0], [0, -1, 0])
    assert not scene.upright.any() and not scene.near_ground.any()


def test_upright_cost_is_one_minus_the_cosine_to_up():
    points = torch.tensor(np.stack([_body([0, -1.0, 0], (0, 0)), _body([1.0, 0, 0], (0, 0))]))
    up = torch.tensor([[0.0, -1.0, 0.0]] * 2, dtype=torch.float64)
    assert upright_cost(points, up).tolist() == pytest.approx([0.0, 1.0], abs=1e-6)


def test_ground_contact_is_geman_mcclure_of_the_lower_ankles_height():
    # ankles at y = 0.9 and 0.7 (y down): heights along up (0, -1, 0) are -0.9 and -0.7; plane at -1.0:
    # the lower ankle is 0.1 m above it; GM(0.1; 0.1) = 0.01 * 0.01 / (0.01 + 0.01) = 0.005 m^2
    points = torch.tensor(_body([0, -1.0, 0], (0.9, 0.7))[None])
    cost = ground_contact_cost(points, torch.tensor([[0.0, -1.0, 0.0]], dtype=torch.float64),
                               torch.tensor([-1.0], dtype=torch.float64))
    assert float(cost) == pytest.approx(0.005)
