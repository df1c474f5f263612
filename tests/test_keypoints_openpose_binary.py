"""The `openpose` backend runs the OpenPose binary over exactly the frames the tracking stage observed people in.
OpenPose itself cannot run here: a small executable script stands in for it (writing `<image>_keypoints.json`
as OpenPose does), so the real process handling, frame extraction, progress and error mapping are exercised."""

from __future__ import annotations

import json
import os
import stat
import sys
import time

import numpy as np
import pytest

from mshot.errors import Cancelled, FailedPrecondition, ResourceExhausted
from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings
from tests.keypoints_fixtures import write_tracklets, write_video

FAKE_OPENPOSE = """#!{python}
import json, os, pathlib, sys, time
args = sys.argv[1:]
value = lambda flag: args[args.index(flag) + 1]
pathlib.Path(os.environ["FAKE_OPENPOSE_ARGV"]).write_text(json.dumps(args))
pathlib.Path(os.environ["FAKE_OPENPOSE_ARGV"] + ".pid").write_text(str(os.getpid()))
mode = os.environ.get("FAKE_OPENPOSE_MODE", "ok")
if mode == "oom":
    print("Check failed: error == cudaSuccess (2 vs. 0)  out of memory", flush=True)
    sys.exit(1)
if mode == "crash":
    print("Error: Prototxt file not found: models/pose/body_25/pose_deploy.prototxt", flush=True)
    sys.exit(1)
images = sorted(pathlib.Path(value("--image_dir")).glob("*.png"))
out = pathlib.Path(value("--write_json"))
for n, image in enumerate(images):
    if mode == "partial" and n == 1:
        break
    if mode == "slow":
        time.sleep(0.5)
    frame = int(image.stem)
    person = [0.0] * 75
    for k in range(25):
        person[3 * k:3 * k + 3] = [20.0 + frame, 10.0 + k, 0.8]
    doc = {{"version": 1.3, "people": [{{"person_id": [-1], "pose_keypoints_2d": person}}]}}
    (out / (image.stem + "_keypoints.json")).write_text(json.dumps(doc))
"""


@pytest.fixture
def scene(tmp_path):
    video = write_video(tmp_path / "clip.mp4", frames=6)
    rows = [(0, 1, True, (10, 5, 50, 40)), (0, 2, True, (10, 5, 50, 40)), (0, 3, False, (10, 5, 50, 40)),
            (0, 4, True, (10, 5, 50, 40))]
    tracklets = write_tracklets(tmp_path / "tracklets.npz", rows, num_frames=6)
    binary = tmp_path / "openpose.bin"
    binary.write_text(FAKE_OPENPOSE.format(python=sys.executable))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return {"video": video, "tracklets": tracklets, "binary": binary, "argv": tmp_path / "argv.json"}


def _engine(scene, monkeypatch, mode="ok"):
    monkeypatch.setenv("FAKE_OPENPOSE_ARGV", str(scene["argv"]))
    monkeypatch.setenv("FAKE_OPENPOSE_MODE", mode)
    return KeypointsEngine(KeypointsSettings(openpose_bin=str(scene["binary"])))


def _run(engine, scene, workdir, progress=lambda fraction, message="": None):
    workdir.mkdir(exist_ok=True)
    return engine.run({"video": scene["video"], "tracklets": scene["tracklets"]}, KeypointsOptions(), workdir,
                      progress)


def test_binary_runs_on_the_observed_frames_with_body25_json_flags_and_results_are_matched(scene, tmp_path,
                                                                                          monkeypatch):
    engine = _engine(scene, monkeypatch)
    assert engine.default_backend == "openpose"  # auto picks the binary when one is configured
    reports = []
    out = _run(engine, scene, tmp_path / "work", lambda fraction, message="": reports.append((fraction, message)))
    argv = json.loads(scene["argv"].read_text())
    for flag, value in (("--model_pose", "BODY_25"), ("--display", "0"), ("--render_pose", "0")):
        assert argv[argv.index(flag) + 1] == value
    data = np.load(out.outputs["keypoints"])
    assert str(data["source"]) == "openpose"
    np.testing.assert_array_equal(data["det_frame_index"], [1, 2, 4])  # observed frames only, same indices
    np.testing.assert_allclose(data["det_keypoints_body25"][:, 0, 0], [21, 22, 24])  # frame number -> x
    np.testing.assert_array_equal(data["det_person_id"], [0, 0, 0])
    assert (data["match_score"] > 0).tolist() == [True, True, False, True]  # the coasting row gets nothing
    fractions = [f for f, _ in reports]
    assert np.all(np.diff(fractions) > -1e-9) and fractions[-1] == 1.0
    assert any("OpenPose: 3/3 frames" in m for _, m in reports)
    assert not (tmp_path / "work" / "openpose_frames").exists()  # extracted images are removed


@pytest.mark.parametrize("mode, error, message", [
    ("oom", ResourceExhausted, "out of memory"),
    ("crash", FailedPrecondition, "Prototxt file not found"),
    ("partial", FailedPrecondition, "wrote 1 JSON files for 3 frames"),
])
def test_binary_failures_become_clear_stage_errors(scene, tmp_path, monkeypatch, mode, error, message):
    engine = _engine(scene, monkeypatch, mode)
    with pytest.raises(error, match=message):
        _run(engine, scene, tmp_path / "work")
    assert not (tmp_path / "work" / "keypoints.npz").exists()


def test_missing_binary_or_model_folder_fails_at_start(tmp_path):
    with pytest.raises(FailedPrecondition, match="not found or not executable"):
        KeypointsEngine(KeypointsSettings(backend="openpose", openpose_bin=str(tmp_path / "nope.bin")))
    with pytest.raises(FailedPrecondition, match="MSHOT_OPENPOSE_BIN"):
        KeypointsEngine(KeypointsSettings(backend="openpose"))
    binary = tmp_path / "openpose.bin"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    with pytest.raises(FailedPrecondition, match="model folder"):
        KeypointsEngine(KeypointsSettings(backend="openpose", openpose_bin=str(binary),
                                          openpose_model_dir=str(tmp_path / "models")))


def test_cancelling_terminates_the_openpose_process(scene, tmp_path, monkeypatch):
    engine = _engine(scene, monkeypatch, "slow")
    pid_file = scene["argv"].parent / "argv.json.pid"

    def progress(fraction, message=""):
        if message.startswith("OpenPose:") and pid_file.exists():
            raise Cancelled("job cancelled")

    with pytest.raises(Cancelled):
        _run(engine, scene, tmp_path / "work", progress)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"fake OpenPose process {pid} still running after cancel")
