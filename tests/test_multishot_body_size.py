"""Body size from the shared floor (services/multishot/body_size.py) against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.multishot.body_size import (
    ANKLE_ERROR_M,
    SIZE_PRIOR_SIGMA,
    UP_ERROR_RAD,
    betas_for_scale,
    camera_heights,
    image_up,
    relative_scales,
)
from services.multishot.kinematics import SparseSmplJoints

LEFT_ANKLE, RIGHT_ANKLE = 7, 8  # SMPL joints


def test_camera_height_is_minus_the_lower_ankles_height_along_up():
    points = torch.zeros(1, 24, 3)
    points[0, LEFT_ANKLE] = torch.tensor([0.1, 1.4, 5.0])  # y down: 1.4 m below the camera
    points[0, RIGHT_ANKLE] = torch.tensor([-0.1, 1.2, 5.0])
    up = torch.tensor([[0.0, -1.0, 0.0]])
    assert camera_heights(points, up)[0] == pytest.approx(1.4)
    tilted = torch.tensor([[0.0, -0.8, 0.6]])  # lower ankle along up: min(-1.12 + 3, -0.96 + 3) = 1.88
    assert camera_heights(points, tilted)[0] == pytest.approx(-1.88)


def _weight(height: float, distance: float) -> float:
    """w_pk of the module doc."""
    return height**2 / ((UP_ERROR_RAD * distance) ** 2 + ANKLE_ERROR_M**2)


def test_two_people_of_one_shot_get_the_ratio_of_their_camera_heights():
    # One shot; at the fit's sizes person 0 (a child fitted as an adult) measures a camera height of 2.0 m,
    # person 1 of 1.0 m, both 5 m away. Unknowns x = (log s0, log s1, log H); residuals sqrt(w_p) (log a_p + x_p - h)
    # and x_p / sigma, solved by hand-built normal equations.
    heights, distance = np.array([2.0] * 3 + [1.0] * 3), np.full(6, 5.0)
    person = np.array([0] * 3 + [1] * 3)
    root = np.sqrt([_weight(2.0, 5.0), _weight(1.0, 5.0)])
    design = np.array([[root[0], 0, -root[0]], [0, root[1], -root[1]],
                       [1 / SIZE_PRIOR_SIGMA, 0, 0], [0, 1 / SIZE_PRIOR_SIGMA, 0]])
    target = np.array([-root[0] * np.log(2.0), -root[1] * np.log(1.0), 0, 0])
    expected = np.exp(np.linalg.solve(design.T @ design, design.T @ target)[:2])
    scales = relative_scales(heights, distance, person, np.zeros(6, int), np.ones(6, bool))
    np.testing.assert_allclose(scales, expected, rtol=1e-9)


def test_a_person_shared_by_two_shots_links_their_sizes():
    # shot 0: persons 0 and 1 (heights 2.0, 1.0); shot 1: persons 1 and 2 (1.2, 1.2), all 4 m away.
    # x = (log s0, log s1, log s2, log H0, log H1).
    heights = np.array([2.0] * 3 + [1.0] * 3 + [1.2] * 3 + [1.2] * 3)
    person = np.array([0] * 3 + [1] * 6 + [2] * 3)
    shot = np.array([0] * 6 + [1] * 6)
    w = np.sqrt([_weight(a, 4.0) for a in (2.0, 1.0, 1.2, 1.2)])
    design = np.array([[1, 0, 0, -1, 0], [0, 1, 0, -1, 0], [0, 1, 0, 0, -1], [0, 0, 1, 0, -1]], float) * w[:, None]
    design = np.vstack([design, np.eye(3, 5) / SIZE_PRIOR_SIGMA])
    target = np.concatenate([-w * np.log([2.0, 1.0, 1.2, 1.2]), np.zeros(3)])
    expected = np.exp(np.linalg.solve(design.T @ design, design.T @ target)[:3])
    scales = relative_scales(heights, np.full(12, 4.0), person, shot, np.ones(12, bool))
    np.testing.assert_allclose(scales, expected, rtol=1e-9)
    assert scales[0] < min(scales[1], scales[2])  # person 0 measured the highest camera: the smallest body


def test_a_lone_person_or_a_floor_seen_edge_on_keeps_its_size():
    person, shot = np.array([0] * 3 + [1] * 3), np.array([0] * 3 + [1] * 3)  # each alone in its shot
    distance = np.full(6, 5.0)
    np.testing.assert_allclose(relative_scales(np.full(6, 1.5), distance, person, shot, np.ones(6, bool)), [1, 1])
    heights = np.array([0.1] * 3 + [1.5] * 3)  # person 0's ankles at the camera's height: no evidence
    np.testing.assert_allclose(relative_scales(heights, distance, person, np.zeros(6, int), np.ones(6, bool)),
                               [1, 1])


def test_image_up_is_the_vanishing_direction_of_the_peoples_vertical_lines():
    # A camera pitched 30 degrees down: world up is (0, -cos 30, -sin 30) in its frame (y down, z forward). Three
    # people at different places; their ankle-to-neck lines are projections of vertical segments along up.
    focal, principal = 500.0, np.array([320.0, 240.0])
    up = np.array([0.0, -np.cos(np.radians(30)), -np.sin(np.radians(30))])
    keypoints = np.zeros((3, 25, 3))
    for i, ankles in enumerate(([-2.0, 1.0, 8.0], [1.5, 1.2, 6.0], [0.3, 0.8, 10.0])):
        for joint, point in ((11, ankles), (14, ankles), (1, np.add(ankles, 1.4 * up))):
            keypoints[i, joint, :2] = focal * np.asarray(point[:2]) / point[2] + principal
    estimate = image_up(keypoints, np.full(3, focal), np.tile(principal, (3, 1)), np.zeros(3, int),
                        np.ones(3, bool), np.array([[0.0, -1.0, 0.0]]))
    np.testing.assert_allclose(estimate[0], up, atol=1e-3)  # the prior leans it by ~1e-5 / sum |n|^2
    # One person only: its line fixes one plane; the prior (the image's up here) decides within it.
    alone = image_up(keypoints[:1], np.full(1, focal), principal[None], np.zeros(1, int), np.ones(1, bool),
                     np.array([[0.0, -1.0, 0.0]]))
    normal = np.cross(*[np.append((keypoints[0, j, :2] - principal) / focal, 1.0) for j in (11, 1)])
    assert abs(alone[0] @ normal) < 1e-3 * np.linalg.norm(normal) and alone[0] @ [0, -1, 0] > 0.9


def test_betas_for_scale_scale_the_rest_joints_about_their_centroid():
    # A model whose only shape direction is the template itself about its centroid: beta b scales by (1 + b),
    # so scale 0.75 from betas 0 is beta -0.25 (up to the ridge).
    rng = np.random.default_rng(0)
    template = rng.normal(size=(24, 3))
    model = SparseSmplJoints.__new__(SparseSmplJoints)
    torch.nn.Module.__init__(model)
    centred = template - template.mean(0)
    model.register_buffer("joint_template", torch.tensor(template, dtype=torch.float32))
    model.register_buffer("joint_shapedirs", torch.tensor(centred[..., None], dtype=torch.float32))
    betas = betas_for_scale(model, torch.zeros(2, 1), torch.tensor([0.75, 1.2]))
    np.testing.assert_allclose(betas[:, 0].numpy(), [-0.25, 0.2], atol=1e-4)
