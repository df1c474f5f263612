"""The optimiser (services/multishot/fit.py, objective.py): recovery from clean keypoints, frame-rate scaling of the
temporal weights, the per-joint pull to the initial pose where keypoints are unseen, and the reprojection figure
(over the keypoints seen in the image only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench import metrics3d
from bench.synth_multishot import SynthOptions, generate
from mshot.body.generate import write_generated_smpl_model
from mshot.body.model import BodyModel
from mshot.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from services.multishot import losses
from services.multishot.fit import FitOptions, fit_tracklets, reprojection_px
from services.multishot.kinematics import SparseSmplJoints
from services.multishot.objective import FitProblem, temporal_weight_scales
from services.multishot.pose_prior import DiagonalGaussianPosePrior

LEFT_HIP, LEFT_KNEE, LEFT_ANKLE, RIGHT_ANKLE, LEFT_ELBOW = 1, 4, 7, 8, 18
BODY25_LEFT_LEG = [12, 13, 14, 19, 20, 21]  # LHip, LKnee, LAnkle, LBigToe, LSmallToe, LHeel


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return BodyModel.from_file(write_generated_smpl_model(tmp_path_factory.mktemp("m") / "model.pkl"))


@pytest.fixture(scope="module")
def joints_model(model):
    return SparseSmplJoints.from_body_model(model)


def _joints(model, orient, pose, betas, transl):
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        return model(t(orient), t(pose), t(betas), t(transl)).joints.numpy()[:, :24]


def test_short_fit_recovers_a_known_pose_from_clean_keypoints(model, joints_model):
    clean = SynthOptions(frames=24, shots=1, noise_px=0.0, dropout=0.0, outlier_fraction=0.0, invalid_fraction=0.0,
                         occluded_legs_shot=-1, fps=30.0)
    data = generate(model, clean)
    rows = data["tracklets"]
    result = fit_tracklets(rows, data["keypoints"], joints_model, FitOptions(device="cpu"))
    true = data["joints"][:, :24]
    initial = metrics3d.pa_mpjpe_mm(_joints(model, rows["global_orient"], rows["body_pose"], rows["betas"],
                                            rows["transl"]), true)
    fitted = _joints(model, result.global_orient, result.body_pose, result.person_betas(), result.transl)
    assert initial > 60.0
    assert metrics3d.pa_mpjpe_mm(fitted, true) < 12.0
    assert metrics3d.pelvis_error_mm(fitted, true) < 40.0
    assert float(np.median(result.reproj_px)) < 1.5


def test_temporal_scales_are_one_at_30_fps_and_half_and_eighth_at_15():
    assert temporal_weight_scales(None) == (1.0, 1.0)
    assert temporal_weight_scales(30.0) == (1.0, 1.0)
    assert temporal_weight_scales(15.0) == (0.5, 0.125)


@pytest.mark.parametrize("order", [1, 2])
def test_scaled_temporal_costs_of_one_second_of_motion_agree_at_15_and_30_fps(order):
    # x(t) = v t (order 1) or 0.5 a t^2 (order 2) over one second. Squared differences summed over the second:
    # fps * (v / fps)^2 = v^2 / fps, or fps * (a / fps^2)^2 = a^2 / fps^3; scaled by (fps/30) resp. (fps/30)^3 both
    # become the 30 fps value v^2 / 30 resp. a^2 / 30^3.
    rate = 2.0
    costs = []
    for fps in (15, 30):
        t = torch.arange(fps + order, dtype=torch.float64) / fps
        values = (rate * t if order == 1 else 0.5 * rate * t * t)[:, None]
        links = torch.stack([torch.arange(fps) + k for k in range(order + 1)], dim=1)
        difference = losses.first_difference if order == 1 else losses.second_difference
        costs.append(float(difference(values, links).sum()) * temporal_weight_scales(float(fps))[order - 1])
    assert costs[0] == pytest.approx(costs[1])
    assert costs[1] == pytest.approx(rate * rate / 30.0 ** (2 * order - 1))


def test_knee_moves_its_ankle_but_not_its_own_hip_or_the_other_leg(joints_model):
    moves = joints_model.body_joint_moves_point()
    assert moves.shape == (23, joints_model.num_outputs)
    knee = moves[LEFT_KNEE - 1]
    assert knee[LEFT_ANKLE] and not knee[LEFT_KNEE] and not knee[LEFT_HIP] and not knee[RIGHT_ANKLE]
    assert moves[LEFT_HIP - 1, LEFT_KNEE] and not moves[LEFT_ELBOW - 1, LEFT_ANKLE]


def test_unseen_leg_keypoints_raise_the_pull_of_that_leg_to_its_initial_pose_only(model, joints_model):
    data = generate(model, SynthOptions(frames=4, shots=1, dropout=0.0, outlier_fraction=0.0, invalid_fraction=0.0,
                                        occluded_legs_shot=-1))
    keypoints = data["keypoints"].copy()
    keypoints[0, BODY25_LEFT_LEG] = 0.0
    options = FitOptions(device="cpu", initial_pose_weight=20.0, occluded_pose_weight=1000.0)
    problem = FitProblem(data["tracklets"], keypoints, joints_model, DiagonalGaussianPosePrior(), options,
                       torch.device("cpu"))
    weights = problem.initial_pose_weights.numpy().reshape(-1, 23, 3)[..., 0]
    assert weights[0, LEFT_KNEE - 1] == pytest.approx(1020.0)  # nothing it moves is seen
    assert weights[1, LEFT_KNEE - 1] == pytest.approx(20.0)  # everything it moves is seen
    assert weights[0, LEFT_ELBOW - 1] == pytest.approx(20.0)
    assert weights[0, LEFT_HIP - 1] == pytest.approx(1020.0)  # it moves only the (unseen) leg below it


@pytest.mark.parametrize("fps", [0.0, -5.0, float("nan"), np.array([30.0, 30.0])])
def test_a_frame_rate_that_is_not_one_positive_number_is_named(model, joints_model, fps):
    from mshot.errors import InvalidInput

    data = generate(model, SynthOptions(frames=4, shots=1))
    with pytest.raises(InvalidInput, match="'fps'"):
        fit_tracklets({**data["tracklets"], "fps": fps}, data["keypoints"], joints_model, FitOptions(device="cpu"))


def test_root_relative_joints_are_relative_to_the_pelvis_not_to_body25s_first_joint_the_nose(model, joints_model):
    data = generate(model, SynthOptions(frames=4, shots=1))
    problem = FitProblem(data["tracklets"], data["keypoints"], joints_model, DiagonalGaussianPosePrior(),
                         FitOptions(device="cpu"), torch.device("cpu"))
    with torch.no_grad():
        relative = problem.relative_joints(problem.body())
    mid_hip, nose = 8, 0  # BODY_25 MidHip is the middle of SMPL's hips, a few cm below the pelvis joint
    assert (relative[:, mid_hip].norm(dim=-1) < 0.15).all()
    assert (relative[:, nose].norm(dim=-1) > 0.3).all()  # the nose is ~0.6 m above the pelvis


def test_camera_frame_joint_acceleration_sees_a_turn_the_body_frame_terms_do_not(model, joints_model):
    # Three frames of one shot with one pose; the middle frame turned 0.3 rad about the camera's y axis. In the
    # body frame nothing moves (joints_accel 0); in the camera frame each pelvis-relative point p has second
    # difference p - 2 R p + p = 2 (I - R) p.
    data = generate(model, SynthOptions(frames=3, shots=1, dropout=0.0, outlier_fraction=0.0, invalid_fraction=0.0))
    rows = dict(data["tracklets"])
    rows["global_orient"] = np.tile(rows["global_orient"][:1], (3, 1))
    rows["body_pose"] = np.tile(rows["body_pose"][:1], (3, 1))
    options = FitOptions(device="cpu", camera_joints_accel_weight=1.0, joints_accel_weight=1.0)
    problem = FitProblem({**rows, "fps": 30.0}, data["keypoints"], joints_model, DiagonalGaussianPosePrior(),
                         options, torch.device("cpu"))
    c, s = np.cos(0.3), np.sin(0.3)
    turn_matrix = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    with torch.no_grad():
        first = problem.camera_relative_joints(problem.body())[0].double().numpy()
        rotation0 = axis_angle_to_matrix(rows["global_orient"][1].astype(np.float64))
        problem.params["global_orient"][1] = torch.tensor(matrix_to_axis_angle(turn_matrix @ rotation0))
        terms = problem.terms("body", 100.0)
    expected = (((2.0 * (np.eye(3) - turn_matrix)) @ first.T) ** 2).sum()
    assert float(terms["camera_joints_accel"]) == pytest.approx(expected, rel=1e-4)
    assert float(terms["joints_accel"]) == pytest.approx(0.0, abs=1e-8)


def test_rescaling_a_person_moves_it_along_the_rays_and_keeps_its_pixels(model, joints_model):
    from services.multishot.body_size import betas_for_scale

    data = generate(model, SynthOptions(frames=4, shots=1))
    problem = FitProblem(data["tracklets"], data["keypoints"], joints_model, DiagonalGaussianPosePrior(),
                         FitOptions(device="cpu"), torch.device("cpu"))
    with torch.no_grad():
        before = problem.body()
        pixels = problem.projected_body25(before["points"])
        smaller = betas_for_scale(joints_model, problem.params["betas"].detach(), torch.tensor([0.8]))
        problem.set_person_betas(smaller, smaller)
        after = problem.body()
    np.testing.assert_allclose(after["pelvis"][:, 2].numpy(), 0.8 * before["pelvis"][:, 2].numpy(), rtol=0.02)
    moved = (problem.projected_body25(after["points"]) - pixels).norm(dim=-1)  # px, person ~400 px tall
    assert float(moved.median()) < 1.0 and float(moved.max()) < 3.0  # SMPL's shape space has no exact rescale
    np.testing.assert_allclose(problem.betas_mean.numpy(), problem.params["betas"].detach().numpy())


def test_reprojection_counts_only_confident_keypoints_inside_the_image():
    keypoints = np.zeros((3, 25, 3), np.float32)
    keypoints[:, :, :2] = (50, 40)
    keypoints[:, 0, 2], keypoints[:, 1, 2] = 1.0, 0.5  # nose and neck seen
    keypoints[:, 8] = (50, 120, 0.9)  # mid-hip guessed below the frame edge of a 100 px tall image: not counted
    keypoints[:, 2] = (50, 40, 0.05)  # under min_confidence: not counted
    projected = np.full((3, 25, 2), (50.0, 40.0))
    projected[:, 0] += (3, 4)  # nose 5 px off
    projected[:, 1] += (6, 8)  # neck 10 px off
    projected[:, 8] = (50, 180)  # 60 px off the guessed mid-hip, which is outside the image
    projected[:, 2] += (0, 90)
    valid = np.array([True, True, False])
    error = reprojection_px(projected, keypoints, np.array([[100, 200], [100, 200], [100, 200]]), 0.1, valid)
    # (1.0 * 5 + 0.5 * 10) / 1.5 = 6.67 px; an invalid row 0
    np.testing.assert_allclose(error, [(5 + 5) / 1.5, (5 + 5) / 1.5, 0.0], rtol=1e-6)
    taller = reprojection_px(projected, keypoints, np.array([200, 200]), 0.1, valid)  # the mid-hip now inside
    np.testing.assert_allclose(taller[0], (5 + 5 + 0.9 * 60) / 2.4, rtol=1e-6)
