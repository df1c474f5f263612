"""The orchestrator under load and faults, over real gRPC servers with fake stage engines: busy stages are
queued for (fair, first come first served), running jobs are bounded, SubmitJob refuses only past its queue
limit, unreachable stages are retried for a window of minutes, failed jobs can run again, and a store outage
pauses jobs instead of killing them."""

from __future__ import annotations

import hashlib
import threading
import time

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import json_format
from test_orchestrator import Cluster

from mshot.cli.client import upload_video, watch
from mshot.config import OrchestratorConfig, ServerConfig
from mshot.errors import FailedPrecondition, InvalidInput, Unavailable
from mshot.store.local import LocalStore
from mshot.v1 import pipeline_pb2

SUCCEEDED = pipeline_pb2.JOB_STATE_SUCCEEDED


def _videos(tmp_path, count: int):
    """`count` different small videos."""
    paths = []
    for k in range(count):
        path = tmp_path / f"clip{k}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
        for i in range(4):
            writer.write(np.full((48, 64, 3), (k * 37 + i * 5) % 255, np.uint8))
        writer.release()
        paths.append(path)
    return paths


def _submit_all(cluster, paths) -> list[str]:
    refs = [upload_video(cluster.stub, path) for path in paths]
    return [cluster.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=ref)).job_id for ref in refs]


def _wait_all(cluster, job_ids):
    return [watch(cluster.stub, job_id, show_progress=False) for job_id in job_ids]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def video(tmp_path):
    return _videos(tmp_path, 1)[0]


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    c.close()


@pytest.fixture
def one_slot(tmp_path):
    c = Cluster(tmp_path, stage_config=ServerConfig(port=0, max_concurrent_jobs=1))
    c.engines["tracking"].step_s = 0.1
    yield c
    c.close()


def test_more_jobs_than_stage_slots_all_succeed_served_in_arrival_order(one_slot, tmp_path):
    paths = _videos(tmp_path, 5)
    jobs = _wait_all(one_slot, _submit_all(one_slot, paths))
    assert [job.state for job in jobs] == [SUCCEEDED] * 5
    assert one_slot.engines["tracking"].videos == [_sha(p) for p in paths]  # first come, first served
    assert one_slot.engines["tracking"].calls == 5  # refusals are not runs
    waits = [job.stages[0].queued_s for job in jobs]
    assert waits[-1] > 0.5 and max(waits) == waits[-1]  # the last one waited for four runs of 0.3 s
    assert all(job.stages[0].attempts == 1 for job in jobs)


def test_running_jobs_are_bounded_and_the_rest_wait_queued(tmp_path):
    c = Cluster(tmp_path, max_running_jobs=1)
    try:
        c.engines["tracking"].steps, c.engines["tracking"].step_s = 10, 0.05
        first, second = _submit_all(c, _videos(tmp_path, 2))
        assert c.engines["tracking"].started.wait(10)
        assert c.stub.GetJob(pipeline_pb2.JobId(job_id=second)).state == pipeline_pb2.JOB_STATE_QUEUED
        jobs = _wait_all(c, [first, second])
        assert [job.state for job in jobs] == [SUCCEEDED] * 2
        assert jobs[1].queued_s > 0.3 > jobs[0].queued_s
    finally:
        c.close()


def test_a_job_cancelled_while_it_waits_to_run_never_runs(tmp_path):
    c = Cluster(tmp_path, max_running_jobs=1)
    try:
        c.engines["tracking"].steps, c.engines["tracking"].step_s = 10, 0.05
        first, second = _submit_all(c, _videos(tmp_path, 2))
        c.stub.CancelJob(pipeline_pb2.JobId(job_id=second))
        jobs = _wait_all(c, [first, second])
        assert [job.state for job in jobs] == [SUCCEEDED, pipeline_pb2.JOB_STATE_CANCELLED]
        assert c.engines["tracking"].calls == 1
    finally:
        c.close()


def test_submit_is_resource_exhausted_only_past_the_queue_limit(tmp_path):
    c = Cluster(tmp_path, max_running_jobs=1, max_queued_jobs=1)
    try:
        c.engines["tracking"].steps, c.engines["tracking"].step_s = 40, 0.05
        paths = _videos(tmp_path, 3)
        running, queued = _submit_all(c, paths[:2])
        ref = upload_video(c.stub, paths[2])
        with pytest.raises(grpc.RpcError) as info:
            c.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=ref))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "MSHOT_MAX_QUEUED_JOBS" in info.value.details()
        c.engines["tracking"].steps = 2
        assert [job.state for job in _wait_all(c, [running, queued])] == [SUCCEEDED] * 2
    finally:
        c.close()


def test_retry_window_defaults_to_minutes_and_bad_queue_settings_name_their_variable():
    assert OrchestratorConfig.from_env({}).retry_window_s >= 300  # a pod restart fits
    config = OrchestratorConfig.from_env({"MSHOT_STAGE_RETRY_WINDOW_S": "90", "MSHOT_MAX_RUNNING_JOBS": "3"})
    assert (config.retry_window_s, config.max_running_jobs) == (90.0, 3)
    for name, value in (("MSHOT_STAGE_RETRY_WINDOW_S", "nan"), ("MSHOT_STAGE_BACKOFF_S", "-1"),
                        ("MSHOT_MAX_RUNNING_JOBS", "0"), ("MSHOT_STAGE_QUEUE_MAX_WAIT_S", "soon")):
        with pytest.raises(FailedPrecondition, match=name):
            OrchestratorConfig.from_env({name: value})


def test_unreachable_stage_is_retried_for_the_window_then_fails_naming_it(tmp_path, video):
    c = Cluster(tmp_path, retry_window_s=30.0)
    try:
        c.engines["keypoints"].failures = [Unavailable("restarting")] * 8  # about 1.5 s of backoff at 0.05..0.2 s
        job = watch(c.stub, c.submit(video).job_id, show_progress=False)
        assert job.state == SUCCEEDED and job.stages[1].attempts == 9
    finally:
        c.close()
    c = Cluster(tmp_path / "short", retry_window_s=0.3)
    try:
        c.engines["keypoints"].failures = [Unavailable("restarting")] * 50
        job = watch(c.stub, c.submit(video).job_id, show_progress=False)
        assert job.state == pipeline_pb2.JOB_STATE_FAILED
        assert "MSHOT_STAGE_RETRY_WINDOW_S" in job.stages[1].error and "restarting" in job.error
    finally:
        c.close()


def test_a_busy_stage_past_the_maximum_wait_fails_the_job_with_resource_exhausted(tmp_path):
    c = Cluster(tmp_path, stage_config=ServerConfig(port=0, max_concurrent_jobs=1), stage_queue_max_wait_s=0.5)
    try:
        c.engines["tracking"].steps, c.engines["tracking"].step_s = 40, 0.05
        first, second = _submit_all(c, _videos(tmp_path, 2))
        jobs = _wait_all(c, [first, second])
        assert jobs[0].state == SUCCEEDED and jobs[1].state == pipeline_pb2.JOB_STATE_FAILED
        assert jobs[1].stages[0].error.startswith("RESOURCE_EXHAUSTED")
        assert "MSHOT_STAGE_QUEUE_MAX_WAIT_S" in jobs[1].error
    finally:
        c.close()


def test_a_failed_job_submitted_again_runs_as_a_new_attempt_without_redoing_done_stages(cluster, video):
    cluster.engines["multishot"].failures = [InvalidInput("keypoints file x.npz is bad")]
    job = watch(cluster.stub, cluster.submit(video).job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_FAILED and job.attempt == 1
    again = cluster.submit(video)
    assert again.job_id == job.job_id and again.attempt == 2
    job = watch(cluster.stub, job.job_id, show_progress=False)
    assert job.state == SUCCEEDED and job.error == ""
    assert [cluster.engines[s].calls for s in ("tracking", "keypoints", "multishot", "dataset")] == [1, 1, 2, 1]
    assert cluster.submit(video).attempt == 2  # a succeeded job is found again, not re-run


def _stored_when_ended(store, job_id: str, timeout_s: float = 10.0) -> pipeline_pb2.Job:
    """The job's stored record once it shows an ended job (the writer stores shortly after the change)."""
    deadline = time.monotonic() + timeout_s
    while True:
        stored = json_format.Parse(store.get_document(f"jobs/{job_id}.json").decode(), pipeline_pb2.Job())
        if stored.state == SUCCEEDED or time.monotonic() > deadline:
            return stored
        time.sleep(0.05)


class FlakyStore(LocalStore):
    """A local store whose job-record writes fail (Unavailable) while `down` is set, or block while `stall` is
    set: stands in for an S3 outage or a slow S3."""

    def __init__(self, root):
        super().__init__(root)
        self.down = threading.Event()
        self.stall = threading.Event()
        self.refused = 0

    def put_document(self, key, data):
        if key.startswith("jobs/"):
            while self.stall.is_set():
                time.sleep(0.01)
            if self.down.is_set():
                self.refused += 1
                raise Unavailable(f"artifact store unreachable while writing document {key}")
        return super().put_document(key, data)


@pytest.fixture
def on_flaky_store(tmp_path):
    store = FlakyStore(tmp_path / "store")
    c = Cluster(tmp_path, store=store)
    yield c, store
    store.down.clear()
    store.stall.clear()
    c.close()


def test_a_store_outage_pauses_the_job_which_then_completes_with_its_record_stored(on_flaky_store, video):
    c, store = on_flaky_store
    c.engines["keypoints"].steps, c.engines["keypoints"].step_s = 20, 0.05
    job_id = c.submit(video).job_id
    assert c.engines["keypoints"].started.wait(10)
    store.down.set()
    time.sleep(2.0)
    paused = c.stub.GetJob(pipeline_pb2.JobId(job_id=job_id), timeout=2)  # served from memory meanwhile
    assert paused.state == pipeline_pb2.JOB_STATE_RUNNING and store.refused > 0
    store.down.clear()
    job = watch(c.stub, job_id, show_progress=False)
    assert job.state == SUCCEEDED
    assert _stored_when_ended(store, job_id) == job  # the store holds the final state
    assert c.engines["tracking"].calls == 1 and c.engines["keypoints"].calls == 1


def test_a_slow_store_write_does_not_stall_job_queries(on_flaky_store, video):
    c, store = on_flaky_store
    c.engines["tracking"].steps, c.engines["tracking"].step_s = 20, 0.05
    job_id = c.submit(video).job_id
    store.stall.set()
    started = time.monotonic()
    for _ in range(5):
        c.stub.GetJob(pipeline_pb2.JobId(job_id=job_id), timeout=2)
        assert next(iter(c.stub.WatchJob(pipeline_pb2.JobId(job_id=job_id), timeout=2))).job_id == job_id
    assert time.monotonic() - started < 2.0
    store.stall.clear()
    assert watch(c.stub, job_id, show_progress=False).state == SUCCEEDED


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(port: int) -> dict[str, float]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {line.split(" ")[0]: float(line.split(" ")[1]) for line in text.splitlines() if not line.startswith("#")}


def test_metrics_expose_the_work_queued_for_a_busy_stage_for_autoscaling(tmp_path):
    port = _free_port()
    c = Cluster(tmp_path, stage_config=ServerConfig(port=0, max_concurrent_jobs=1), metrics_port=port)
    try:
        c.engines["tracking"].steps, c.engines["tracking"].step_s = 10, 0.05
        job_ids = _submit_all(c, _videos(tmp_path, 3))
        deadline, seen = time.monotonic() + 10, {}
        while time.monotonic() < deadline and seen.get('mshot_stage_queue_depth{stage="tracking"}', 0) < 2:
            seen = _scrape(port)
        assert seen['mshot_stage_queue_depth{stage="tracking"}'] == 2
        assert seen['mshot_stage_calls_in_flight{stage="tracking"}'] == 1
        assert seen['mshot_stage_demand{stage="tracking"}'] == 3 and seen["mshot_jobs_running"] == 3
        assert [job.state for job in _wait_all(c, job_ids)] == [SUCCEEDED] * 3
        deadline = time.monotonic() + 10
        while _scrape(port)["mshot_jobs_running"] and time.monotonic() < deadline:  # their records being stored
            time.sleep(0.05)
        after = _scrape(port)
        assert after['mshot_stage_demand{stage="tracking"}'] == 0 and after["mshot_jobs_running"] == 0
    finally:
        c.close()
