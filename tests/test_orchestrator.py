"""The orchestrator over real gRPC servers and a real store, with fake stage engines: ordering,
idempotency, retries, failures, cancellation, restart without redoing stages, uploads and bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time

import cv2
import grpc
import numpy as np
import pytest
from fake_stages import fast_retry_config, start_fake_stage

from mshot.cli.client import upload_video, watch
from mshot.config import STAGES, OrchestratorConfig, ServerConfig
from mshot.errors import InvalidInput, Unavailable
from mshot.store.local import LocalStore
from mshot.v1 import pipeline_pb2, pipeline_pb2_grpc
from orchestrator.server import start_orchestrator


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(12):
        frame = np.full((48, 64, 3), i * 20, np.uint8)
        writer.write(frame)
    writer.release()
    return path


class Cluster:
    def __init__(self, tmp_path, config: OrchestratorConfig | None = None, store=None,
                 stage_config: ServerConfig | None = None, **orchestrator_options):
        self.tmp_path = tmp_path
        self.store = store or LocalStore(tmp_path / "store")
        self.stages, self.engines = {}, {}
        for name in STAGES:
            self.stages[name], self.engines[name] = start_fake_stage(name, self.store, stage_config)
        self.addresses = {name: f"127.0.0.1:{server.port}" for name, server in self.stages.items()}
        self.orchestrator = None
        self.start_orchestrator(config or dataclasses.replace(fast_retry_config(self.addresses),
                                                              **orchestrator_options))

    def start_orchestrator(self, config=None):
        self.orchestrator = start_orchestrator(ServerConfig(port=0), config or fast_retry_config(self.addresses),
                                               self.store, self.tmp_path / "scratch")
        self.stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(f"127.0.0.1:{self.orchestrator.port}"))

    def submit(self, video_path, request_id=""):
        ref = upload_video(self.stub, video_path)
        return self.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(request_id=request_id, video=ref))

    def close(self):
        for server in [*self.stages.values(), self.orchestrator]:
            server.server.stop(0)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    c.close()


def test_job_runs_every_stage_in_order_passing_artifacts(cluster, video):
    job = watch(cluster.stub, cluster.submit(video).job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED
    assert [s.stage for s in job.stages] == list(STAGES)
    fits_ref = job.stages[2].result.artifacts["fits"]
    from mshot.store import ArtifactRef

    fits = json.loads(cluster.store.get_file(ArtifactRef(fits_ref.key, fits_ref.sha256, fits_ref.media_type,
                                                          fits_ref.size_bytes), cluster.tmp_path / "f").read_text())
    assert fits["inputs"] == ["keypoints", "tracklets"]
    assert all(engine.calls == 1 for engine in cluster.engines.values())
    assert cluster.store.get_document(f"jobs/{job.job_id}.json") is not None


def test_submitting_twice_gives_the_same_job_and_runs_nothing_again(cluster, video):
    first = cluster.submit(video, request_id="req-1")
    watch(cluster.stub, first.job_id, show_progress=False)
    again = cluster.submit(video, request_id="req-1")
    assert again.job_id == first.job_id
    same_inputs = cluster.submit(video)
    assert watch(cluster.stub, same_inputs.job_id, show_progress=False).state == pipeline_pb2.JOB_STATE_SUCCEEDED
    assert cluster.submit(video).job_id == same_inputs.job_id
    assert cluster.engines["tracking"].calls == 2  # one per distinct job, none for the repeats


def test_unavailable_stage_is_retried_with_backoff(cluster, video):
    cluster.engines["keypoints"].failures = [Unavailable("GPU busy")]
    job = watch(cluster.stub, cluster.submit(video).job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED
    assert job.stages[1].attempts == 2
    assert cluster.engines["tracking"].calls == 1


def test_a_stage_stream_that_ends_without_a_result_is_retried_as_unavailable_then_fails_the_job(
        tmp_path, video, monkeypatch):
    import fake_stages

    monkeypatch.setattr(fake_stages.FakeServicer, "Detect", lambda self, request, context: iter(()))
    cluster = Cluster(tmp_path)  # the servers take the servicer's methods when they start
    try:
        job = watch(cluster.stub, cluster.submit(video).job_id, show_progress=False)
    finally:
        cluster.close()
    assert job.state == pipeline_pb2.JOB_STATE_FAILED
    assert job.stages[1].error.startswith("UNAVAILABLE: keypoints stage closed its stream without a result")
    assert "(still failing after" in job.stages[1].error, "retried for the window (0.5 s here), then failed"
    assert "keypoints stage: keypoints stage closed its stream without a result" in job.error


def test_invalid_input_in_a_stage_fails_the_job_with_its_status_and_message(cluster, video):
    cluster.engines["multishot"].failures = [InvalidInput("tracklets file x.npz lacks key 'betas'")]
    job = watch(cluster.stub, cluster.submit(video).job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_FAILED
    assert "lacks key 'betas'" in job.error
    assert job.stages[2].error.startswith("INVALID_ARGUMENT")
    assert job.stages[3].state == pipeline_pb2.STAGE_STATE_PENDING
    assert cluster.engines["multishot"].calls == 1


def test_cancel_stops_the_running_stage(cluster, video):
    engine = cluster.engines["tracking"]
    engine.steps, engine.step_s = 200, 0.05
    job = cluster.submit(video)
    assert engine.started.wait(10)
    cluster.stub.CancelJob(pipeline_pb2.JobId(job_id=job.job_id))
    job = watch(cluster.stub, job.job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_CANCELLED
    deadline = time.monotonic() + 5
    while engine.saw_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert type(engine.saw_error).__name__ == "Cancelled"
    assert cluster.engines["keypoints"].calls == 0


def test_restarted_orchestrator_resumes_without_redoing_finished_stages(cluster, video):
    cluster.engines["keypoints"].steps, cluster.engines["keypoints"].step_s = 100, 0.05
    job = cluster.submit(video)
    assert cluster.engines["keypoints"].started.wait(10)
    cluster.orchestrator.server.stop(0)  # the orchestrator dies mid-job
    cluster.engines["keypoints"].steps = 3
    cluster.start_orchestrator()
    job = watch(cluster.stub, job.job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED
    assert cluster.engines["tracking"].calls == 1
    assert cluster.engines["keypoints"].calls >= 2


def test_unknown_job_is_not_found(cluster):
    with pytest.raises(grpc.RpcError) as info:
        cluster.stub.GetJob(pipeline_pb2.JobId(job_id="job-nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def _chunks(data: bytes, sha: str, size: int):
    yield pipeline_pb2.UploadChunk(header=pipeline_pb2.UploadHeader(filename="v.avi", size_bytes=size, sha256=sha))
    yield pipeline_pb2.UploadChunk(data=data)


def test_truncated_upload_and_checksum_mismatch_are_invalid_argument(cluster, video):
    data = video.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    for chunks, message in ((_chunks(data[:100], digest, len(data)), "truncated"),
                            (_chunks(data, "0" * 64, len(data)), "checksum mismatch")):
        with pytest.raises(grpc.RpcError) as info:
            cluster.stub.UploadVideo(chunks)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in info.value.details()


def test_a_file_that_is_not_a_video_is_refused_at_upload(cluster, tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(InvalidInput):
        upload_video(cluster.stub, fake)
    # the message names the file the user sent, not a server-side temporary path
    with pytest.raises(InvalidInput, match="notes.mp4"):
        upload_video(cluster.stub, fake)


def test_upload_over_the_limit_is_resource_exhausted(tmp_path, video):
    c = Cluster(tmp_path, OrchestratorConfig(max_upload_bytes=100))
    try:
        data = video.read_bytes()
        with pytest.raises(grpc.RpcError) as info:
            c.stub.UploadVideo(_chunks(data, hashlib.sha256(data).hexdigest(), len(data)))
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        c.close()


def test_submit_with_a_reference_to_a_missing_video_is_not_found(cluster):
    ref = pipeline_pb2.SubmitJobRequest().video.__class__(key="sha256/" + "a" * 64, sha256="a" * 64)
    with pytest.raises(grpc.RpcError) as info:
        cluster.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=ref))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_reference_whose_key_does_not_match_its_hash_is_invalid(cluster):
    ref = pipeline_pb2.SubmitJobRequest().video.__class__(key="sha256/" + "a" * 64, sha256="b" * 64)
    with pytest.raises(grpc.RpcError) as info:
        cluster.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=ref))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_presigned_upload_to_s3_then_submit_verifies_the_bytes(tmp_path, video, s3_config):
    import urllib.request

    from mshot.store import open_store

    store = open_store(s3_config)
    c = Cluster.__new__(Cluster)
    c.tmp_path, c.store, c.stages, c.engines = tmp_path, store, {}, {}
    for name in STAGES:
        c.stages[name], c.engines[name] = start_fake_stage(name, store)
    c.addresses = {name: f"127.0.0.1:{server.port}" for name, server in c.stages.items()}
    c.start_orchestrator()
    try:
        data = video.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        grant = c.stub.CreateUploadUrl(pipeline_pb2.CreateUploadUrlRequest(sha256=digest, size_bytes=len(data)))

        def put(body: bytes) -> None:
            request = urllib.request.Request(grant.url, data=body, method="PUT",
                                             headers={"Content-Type": "application/octet-stream"})
            urllib.request.urlopen(request).close()

        put(b"not the video")
        with pytest.raises(grpc.RpcError) as info:
            c.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=grant.video))
        assert info.value.code() == grpc.StatusCode.DATA_LOSS
        put(data)
        job = c.stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=grant.video))
        assert watch(c.stub, job.job_id, show_progress=False).state == pipeline_pb2.JOB_STATE_SUCCEEDED
    finally:
        c.close()
