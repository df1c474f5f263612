"""A focal length the user knows (TrackingOptions.focal_px, `--focal-px`): the accepted range against hand-computed
bounds, the option carried from `mshot submit` through the orchestrator and the real tracking adapter to the
engine (loopback servers, fake engines), a different job id for a different focal, the tracking engine's rows
and initial depths at the given focal (CPU tracker and PHALP import), and the summaries saying which focal the
fit assumed. Bad values at each door: tests/test_bad_inputs.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import joblib
import numpy as np
import pytest
from phalp_fixtures import phalp_results
from test_bad_inputs import World

from mshot.artifacts.tracklets import focal_note
from mshot.errors import InvalidInput
from mshot.geometry.camera import check_given_focal
from mshot.v1 import pipeline_pb2, tracking_pb2
from mshot_main import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "multishot_sample.mp4"


def test_a_given_focal_must_be_finite_positive_and_within_a_tenth_to_100_times_the_larger_side():
    check_given_focal(0.0, "f")  # not given
    check_given_focal(1e9, "f")  # without the image size: only finite and > 0
    for value in (64.0, 640.0, 64000.0):  # 640 x 480: 0.1 x 640 to 100 x 640
        check_given_focal(value, "f", 480, 640)
    for value in (-1.0, math.nan, math.inf):
        with pytest.raises(InvalidInput, match=rf"^f={value} is not a focal length"):
            check_given_focal(value, "f")
    for value in (63.9, 64001.0):
        with pytest.raises(InvalidInput, match=r"out of range for 640x480 frames: expected 64 to 64000 px"):
            check_given_focal(value, "f", 480, 640)


def test_the_focal_note_says_given_assumed_or_not_recorded():
    rows = {"focal_px": np.full(3, 600.0, np.float32), "focal_source": np.array("given")}
    assert focal_note(rows) == {"focal_px": [600.0], "focal_source": "given",
                                "text": "focal length 600 px (given)"}
    assumed = focal_note({"focal_px": np.full(2, 640.0), "focal_source": np.array("assumed")})
    assert assumed["text"] == "focal length 640 px (assumed: max(H, W), none given)"
    assert focal_note({"focal_px": np.array([640.0])})["focal_source"] == "not recorded"


def test_the_job_id_differs_when_only_the_focal_differs_and_not_given_is_the_old_options():
    from orchestrator.jobs import job_id_for

    ref = type("Ref", (), {"sha256": "0" * 64})()  # the video: only its digest enters the key

    def job(focal):
        return job_id_for("", ref, pipeline_pb2.JobOptions(tracking=tracking_pb2.TrackingOptions(focal_px=focal)))

    assert job(600.0) != job(620.0) != job(0.0)
    # 0 is proto3's default, never serialized: a job without a focal has the id it had before the field existed
    assert tracking_pb2.TrackingOptions(focal_px=0.0, max_people=2).SerializeToString() == \
        tracking_pb2.TrackingOptions(max_people=2).SerializeToString() != b""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("focal"))
    yield w
    w.close()


def _engine_options(w: World, job_id: str) -> str:
    """What the tracking engine (a fake that records its options) was given for the job."""
    job = w.stub.GetJob(pipeline_pb2.JobId(job_id=job_id))
    ref = job.stages[0].result.artifacts["tracklets"]
    return json.loads((w.store.root / ref.key).read_text())["options"]


def test_mshot_submit_focal_px_reaches_the_tracking_engine_and_its_absence_is_zero(world, capsys):
    assert main(["submit", str(world.video_path), "--addr", world.addr, "--focal-px", "600", "--watch"]) == 0
    given = json.loads(capsys.readouterr().out.split("\n", 1)[1])["job_id"]
    assert "focal_px=600.0" in _engine_options(world, given)
    assert "focal_px=0.0" in _engine_options(world, world.job.job_id)  # submitted without one


def test_the_tracking_engine_writes_the_given_focal_and_the_depths_it_implies_on_the_cpu_and_phalp_paths(tmp_path):
    from mshot.artifacts.tracklets import load_tracklets
    from mshot.body.generate import write_generated_smpl_model
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    clip = tmp_path / "clip.avi"
    reader = cv2.VideoCapture(str(SAMPLE))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for _ in range(6):  # the fewest a track is kept from (CpuTrackerOptions.min_track_frames 5)
        ok, frame = reader.read()
        assert ok, f"sample video missing or short: {SAMPLE} (make sample)"
        writer.write(frame)
    writer.release()
    engine = TrackingEngine(TrackingSettings(backend="cpu", body_model=str(write_generated_smpl_model(
        tmp_path / "model.pkl"))))
    runs = {}
    for focal in (0.0, 960.0):
        out = engine.run({"video": clip}, TrackingOptions(focal_px=focal), tmp_path / str(focal), lambda f, m="": None)
        runs[focal] = load_tracklets(out.outputs["tracklets"])
    assumed, given = runs[0.0], runs[960.0]
    assert np.allclose(assumed["focal_px"], 640.0) and str(assumed["focal_source"]) == "assumed"
    assert np.allclose(given["focal_px"], 960.0) and str(given["focal_source"]) == "given"
    np.testing.assert_array_equal(given["person_id"], assumed["person_id"])
    ratio = given["transl"][:, 2] / assumed["transl"][:, 2]  # same pixels, 1.5 x the focal: 1.5 x the depth
    np.testing.assert_allclose(np.median(ratio), 1.5, rtol=0.05)
    with pytest.raises(InvalidInput, match=r"options.focal_px=50 px is out of range for 640x360 frames"):
        engine.run({"video": clip}, TrackingOptions(focal_px=50.0), tmp_path / "bad", lambda f, m="": None)
    assert not (tmp_path / "bad" / "tracklets.npz").exists()
    # the same engine importing PHALP results for the clip: PHALP's 5000 * 640 / 256 = 12500 px replaced by 960 px
    results, _ = phalp_results("master", {1: [(f, (200, 60, 80, 240), 0) for f in range(6)]}, 360, 640, 6)
    joblib.dump(results, tmp_path / "phalp.pkl")
    out = engine.run({"video": clip, "phalp_results": tmp_path / "phalp.pkl"}, TrackingOptions(focal_px=960.0),
                     tmp_path / "phalp", lambda f, m="": None)
    imported = load_tracklets(out.outputs["tracklets"])
    assert np.allclose(imported["focal_px"], 960.0) and str(imported["focal_source"]) == "given"
    camera_depth = np.array([r["camera"][0][2] for r in sorted(results.values(), key=lambda r: r["time"])])
    np.testing.assert_allclose(imported["transl"][:, 2], camera_depth * 960.0 / 12500.0, rtol=1e-5)
