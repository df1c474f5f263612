"""Stage engines under concurrent jobs: each run gets its own non-thread-safe model (MediaPipe, HOG) and reports
its own summary. The tracking and keypoints servers are started for real on loopback (CPU backends) and given
two different jobs at once; a shared MediaPipe graph segfaulted the server, a shared `last_summary` mixed up
the jobs' summaries."""

from __future__ import annotations

import json
import threading
import time
from concurrent import futures
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from mshot.artifacts.tracklets import load_tracklets, tracklet_counts
from mshot.config import ServerConfig
from mshot.engine_run import ModelPool
from mshot.rpc.convert import ref_from_proto, ref_to_proto
from mshot.store import ArtifactRef
from mshot.store.local import LocalStore
from mshot.v1 import keypoints_pb2, keypoints_pb2_grpc, tracking_pb2, tracking_pb2_grpc

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "multishot_sample.mp4"


def test_model_pool_gives_concurrent_borrowers_distinct_instances_and_reuses_returned_ones():
    built = []
    pool = ModelPool(lambda: built.append(object()) or built[-1])
    with pool.borrow() as first, pool.borrow() as second:
        assert first is not second
    with pool.borrow() as again:
        assert again in (first, second)
    assert pool.size == 2


def test_model_pool_at_its_cap_makes_the_next_borrower_wait_for_a_returned_instance():
    pool = ModelPool(object, max_size=1)
    order = []
    with pool.borrow() as held:
        waiter = threading.Thread(target=lambda: pool.borrow().__enter__() is held and order.append("got it"))
        waiter.start()
        time.sleep(0.2)
        order.append("returned")
    waiter.join(5)
    assert order == ["returned", "got it"] and pool.size == 1


def test_hog_on_frames_smaller_than_its_window_finds_nobody_instead_of_crashing():
    from services.tracking.cpu.detector import PeopleDetector

    detector = PeopleDetector(segmentation_proposals=False)
    for height, width in ((64, 64), (40, 30), (16, 16), (8, 200)):
        boxes, scores = detector.hog_candidates(np.random.default_rng(0).integers(0, 255, (height, width, 3),
                                                                                  dtype=np.uint8))
        assert boxes.shape == (0, 4) and scores.shape == (0,)


def _clip(path: Path, start: int, frames: int) -> Path:
    """`frames` frames of the sample video from `start`."""
    reader = cv2.VideoCapture(str(SAMPLE))
    reader.set(cv2.CAP_PROP_POS_FRAMES, start)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for _ in range(frames):
        ok, frame = reader.read()
        assert ok, f"sample video missing or short: {SAMPLE} (make sample)"
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return [_clip(folder / "a.avi", 0, 10), _clip(folder / "b.avi", 60, 14)]


@pytest.fixture(scope="module")
def stage_env(tmp_path_factory):
    from mshot.body.generate import write_generated_smpl_model

    model = write_generated_smpl_model(tmp_path_factory.mktemp("model") / "model.pkl")
    patch = pytest.MonkeyPatch()
    for name, value in (("MSHOT_BODY_MODEL", str(model)), ("MSHOT_TRACKING_BACKEND", "cpu"),
                        ("MSHOT_KEYPOINTS_BACKEND", "cpu"), ("MSHOT_DEVICE", "cpu")):
        patch.setenv(name, value)
    yield LocalStore(tmp_path_factory.mktemp("store"))
    patch.undo()


def _serve(stage: str, store):
    from mshot.rpc.bootstrap import start_stage_server
    from mshot_main import build_registry

    server = start_stage_server(build_registry().stage(stage), ServerConfig(port=0, max_concurrent_jobs=2), store)
    return server, grpc.insecure_channel(f"127.0.0.1:{server.port}")


def _result(call):
    events = list(call)
    return events[-1].result


def _at_once(calls):
    with futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: _result(call()), calls))


def _file(store, ref, path: Path) -> Path:
    return store.get_file(ArtifactRef(ref.key, ref.sha256, ref.media_type, ref.size_bytes), path)


def test_two_different_jobs_at_once_on_one_tracking_and_one_keypoints_server_each_get_their_own_results(
        stage_env, clips, tmp_path):
    store = stage_env
    videos = [ref_to_proto(store.put_file(clip, "video/x-msvideo")) for clip in clips]
    tracking, channel = _serve("tracking", store)
    try:
        stub = tracking_pb2_grpc.TrackingStub(channel)
        results = _at_once([lambda v=v, i=i: stub.Track(tracking_pb2.TrackRequest(job_id=f"job-{i}", video=v))
                            for i, v in enumerate(videos)])
    finally:
        tracking.server.stop(0)
    tracklets = [r.artifacts["tracklets"] for r in results]
    for i, (result, ref) in enumerate(zip(results, tracklets, strict=True)):
        table = load_tracklets(_file(store, ref, tmp_path / f"t{i}.npz"))
        assert int(table["num_frames"]) == (10, 14)[i]  # each job's output is made from its own video
        summary = json.loads(result.summary_json)
        assert {k: summary[k] for k in ("people", "rows", "shots")} == tracklet_counts(table) and summary["rows"] > 0
    keypoints, channel = _serve("keypoints", store)
    try:
        stub = keypoints_pb2_grpc.KeypointsStub(channel)
        results = _at_once([lambda v=v, t=t, i=i: stub.Detect(keypoints_pb2.KeypointsRequest(
            job_id=f"job-{i}", video=v, tracklets=t)) for i, (v, t) in enumerate(zip(videos, tracklets, strict=True))])
    finally:
        keypoints.server.stop(0)
    for i, result in enumerate(results):
        with np.load(_file(store, result.artifacts["keypoints"], tmp_path / f"k{i}.npz")) as data:
            rows, matched = len(data["person_id"]), int((data["match_score"] > 0).sum())
            assert str(data["tracklets_sha256"]) == ref_from_proto(tracklets[i], "tracklets").sha256
        summary = json.loads(result.summary_json)
        assert summary["matched_rows"] == matched and summary["observed_rows"] <= rows
