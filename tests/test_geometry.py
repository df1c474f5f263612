"""Rotations and projections against hand-computed values; numpy and torch agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mshot.geometry import camera, rotations, torch_ops


def test_quarter_turn_about_z_maps_x_to_y():
    R = rotations.axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(R, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)


def test_half_turn_about_x_flips_y_and_z():
    R = rotations.axis_angle_to_matrix(np.array([np.pi, 0.0, 0.0]))
    np.testing.assert_allclose(R, np.diag([1.0, -1.0, -1.0]), atol=1e-12)
    aa = rotations.matrix_to_axis_angle(R)
    np.testing.assert_allclose(np.abs(aa), [np.pi, 0, 0], atol=1e-6)


@pytest.mark.parametrize("angle", [0.0, 1e-7, 0.3, 2.0, np.pi - 1e-6, np.pi])
def test_axis_angle_round_trip_including_zero_and_pi(angle):
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    R = rotations.axis_angle_to_matrix(axis * angle)
    back = rotations.axis_angle_to_matrix(rotations.matrix_to_axis_angle(R))
    np.testing.assert_allclose(back, R, atol=1e-6)


def test_batched_shapes_are_kept():
    aa = np.random.default_rng(0).normal(size=(4, 5, 3))
    aa *= 3.0 / np.maximum(np.linalg.norm(aa, axis=-1, keepdims=True), 3.0)  # angles below pi: unique axis-angle
    R = rotations.axis_angle_to_matrix(aa)
    assert R.shape == (4, 5, 3, 3)
    np.testing.assert_allclose(rotations.matrix_to_axis_angle(R), aa, atol=1e-6)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12)


def test_orthonormalize_repairs_a_noisy_rotation():
    R = rotations.axis_angle_to_matrix(np.array([0.1, 0.2, 0.3]))
    fixed = rotations.orthonormalize(R + 1e-3 * np.ones((3, 3)))
    np.testing.assert_allclose(fixed @ fixed.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(fixed) == pytest.approx(1.0)


def test_projection_of_a_point_one_metre_right_at_two_metres_depth():
    # f = 500 px, principal point (320, 240): x = 500 * 1 / 2 + 320 = 570, y = 500 * 0.5 / 2 + 240 = 365.
    uv = camera.project(np.array([[1.0, 0.5, 2.0]]), 500.0, np.array([320.0, 240.0]))
    np.testing.assert_allclose(uv, [[570.0, 365.0]])


def test_intrinsics_matrix_and_image_centre():
    K = camera.intrinsics_matrix(1000.0, camera.image_centre(360, 640))
    np.testing.assert_allclose(K, [[1000, 0, 320], [0, 1000, 180], [0, 0, 1]])


def test_torch_rodrigues_matches_numpy_and_has_finite_gradient_at_zero():
    aa = np.random.default_rng(1).normal(size=(6, 3))
    np.testing.assert_allclose(torch_ops.axis_angle_to_matrix(torch.tensor(aa)).numpy(),
                               rotations.axis_angle_to_matrix(aa), atol=1e-10)
    zero = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    torch_ops.axis_angle_to_matrix(zero).sum().backward()
    assert torch.isfinite(zero.grad).all()


def test_torch_projection_matches_numpy_including_the_depth_clamp():
    # the last two points are nearer than 1 cm and behind the camera: both divide by 1 cm
    points = np.array([[[0.2, -0.1, 3.0], [0.0, 0.0, 1.0], [0.01, 0.02, 0.005], [0.01, 0.0, -2.0]]])
    expected = camera.project(points, np.array([800.0]), np.array([[320.0, 180.0]]))
    got = torch_ops.project(torch.tensor(points), torch.tensor([800.0], dtype=torch.float64),
                            torch.tensor([[320.0, 180.0]], dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), expected)


def test_ray_rotation_turns_the_optical_axis_onto_the_pixels_ray():
    # pixel 100 px right of the principal point at focal 100 px: the ray is 45 degrees to the right, about -y...
    R = camera.ray_rotation(np.array([[420.0, 240.0]]), np.array([100.0]), np.array([320.0, 240.0]))[0]
    s = np.sqrt(0.5)
    np.testing.assert_allclose(R @ [0, 0, 1], [s, 0, s], atol=1e-12)
    np.testing.assert_allclose(R @ [0, 1, 0], [0, 1, 0], atol=1e-12)  # ...so the image's vertical is untouched
    np.testing.assert_allclose(R @ [1, 0, 0], [s, 0, -s], atol=1e-12)
    centre = camera.ray_rotation(np.array([320.0, 240.0]), 100.0, np.array([320.0, 240.0]))
    np.testing.assert_allclose(centre, np.eye(3), atol=1e-12)


def test_clamped_projection_divides_by_one_centimetre():
    # f = 100 px, principal (0, 0): x = 100 * 0.01 / 0.01 = 100 for a point at 5 mm depth
    np.testing.assert_allclose(camera.project(np.array([[0.01, 0.0, 0.005]]), 100.0, np.zeros(2)), [[100.0, 0.0]])


def test_back_projection_of_a_pixel_at_two_metres_depth():
    # f = 500 px, principal (320, 240), pixel (570, 365) at z = 2 m: x = 250 * 2 / 500 = 1, y = 125 * 2 / 500 = 0.5
    point = camera.back_project(np.array([570.0, 365.0]), 2.0, 500.0, np.array([320.0, 240.0]))
    np.testing.assert_allclose(point, [1.0, 0.5, 2.0])
    batch = camera.back_project(np.array([[570.0, 365.0], [320.0, 240.0]]), np.array([2.0, 4.0]),
                                np.array([500.0, 800.0]), np.array([320.0, 240.0]))
    np.testing.assert_allclose(batch, [[1.0, 0.5, 2.0], [0.0, 0.0, 4.0]])
    np.testing.assert_allclose(camera.project(batch[:, None], np.array([500.0, 800.0]), np.array([320.0, 240.0])),
                               [[[570.0, 365.0]], [[320.0, 240.0]]])


def test_torch_back_projection_matches_numpy():
    pixels, depth = np.array([[570.0, 365.0], [10.0, 20.0]]), np.array([2.0, 7.5])
    focal, principal = np.array([500.0, 900.0]), np.array([[320.0, 240.0], [300.0, 200.0]])
    got = torch_ops.back_project(*(torch.tensor(a) for a in (pixels, depth, focal, principal)))
    np.testing.assert_allclose(got.numpy(), camera.back_project(pixels, depth, focal, principal))


def test_opencv_to_opengl_is_the_smpl_facing_camera_half_turn_and_flips_y_and_z():
    np.testing.assert_array_equal(camera.OPENCV_TO_OPENGL, np.diag([1.0, -1.0, -1.0]))
    np.testing.assert_allclose(rotations.axis_angle_to_matrix(camera.SMPL_FACING_CAMERA), camera.OPENCV_TO_OPENGL,
                               atol=1e-12)
    # SMPL's head direction +y ends up image-up (-y) and its facing direction +z points at the camera (-z)
    np.testing.assert_allclose(camera.OPENCV_TO_OPENGL @ [0, 1, 0], [0, -1, 0])
    np.testing.assert_allclose(camera.OPENCV_TO_OPENGL @ [0, 0, 1], [0, 0, -1])


def test_default_focal_is_the_larger_image_side():
    assert camera.default_focal_px(360, 640) == 640.0
    assert camera.default_focal_px(1920, 1080) == 1920.0
