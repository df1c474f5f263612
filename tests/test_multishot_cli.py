"""`mshot fit` on a multishot-reference per-person npz (focal 5000 px) and on canonical artifacts."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import body_outputs, ground_truth

from mshot.body.generate import write_generated_smpl_model
from mshot.body.joint_maps import body25_joints
from mshot.body.model import BodyModel
from mshot.geometry.camera import project
from mshot_main import main
from services.multishot.reference_npz import shot_ids


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return write_generated_smpl_model(tmp_path_factory.mktemp("m") / "m.pkl")


def test_reference_shot_flags_and_ids_become_ids():
    np.testing.assert_array_equal(shot_ids(np.array([0, 0, 1, 0, 0, 1, 0])), [0, 0, 1, 1, 1, 2, 2])
    np.testing.assert_array_equal(shot_ids(np.array([0, 0, 1, 1, 2])), [0, 0, 1, 1, 2])


def _reference_file(model_path, tmp_path, **overrides):
    model = BodyModel.from_file(model_path)
    gt = ground_truth(frames=12, persons=1)
    gt["transl"] = gt["transl"] * np.array([1, 1, 5000 / 300], np.float32)  # same image size at focal 5000
    _, joints = body_outputs(model, gt)
    keypoints = np.concatenate([project(body25_joints(joints), 5000.0, np.array([160.0, 120.0])),
                                np.ones((12, 25, 1))], axis=-1)
    rng = np.random.default_rng(0)
    data = {"pred_aa": np.concatenate([gt["global_orient"], gt["body_pose"] + rng.normal(scale=0.1, size=(12, 69))],
                                      axis=1),
            "pred_betas": np.zeros((12, 10)), "cam_trans": gt["transl"], "body_keypoints": keypoints,
            "width": np.full(12, 320), "height": np.full(12, 240), "shot": gt["shot_id"], "valid": np.ones(12),
            "imgname": np.array([f"{i:06d}.jpg" for i in range(12)])}
    data.update(overrides)
    path = tmp_path / "person.npz"
    np.savez(path, **data)
    return path


def test_fit_command_reads_a_reference_npz_and_writes_one_person(model_path, tmp_path, capsys):
    path = _reference_file(model_path, tmp_path)
    out = tmp_path / "FIT.npz"
    assert main(["fit", str(path), "--body-model", str(model_path), "--device", "cpu", "--out", str(out)]) == 0
    fit = np.load(out)
    assert fit["global_orient"].shape == (12, 3) and fit["body_pose"].shape == (12, 69)
    assert fit["betas"].shape == (10,) and fit["transl"].shape == (12, 3)
    assert fit["valid"].all() and np.median(fit["reproj_px"]) < 2.0
    np.testing.assert_array_equal(fit["shot_id"], [0] * 6 + [1] * 6)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no work files left behind


@pytest.mark.parametrize("override, message", [
    ({"body_keypoints": np.zeros((12, 24, 3))}, "body_keypoints' has shape"),
    ({"cam_trans": np.zeros((11, 3))}, "cam_trans' has 11 frames"),
    ({"pred_aa": np.zeros((0, 72)), "pred_betas": np.zeros((0, 10)), "cam_trans": np.zeros((0, 3)),
      "body_keypoints": np.zeros((0, 25, 3))}, "empty tracklet"),
])
def test_malformed_reference_files_give_exit_code_2_and_name_the_key(model_path, tmp_path, capsys, override, message):
    path = _reference_file(model_path, tmp_path, **override)
    code = main(["fit", str(path), "--body-model", str(model_path), "--out", str(tmp_path / "F.npz")])
    assert code == 2
    assert message in capsys.readouterr().err


def test_missing_body_model_is_exit_code_3(tmp_path, capsys, model_path):
    path = _reference_file(model_path, tmp_path)
    assert main(["fit", str(path), "--body-model", str(tmp_path / "nope.pkl"), "--out", str(tmp_path / "F.npz")]) == 3
    assert "body model file not found" in capsys.readouterr().err
