"""The real system: every stage server and the orchestrator as separate processes on loopback, a real S3
endpoint (moto), real stage engines on a short clip of the sample video. A job submitted over gRPC
completes with its artifacts in S3; killing the orchestrator mid-job or a stage server mid-stage costs a
retry, never a redone stage."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import cv2
import grpc
import pytest

from mshot.cli.client import upload_video, watch
from mshot.cli.server_commands import LocalProcesses
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


@pytest.fixture
def system(s3_config, body_model, tmp_path):
    env = {
        "MSHOT_S3_ENDPOINT": s3_config.s3_endpoint, "MSHOT_S3_ACCESS_KEY": s3_config.s3_access_key,
        "MSHOT_S3_SECRET_KEY": s3_config.s3_secret_key, "MSHOT_BODY_MODEL": str(body_model),
        "MSHOT_STAGE_BACKOFF_S": "0.5", "MSHOT_STAGE_MAX_ATTEMPTS": "6", "MSHOT_GRACE_SECONDS": "5",
        "MSHOT_TRACKING_BACKEND": "cpu", "MSHOT_KEYPOINTS_BACKEND": "cpu", "MSHOT_DEVICE": "cpu",
        "MSHOT_SCRATCH": str(tmp_path / "scratch"), "PYOPENGL_PLATFORM": "osmesa",
    }
    local = LocalProcesses(s3_config.location, _free_base_port(), env, tmp_path)
    local.start_all()
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
