"""Body size from the shared floor (services/multishot/body_size.py) against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.multishot.body_size import (
    ANKLE_ERROR_M,
    SIZE_ERROR,
    SIZE_PRIOR_SIGMA,
    UP_ERROR_RAD,
    betas_for_scale,
    image_up,
    lower_ankles,
    relative_scales,
    shot_covariance,
)
from services.multishot.kinematics import SparseSmplJoints

LEFT_ANKLE, RIGHT_ANKLE = 7, 8  # SMPL joints


def test_lower_ankle_is_the_ankle_lowest_along_up():
    points = torch.zeros(2, 24, 3)
    points[:, LEFT_ANKLE] = torch.tensor([0.1, 1.4, 5.0])  # y down: 1.4 m below the camera
    points[:, RIGHT_ANKLE] = torch.tensor([-0.1, 1.2, 5.0])
    up = torch.tensor([[0.0, -1.0, 0.0], [0.0, -0.8, 0.6]])  # tilted: along up -1.12 + 3 = 1.88, -0.96 + 3 = 2.04
    ankles = lower_ankles(points, up)
    np.testing.assert_allclose(ankles, [[0.1, 1.4, 5.0], [0.1, 1.4, 5.0]], rtol=1e-6)
    np.testing.assert_allclose(-(ankles * up.numpy()).sum(-1), [1.4, -1.88], rtol=1e-6)  # the camera's heights


def test_shot_covariance_adds_the_shared_tilt_to_each_observations_own_error():
    # gradients lever / a: (1, 0, 0) and (3, 0, 4); their products 1, 3, 25
    covariance = shot_covariance(np.array([2.0, 1.0]), np.array([[2.0, 0.0, 0.0], [3.0, 0.0, 4.0]]))
    own = np.diag([SIZE_ERROR**2 + ANKLE_ERROR_M**2 / 4, SIZE_ERROR**2 + ANKLE_ERROR_M**2])
    np.testing.assert_allclose(covariance, own + UP_ERROR_RAD**2 * np.array([[1.0, 3.0], [3.0, 25.0]]))


def _rows(height: float, x: float, z: float, count: int = 3) -> np.ndarray:
    """count lower ankles (camera frame, up (0, -1, 0)) with the camera `height` above them: lever (-z, 0, x)."""
    return np.tile([x, height, z], (count, 1))


def _expected(observations: list[tuple[int, int, float, np.ndarray]], people: int) -> np.ndarray:
    """The generalised least squares of the module doc by hand-built normal equations: observations (person,
    shot, camera height a, lever), unknowns (log s_p..., log H_k...)."""
    shots = sorted({k for _, k, _, _ in observations})
    normal, right = np.zeros((people + len(shots),) * 2), np.zeros(people + len(shots))
    normal[:people, :people] = np.eye(people) / SIZE_PRIOR_SIGMA**2
    for k in shots:
        mine = [o for o in observations if o[1] == k]
        design = np.zeros((len(mine), people + len(shots)))
        for i, (p, _, _, _) in enumerate(mine):
            design[i, p], design[i, people + shots.index(k)] = 1, -1
        heights = np.array([o[2] for o in mine])
        inverse = np.linalg.inv(shot_covariance(heights, np.array([o[3] for o in mine])))
        normal += design.T @ inverse @ design
        right += design.T @ inverse @ -np.log(heights)
    return np.exp(np.linalg.solve(normal, right)[:people])


UP = np.array([0.0, -1.0, 0.0])


def test_two_people_of_one_shot_get_the_ratio_of_their_camera_heights():
    # One shot; at the fit's sizes person 0 (a child fitted as an adult) measures a camera height of 2.0 m,
    # person 1 of 1.0 m, 5 m and 8 m away (levers (-5, 0, 0), (-8, 0, 1)).
    ankles = np.vstack([_rows(2.0, 0.0, 5.0), _rows(1.0, 1.0, 8.0)])
    person = np.array([0] * 3 + [1] * 3)
    expected = _expected([(0, 0, 2.0, np.array([-5.0, 0, 0])), (1, 0, 1.0, np.array([-8.0, 0, 1.0]))], 2)
    scales = relative_scales(ankles, np.tile(UP, (6, 1)), person, np.zeros(6, int), np.ones(6, bool))
    np.testing.assert_allclose(scales, expected, rtol=1e-9)
    assert scales[0] < scales[1]


def test_a_person_shared_by_two_shots_links_their_sizes():
    # shot 0: persons 0 and 1 (camera heights 2.0, 1.0); shot 1: persons 1 and 2 (1.2, 1.2), all 4 m away.
    ankles = np.vstack([_rows(2.0, 0, 4.0), _rows(1.0, 0, 4.0), _rows(1.2, 0, 4.0), _rows(1.2, 0, 4.0)])
    person = np.array([0] * 3 + [1] * 6 + [2] * 3)
    shot = np.array([0] * 6 + [1] * 6)
    lever = np.array([-4.0, 0, 0])
    expected = _expected([(0, 0, 2.0, lever), (1, 0, 1.0, lever), (1, 1, 1.2, lever), (2, 1, 1.2, lever)], 3)
    scales = relative_scales(ankles, np.tile(UP, (12, 1)), person, shot, np.ones(12, bool))
    np.testing.assert_allclose(scales, expected, rtol=1e-9)
    assert scales[0] < min(scales[1], scales[2])  # person 0 measured the highest camera: the smallest body


def test_in_one_shot_only_the_difference_of_the_tilt_gradients_weighs_on_the_ratio():
    # log H absorbs what the two observations share, so only d = log s0 - log s1 is fixed, by o0 - o1 = log 2,
    # whose variance is v0 + v1 + UP_ERROR_RAD^2 |g0 - g1|^2 (g = lever / a: (-3, 0, 0) and (-6, 0, 0)).
    # With the prior (x0^2 + x1^2) / sigma^2 = d^2 / (2 sigma^2): d = -log 2 * w / (w + 1 / (2 sigma^2)).
    ankles = np.vstack([_rows(2.0, 0, 6.0), _rows(1.0, 0, 6.0)])
    person, up = np.array([0] * 3 + [1] * 3), np.tile(UP, (6, 1))
    scales = relative_scales(ankles, up, person, np.zeros(6, int), np.ones(6, bool))
    weight = 1 / (2 * SIZE_ERROR**2 + ANKLE_ERROR_M**2 * (1 / 4 + 1) + UP_ERROR_RAD**2 * 9.0)
    difference = -np.log(2.0) * weight / (weight + 1 / (2 * SIZE_PRIOR_SIGMA**2))
    assert np.log(scales[0] / scales[1]) == pytest.approx(difference, rel=1e-9)
    assert scales[0] * scales[1] == pytest.approx(1.0)  # the common scale stays the prior's


def test_a_lone_person_or_a_floor_seen_edge_on_keeps_its_size():
    person, shot = np.array([0] * 3 + [1] * 3), np.array([0] * 3 + [1] * 3)  # each alone in its shot
    up = np.tile(UP, (6, 1))
    alone = np.vstack([_rows(1.5, 0, 5.0), _rows(1.5, 0, 5.0)])
    np.testing.assert_allclose(relative_scales(alone, up, person, shot, np.ones(6, bool)), [1, 1])
    edge_on = np.vstack([_rows(0.1, 0, 5.0), _rows(1.5, 0, 5.0)])  # person 0's ankles at the camera's height
    np.testing.assert_allclose(relative_scales(edge_on, up, person, np.zeros(6, int), np.ones(6, bool)), [1, 1])


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
