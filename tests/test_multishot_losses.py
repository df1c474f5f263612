import numpy as np
import pytest
import torch

from mshot.errors import InvalidInput
from services.multishot import losses
from services.multishot.pose_prior import DiagonalGaussianPosePrior, GaussianMixturePosePrior
from services.multishot.rows import check_rows, temporal_links


def test_geman_mcclure_matches_hand_values():
    r = torch.tensor([0.0, 100.0, 300.0])
    # rho=100: 1e4 * r^2 / (r^2 + 1e4)
    assert torch.allclose(losses.geman_mcclure(r, 100.0), torch.tensor([0.0, 5000.0, 9000.0]))


def test_reprojection_uses_squared_confidence_and_data_weight():
    proj = torch.zeros(1, 2, 2)
    kp = torch.tensor([[[3.0, 4.0, 0.5], [10.0, 0.0, 0.0]]])
    cost = losses.reprojection(proj, kp, torch.tensor([2.0]), rho=1e6)
    # 2^2 * 0.5^2 * (9 + 16) ~ 25 (rho huge -> quadratic)
    assert cost.item() == pytest.approx(25.0, rel=1e-4)


def test_bend_prior_is_one_per_joint_at_rest_and_grows_for_wrong_bend():
    pose = torch.zeros(2, 69)
    pose[1, 9] = -1.0  # left knee bent backwards
    values = losses.bend_prior(pose)
    assert values[0].item() == pytest.approx(4.0)
    assert values[1].item() == pytest.approx(3.0 + np.exp(2.0), rel=1e-5)


def test_differences_and_root_relative_joints():
    x = torch.tensor([[0.0], [1.0], [4.0]])
    assert losses.first_difference(x, torch.tensor([[0, 1], [1, 2]])).tolist() == [1.0, 9.0]
    assert losses.second_difference(x, torch.tensor([[0, 1, 2]])).tolist() == [4.0]
    joints = torch.tensor([[[1.0, 1.0, 1.0], [1.0, 2.0, 1.0]]])
    rot_z90 = torch.tensor([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    rel = losses.root_relative_joints(joints, joints[:, 0], rot_z90)
    assert torch.allclose(rel[0, 1], torch.tensor([1.0, 0.0, 0.0]))
    # the root is the one given, not the first joint: relative to (1, 1, 0) the joints are R^T (0, 0, 1), R^T (0, 1, 1)
    rel = losses.root_relative_joints(joints, torch.tensor([[1.0, 1.0, 0.0]]), rot_z90)
    assert torch.allclose(rel[0], torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0]]))


def test_gradients_of_terms():
    torch.manual_seed(0)
    r = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: losses.geman_mcclure(t, 2.0), (r,))
    pose = (torch.randn(3, 69, dtype=torch.float64) * 0.3).requires_grad_()
    assert torch.autograd.gradcheck(losses.bend_prior, (pose,))
    j = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    rot = torch.linalg.qr(torch.randn(2, 3, 3, dtype=torch.float64))[0]
    assert torch.autograd.gradcheck(lambda t: losses.root_relative_joints(t, t[:, 2], rot), (j,))


def test_gmm_prior_single_component_equals_gaussian_quadratic():
    cov = np.eye(69)[None] * 0.25
    prior = GaussianMixturePosePrior(np.zeros((1, 69)), cov, np.array([1.0]))
    x = torch.zeros(1, 69)
    x[0, 0] = 1.0
    assert prior(x).item() == pytest.approx(0.5 * 1.0 / 0.25, rel=1e-5)
    fallback = DiagonalGaussianPosePrior()
    assert fallback(torch.zeros(2, 69)).tolist() == [0.0, 0.0]


def _rows(m=3):
    return dict(person_id=np.zeros(m, np.int32), frame_index=np.arange(m, dtype=np.int32),
                shot_id=np.array([0, 0, 1][:m], np.int32), global_orient=np.zeros((m, 3)), body_pose=np.zeros((m, 69)),
                betas=np.zeros((m, 10)), transl=np.tile([0, 0, 10.0], (m, 1)), focal_px=np.full(m, 5000.0),
                principal_px=np.zeros((m, 2)), image_size=np.array([1000, 1000]))


def test_check_rows_names_the_bad_key():
    rows = _rows()
    kp = np.zeros((3, 25, 3))
    assert check_rows(rows, kp) == 3
    bad = dict(rows, body_pose=np.zeros((3, 68)))
    with pytest.raises(InvalidInput, match="body_pose"):
        check_rows(bad, kp)
    kp_nan = kp.copy()
    kp_nan[0, 0, 0] = np.nan
    with pytest.raises(InvalidInput, match="keypoints_body25"):
        check_rows(rows, kp_nan)
    with pytest.raises(InvalidInput, match="transl"):
        check_rows({k: v for k, v in rows.items() if k != "transl"}, kp)
    with pytest.raises(InvalidInput, match="empty"):
        check_rows(_rows(0), np.zeros((0, 25, 3)))


def test_temporal_links_stop_at_cuts_only_for_in_shot_variants():
    links = temporal_links(np.zeros(3), np.arange(3), np.array([0, 0, 1]))
    assert links.pairs.tolist() == [[0, 1], [1, 2]]
    assert links.pairs_in_shot.tolist() == [[0, 1]]
    assert links.triples.tolist() == [[0, 1, 2]]
    assert links.triples_in_shot.shape == (0, 3)


def test_joint_limits_cost_the_squared_excess_beyond_each_range_only():
    pose = torch.zeros(2, 69)
    assert losses.joint_limits(pose).tolist() == [0.0, 0.0]  # the rest pose is inside every range
    pose[0, 9] = -0.2  # left knee bent backwards by 0.2 rad (range 0 .. 2.6)
    pose[0, 55] = 1.0  # right elbow bent naturally (range 0 .. 2.6): free
    pose[1, 6] = 1.0  # spine1 folded forward 1 rad (range -0.3 .. 0.6): 0.4 too far
    pose[1, 52] = 0.5  # left elbow bent the wrong way by 0.5 rad (range -2.6 .. 0)
    assert losses.joint_limits(pose).tolist() == pytest.approx([0.04, 0.16 + 0.25])


def test_a_row_without_its_mid_hip_is_fitted_on_the_hip_in_view_and_other_rows_leave_the_hips_out():
    from services.multishot.objective import IGNORED_BODY25, row_joint_weights

    used = np.ones(25, bool)
    used[list(IGNORED_BODY25)] = False  # neck, right hip, left hip
    keypoints = np.zeros((3, 25, 3), np.float32)
    keypoints[:, :, 2] = 0.9
    keypoints[1, 8, 2] = 0.0  # row 1: mid-hip unseen (the left hip beyond the right frame edge) ...
    keypoints[1, 12, 2] = 0.0  # ... right hip seen
    keypoints[2, [8, 9, 12], 2] = 0.0  # row 2: no hip at all
    weights = row_joint_weights(keypoints, used)
    assert weights.shape == (3, 25)
    np.testing.assert_array_equal(weights[0], used)  # mid-hip seen: the hips stay out
    np.testing.assert_array_equal(np.flatnonzero(weights[1] == 0), [1, 12])  # the right hip joins
    np.testing.assert_array_equal(weights[2], used)
