"""The glue to the multishot reference (bench/reference_multishot.py) without running the reference itself."""

import numpy as np
import pytest
import torch

from bench.reference_multishot import projection_mismatch_px, reference_as_ours, reference_inputs
from bench.synth_multishot import SynthOptions, generate
from mshot.body.generate import write_generated_smpl_model
from mshot.body.joint_maps import BODY25_TO_SMPLX45
from mshot.body.model import BodyModel
from mshot.errors import InvalidInput
from mshot.geometry.camera import project


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    model = BodyModel.from_file(write_generated_smpl_model(tmp_path_factory.mktemp("m") / "model.pkl"))
    return model, generate(model, SynthOptions(frames=12, shots=2, persons=2))


def test_reference_input_has_its_keys_and_cam_trans_scaled_to_focal_5000(sample):
    model, data = sample
    rows = data["tracklets"]
    persons = reference_inputs(model, data)
    assert len(persons) == 2
    first = persons[0]
    assert first["pred_aa"].shape == (12, 72) and first["body_keypoints"].shape == (12, 25, 3)
    assert first["pred_torso"].shape == (12, 4, 2) and first["valid"].tolist() == [1] * 12
    assert first["shot"].tolist() == rows["shot_id"][:12].tolist()
    # The reference multiplies cam_trans by focal_length / 5000 on loading: that must give back our transl.
    assert np.allclose(first["cam_trans"] * rows["focal_px"][0] / 5000.0, rows["transl"][:12], atol=1e-5)


def test_reference_torso_points_are_the_initial_hips_and_shoulders_in_pixels(sample):
    model, data = sample
    rows = data["tracklets"]
    torso = reference_inputs(model, data)[1]["pred_torso"]
    i = 12  # first row of person 1
    with torch.no_grad():
        t = lambda k: torch.tensor(rows[k][i:i + 1])  # noqa: E731
        joints = model(t("global_orient"), t("body_pose"), t("betas"), t("transl")).joints.numpy()[0]
    right_hip = joints[2]  # BODY_25 9 (right hip) is SMPL joint 2
    expected = rows["focal_px"][i] * right_hip[:2] / right_hip[2] + rows["principal_px"][i]
    assert np.allclose(torso[0, 0], expected, atol=1e-3)


def test_reference_results_with_a_rotated_camera_are_refused():
    results = {"global_orient": np.zeros((2, 3)), "body_pose": np.zeros((2, 69)), "betas": np.zeros((2, 10)),
               "camera_translation": np.zeros((2, 3)), "camera_rotation": np.tile(np.eye(3), (2, 1, 1))}
    assert reference_as_ours(results, 2, "r.npz")["transl"].shape == (2, 3)
    results["camera_rotation"][1] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    with pytest.raises(InvalidInput, match="rotation"):
        reference_as_ours(results, 2, "r.npz")


def test_glue_check_is_zero_for_consistent_results_and_catches_a_focal_mix_up(sample):
    model, data = sample
    truth, rows = data["truth"], data["tracklets"]
    focal, centre = rows["focal_px"][0], rows["principal_px"][0]
    with torch.no_grad():  # the reference projects SMPLify-X's BODY_25 points: MidHip at SMPL's pelvis
        t = lambda k: torch.tensor(truth[k])  # noqa: E731
        joints = model(t("global_orient"), t("body_pose"), t("betas"), t("transl")).joints.numpy()
    results = {"global_orient": truth["global_orient"], "body_pose": truth["body_pose"], "betas": truth["betas"],
               "camera_translation": truth["transl"],
               "projected_joints": project(joints[:, list(BODY25_TO_SMPLX45)], focal, centre)}
    assert projection_mismatch_px(model, results, focal, centre) < 1e-2
    assert projection_mismatch_px(model, results, 5000.0, centre) > 50
