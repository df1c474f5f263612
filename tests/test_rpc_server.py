"""The shared server bootstrap: status mapping, no tracebacks on the wire, job slots, bearer token,
health before/after loading, graceful hand-back on shutdown."""

from __future__ import annotations

import threading

import grpc
import pytest
from fake_stages import FakeEngine, start_fake_stage
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mshot.config import ServerConfig
from mshot.errors import FailedPrecondition
from mshot.store.local import LocalStore
from mshot.v1 import common_pb2, tracking_pb2, tracking_pb2_grpc


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture
def video_ref(store, tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(b"bytes")
    ref = store.put_file(path, "video/mp4")
    return common_pb2.ArtifactRef(key=ref.key, sha256=ref.sha256, media_type=ref.media_type, size_bytes=ref.size_bytes)


def _track(port, video_ref, metadata=None):
    stub = tracking_pb2_grpc.TrackingStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
    return list(stub.Track(tracking_pb2.TrackRequest(job_id="j1", video=video_ref), metadata=metadata))


def test_domain_error_maps_to_its_status_code(store, video_ref):
    engine = FakeEngine("tracking")
    engine.failures = [FailedPrecondition("PHALP is not installed in this image")]
    server, _ = start_fake_stage("tracking", store, engine=engine)
    with pytest.raises(grpc.RpcError) as info:
        _track(server.port, video_ref)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == "PHALP is not installed in this image"
    server.server.stop(0)


def test_unexpected_error_is_internal_without_a_traceback(store, video_ref):
    engine = FakeEngine("tracking")
    engine.failures = [ZeroDivisionError("boom")]
    server, _ = start_fake_stage("tracking", store, engine=engine)
    with pytest.raises(grpc.RpcError) as info:
        _track(server.port, video_ref)
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert "Traceback" not in info.value.details() and "ZeroDivisionError" in info.value.details()
    server.server.stop(0)


def test_job_past_the_concurrency_limit_is_resource_exhausted(store, video_ref):
    engine = FakeEngine("tracking")
    engine.steps, engine.step_s = 100, 0.02
    server, _ = start_fake_stage("tracking", store, ServerConfig(port=0, max_concurrent_jobs=1), engine)
    first = threading.Thread(target=_track, args=(server.port, video_ref))
    first.start()
    assert engine.started.wait(10)
    with pytest.raises(grpc.RpcError) as info:
        _track(server.port, video_ref)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    first.join()
    server.server.stop(0)


def test_bearer_token_is_required_except_for_health(store, video_ref):
    server, _ = start_fake_stage("tracking", store, ServerConfig(port=0, auth_token="s3cret"))
    with pytest.raises(grpc.RpcError) as info:
        _track(server.port, video_ref)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    events = _track(server.port, video_ref, metadata=[("authorization", "Bearer s3cret")])
    assert events[-1].HasField("result")
    health = health_pb2_grpc.HealthStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
    assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    server.server.stop(0)


def test_work_still_running_at_shutdown_is_handed_back_as_unavailable(store, video_ref):
    engine = FakeEngine("tracking")
    engine.steps, engine.step_s = 400, 0.02
    server, _ = start_fake_stage("tracking", store, ServerConfig(port=0, grace_seconds=2.5), engine)
    errors = []

    def call():
        try:
            _track(server.port, video_ref)
        except grpc.RpcError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert engine.started.wait(10)
    server.stop()
    caller.join(10)
    assert errors and errors[0].code() == grpc.StatusCode.UNAVAILABLE
    assert "handed back" in errors[0].details()


def test_a_port_in_use_is_a_named_failed_precondition_with_exit_code_4(tmp_path, capsys, monkeypatch):
    import socket

    from mshot_main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("MSHOT_PORT", str(port))
        monkeypatch.setenv("MSHOT_STORE", str(tmp_path / "store"))
        assert main(["serve", "orchestrator"]) == 4
    message = capsys.readouterr().err
    assert f"orchestrator cannot listen on 127.0.0.1:{port}: the port is in use" in message
    assert "internal error" not in message
