"""BlazePose world landmarks as the fit's 3D observation (services/multishot/landmarks.py,
mshot/body/blazepose_smpl.py):
bone directions and their weights, the torso orientation, the robust term, the initial pose fit, and what the fit
says it used when landmarks are missing or unusable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.synth_multishot import SynthOptions, generate
from mshot.body.blazepose_smpl import BONES, POINTS, landmark_bone_directions, model_bone_directions
from mshot.body.generate import write_generated_smpl_model
from mshot.body.model import BodyModel
from mshot.geometry.rotations import axis_angle_to_matrix
from services.multishot import landmarks as landmarks_module
from services.multishot.fit import FitOptions, fit_tracklets
from services.multishot.kinematics import SparseSmplJoints
from services.multishot.landmarks import (
    LandmarkTargets,
    direction_residual,
    fit_initial_pose,
    landmark_targets,
    pitch_from_image,
    rotation_onto,
    smoothed_in_shot,
    torso_orientation,
)

SPINE, HIP_LINE, LEFT_THIGH = 0, 1, BONES.index(("left_hip", "left_knee"))
LEFT_KNEE_X = 9  # body_pose column of the left knee's bend (joint 4, about x)


@pytest.fixture(scope="module")
def joints_model(tmp_path_factory):
    model = BodyModel.from_file(write_generated_smpl_model(tmp_path_factory.mktemp("m") / "model.pkl"))
    return SparseSmplJoints.from_body_model(model)


def _landmarks_from_smpl(points: np.ndarray) -> np.ndarray:
    """(M, 35, 3) SMPL points -> (M, 33, 4) landmarks at the corresponding BlazePose indices, visibility 1."""
    world = np.zeros((points.shape[0], 33, 4))
    for smpl, blazepose in POINTS.values():
        if len(blazepose) == 1:
            world[:, blazepose[0], :3] = points[:, list(smpl)].mean(1)
    world[..., 3] = 1.0
    return world


def _standing_landmarks() -> np.ndarray:
    """One upright person facing the camera (BlazePose frame: y down), hips 0.2 m apart, shoulders 0.5 m above."""
    world = np.zeros((1, 33, 4))
    world[0, [23, 24], :3] = [[0.1, 0, 0], [-0.1, 0, 0]]  # left hip on the image's right when facing the camera
    world[0, [11, 12], :3] = [[0.15, -0.5, 0], [-0.15, -0.5, 0]]
    world[0, 25, :3] = [0.1, 0.4, -0.4]  # left knee: thigh 0.4 down and 0.4 towards the camera
    world[0, :, 3] = 0.9
    world[0, 11, 3] = 0.4
    return world


def test_bone_directions_are_unit_vectors_weighted_by_their_least_visible_landmark():
    directions, weights = landmark_bone_directions(_standing_landmarks())
    np.testing.assert_allclose(directions[0, SPINE], [0, -1, 0], atol=1e-12)  # hips centre -> shoulders centre
    np.testing.assert_allclose(directions[0, HIP_LINE], [1, 0, 0], atol=1e-12)  # right hip -> left hip
    np.testing.assert_allclose(directions[0, LEFT_THIGH], [0, np.sqrt(0.5), -np.sqrt(0.5)], atol=1e-12)
    assert weights[0, SPINE] == pytest.approx(0.4)  # the left shoulder (0.4) is in the shoulders' centre
    assert weights[0, HIP_LINE] == pytest.approx(0.9)
    assert weights[0, BONES.index(("right_knee", "right_ankle"))] == 0.0  # both at the origin: no bone


def test_a_nan_landmark_takes_out_its_bones_only():
    world = _standing_landmarks()
    world[0, 25, 0] = np.nan
    directions, weights = landmark_bone_directions(world)
    assert weights[0, LEFT_THIGH] == 0.0 and np.isfinite(directions).all()
    assert weights[0, HIP_LINE] == pytest.approx(0.9)


def test_an_upright_person_facing_the_camera_gets_a_half_turn_about_x():
    directions, _ = landmark_bone_directions(_standing_landmarks())
    orient = torso_orientation(directions)
    np.testing.assert_allclose(axis_angle_to_matrix(orient[0]), np.diag([1.0, -1.0, -1.0]), atol=1e-9)


def test_landmarks_seen_off_axis_are_turned_onto_the_persons_viewing_ray():
    world = _standing_landmarks()
    rows = {"person_id": np.zeros(1), "focal_px": np.array([100.0]), "principal_px": np.array([[50.0, 50.0]])}
    keypoints = np.zeros((1, 25, 3))
    keypoints[0, 8] = [150.0, 50.0, 1.0]  # MidHip 45 degrees right of the optical axis
    targets = landmark_targets(world, rows, keypoints)
    s = np.sqrt(0.5)
    np.testing.assert_allclose(targets.directions[0, HIP_LINE], [s, 0, -s], atol=1e-6)  # x turned by 45 degrees
    np.testing.assert_allclose(targets.directions[0, SPINE], [0, -1, 0], atol=1e-6)
    assert targets.usable.tolist() == [True]


def test_direction_term_of_a_bone_off_by_a_right_angle():
    # the model's spine points up (-y); the target's along +z: chord sqrt(2), GM(sqrt2; rho 1) = 2 / (2 + 1)
    points = torch.zeros(1, 35, 3)
    points[0, [16, 17], 1] = -0.5
    points[0, 1, 0], points[0, 2, 0] = 0.1, -0.1
    target = torch.tensor([[[0.0, 0.0, 1.0]]])
    value = direction_residual(points, target, torch.tensor([[0.5]]), rho=1.0)
    assert float(value) == pytest.approx(0.25 * 2.0 / 3.0, rel=1e-5)


def test_initial_pose_fit_recovers_a_bent_knee_and_a_turned_body(joints_model):
    pose = np.zeros((1, 69), np.float32)
    pose[0, LEFT_KNEE_X] = 1.0  # left knee bent 57 degrees
    pose[0, 3 * 15 + 2] = -0.8  # left shoulder (joint 16) lowered about z
    orient = np.array([[np.pi * 0.8, 0.0, 0.6]], np.float32)
    with torch.no_grad():
        points, _ = joints_model(torch.tensor(orient), torch.tensor(pose), torch.zeros(1, 10), torch.zeros(1, 3))
    rows = {"person_id": np.zeros(1), "focal_px": np.array([500.0]), "principal_px": np.array([[0.0, 0.0]])}
    targets = landmark_targets(_landmarks_from_smpl(points.numpy()), rows, np.zeros((1, 25, 3)))
    fitted_orient, fitted_pose = fit_initial_pose(joints_model, targets, np.zeros((1, 10)), iterations=80)
    with torch.no_grad():
        fitted, _ = joints_model(torch.tensor(fitted_orient), torch.tensor(fitted_pose), torch.zeros(1, 10),
                                 torch.zeros(1, 3))
    cosine = (model_bone_directions(fitted) * model_bone_directions(points)).sum(-1)
    assert float(cosine.min()) > np.cos(np.radians(5.0))
    assert fitted_pose[0, LEFT_KNEE_X] == pytest.approx(1.0, abs=0.1)


def test_initial_pose_fit_follows_a_barely_visible_shin_instead_of_leaving_the_knee_at_rest(joints_model,
                                                                                           monkeypatch):
    # A knee bent 2 rad (a crossed leg) whose ankle landmark has visibility 0.05: weighted by visibility
    # (0.05^2 = 0.0025 against the pose term's 0.02 |pose|^2) the knee stays near rest; weighted at
    # INIT_MIN_BONE_WEIGHT (0.25 against 0.02 * 4 at the bend) it comes within 0.3 rad of it.
    pose = np.zeros((1, 69), np.float32)
    pose[0, LEFT_KNEE_X] = 2.0
    with torch.no_grad():
        points, _ = joints_model(torch.tensor([[np.pi, 0.0, 0.0]]), torch.tensor(pose), torch.zeros(1, 10),
                                 torch.zeros(1, 3))
    world = _landmarks_from_smpl(points.numpy())
    world[0, 27, 3] = 0.05  # left ankle
    rows = {"person_id": np.zeros(1), "focal_px": np.array([500.0]), "principal_px": np.array([[0.0, 0.0]])}
    targets = landmark_targets(world, rows, np.zeros((1, 25, 3)))
    assert targets.weights[0, BONES.index(("left_knee", "left_ankle"))] == pytest.approx(0.05)
    _, fitted_pose = fit_initial_pose(joints_model, targets, np.zeros((1, 10)), iterations=80)
    assert fitted_pose[0, LEFT_KNEE_X] == pytest.approx(2.0, abs=0.3)
    monkeypatch.setattr(landmarks_module, "INIT_MIN_BONE_WEIGHT", 0.0)
    _, by_visibility = fit_initial_pose(joints_model, targets, np.zeros((1, 10)), iterations=80)
    assert by_visibility[0, LEFT_KNEE_X] < 1.0


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    model = BodyModel.from_file(write_generated_smpl_model(tmp_path_factory.mktemp("s") / "model.pkl"))
    return generate(model, SynthOptions(frames=6, shots=1))


@pytest.mark.parametrize("landmarks, used", [
    (None, "none: no world landmarks"),
    (np.zeros((6, 33, 4)), "none: no usable world landmarks"),  # all-zero visibility
    (np.full((6, 33, 4), np.nan), "none: no usable world landmarks"),
])
def test_without_usable_landmarks_the_fit_runs_and_says_so(joints_model, synthetic, landmarks, used):
    options = FitOptions(device="cpu", torso_iters=2, body_iters=2, refine_iters=0, check_every=1)
    result = fit_tracklets(synthetic["tracklets"], synthetic["keypoints"], joints_model, options,
                           world_landmarks=landmarks)
    assert result.stats["landmarks"]["used"].startswith(used)
    assert result.stats["landmarks"]["rows_initialised"] == 0 and "landmarks" not in result.stats["terms"]


def test_directions_are_averaged_1_2_1_with_their_neighbours_in_the_shot_by_weight():
    directions = np.zeros((3, len(BONES), 3), np.float32)
    directions[[0, 2], :, 0] = 1.0
    directions[1, :, 1] = 1.0
    weights = np.ones((3, len(BONES)), np.float32)
    weights[2, 0] = 0.0  # row 2's spine is unseen: it does not pull row 1's
    smoothed = smoothed_in_shot(LandmarkTargets(directions, weights, np.ones(3, bool)), np.array([[0, 1], [1, 2]]))
    np.testing.assert_allclose(smoothed.directions[1, 1], np.array([1, 1, 0]) / np.sqrt(2), atol=1e-6)
    np.testing.assert_allclose(smoothed.directions[1, 0], np.array([1, 2, 0]) / np.sqrt(5), atol=1e-6)
    np.testing.assert_allclose(smoothed.directions[0, 1], np.array([2, 1, 0]) / np.sqrt(5), atol=1e-6)
    assert smoothed.weights is weights


def test_a_video_without_a_usable_person_is_named(joints_model, synthetic):
    from mshot.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no usable person: none of the 6 person-frames"):
        fit_tracklets(synthetic["tracklets"], np.zeros_like(synthetic["keypoints"]), joints_model,
                      FitOptions(device="cpu"))


def test_rotation_onto_turns_the_image_up_onto_an_up_pitched_30_degrees_about_x():
    pitched = np.array([0.0, -np.cos(np.radians(30)), -np.sin(np.radians(30))])
    rotation = rotation_onto(np.array([0.0, -1.0, 0.0]), pitched)
    np.testing.assert_allclose(rotation @ [0.0, -1.0, 0.0], pitched, atol=1e-9)
    np.testing.assert_allclose(rotation @ [0.0, 0.0, 1.0], [0.0, -0.5, np.cos(np.radians(30))], atol=1e-9)
    np.testing.assert_allclose(rotation @ [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], atol=1e-9)  # about x: x stays
    np.testing.assert_allclose(rotation_onto(pitched, pitched), np.eye(3), atol=1e-9)


def _pitched_camera_keypoints(pitch_deg: float, focal: float, principal: np.ndarray) -> np.ndarray:
    """(3, 25, 3) keypoints of three people standing 1.4 m from ankles to neck, seen by a camera pitched down."""
    up = np.array([0.0, -np.cos(np.radians(pitch_deg)), -np.sin(np.radians(pitch_deg))])
    keypoints = np.zeros((3, 25, 3))
    for i, ankles in enumerate(([-2.0, 1.0, 8.0], [1.5, 1.2, 6.0], [0.3, 0.8, 10.0])):
        for joint, point in ((11, ankles), (14, ankles), (1, np.add(ankles, 1.4 * up))):
            keypoints[i, joint] = [*(focal * np.asarray(point[:2]) / point[2] + principal), 0.9]
    return keypoints


def test_a_shots_landmarks_are_turned_to_the_pitch_of_its_peoples_vertical_lines():
    # Shot 0: three people seen by a camera pitched 30 degrees down, whose landmarks stand straight up in the
    # image (spine (0, -1, 0), as BlazePose tends to see people from above): every direction of the shot turns
    # 30 degrees about x. Shot 1: the same landmarks, ankles unseen: no image evidence, the landmarks' up stays.
    # Shot 2: the same three rows as one person (a lone person's lines say too little): the landmarks' up stays.
    focal, principal = 500.0, np.array([320.0, 240.0])
    keypoints = np.concatenate([_pitched_camera_keypoints(30.0, focal, principal)] * 3)
    keypoints[3:6, [11, 14], 2] = 0.0
    directions = np.zeros((9, len(BONES), 3), np.float32)
    directions[:, SPINE] = [0.0, -1.0, 0.0]
    directions[:, HIP_LINE] = [1.0, 0.0, 0.0]
    directions[:, LEFT_THIGH] = [0.0, 0.0, 1.0]
    targets = LandmarkTargets(directions, np.ones((9, len(BONES)), np.float32), np.ones(9, bool))
    rows = {"person_id": np.array([0, 1, 2, 0, 1, 2, 3, 3, 3]), "shot_id": np.repeat([0, 1, 2], 3),
            "focal_px": np.full(9, focal), "principal_px": np.tile(principal, (9, 1))}
    turned, turn = pitch_from_image(targets, rows, keypoints, min_confidence=0.1)
    np.testing.assert_allclose(np.degrees(np.linalg.norm(turn, axis=-1)), [30.0, 0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(turned.directions[0, SPINE], [0.0, -np.cos(np.radians(30)), -0.5], atol=1e-3)
    np.testing.assert_allclose(turned.directions[0, HIP_LINE], [1.0, 0.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(turned.directions[0, LEFT_THIGH], [0.0, -0.5, np.cos(np.radians(30))], atol=1e-3)
    np.testing.assert_allclose(turned.directions[3:], directions[3:], atol=1e-6)
    assert turned.weights is targets.weights
