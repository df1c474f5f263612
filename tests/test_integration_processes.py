"""The real system: every stage server and the orchestrator as separate processes on loopback, a real S3
endpoint (moto), real stage engines on a short clip of the sample video. A job submitted over gRPC
completes with its artifacts in S3; killing the orchestrator mid-job or a stage server mid-stage, stopping
S3 for 30 s, or restarting a stage only 60 s after it died costs a retry, never a redone stage."""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid
from pathlib import Path

import cv2
import grpc
import pytest

from mshot.cli.client import upload_video, watch
from mshot.cli.server_commands import LocalProcesses
from mshot.config import StoreConfig
from mshot.store import ArtifactRef, open_store
from mshot.v1 import pipeline_pb2, pipeline_pb2_grpc

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "multishot_sample.mp4"
CLIP_FRAMES = 30


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The first frames of the sample video (two people, one cut), re-encoded."""
    if not SAMPLE.is_file():
        pytest.fail(f"sample video missing: {SAMPLE}")
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    reader = cv2.VideoCapture(str(SAMPLE))
    fps = reader.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(CLIP_FRAMES):
        ok, frame = reader.read()
        assert ok
        if writer is None:
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, frame.shape[1::-1])
        writer.write(frame)
    writer.release()
    reader.release()
    return path


@pytest.fixture(scope="module")
def body_model(tmp_path_factory) -> Path:
    from mshot.body.generate import write_generated_smpl_model

    path = tmp_path_factory.mktemp("model") / "generated_smpl.pkl"
    write_generated_smpl_model(path, seed=0)
    return path


def _free_base_port() -> int:
    for base in range(52000, 60000, 10):
        sockets = []
        try:
            for port in range(base, base + 5):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free ports")


def start_system(s3_config, body_model: Path, tmp_path: Path) -> LocalProcesses:
    """Every server as its own process on S3 (default retry window: minutes; backoff at most 5 s apart)."""
    env = {
        "MSHOT_S3_ENDPOINT": s3_config.s3_endpoint, "MSHOT_S3_ACCESS_KEY": s3_config.s3_access_key,
        "MSHOT_S3_SECRET_KEY": s3_config.s3_secret_key, "MSHOT_BODY_MODEL": str(body_model),
        "MSHOT_STAGE_BACKOFF_S": "0.5", "MSHOT_STAGE_BACKOFF_MAX_S": "5", "MSHOT_GRACE_SECONDS": "5",
        "MSHOT_TRACKING_BACKEND": "cpu", "MSHOT_KEYPOINTS_BACKEND": "cpu", "MSHOT_DEVICE": "cpu",
        "MSHOT_SCRATCH": str(tmp_path / "scratch"), "PYOPENGL_PLATFORM": "osmesa",
    }
    local = LocalProcesses(s3_config.location, _free_base_port(), env, tmp_path)
    local.start_all()
    return local


@pytest.fixture
def system(s3_config, body_model, tmp_path):
    local = start_system(s3_config, body_model, tmp_path)
    yield local
    local.stop()


def _submit(local: LocalProcesses, clip: Path) -> tuple[pipeline_pb2_grpc.PipelineStub, str]:
    stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(local.orchestrator_addr))
    video = upload_video(stub, clip)
    job = stub.SubmitJob(pipeline_pb2.SubmitJobRequest(video=video))
    return stub, job.job_id


def _wait_stage_running(stub, job_id: str, stage: str, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = stub.GetJob(pipeline_pb2.JobId(job_id=job_id))
        status = next(s for s in job.stages if s.stage == stage)
        if status.state == pipeline_pb2.STAGE_STATE_RUNNING:
            return
        assert job.state not in (pipeline_pb2.JOB_STATE_FAILED, pipeline_pb2.JOB_STATE_CANCELLED), job.error
        time.sleep(0.1)
    raise AssertionError(f"{stage} never ran")


def _stage_done_count(log: Path, stage: str) -> int:
    return sum(1 for line in log.read_text().splitlines() if '"msg": "stage done"' in line and stage in line)


def test_job_over_grpc_completes_with_artifacts_in_s3(system, clip, s3_config):
    stub, job_id = _submit(system, clip)
    job = watch(stub, job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED, job.error
    store = open_store(s3_config)
    for status in job.stages:
        for name, ref in status.result.artifacts.items():
            assert store.exists(ArtifactRef(ref.key, ref.sha256, ref.media_type, ref.size_bytes)), name


def test_orchestrator_killed_mid_job_finishes_after_restart_without_redoing_stages(system, clip, tmp_path):
    stub, job_id = _submit(system, clip)
    _wait_stage_running(stub, job_id, "keypoints")
    system.processes["orchestrator"].send_signal(signal.SIGKILL)
    system.processes["orchestrator"].wait()
    system.start("orchestrator")
    stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(system.orchestrator_addr))
    job = watch(stub, job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED, job.error
    assert _stage_done_count(tmp_path / "tracking.log", "tracking") == 1


def test_stage_server_killed_mid_stage_is_retried(system, clip, tmp_path):
    stub, job_id = _submit(system, clip)
    _wait_stage_running(stub, job_id, "keypoints")
    os.kill(system.processes["keypoints"].pid, signal.SIGKILL)
    system.processes["keypoints"].wait()
    system.start("keypoints")
    job = watch(stub, job_id, show_progress=False)
    assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED, job.error
    keypoints = next(s for s in job.stages if s.stage == "keypoints")
    assert keypoints.attempts >= 2
    assert _stage_done_count(tmp_path / "tracking.log", "tracking") == 1


class StoppableS3:
    """A moto S3 server on a fixed loopback port that can be stopped and started again; moto keeps its buckets
    in the test process, so objects written before a stop are there after the start."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = None
        self.start()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def stoppable_s3():
    s3 = StoppableS3()
    yield s3
    s3.stop()


def test_s3_stopped_for_30_s_mid_job_pauses_the_job_which_then_completes(stoppable_s3, clip, body_model, tmp_path):
    config = StoreConfig(location=f"s3://mshot-outage-{uuid.uuid4().hex[:8]}",
                         s3_endpoint=f"127.0.0.1:{stoppable_s3.port}", s3_access_key="test",
                         s3_secret_key="test-secret")
    system = start_system(config, body_model, tmp_path)
    try:
        stub, job_id = _submit(system, clip)
        _wait_stage_running(stub, job_id, "keypoints")
        stoppable_s3.stop()
        time.sleep(30)
        during = stub.GetJob(pipeline_pb2.JobId(job_id=job_id), timeout=5)  # the orchestrator answers meanwhile
        assert during.state == pipeline_pb2.JOB_STATE_RUNNING
        stoppable_s3.start()
        job = watch(stub, job_id, show_progress=False)
        assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED, job.error
        assert _stage_done_count(tmp_path / "tracking.log", "tracking") == 1
        assert all(p.poll() is None for p in system.processes.values())  # nothing crashed
    finally:
        system.stop()


def test_stage_server_restarted_only_after_60_s_the_job_completes_without_redoing_stages(
        s3_config, clip, body_model, tmp_path):
    system = start_system(s3_config, body_model, tmp_path)
    try:
        stub, job_id = _submit(system, clip)
        _wait_stage_running(stub, job_id, "multishot")
        system.processes["multishot"].send_signal(signal.SIGKILL)
        system.processes["multishot"].wait()
        time.sleep(60)
        assert stub.GetJob(pipeline_pb2.JobId(job_id=job_id)).state == pipeline_pb2.JOB_STATE_RUNNING
        system.start("multishot")
        stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(system.orchestrator_addr))
        job = watch(stub, job_id, show_progress=False)
        assert job.state == pipeline_pb2.JOB_STATE_SUCCEEDED, job.error
        assert next(s for s in job.stages if s.stage == "multishot").attempts >= 2
        assert _stage_done_count(tmp_path / "tracking.log", "tracking") == 1
        assert _stage_done_count(tmp_path / "keypoints.log", "keypoints") == 1
    finally:
        system.stop()
