"""Body size from the shared floor (services/multishot/body_size.py) against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.multishot.body_size import SIZE_PRIOR_WEIGHT, betas_for_scale, camera_heights, relative_scales
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


def test_two_people_of_one_shot_get_the_ratio_of_their_camera_heights():
    # Camera 1.5 m above a floor; at the fit's sizes person 0 (a child fitted as an adult) measures 2.0 m,
    # person 1 measures 1.5 m. By symmetry log s0 = -log s1 = d and log H = (log 2 + log 1.5) / 2; the cost
    # 2 (log(2 / 1.5) / 2 + d)^2 + 2 w d^2 is least at d = -log(4 / 3) / 2 / (1 + w) (w: the prior's weight).
    heights = np.array([2.0] * 3 + [1.5] * 3)
    person = np.array([0] * 3 + [1] * 3)
    scales = relative_scales(heights, person, np.zeros(6, int), np.ones(6, bool))
    d = -np.log(4 / 3) / 2 / (1 + SIZE_PRIOR_WEIGHT)
    np.testing.assert_allclose(np.log(scales), [d, -d], atol=1e-9)


def test_a_person_shared_by_two_shots_links_their_sizes():
    # shot 0: persons 0 and 1 (heights 2.0, 1.0 -> 1 is twice 0's size ratio); shot 1: persons 1 and 2 at equal
    # heights. Unknowns x = (log s0, log s1, log s2, log H0, log H1); residuals are
    # l_pk + x_p - h_k and sqrt(w) x_p. Solved here by hand-built normal equations.
    heights = np.array([2.0] * 3 + [1.0] * 3 + [1.2] * 3 + [1.2] * 3)
    person = np.array([0] * 3 + [1] * 6 + [2] * 3)
    shot = np.array([0] * 6 + [1] * 6)
    design = np.array([[1, 0, 0, -1, 0], [0, 1, 0, -1, 0], [0, 1, 0, 0, -1], [0, 0, 1, 0, -1]], float)
    design = np.vstack([design, np.sqrt(SIZE_PRIOR_WEIGHT) * np.eye(3, 5)])
    target = np.concatenate([-np.log([2.0, 1.0, 1.2, 1.2]), np.zeros(3)])
    expected = np.exp(np.linalg.solve(design.T @ design, design.T @ target)[:3])
    scales = relative_scales(heights, person, shot, np.ones(12, bool))
    np.testing.assert_allclose(scales, expected, rtol=1e-9)
    assert scales[0] < min(scales[1], scales[2])  # person 0 measured the highest camera: the smallest body


def test_a_lone_person_or_a_floor_seen_edge_on_keeps_its_size():
    person, shot = np.array([0] * 3 + [1] * 3), np.array([0] * 3 + [1] * 3)  # each alone in its shot
    np.testing.assert_allclose(relative_scales(np.full(6, 1.5), person, shot, np.ones(6, bool)), [1.0, 1.0])
    heights = np.array([0.1] * 3 + [1.5] * 3)  # person 0's ankles at the camera's height: no evidence
    np.testing.assert_allclose(relative_scales(heights, person, np.zeros(6, int), np.ones(6, bool)), [1, 1])


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
