"""OpenPose JSON import: frame numbering and gaps, mixed folders, old formats, confidence overshoot, the
`mshot import openpose` command with and without tracklets, and the engine's `openpose_json` input."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from mshot.artifacts.keypoints import load_keypoints
from mshot.errors import InvalidInput
from services.keypoints.cli import add_import_commands
from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings
from services.keypoints.openpose_import import read_openpose
from tests.keypoints_fixtures import write_tracklets, write_video


def _keypoints(x, y, conf=0.8):
    values = np.zeros((25, 3))
    values[:, 0], values[:, 1], values[:, 2] = x + np.arange(25) % 5, y + np.arange(25) // 5 * 2, conf
    return values.ravel().tolist()


def _write(folder, name, people, key="pose_keypoints_2d"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps({"version": 1.3, "people": [{key: p} for p in people]}))


def test_gap_in_the_frame_numbers_is_refused_naming_the_missing_frame(tmp_path):
    for frame in (3, 4, 6):
        _write(tmp_path, f"clip_{frame:012d}_keypoints.json", [_keypoints(10, 10)])
    with pytest.raises(InvalidInput, match=r"no file for frame 5 \(after .*clip_000000000004_keypoints.json"):
        read_openpose(tmp_path)
    frames, _ = read_openpose(tmp_path, contiguous=False)  # the backend's own partial output
    np.testing.assert_array_equal(frames, [3, 4, 6])


def test_a_contiguous_run_inside_the_video_is_accepted_and_one_past_the_end_is_not(tmp_path):
    for frame in (1, 2, 3):
        _write(tmp_path, f"{frame:012d}_keypoints.json", [_keypoints(10, 10)])
    frames, keypoints = read_openpose(tmp_path, num_frames=4)
    np.testing.assert_array_equal(frames, [1, 2, 3])
    with pytest.raises(InvalidInput, match="000000000003_keypoints.json is frame 3, but the video has 3 frames"):
        read_openpose(tmp_path, num_frames=3)  # numbered from 1 instead of 0


def test_mixed_prefixes_old_format_and_confidence_overshoot(tmp_path):
    mixed = tmp_path / "mixed"
    _write(mixed, "a_000000000000_keypoints.json", [])
    _write(mixed, "b_000000000001_keypoints.json", [])
    with pytest.raises(InvalidInput, match="different name prefixes"):
        read_openpose(mixed)
    old = tmp_path / "old"
    _write(old, "a_000000000000_keypoints.json", [_keypoints(1, 1)], key="pose_keypoints")
    with pytest.raises(InvalidInput, match="before version 1.2"):
        read_openpose(old)
    over = tmp_path / "over"
    person = np.array(_keypoints(5, 5)).reshape(25, 3)
    person[0, 2] = 1.03
    _write(over, "a_000000000000_keypoints.json", [person.ravel().tolist(), [0.0] * 75])
    frames, keypoints = read_openpose(over)
    assert keypoints.shape == (1, 25, 3) and keypoints[0, 0, 2] == 1.0  # overshoot clipped, empty person dropped
    person[0, 2] = 1.5
    _write(over, "a_000000000000_keypoints.json", [person.ravel().tolist()])
    with pytest.raises(InvalidInput, match="confidences outside"):
        read_openpose(over)


def _cli(argv):
    parser = argparse.ArgumentParser(prog="mshot")
    groups = parser.add_subparsers()
    import_group = groups.add_parser("import").add_subparsers()
    add_import_commands(import_group)
    args = parser.parse_args(["import", *argv])
    return args.func(args)


def test_import_command_with_tracklets_matches_people_and_without_keeps_raw_detections(tmp_path, capsys):
    folder = tmp_path / "json"
    _write(folder, "v_000000000000_keypoints.json", [_keypoints(10, 10), _keypoints(40, 10)])
    _write(folder, "v_000000000001_keypoints.json", [_keypoints(42, 12)])
    rows = [(1, 0, True, (5, 5, 30, 40)), (2, 0, True, (35, 5, 60, 40)), (2, 1, True, (35, 5, 60, 40))]
    tracklets = write_tracklets(tmp_path / "tracklets.npz", rows, num_frames=2)
    assert _cli(["openpose", str(folder), "--out", str(tmp_path / "kp.npz"), "--tracklets", str(tracklets)]) == 0
    data = load_keypoints(tmp_path / "kp.npz")
    np.testing.assert_array_equal(data["det_person_id"], [1, 2, 2])
    np.testing.assert_allclose(data["keypoints_body25"][:, 0, 0], [10, 40, 42])
    assert str(data["source"]) == "openpose-import"
    assert "3 matched" in capsys.readouterr().out
    assert _cli(["openpose", str(folder), "--out", str(tmp_path / "raw.npz")]) == 0
    raw = load_keypoints(tmp_path / "raw.npz")
    assert raw["person_id"].shape == (0,) and (raw["det_person_id"] == -1).all() and len(raw["det_frame_index"]) == 3


def test_engine_imports_openpose_json_instead_of_running_a_backend(tmp_path):
    folder = tmp_path / "json"
    _write(folder, "v_000000000000_keypoints.json", [_keypoints(10, 10)])
    _write(folder, "v_000000000001_keypoints.json", [])
    video = write_video(tmp_path / "clip.mp4", frames=2)
    tracklets = write_tracklets(tmp_path / "tracklets.npz", [(7, 0, True, (5, 5, 30, 40))], num_frames=2)
    engine = KeypointsEngine(KeypointsSettings(backend="cpu"))
    out = engine.run({"video": video, "tracklets": tracklets, "openpose_json": folder}, KeypointsOptions(),
                     tmp_path, lambda fraction, message="": None)
    data = load_keypoints(out.outputs["keypoints"])
    assert str(data["source"]) == "openpose-import" and data["det_person_id"].tolist() == [7]
    assert out.summary["matched_rows"] == 1


def test_a_zip_entry_past_the_size_limit_is_refused_while_streaming_whatever_it_declares(tmp_path):
    import zipfile

    from services.keypoints.openpose_import import MAX_FILE_BYTES

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:  # valid JSON padded past the limit
        archive.writestr("v_000000000000_keypoints.json", " " * (MAX_FILE_BYTES + 1) + '{"people": []}')
    assert bomb.stat().st_size < 100_000
    with pytest.raises(InvalidInput, match="larger than"):
        read_openpose(bomb)


def test_json_nested_past_the_depth_limit_is_invalid_input_not_a_crash(tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    (folder / "v_000000000000_keypoints.json").write_text('{"people": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InvalidInput, match="nests JSON more than"):
        read_openpose(folder)


def test_a_frame_number_beyond_any_video_is_invalid_input_not_an_overflow(tmp_path):
    _write(tmp_path / "big", "v_1" + "0" * 21 + "_keypoints.json", [_keypoints(10, 10)])
    with pytest.raises(InvalidInput, match="frame number 1000000000000000000000, above"):
        read_openpose(tmp_path / "big")
