"""Body model files (generated .pkl/.npz, chumpy-style pickles, malicious pickles) and the BodyModel module."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import smplx
import torch

from mshot.body.generate import REST_JOINTS, make_generated_smpl_arrays, write_generated_smpl_model
from mshot.body.joint_maps import BODY25_NAMES, BODY25_TO_SMPLX45, SMPLX45_NAMES, body25_joints
from mshot.body.model import BodyModel
from mshot.body.smpl_file import load_smpl_arrays
from mshot.errors import InvalidInput, NotFound


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return write_generated_smpl_model(tmp_path_factory.mktemp("m") / "model.pkl")


def test_generated_model_has_smpl_layout_and_its_designed_skeleton():
    arrays = make_generated_smpl_arrays()
    assert arrays["v_template"].shape == (6890, 3)
    assert arrays["kintree_table"][0, 0] == 4294967295
    np.testing.assert_allclose(arrays["J_regressor"] @ arrays["v_template"], REST_JOINTS, atol=1e-6)
    np.testing.assert_allclose(arrays["weights"].sum(1), 1.0)
    height = arrays["v_template"][:, 1].max() - arrays["v_template"][:, 1].min()
    assert 1.6 < height < 1.85


def test_generated_model_rest_pelvis_sits_below_the_origin_as_in_smpl():
    arrays = make_generated_smpl_arrays()
    pelvis = (arrays["J_regressor"] @ arrays["v_template"])[0]
    np.testing.assert_allclose(pelvis, [0.003, -0.22, 0.03], atol=1e-6)
    assert np.linalg.norm(pelvis) > 0.2


def test_generated_pose_blend_shapes_move_flesh_near_a_bent_knee_only(model_path):
    arrays = load_smpl_arrays(model_path)
    flat = dict(arrays, posedirs=np.zeros_like(arrays["posedirs"]))
    pose = torch.zeros(1, 69)
    pose[0, 9] = np.pi / 2  # left knee (joint 4 = body_pose entries 9..11) bent 90 degrees about x
    zeros = torch.zeros(1, 3)
    with_blend = BodyModel(arrays)(zeros, pose, torch.zeros(1, 10), zeros).vertices[0]
    without = BodyModel(flat)(zeros, pose, torch.zeros(1, 10), zeros).vertices[0]
    moved = (with_blend - without).norm(dim=1).numpy()
    knee = REST_JOINTS[4]
    far = np.linalg.norm(np.asarray(arrays["v_template"]) - knee, axis=1) > 0.25
    assert 0.01 < moved.max() < 0.03  # a centimetre or two, as SMPL's correctives
    assert moved[far].max() < 1e-6
    rest = BodyModel(arrays)(zeros, torch.zeros(1, 69), torch.zeros(1, 10), zeros).vertices[0]
    np.testing.assert_allclose(rest.numpy(), np.asarray(arrays["v_template"]), atol=1e-6)  # no blend at rest


def test_pkl_and_npz_load_to_the_same_arrays(model_path, tmp_path):
    npz = write_generated_smpl_model(tmp_path / "model.npz")
    a, b = load_smpl_arrays(model_path), load_smpl_arrays(npz)
    for key in ("v_template", "shapedirs", "weights", "f"):
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]))
    np.testing.assert_allclose(a["J_regressor"].toarray(), b["J_regressor"])


class _Ch:  # pickled under the name chumpy.ch.Ch below, as official SMPL files store arrays
    pass


def test_chumpy_arrays_in_an_official_style_pickle_are_read_without_chumpy(model_path, tmp_path):
    arrays = load_smpl_arrays(model_path)
    chumpy_like = dict(arrays)
    holder = _Ch()
    holder.__dict__ = {"x": np.asarray(arrays["v_template"]), "_dirty_vars": set()}
    chumpy_like["v_template"] = holder
    data = pickle.dumps(chumpy_like, protocol=2).replace(b"test_body\n_Ch", b"chumpy.ch\nCh")
    path = tmp_path / "chumpy.pkl"
    path.write_bytes(data)
    np.testing.assert_array_equal(load_smpl_arrays(path)["v_template"], arrays["v_template"])


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/mshot-pwned-by-body-model",))


def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    import os

    marker = "/tmp/mshot-pwned-by-body-model"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": _Evil()}, protocol=2))
    with pytest.raises(InvalidInput, match="forbidden object"):
        load_smpl_arrays(path)
    assert not os.path.exists(marker)


def test_missing_malformed_and_incomplete_files_name_the_problem(model_path, tmp_path):
    with pytest.raises(NotFound):
        load_smpl_arrays(tmp_path / "none.pkl")
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(model_path.read_bytes()[:1000])
    with pytest.raises(InvalidInput, match="body model file .*truncated.pkl is not a readable pickle"):
        load_smpl_arrays(truncated)
    arrays = load_smpl_arrays(model_path)
    del arrays["weights"]
    incomplete = tmp_path / "incomplete.pkl"
    incomplete.write_bytes(pickle.dumps(arrays))
    with pytest.raises(InvalidInput, match="lacks key"):
        load_smpl_arrays(incomplete)
    arrays = load_smpl_arrays(model_path)
    arrays["posedirs"] = np.zeros((6890, 3, 10))
    wrong = tmp_path / "wrong.pkl"
    wrong.write_bytes(pickle.dumps(arrays))
    with pytest.raises(InvalidInput, match="posedirs has shape"):
        load_smpl_arrays(wrong)


def test_body_model_agrees_with_plain_smplx(model_path):
    model = BodyModel.from_file(model_path)
    reference = smplx.SMPL(model_path=str(model_path))
    g = torch.Generator().manual_seed(0)
    pose = 0.3 * torch.randn(3, 69, generator=g)
    orient, betas, transl = torch.randn(3, 3, generator=g), torch.randn(3, 10, generator=g), torch.randn(3, 3)
    ours = model(orient, pose, betas, transl)
    theirs = reference(global_orient=orient, body_pose=pose, betas=betas, transl=transl)
    torch.testing.assert_close(ours.joints, theirs.joints)
    torch.testing.assert_close(ours.vertices, theirs.vertices)
    assert ours.joints.shape == (3, 45, 3)


def test_first_shape_direction_makes_the_body_taller(model_path):
    model = BodyModel.from_file(model_path)
    zeros = torch.zeros(1, 3)
    heights = []
    for b0 in (-2.0, 0.0, 2.0):
        betas = torch.zeros(1, 10)
        betas[0, 0] = b0
        v = model(zeros, torch.zeros(1, 69), betas, zeros).vertices[0]
        heights.append(float(v[:, 1].max() - v[:, 1].min()))
    assert heights[0] < heights[1] < heights[2]


def test_extra_joints_sit_at_their_body_parts(model_path):
    model = BodyModel.from_file(model_path)
    joints = model(torch.zeros(1, 3), torch.zeros(1, 69), torch.zeros(1, 10), torch.zeros(1, 3)).joints[0]
    name = dict(zip(SMPLX45_NAMES, joints.numpy(), strict=True))
    assert name["nose"][2] > name["head"][2] + 0.05 and name["nose"][1] > name["neck"][1]
    assert name["left_big_toe"][2] > name["left_heel"][2] + 0.2
    assert name["left_eye"][0] > 0 > name["right_eye"][0]  # the person's left is +x


def test_body25_map_pairs_matching_names_with_midhip_at_the_pelvis_as_smplify_x_does():
    expected = {"Nose": "nose", "RShoulder": "right_shoulder", "LWrist": "left_wrist", "MidHip": "pelvis",
                "RKnee": "right_knee", "LAnkle": "left_ankle", "REye": "right_eye", "LEar": "left_ear",
                "LBigToe": "left_big_toe", "RHeel": "right_heel", "Neck": "neck", "RHip": "right_hip"}
    for body25, smpl in expected.items():
        assert SMPLX45_NAMES[BODY25_TO_SMPLX45[BODY25_NAMES.index(body25)]] == smpl


def test_body25_midhip_and_neck_are_the_middles_of_smpls_hips_and_shoulders_and_other_points_are_copied():
    joints = np.zeros((1, 45, 3))
    joints[0, 0] = [0.0, 0.2, 3.0]  # pelvis, 9 cm above the hips' middle (y down)
    joints[0, 1] = [0.1, 0.3, 3.0]  # left_hip
    joints[0, 2] = [-0.1, 0.28, 3.2]  # right_hip
    joints[0, 12] = [0.0, -0.45, 3.0]  # neck joint, above the shoulders
    joints[0, 16] = [0.18, -0.35, 3.0]  # left_shoulder
    joints[0, 17] = [-0.16, -0.33, 3.1]  # right_shoulder
    joints[0, 24] = [0.01, -0.4, 2.9]  # nose
    points = body25_joints(joints)
    assert points.shape == (1, 25, 3)
    np.testing.assert_allclose(points[0, BODY25_NAMES.index("MidHip")], [0.0, 0.29, 3.1])
    np.testing.assert_allclose(points[0, BODY25_NAMES.index("Neck")], [0.01, -0.34, 3.05])
    np.testing.assert_allclose(points[0, BODY25_NAMES.index("RShoulder")], [-0.16, -0.33, 3.1])
    np.testing.assert_allclose(points[0, BODY25_NAMES.index("LHip")], [0.1, 0.3, 3.0])
    np.testing.assert_allclose(points[0, BODY25_NAMES.index("Nose")], [0.01, -0.4, 2.9])
    as_tensor = body25_joints(torch.tensor(joints, requires_grad=True))
    np.testing.assert_allclose(as_tensor.detach().numpy(), points)
