"""Dataset stage: selection verdicts, exports read back the way their target methods read them (projected
joints within 0.5 px of the fitted ones, masks matching the rendered silhouette), previews, bad input."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest
import torch
from synthetic import body_outputs, ground_truth, write_scene

from mshot.body.generate import write_generated_smpl_model
from mshot.body.joint_maps import BODY25_TO_SMPLX45
from mshot.body.model import BodyModel
from mshot.errors import InvalidInput, NotFound
from mshot.geometry.camera import project
from services.dataset.engine import export_dataset, options_with


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return BodyModel.from_file(write_generated_smpl_model(tmp_path_factory.mktemp("m") / "m.pkl"))


@pytest.fixture(scope="module")
def scene(model, tmp_path_factory):
    gt = ground_truth(frames=12, persons=1)
    return gt, write_scene(tmp_path_factory.mktemp("scene"), model, gt)


@pytest.fixture(scope="module")
def exported(model, scene, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "dataset"
    report = export_dataset(scene[1], out, model, options_with(target_frames=8, val_fraction=0.25))
    return out, report


def _fitted_body25(model, gt, rows):
    _, joints = body_outputs(model, gt)
    return joints[rows][:, list(BODY25_TO_SMPLX45)]


def test_manifest_records_a_verdict_for_every_frame(exported):
    out, report = exported
    with open(out / "person_000" / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    verdicts = [r["verdict"] for r in rows]
    assert verdicts.count("train") + verdicts.count("val") == 8
    assert verdicts.count("val") >= 1
    assert report["summary"]["0"]["kept_train"] + report["summary"]["0"]["kept_val"] == 8


def test_humannerf_export_reprojects_the_fitted_joints_within_half_a_pixel(model, scene, exported):
    gt, _ = scene
    out, _ = exported
    metadata = json.loads((out / "person_000" / "humannerf" / "metadata.json").read_text())
    frames = sorted(metadata)
    rows = np.array([int(f) for f in frames])
    poses = torch.tensor([metadata[f]["poses"] for f in frames], dtype=torch.float32)
    betas = torch.tensor([metadata[f]["betas"] for f in frames], dtype=torch.float32)
    with torch.no_grad():  # HumanNeRF's reading: SMPL without translation, then the camera extrinsics
        joints = model(poses[:, :3], poses[:, 3:], betas, torch.zeros(len(frames), 3)).joints.numpy()
    projected = []
    for f, j in zip(frames, joints, strict=True):
        E, K = np.array(metadata[f]["cam_extrinsics"]), np.array(metadata[f]["cam_intrinsics"])
        cam = j[list(BODY25_TO_SMPLX45)] @ E[:3, :3].T + E[:3, 3]
        projected.append(project(cam, K[0, 0], K[:2, 2]))
    expected = project(_fitted_body25(model, gt, rows), 300.0, np.array([160.0, 120.0]))
    assert np.abs(np.array(projected) - expected).max() < 0.5
    mask = cv2.imread(str(out / "person_000" / "humannerf" / "masks" / f"{frames[0]}.png"), cv2.IMREAD_GRAYSCALE)
    assert mask.shape == (240, 320) and (mask > 127).sum() > 500


def test_instantavatar_export_has_one_camera_per_shot_and_matching_poses(model, scene, exported):
    gt, _ = scene
    out, _ = exported
    shots = sorted(p.name for p in (out / "person_000" / "instantavatar").iterdir())
    assert shots == ["shot_00", "shot_01"]
    for shot in shots:
        folder = out / "person_000" / "instantavatar" / shot
        cameras = np.load(folder / "cameras.npz")
        poses = np.load(folder / "poses" / "anim_nerf_train.npz")
        K, E = cameras["intrinsic"], cameras["extrinsic"]
        with torch.no_grad():
            joints = model(torch.tensor(poses["global_orient"]), torch.tensor(poses["body_pose"]),
                           torch.tensor(poses["betas"]), torch.tensor(poses["transl"])).joints.numpy()
        cam = joints[:, list(BODY25_TO_SMPLX45)] @ E[:3, :3].T + E[:3, 3]
        expected = project(_fitted_body25(model, gt, poses["frame_index"]), 300.0, np.array([160.0, 120.0]))
        assert np.abs(project(cam, K[0, 0], K[:2, 2]) - expected).max() < 0.5
        first = np.load(folder / "masks" / f"mask_{int(poses['image_index'][0]):04d}.npy")
        assert first.dtype == bool and first.sum() > 500


def test_exported_mask_matches_the_rendered_smpl_silhouette(model, scene, exported):
    from mshot.geometry.camera import intrinsics_matrix
    from services.dataset.render import MeshRenderer

    gt, _ = scene
    out, _ = exported
    smpl = np.load(out / "person_000" / "bundle" / "smpl.npz")
    row = int(smpl["frame_index"][0])
    vertices, _ = body_outputs(model, gt)
    silhouette, _ = MeshRenderer(320, 240, model.faces).render(vertices[row], intrinsics_matrix(300.0, (160, 120)))
    mask = cv2.imread(str(out / "person_000" / "bundle" / "masks" / f"{row:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127
    assert (mask & silhouette).sum() / (mask | silhouette).sum() > 0.98


def test_previews_are_written(exported):
    out, _ = exported
    assert (out / "tracks.png").stat().st_size > 1000
    sheet = cv2.imread(str(out / "person_000" / "previews" / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] > 500
    capture = cv2.VideoCapture(str(out / "person_000" / "previews" / "overlay.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 8


def test_unknown_format_and_unknown_person_are_refused(model, scene, tmp_path):
    with pytest.raises(InvalidInput, match="unknown export format"):
        export_dataset(scene[1], tmp_path / "a", model, options_with(formats=["nerfstudio"]))
    with pytest.raises(NotFound, match="person id"):
        export_dataset(scene[1], tmp_path / "b", model, options_with(person_ids=[7]))


def test_fits_from_another_video_are_refused(model, scene, tmp_path):
    other = write_scene(tmp_path / "other", model, ground_truth(frames=6, persons=1))
    with pytest.raises(InvalidInput, match="does not match"):
        export_dataset({**scene[1], "fits": other["fits"]}, tmp_path / "c", model, options_with())


def test_empty_selection_names_the_gate_that_rejected_the_frames(model, scene, tmp_path):
    from dataclasses import replace

    options = options_with()
    options = replace(options, selection=replace(options.selection, min_height_px=10_000))
    with pytest.raises(InvalidInput, match="height gate 12 frames"):
        export_dataset(scene[1], tmp_path / "d", model, options)
