"""keypoints.npz (`mshot.keypoints/1`): round trip and the checks that name the file and key."""

from __future__ import annotations

import numpy as np
import pytest

from mshot.artifacts.keypoints import load_keypoints, row_world_landmarks, save_keypoints
from mshot.errors import InvalidInput
from mshot.npzio import save_npz


def _valid():
    keypoints = np.zeros((3, 25, 3), np.float32)
    keypoints[:, :, 2] = 0.7
    return {"source": "cpu", "tracklets_sha256": "ab" * 32, "person_id": np.array([0, 0, 1]),
            "frame_index": np.array([0, 1, 0]), "keypoints_body25": keypoints,
            "match_score": np.array([0.9, 0.0, 0.8]), "det_frame_index": np.array([0, 0]),
            "det_keypoints_body25": keypoints[:2], "det_person_id": np.array([0, -1])}


def test_round_trip_keeps_values_and_dtypes(tmp_path):
    save_keypoints(tmp_path / "k.npz", _valid())
    data = load_keypoints(tmp_path / "k.npz")
    assert str(data["schema"]) == "mshot.keypoints/1" and data["person_id"].dtype == np.int32
    assert data["keypoints_body25"].dtype == np.float32
    np.testing.assert_array_equal(data["det_person_id"], [0, -1])


@pytest.mark.parametrize("change, message", [
    (lambda d: d["keypoints_body25"].__setitem__((0, 0, 2), 1.5), "'keypoints_body25' has confidences"),
    (lambda d: d.update(match_score=np.array([0.9, -0.1, 0.8])), "'match_score'"),
    (lambda d: d.update(det_person_id=np.array([0, -2])), "below -1"),
    (lambda d: d.update(det_frame_index=np.array([0])), "has 2 entries on axis 0, other keys have 1"),
])
def test_bad_files_are_refused_naming_the_key(tmp_path, change, message):
    data = _valid()
    change(data)
    arrays = {"schema": np.array("mshot.keypoints/1"), **{k: np.asarray(v) for k, v in data.items()}}
    save_npz(tmp_path / "bad.npz", arrays)  # written around the checks, as a foreign tool might
    with pytest.raises(InvalidInput, match=message) as info:
        load_keypoints(tmp_path / "bad.npz")
    assert "bad.npz" in info.value.message
    with pytest.raises(InvalidInput):
        save_keypoints(tmp_path / "refused.npz", data)
    assert not (tmp_path / "refused.npz").exists()


def _with_world(data):
    world = np.zeros((2, 33, 4), np.float32)
    world[0, :, :3] = np.arange(99, dtype=np.float32).reshape(33, 3) / 100
    world[:, :, 3] = 0.8
    return {**data, "det_world_landmarks": world,
            "world_landmarks": row_world_landmarks(data, world)}


def test_rows_take_their_matched_detections_world_landmarks_and_unmatched_rows_zeros(tmp_path):
    data = _with_world(_valid())  # detection 0 -> person 0 frame 0 (row 0), detection 1 unmatched
    rows = data["world_landmarks"]
    np.testing.assert_array_equal(rows[0], data["det_world_landmarks"][0])
    assert not rows[1:].any()
    save_keypoints(tmp_path / "k.npz", data)
    np.testing.assert_array_equal(load_keypoints(tmp_path / "k.npz")["world_landmarks"], rows)


def test_files_without_world_landmarks_still_load(tmp_path):
    save_keypoints(tmp_path / "old.npz", _valid())
    assert "world_landmarks" not in load_keypoints(tmp_path / "old.npz")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["world_landmarks"].__setitem__((0, 3, 1), np.nan), "'world_landmarks' holds 1 NaN"),
    (lambda d: d["det_world_landmarks"].__setitem__((1, 0, 3), 2.0), "'det_world_landmarks' has confidences"),
    (lambda d: d.pop("det_world_landmarks"), "'world_landmarks' without 'det_world_landmarks'"),
])
def test_bad_world_landmarks_are_refused_naming_the_key(tmp_path, change, message):
    data = _with_world(_valid())
    change(data)
    save_npz(tmp_path / "bad.npz", {"schema": np.array("mshot.keypoints/1"),
                                    **{k: np.asarray(v) for k, v in data.items()}})
    with pytest.raises(InvalidInput, match=message):
        load_keypoints(tmp_path / "bad.npz")
