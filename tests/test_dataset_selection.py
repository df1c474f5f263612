"""Dataset selection: the body/mask agreement gates (services/dataset/selection.py silhouette_reasons), on
hand-made masks and through the stage on a frame whose mask misses the legs."""

import csv

import numpy as np

from mshot.artifacts.keypoints import load_keypoints, save_keypoints
from mshot.artifacts.masks import decode_mask, encode_mask
from mshot.artifacts.tracklets import load_tracklets, save_tracklets
from mshot.store import sha256_file
from services.dataset.engine import export_dataset, options_with
from services.dataset.selection import SelectionOptions, silhouette_reasons


def _block(rows: slice, cols: slice) -> np.ndarray:
    image = np.zeros((20, 20), bool)
    image[rows, cols] = True
    return image


def test_body_with_a_fifth_outside_the_mask_is_rejected_by_the_body_in_mask_gate():
    body = _block(slice(0, 10), slice(0, 10))  # 100 px
    mask = _block(slice(0, 10), slice(0, 8))  # holds 80 of them: 80 % inside, IoU 80 / 100 = 0.8
    assert silhouette_reasons(body, mask, SelectionOptions()) == [
        "body in mask: 80.0% of the SMPL silhouette inside the mask (< 85%)"]


def test_mask_looser_than_the_body_passes_both_gates():
    body = _block(slice(0, 10), slice(0, 10))
    mask = _block(slice(0, 10), slice(0, 20))  # 100 % of the body inside, IoU 100 / 200 = 0.5
    assert silhouette_reasons(body, mask, SelectionOptions()) == []


def test_mask_far_looser_than_the_body_fails_only_the_iou_gate():
    body = _block(slice(0, 5), slice(0, 5))
    mask = _block(slice(0, 20), slice(0, 20))  # IoU 25 / 400 = 0.06
    assert silhouette_reasons(body, mask, SelectionOptions()) == ["silhouette: SMPL silhouette IoU 0.06 (< 0.3)"]


def test_body_rendered_nowhere_in_the_image_is_rejected():
    empty = np.zeros((20, 20), bool)
    assert [r.split(":")[0] for r in silhouette_reasons(empty, _block(slice(0, 10), slice(0, 10)),
                                                         SelectionOptions())] == ["silhouette", "body in mask"]


def test_frame_whose_mask_misses_the_legs_is_rejected_naming_the_gate(smpl_model, dataset_scene, tmp_path):
    paths = dict(dataset_scene[1])
    tracklets = load_tracklets(paths["tracklets"])
    height, width = (int(v) for v in tracklets["image_size"])
    row = int(np.flatnonzero(tracklets["frame_index"] == 10)[0])
    mask = decode_mask(str(tracklets["mask_rle"][row]), height, width)
    ys = np.flatnonzero(mask.any(axis=1))
    mask[(ys.min() + ys.max()) // 2:] = False  # the lower half of the person (legs) missing
    rles = tracklets["mask_rle"].astype(object)
    rles[row] = encode_mask(mask)
    paths["tracklets"] = save_tracklets(tmp_path / "tracklets.npz", {**tracklets, "mask_rle": rles.astype(str)})
    keypoints = load_keypoints(paths["keypoints"])
    paths["keypoints"] = save_keypoints(tmp_path / "keypoints.npz", {
        **keypoints, "tracklets_sha256": sha256_file(paths["tracklets"])[0]})
    report = export_dataset(paths, tmp_path / "out", smpl_model, options_with(formats=["bvh"], previews=False))
    person = report["persons"]["0"]
    assert person["reasons"].get("body in mask") == 1
    with open(tmp_path / "out" / "person_000" / "manifest.csv") as f:
        verdicts = {int(r["frame_index"]): r for r in csv.DictReader(f)}
    assert verdicts[10]["verdict"] == "rejected" and verdicts[10]["reasons"].startswith("body in mask: ")
    assert all(r["verdict"] in ("train", "val") for frame, r in verdicts.items() if frame != 10)
