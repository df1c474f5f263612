"""The multishot stage end to end on synthetic people with ground truth: the fit beats noisy initial estimates,
keeps one shape per person, writes `mshot.fits/1`; malformed inputs fail naming the problem."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import body_outputs, ground_truth, write_scene

from mshot.artifacts.fits import load_fits
from mshot.artifacts.keypoints import KEYPOINTS
from mshot.artifacts.tracklets import TRACKLETS
from mshot.body.generate import write_generated_smpl_model
from mshot.body.model import BodyModel
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.npzio import load_npz, save_npz
from mshot.store import sha256_file
from services.multishot.engine import MultishotEngine, MultishotOptions, MultishotSettings


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return write_generated_smpl_model(tmp_path_factory.mktemp("m") / "m.pkl")


@pytest.fixture(scope="module")
def scene(model_path, tmp_path_factory):
    model = BodyModel.from_file(model_path)
    gt = ground_truth(frames=16, persons=2)
    folder = tmp_path_factory.mktemp("scene")
    paths = write_scene(folder, model, gt)
    # Replace the truth in the tracklets with noisy initial estimates, as a per-frame regressor would give.
    rng = np.random.default_rng(1)
    data = load_npz(paths["tracklets"])
    data["body_pose"] = data["body_pose"] + rng.normal(scale=0.15, size=data["body_pose"].shape)
    data["betas"] = data["betas"] + rng.normal(scale=0.5, size=data["betas"].shape)
    data["transl"] = data["transl"] * np.array([1, 1, 1.1]) + rng.normal(scale=0.03, size=data["transl"].shape)
    save_npz(paths["tracklets"], data)
    keypoints = load_npz(paths["keypoints"])
    keypoints["keypoints_body25"][..., :2] += rng.normal(scale=1.5, size=keypoints["keypoints_body25"][..., :2].shape)
    keypoints["tracklets_sha256"] = np.array(sha256_file(paths["tracklets"])[0])  # made from the noisy tracklets
    save_npz(paths["keypoints"], keypoints)
    return model, gt, paths


@pytest.fixture(scope="module")
def fitted(scene, model_path, tmp_path_factory):
    _, _, paths = scene
    engine = MultishotEngine(MultishotSettings(str(model_path)))
    out = engine.run({"tracklets": paths["tracklets"], "keypoints": paths["keypoints"]}, MultishotOptions(),
                     tmp_path_factory.mktemp("fit"), lambda f, m="": None)
    return load_fits(out.outputs["fits"]), out.summary


def _root_relative_error_mm(model, gt, global_orient, body_pose, betas, transl) -> float:
    fitted = {**gt, "global_orient": global_orient, "body_pose": body_pose, "transl": transl,
              "betas_person": betas}
    _, joints_fit = body_outputs(model, fitted)
    _, joints_gt = body_outputs(model, gt)
    rel = lambda j: j[:, :24] - j[:, :1]  # noqa: E731
    return float(np.linalg.norm(rel(joints_fit) - rel(joints_gt), axis=-1).mean() * 1000)


def test_fit_cuts_the_initial_joint_error_by_over_30_percent_and_reprojects_well(scene, fitted):
    model, gt, paths = scene
    fits, _ = fitted
    initial = load_npz(paths["tracklets"])
    init_betas = np.stack([initial["betas"][initial["person_id"] == p].mean(0) for p in range(2)])
    before = _root_relative_error_mm(model, gt, initial["global_orient"], initial["body_pose"], init_betas,
                                     initial["transl"])
    after = _root_relative_error_mm(model, gt, fits["global_orient"], fits["body_pose"], fits["betas"], fits["transl"])
    assert after < 0.7 * before  # measured: 114 -> 60 mm
    assert np.median(fits["reproj_px"]) < 4.0
    assert fits["valid"].all()


def test_a_keypoints_file_without_world_landmarks_is_fitted_and_the_summary_says_what_was_used(fitted):
    _, summary = fitted  # the scene's keypoints.npz has no world landmarks (as older files and OpenPose imports)
    assert summary["landmarks"].startswith("none: no world landmarks")
    assert summary["pose_prior"] == "diagonal gaussian (fallback)"
    assert summary["camera"] == "focal length 300 px (source not recorded)"  # the scene's tracklets predate it


def test_one_shape_per_person_across_shots(fitted):
    fits, _ = fitted
    assert fits["betas"].shape == (2, 10)
    np.testing.assert_array_equal(fits["betas_person_id"], [0, 1])


def test_keypoints_for_other_rows_are_refused(scene, model_path, tmp_path):
    _, _, paths = scene
    keypoints = load_npz(paths["keypoints"])
    keypoints["frame_index"] = keypoints["frame_index"][::-1].copy()
    bad = tmp_path / "keypoints.npz"
    KEYPOINTS.save(bad, keypoints)
    engine = MultishotEngine(MultishotSettings(str(model_path)))
    with pytest.raises(InvalidInput, match="does not match the tracklets"):
        engine.run({"tracklets": paths["tracklets"], "keypoints": bad}, MultishotOptions(), tmp_path, lambda *a: None)


def test_nan_keypoints_and_missing_keys_are_named(scene, model_path, tmp_path):
    _, _, paths = scene
    engine = MultishotEngine(MultishotSettings(str(model_path)))
    keypoints = load_npz(paths["keypoints"])
    keypoints["keypoints_body25"][3, 4, 0] = np.nan
    bad = tmp_path / "nan.npz"
    save_npz(bad, keypoints)
    with pytest.raises(InvalidInput, match="keypoints_body25.*NaN"):
        engine.run({"tracklets": paths["tracklets"], "keypoints": bad}, MultishotOptions(), tmp_path, lambda *a: None)
    tracklets = load_npz(paths["tracklets"])
    del tracklets["transl"]
    incomplete = tmp_path / "incomplete.npz"
    save_npz(incomplete, tracklets)
    with pytest.raises(InvalidInput, match="transl"):
        engine.run({"tracklets": incomplete, "keypoints": paths["keypoints"]}, MultishotOptions(), tmp_path,
                   lambda *a: None)


def test_pickled_object_inside_an_npz_is_refused(scene, model_path, tmp_path):
    _, _, paths = scene
    tracklets = dict(load_npz(paths["tracklets"]))
    tracklets["source"] = np.array([{"evil": 1}], dtype=object)
    bad = tmp_path / "pickled.npz"
    np.savez(bad, **tracklets)
    engine = MultishotEngine(MultishotSettings(str(model_path)))
    with pytest.raises(InvalidInput, match="pickled Python object"):
        engine.run({"tracklets": bad, "keypoints": paths["keypoints"]}, MultishotOptions(), tmp_path, lambda *a: None)


def test_missing_body_model_fails_at_start_up(tmp_path):
    from mshot.errors import NotFound

    with pytest.raises(NotFound):
        MultishotEngine(MultishotSettings(str(tmp_path / "SMPL_NEUTRAL.pkl")))
    with pytest.raises(FailedPrecondition):
        import os

        os.environ.pop("MSHOT_BODY_MODEL", None)
        MultishotSettings.from_env()


def test_tracklets_schema_is_enforced(scene, tmp_path):
    _, _, paths = scene
    data = load_npz(paths["tracklets"])
    data["bbox_xyxy"] = data["bbox_xyxy"][:, :3]
    with pytest.raises(InvalidInput, match=r"bbox_xyxy.*expected \(M, 4\)"):
        TRACKLETS.save(tmp_path / "t.npz", data)
