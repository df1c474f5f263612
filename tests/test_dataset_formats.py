"""Neural Body, EasyMocap and InstantAvatar exports read back as those methods read them (tests/dataset_readers.py):
the SMPL joints through the exported cameras land within 0.5 px of the fitted joints, and each exported mask matches
the silhouette of the exported body rendered through the exported camera."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from dataset_readers import read_easymocap, read_instantavatar, read_neuralbody, rh_th_body
import yaml
from synthetic import projected_truth, silhouette_iou

from mshot.artifacts.fits import load_fits, save_fits
from mshot.body.joint_maps import BODY25_TO_SMPLX45
from mshot.errors import FailedPrecondition
from mshot.geometry.camera import project
from services.dataset.engine import export_dataset, options_with
from services.dataset.zju import rh_th_params


def _frame_index(folder) -> dict[int, int]:
    with open(folder / "frames.csv") as f:
        return {int(r["index"]): int(r["frame_index"]) for r in csv.DictReader(f)}


def _pixels(points_world, frame) -> np.ndarray:
    cam = points_world @ frame["R"].T + frame["T"].reshape(3)
    K = frame["K"]
    assert K[0, 0] == K[1, 1]
    return project(cam, K[0, 0], K[:2, 2])


def test_th_is_transl_plus_pelvis_minus_rotated_pelvis(smpl_model):
    betas = np.linspace(-1, 1, 10).astype(np.float32)
    params = rh_th_params(smpl_model, np.array([[0.0, 0.0, np.pi / 2]]), np.zeros((1, 69)), np.array([[1.0, 2.0, 3.0]]),
                          betas)
    jx, jy, jz = smpl_model.rest_joints(torch.tensor(betas[None]))[0, 0].double().numpy()
    # a quarter turn about z maps (x, y, z) to (-y, x, z)
    np.testing.assert_allclose(params["Th"][0], [1 + jx + jy, 2 + jy - jx, 3.0], atol=1e-6)
    np.testing.assert_allclose(params["poses"][0, :3], 0.0)
    assert params["poses"].shape == (1, 72) and params["shapes"].shape == (1, 10)


@pytest.mark.parametrize("fmt", ["neuralbody", "easymocap"])
def test_rh_th_export_reprojects_the_fitted_joints_and_masks_match(smpl_model, dataset_scene, dataset_export, fmt):
    gt, _ = dataset_scene
    folder = dataset_export[0] / "person_000" / fmt
    frames = read_neuralbody(folder) if fmt == "neuralbody" else read_easymocap(folder, person=0)
    assert len(frames) == 22 and [f["index"] for f in frames] == list(range(22))
    video_frame = _frame_index(folder)
    for frame in frames:
        assert not frame["D"].any() if fmt == "neuralbody" else not frame["dist"].any()
        assert frame["image"].shape == (240, 320, 3)
        vertices, joints = rh_th_body(smpl_model, frame["params"])
        if fmt == "neuralbody":  # the loader also reads vertices/{i}.npy: the same body in world coordinates
            np.testing.assert_allclose(frame["vertices"], vertices, atol=1e-4)
        expected = projected_truth(smpl_model, gt, [video_frame[frame["index"]]])[0]
        assert np.abs(_pixels(joints[list(BODY25_TO_SMPLX45)], frame) - expected).max() < 0.5
    first = frames[0]
    camera_vertices = rh_th_body(smpl_model, first["params"])[0] @ first["R"].T + first["T"].reshape(3)
    assert silhouette_iou(smpl_model.faces, camera_vertices, first["K"], first["mask"]) > 0.98


def test_neuralbody_config_is_valid_yaml_with_training_frames_first(dataset_export):
    folder = dataset_export[0] / "person_000" / "neuralbody"
    with open(folder / "frames.csv") as f:
        splits = [r["split"] for r in csv.DictReader(f)]
    config = yaml.safe_load((folder / "mshot_neuralbody.yaml").read_text())
    train = config["num_train_frame"]
    assert splits == ["train"] * train + ["val"] * config["num_novel_pose_frame"] and train == 17
    assert (config["H"], config["W"], config["training_view"]) == (240, 320, [0])
    assert config["train_dataset"]["split"] == "train" and config["test_dataset"]["split"] == "test"
    assert config["parent_cfg"] == "configs/zju_mocap_exp/latent_xyzc_313.yaml"


def test_instantavatar_split_slices_match_their_poses_and_masks(smpl_model, dataset_scene, dataset_export):
    gt, _ = dataset_scene
    root = dataset_export[0] / "person_000" / "instantavatar"
    assert sorted(p.name for p in root.iterdir()) == ["shot_00", "shot_01"]
    seen = []
    for shot in ("shot_00", "shot_01"):
        for split in ("train", "val", "test"):
            data = read_instantavatar(root / shot, split)
            assert len(data["images"]) == len(data["transl"]) == len(data["masks"]) >= 1
            assert np.array_equal(data["c2w"], np.eye(4)) and data["size"] == (240, 320)
            with torch.no_grad():
                out = smpl_model(*(torch.tensor(data[k]) for k in ("global_orient", "body_pose", "betas", "transl")))
            K = data["K"]
            projected = project(out.joints.numpy()[:, BODY25_TO_SMPLX45], K[0, 0], K[:2, 2])
            assert np.abs(projected - projected_truth(smpl_model, gt, data["frame_index"])).max() < 0.5
            for n in (0, len(data["masks"]) - 1):  # the n-th image of the slice is the n-th pose row
                mask = data["masks"][n] > 0.5
                assert silhouette_iou(smpl_model.faces, out.vertices[n].numpy(), K, mask) > 0.98
            if split != "test":
                seen += data["frame_index"].tolist()
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 22  # each kept frame in exactly one of train / val


def test_single_camera_formats_refuse_frames_with_different_intrinsics(smpl_model, dataset_scene, tmp_path):
    fits = load_fits(dataset_scene[1]["fits"])
    fits["focal_px"] = np.where(fits["shot_id"] == 1, 301.0, 300.0).astype(np.float32)
    paths = {**dataset_scene[1], "fits": save_fits(tmp_path / "fits.npz", fits)}
    with pytest.raises(FailedPrecondition, match="neuralbody export of person 0 has one camera for all frames"):
        export_dataset(paths, tmp_path / "nb", smpl_model, options_with(formats=["humannerf", "neuralbody"],
                                                                        target_frames=8))
    assert not (tmp_path / "nb").exists()
    report = export_dataset(paths, tmp_path / "ia", smpl_model, options_with(formats=["instantavatar"], target_frames=8,
                                                                             val_fraction=0.25, previews=False))
    assert report["persons"]["0"]["instantavatar_shots"] == ["shot_00", "shot_01"]
