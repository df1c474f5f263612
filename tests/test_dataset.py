"""Dataset stage: selection verdicts, exports read back the way their target methods read them (projected
joints within 0.5 px of the fitted ones, masks matching the rendered silhouette), previews, bad input."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest
import torch
from synthetic import body_outputs, ground_truth, projected_truth, silhouette_iou, write_scene

from mshot.body.joint_maps import body25_joints
from mshot.errors import InvalidInput, NotFound
from mshot.geometry.camera import project
from services.dataset.engine import export_dataset, options_with


def test_manifest_records_a_verdict_for_every_frame(dataset_export):
    out, report = dataset_export
    with open(out / "person_000" / "manifest.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 24
    verdicts = [r["verdict"] for r in rows]
    assert verdicts.count("train") == 17 and verdicts.count("val") == 5
    assert report["summary"]["0"]["kept_train"] + report["summary"]["0"]["kept_val"] == 22
    assert report["summary"]["0"]["skipped_formats"] == {}


@pytest.mark.parametrize("folder", ["humannerf", "humannerf_val"])
def test_humannerf_export_reprojects_the_fitted_joints_within_half_a_pixel(smpl_model, dataset_scene, dataset_export,
                                                                           folder):
    gt, _ = dataset_scene
    out, _ = dataset_export
    metadata = json.loads((out / "person_000" / folder / "metadata.json").read_text())
    frames = sorted(metadata)
    rows = np.array([int(f) for f in frames])
    poses = torch.tensor([metadata[f]["poses"] for f in frames], dtype=torch.float32)
    betas = torch.tensor([metadata[f]["betas"] for f in frames], dtype=torch.float32)
    with torch.no_grad():  # HumanNeRF's reading: SMPL without translation, then the camera extrinsics
        joints = smpl_model(poses[:, :3], poses[:, 3:], betas, torch.zeros(len(frames), 3)).joints.numpy()
    projected = []
    for f, j in zip(frames, joints, strict=True):
        E, K = np.array(metadata[f]["cam_extrinsics"]), np.array(metadata[f]["cam_intrinsics"])
        cam = body25_joints(j) @ E[:3, :3].T + E[:3, 3]
        projected.append(project(cam, K[0, 0], K[:2, 2]))
    expected = projected_truth(smpl_model, gt, rows)
    assert np.abs(np.array(projected) - expected).max() < 0.5
    mask = cv2.imread(str(out / "person_000" / folder / "masks" / f"{frames[0]}.png"), cv2.IMREAD_GRAYSCALE)
    assert mask.shape == (240, 320) and (mask > 127).sum() > 500


def test_humannerf_trains_only_on_training_frames_and_holds_out_the_rest(dataset_export):
    out, _ = dataset_export
    with open(out / "person_000" / "manifest.csv") as f:
        verdict = {int(r["frame_index"]): r["verdict"] for r in csv.DictReader(f)}
    for folder, split in (("humannerf", "train"), ("humannerf_val", "val")):
        metadata = json.loads((out / "person_000" / folder / "metadata.json").read_text())
        images = sorted(p.stem for p in (out / "person_000" / folder / "images").glob("*.png"))
        assert images == sorted(metadata)  # HumanNeRF trains on every image listed here
        assert {verdict[int(f)] for f in metadata} == {split}
    assert len(images) == 5


def test_exported_mask_matches_the_rendered_smpl_silhouette(smpl_model, dataset_scene, dataset_export):
    gt, _ = dataset_scene
    out, _ = dataset_export
    smpl = np.load(out / "person_000" / "bundle" / "smpl.npz")
    cameras = np.load(out / "person_000" / "bundle" / "cameras.npz")
    row = int(smpl["frame_index"][0])
    vertices, _ = body_outputs(smpl_model, gt)
    mask = cv2.imread(str(out / "person_000" / "bundle" / "masks" / f"{row:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127
    assert silhouette_iou(smpl_model.faces, vertices[row], cameras["K"][0], mask) > 0.98


def test_previews_are_written(dataset_export):
    out, _ = dataset_export
    assert (out / "tracks.png").stat().st_size > 1000
    sheet = cv2.imread(str(out / "person_000" / "previews" / "contact_sheet.png"))
    assert sheet is not None and sheet.shape[1] > 500
    capture = cv2.VideoCapture(str(out / "person_000" / "previews" / "overlay.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 22


FORMATS = ["humannerf", "neuralbody", "neuralbody_monocular", "easymocap", "instantavatar", "vid2avatar", "bvh",
           "gltf"]


def test_unknown_format_is_refused_naming_it(smpl_model, dataset_scene, tmp_path):
    with pytest.raises(InvalidInput, match=r"unknown export format\(s\) \['nerfstudio'\]"):
        export_dataset(dataset_scene[1], tmp_path / "a", smpl_model, options_with(formats=["neuralbody", "nerfstudio"]))
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_person_is_refused(smpl_model, dataset_scene, tmp_path, fmt):
    with pytest.raises(NotFound, match=r"person id\(s\) \[7\] not in the tracklets; persons are \[0\]"):
        export_dataset(dataset_scene[1], tmp_path / "b", smpl_model, options_with(formats=[fmt], person_ids=[7]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_fits_from_another_video_are_refused(smpl_model, dataset_scene, tmp_path, fmt):
    other = write_scene(tmp_path / "other", smpl_model, ground_truth(frames=6, persons=1))
    with pytest.raises(InvalidInput, match="does not match"):
        export_dataset({**dataset_scene[1], "fits": other["fits"]}, tmp_path / "c", smpl_model,
                       options_with(formats=[fmt]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_selection_is_a_result_naming_the_gate_that_rejected_each_frame(smpl_model, dataset_scene, tmp_path,
                                                                              fmt):
    from dataclasses import replace

    options = options_with(formats=[fmt])
    options = replace(options, selection=replace(options.selection, min_height_px=10_000))
    report = export_dataset(dataset_scene[1], tmp_path / "d", smpl_model, options)
    assert "height gate 24 frames" in report["summary"]["nothing_kept"]
    for person, verdict in report["persons"].items():
        assert verdict["kept_train"] == verdict["kept_val"] == 0 and verdict["reasons"]["height"] == verdict["rejected"]
        with open(tmp_path / "d" / f"person_{int(person):03d}" / "manifest.csv") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(r["verdict"] == "rejected" and r["reasons"].startswith("height") for r in rows)


def test_preview_crop_of_a_box_beyond_the_border_or_of_zero_area_is_a_picture():
    from services.dataset.previews import crop_around

    image = np.full((100, 160, 3), 200, np.uint8)
    for box in ([-300.0, -50, -200, 40], [150, 90, 400, 500], [50, 50, 50, 50]):
        assert crop_around(image, np.array(box), size=32).shape == (32, 32, 3), box
