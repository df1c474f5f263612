"""Keypoints stage: OpenPose JSON import with clear errors naming the file, mask/box association, and the
CPU backend on real footage."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from mshot.artifacts.masks import encode_mask
from mshot.errors import InvalidInput, NotFound
from services.keypoints.association import associate, fit_score, match_frame
from services.keypoints.openpose_import import read_openpose


def _person(x0, y0, conf=0.9):
    keypoints = np.zeros((25, 3))
    keypoints[:, 0] = x0 + np.arange(25) % 5 * 4
    keypoints[:, 1] = y0 + np.arange(25) // 5 * 8
    keypoints[:, 2] = conf
    return {"person_id": [-1], "pose_keypoints_2d": keypoints.ravel().tolist(), "face_keypoints_2d": []}


def _write(folder, frame, people, version=1.3):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"clip_{frame:012d}_keypoints.json"
    path.write_text(json.dumps({"version": version, "people": people}))
    return path


def test_folder_and_zip_import_give_detections_per_frame(tmp_path):
    folder = tmp_path / "json"
    _write(folder, 0, [_person(10, 10), _person(100, 10)])
    _write(folder, 1, [])  # OpenPose writes a file with no people for a frame where it finds nobody
    _write(folder, 2, [_person(50, 20)])
    frames, keypoints = read_openpose(folder, num_frames=3)
    np.testing.assert_array_equal(frames, [0, 0, 2])
    assert keypoints.shape == (3, 25, 3) and keypoints[2, 0, 0] == 50
    archive = tmp_path / "json.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in folder.iterdir():
            z.write(p, p.name)
    frames_zip, keypoints_zip = read_openpose(archive, num_frames=3)
    np.testing.assert_array_equal(frames_zip, frames)
    np.testing.assert_array_equal(keypoints_zip, keypoints)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": [1.0] * 74}]}), "74 pose_keypoints_2d values"),
    (json.dumps({"version": 1.3, "people": [{"pose_keypoints_2d": [-5.0, 1, 1] + [0.0] * 72}]}), "negative"),
    ('{"version": 1.3, "people": [{"pose_keypoints_2d": [NaN' + ", 0" * 74 + "]}]}", "NaN"),
    (json.dumps({"version": 1.3}), "no 'people' list"),
])
def test_malformed_files_are_refused_naming_the_file(tmp_path, content, message):
    folder = tmp_path / "json"
    folder.mkdir()
    (folder / "clip_000000000004_keypoints.json").write_text(content)
    with pytest.raises(InvalidInput, match=message) as info:
        read_openpose(folder)
    assert "clip_000000000004_keypoints.json" in info.value.message


def test_frames_beyond_the_video_empty_folders_and_missing_folders(tmp_path):
    folder = tmp_path / "json"
    _write(folder, 9, [_person(1, 1)])
    with pytest.raises(InvalidInput, match="video has 5 frames"):
        read_openpose(folder, num_frames=5)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="no OpenPose"):
        read_openpose(tmp_path / "empty")
    with pytest.raises(NotFound):
        read_openpose(tmp_path / "missing")


def test_fit_score_weighs_by_confidence():
    mask = np.zeros((50, 50), bool)
    mask[:, :25] = True
    keypoints = np.array([[10, 10, 1.0], [40, 10, 0.5], [0, 0, 0.0]])
    # confidence-weighted inside P = 1/1.5, plain fraction inside R = 1/2 -> 2PR / (P + R) = 4/7;
    # the keypoints' box (10, 10)-(40, 10) has no area: IoU term 0
    assert fit_score(keypoints, mask, np.array([0, 0, 25, 50.0])) == pytest.approx(0.9 * 4 / 7)


def test_detections_go_to_the_person_whose_mask_holds_them_and_strays_stay_unmatched():
    h, w = 100, 200
    left, right = np.zeros((h, w), bool), np.zeros((h, w), bool)
    left[:, :100], right[:, 100:] = True, True
    detections = np.stack([np.asarray(_person(120, 10)["pose_keypoints_2d"]).reshape(25, 3),
                           np.asarray(_person(10, 10)["pose_keypoints_2d"]).reshape(25, 3)])
    assigned, score = match_frame(detections, [encode_mask(left), encode_mask(right)],
                                  np.array([[0, 0, 100, 100], [100, 0, 200, 100]], float), (h, w))
    np.testing.assert_array_equal(assigned, [1, 0])
    assert (score > 0.9).all()
    stray = np.asarray(_person(120, 10)["pose_keypoints_2d"]).reshape(1, 25, 3)
    assigned, _ = match_frame(stray, [encode_mask(left)], np.array([[0, 0, 100, 100]], float), (h, w))
    assert assigned[0] == -1


def test_box_is_the_fallback_when_a_person_has_no_mask():
    tracklets = {"person_id": np.array([0, 1]), "frame_index": np.array([0, 0]), "observed": np.array([True, True]),
                 "image_size": np.array([100, 200]), "mask_rle": np.array(["", ""]),
                 "bbox_xyxy": np.array([[0, 0, 90, 100], [100, 0, 200, 100]], np.float32)}
    det = np.stack([np.asarray(_person(130, 10)["pose_keypoints_2d"]).reshape(25, 3),
                    np.asarray(_person(300, 10)["pose_keypoints_2d"]).reshape(25, 3)]).astype(np.float32)
    matched = associate(tracklets, np.array([0, 0]), det)
    np.testing.assert_array_equal(matched["det_person_id"], [1, -1])
    assert matched["keypoints_body25"][1, 0, 0] == 130 and matched["match_score"][0] == 0


def test_blazepose_body25_mapping_synthesizes_neck_midhip_and_small_toes():
    from mshot.pose2d.blazepose import blazepose_to_body25

    landmarks = np.arange(66, dtype=float).reshape(33, 2)
    visibility = np.linspace(0.2, 1.0, 33)
    body25 = blazepose_to_body25(landmarks, visibility)
    np.testing.assert_allclose(body25[1, :2], (landmarks[11] + landmarks[12]) / 2)  # neck
    assert body25[1, 2] == pytest.approx(min(visibility[11], visibility[12]))
    np.testing.assert_allclose(body25[8, :2], (landmarks[23] + landmarks[24]) / 2)  # mid-hip
    np.testing.assert_allclose(body25[20], [*landmarks[31], 0.5 * visibility[31]])  # left small toe
    np.testing.assert_allclose(body25[2], [*landmarks[12], visibility[12]])  # right shoulder = BlazePose right
