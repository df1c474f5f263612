"""Neural Body, EasyMocap and InstantAvatar exports read back as those methods read them (tests/dataset_readers.py):
the SMPL joints through the exported cameras land within 0.5 px of the fitted joints, and each exported mask matches
the silhouette of the exported body rendered through the exported camera."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import yaml
from dataset_readers import (
    read_easymocap,
    read_instantavatar,
    read_neuralbody,
    read_neuralbody_monocular,
    read_vid2avatar,
    rh_th_body,
)
from synthetic import projected_truth, silhouette_iou

from mshot.artifacts.fits import load_fits, save_fits
from mshot.body.joint_maps import body25_joints
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


READERS = {"neuralbody": read_neuralbody, "neuralbody_monocular": read_neuralbody_monocular,
           "easymocap": lambda folder: read_easymocap(folder, person=0)}


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_rh_th_export_reprojects_the_fitted_joints_and_masks_match(smpl_model, dataset_scene, dataset_export, fmt):
    gt, _ = dataset_scene
    folder = dataset_export[0] / "person_000" / fmt
    frames = READERS[fmt](folder)
    assert len(frames) == 22 and [f["index"] for f in frames] == list(range(22))
    video_frame = _frame_index(folder)
    for frame in frames:
        assert not frame["dist" if fmt == "easymocap" else "D"].any()
        assert frame["image"].shape == (240, 320, 3)
        vertices, joints = rh_th_body(smpl_model, frame["params"])
        if fmt != "easymocap":  # the loader also reads vertices/{i}.npy: the same body in world coordinates
            np.testing.assert_allclose(frame["vertices"], vertices, atol=1e-4)
        expected = projected_truth(smpl_model, gt, [video_frame[frame["index"]]])[0]
        assert np.abs(_pixels(body25_joints(joints), frame) - expected).max() < 0.5
    first = frames[0]
    camera_vertices = rh_th_body(smpl_model, first["params"])[0] @ first["R"].T + first["T"].reshape(3)
    assert silhouette_iou(smpl_model.faces, camera_vertices, first["K"], first["mask"]) > 0.98


def test_easymocap_annots_hold_the_frames_body25_keypoints(dataset_scene, dataset_export):
    folder = dataset_export[0] / "person_000" / "easymocap"
    keypoints = np.load(dataset_scene[1]["keypoints"])["keypoints_body25"]
    for index, frame_index in _frame_index(folder).items():
        annot = json.loads((folder / "annots" / "cam0" / f"{index:06d}.json").read_text())
        assert annot["filename"] == f"images/cam0/{index:06d}.jpg" and (annot["height"], annot["width"]) == (240, 320)
        (person,) = annot["annots"]
        assert person["personID"] == 0 and len(person["bbox"]) == 5
        np.testing.assert_allclose(person["keypoints"], keypoints[frame_index], atol=1e-4)  # one person: row = frame


def test_vid2avatar_bodies_project_onto_the_fitted_joints_through_its_normalised_cameras(smpl_model, dataset_scene,
                                                                                         dataset_export):
    gt, _ = dataset_scene
    folder = dataset_export[0] / "person_000" / "vid2avatar"
    config = yaml.safe_load((folder / "mshot_vid2avatar.yaml").read_text())["metainfo"]
    video_frame = _frame_index(folder)
    assert (config["start_frame"], config["end_frame"]) == (0, 17) and len(video_frame) == 22
    for frame in read_vid2avatar(folder, 0, 22):
        pose = torch.tensor(frame["pose"][None], dtype=torch.float32)
        with torch.no_grad():
            out = smpl_model(pose[:, :3], pose[:, 3:], torch.tensor(frame["shape"][None]), torch.zeros(1, 3))
        world = (out.joints[0].numpy() + frame["trans"]) * frame["scale"]
        vertices = (out.vertices[0].numpy() + frame["trans"]) * frame["scale"]
        assert np.abs((vertices.max(0) + vertices.min(0)) / 2).max() < 1e-3 * frame["scale"]  # centred per frame
        camera = world @ frame["R"].T + frame["T"]
        expected = projected_truth(smpl_model, gt, [video_frame[frame["index"]]])[0]
        pixels = project(body25_joints(camera), frame["K"][0, 0], frame["K"][:2, 2])
        assert np.abs(pixels - expected).max() < 0.5
    camera_vertices = vertices @ frame["R"].T + frame["T"]
    assert silhouette_iou(smpl_model.faces, camera_vertices, frame["K"], frame["mask"]) > 0.98


def test_instantavatar_carries_keypoints_all_poses_and_a_gart_split(dataset_scene, dataset_export):
    root = dataset_export[0] / "person_000" / "instantavatar"
    keypoints = np.load(dataset_scene[1]["keypoints"])["keypoints_body25"]
    for shot in ("shot_00", "shot_01"):
        folder = root / shot
        poses = np.load(folder / "poses.npz")
        images = sorted(folder.glob("images/*.png"))
        assert len(poses["transl"]) == len(images) == len(np.load(folder / "keypoints.npy"))
        np.testing.assert_allclose(np.load(folder / "keypoints.npy"), keypoints[poses["frame_index"]], atol=1e-4)
        split = json.loads((folder / "gart_split.json").read_text())
        train = len(np.load(folder / "poses" / "train.npz")["transl"])
        assert split == {"train": [0, train, 1], "val": [train, len(images), 1], "test": [train, len(images), 1]}


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
            projected = project(body25_joints(out.joints.numpy()), K[0, 0], K[:2, 2])
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
