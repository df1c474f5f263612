"""The phalp tracking backend's wiring, with a fake `phalp` package (tests/fake_phalp.py) standing in for PHALP
git master: whole video past the 1300-frame default, shots on, render off, OpenGL platform, per-frame progress,
swallowed exceptions turned into stage failures; the engine's backend choice; PHALP results through the engine."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path

import cv2
import joblib
import numpy as np
import pytest

from mshot.artifacts.tracklets import load_tracklets
from mshot.errors import Cancelled, FailedPrecondition, StageFailed

HERE = Path(__file__).resolve().parent


def _package(name):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__path__ = []
    return module


@pytest.fixture
def fake_phalp(monkeypatch):
    """Installs the fake as `phalp` (+ a minimal `omegaconf`); yields its tracker module."""
    spec = importlib.util.spec_from_file_location("phalp.trackers.PHALP", HERE / "fake_phalp.py")
    tracker_module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "phalp.trackers.PHALP", tracker_module)  # dataclasses look their module up
    spec.loader.exec_module(tracker_module)
    omegaconf = types.ModuleType("omegaconf")
    omegaconf.OmegaConf = types.SimpleNamespace(structured=lambda cls: cls())
    for name, module in {"phalp": _package("phalp"), "phalp.configs": _package("phalp.configs"),
                         "phalp.configs.base": tracker_module, "phalp.trackers": _package("phalp.trackers"),
                         "phalp.trackers.PHALP": tracker_module, "omegaconf": omegaconf}.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("PYOPENGL_PLATFORM", "osmesa")  # restored after the test
    tracker_module.PHALP.instances = []
    yield tracker_module


def _video(path, frames, height=72, width=96):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (width, height))
    for f in range(frames):
        writer.write(np.full((height, width, 3), f % 200, np.uint8))
    writer.release()
    return path


def test_phalp_runs_the_whole_video_past_its_1300_frame_default_with_shots_on_and_render_off(fake_phalp, tmp_path):
    from services.tracking.phalp.backend import PhalpOptions, PhalpTracker
    from services.tracking.phalp.importer import import_phalp

    video = _video(tmp_path / "long.avi", 1303)
    reports = []
    tracker = PhalpTracker(PhalpOptions(device="cuda:1"))
    pkl = tracker.run(video, tmp_path, lambda f, m="": reports.append((f, m)))
    cfg = fake_phalp.PHALP.instances[0].cfg
    assert (cfg.video.end_frame, cfg.phalp.start_frame, cfg.detect_shots, cfg.render.enable) == (1303, -1, True, False)
    assert cfg.device == "cuda:1" and fake_phalp.PHALP.instances[0].opengl_at_setup == "osmesa"
    assert reports[-1] == (1.0, "PHALP tracked frame 1303/1303")
    assert sum("PHALP tracked frame" in m for _, m in reports) == 1303
    assert fake_phalp.progress_bar.__name__ == "progress_bar" and "replaced" not in str(fake_phalp.traceback)
    t = import_phalp(pkl, tmp_path / "t.npz", video, source="phalp").tracklets
    assert int(t["num_frames"]) == 1303 and str(t["source"]) == "phalp" and int(t["frame_shot_id"][-1]) == 1


def test_egl_by_option_and_a_cpu_device_is_refused(fake_phalp):
    from services.tracking.phalp.backend import PhalpOptions, PhalpTracker

    PhalpTracker(PhalpOptions(opengl="egl"))
    assert fake_phalp.PHALP.instances[-1].opengl_at_setup == "egl"
    with pytest.raises(FailedPrecondition, match="needs a CUDA device"):
        PhalpTracker(PhalpOptions(device="cpu"))


def test_an_exception_phalp_swallows_becomes_a_stage_failure_with_its_cause(fake_phalp, tmp_path, monkeypatch):
    from services.tracking.phalp.backend import PhalpTracker

    monkeypatch.setattr(fake_phalp.PHALP, "fail_at_frame", 3)
    with pytest.raises(StageFailed, match="PHALP failed while tracking: RuntimeError: CUDA out of memory"):
        PhalpTracker().run(_video(tmp_path / "v.avi", 8), tmp_path, lambda f, m="": None)
    import traceback
    assert fake_phalp.traceback is traceback  # PHALP's module restored after the run


def test_cancellation_during_phalp_is_not_swallowed(fake_phalp, tmp_path):
    from services.tracking.phalp.backend import PhalpTracker

    def progress(fraction, message=""):
        if "tracked frame 2/" in message:
            raise Cancelled("tracking stage cancelled by the caller")

    with pytest.raises(Cancelled):
        PhalpTracker().run(_video(tmp_path / "v.avi", 8), tmp_path, progress)


def test_engine_auto_picks_phalp_when_importable(fake_phalp):
    from services.tracking.engine import _resolve

    assert _resolve("auto") == "phalp" and _resolve("phalp") == "phalp" and _resolve("cpu") == "cpu"


@pytest.mark.skipif(importlib.util.find_spec("phalp") is not None, reason="the real PHALP is installed")
def test_engine_auto_picks_cpu_and_phalp_is_refused_when_phalp_is_not_installed():
    from services.tracking.engine import _resolve

    assert _resolve("auto") == "cpu"
    with pytest.raises(FailedPrecondition, match="PHALP tracking backend is not installed here"):
        _resolve("phalp")


def test_engine_runs_phalp_and_imports_phalp_results_given_with_the_video(fake_phalp, tmp_path):
    from phalp_fixtures import phalp_results

    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    engine = TrackingEngine(TrackingSettings(backend="auto", device="cuda", body_model=""))
    video = _video(tmp_path / "v.avi", 6)
    out = engine.run({"video": video}, TrackingOptions(), tmp_path / "a", lambda f, m="": None)
    assert str(load_tracklets(out.outputs["tracklets"])["source"]) == "phalp" and out.summary["backend"] == "phalp"
    with pytest.raises(FailedPrecondition, match="needs a CUDA device"):
        engine.run({"video": video}, TrackingOptions(device="cpu"), tmp_path / "b", lambda f, m="": None)
    results, _ = phalp_results("pypi-0.1.3", {4: [(f, (10, 5, 50, 60), 0) for f in range(6)]}, 72, 96, 6)
    joblib.dump(results, tmp_path / "r.pkl", compress=3)
    out = engine.run({"video": video, "phalp_results": tmp_path / "r.pkl"}, TrackingOptions(), tmp_path / "c",
                     lambda f, m="": None)
    tracklets = load_tracklets(out.outputs["tracklets"])
    assert str(tracklets["source"]) == "phalp-import:pypi-0.1.3" and list(np.unique(tracklets["person_id"])) == [4]


def test_tracking_server_imports_phalp_results_and_refuses_a_crafted_pickle(fake_phalp, tmp_path):
    import grpc
    from phalp_fixtures import phalp_results

    from mshot.config import ServerConfig
    from mshot.rpc.convert import ref_to_proto
    from mshot.rpc.server import GrpcServer
    from mshot.rpc.stage import StageRunner
    from mshot.store import ArtifactRef
    from mshot.store.local import LocalStore
    from mshot.v1 import tracking_pb2, tracking_pb2_grpc
    from services.tracking.engine import TrackingEngine, TrackingSettings
    from services.tracking.server import SERVICE_NAME, Servicer, register

    store = LocalStore(tmp_path / "store")
    server = GrpcServer("tracking", ServerConfig(port=0))
    engine = TrackingEngine(TrackingSettings(backend="auto", device="cuda", body_model=""))
    server.add(register, Servicer(StageRunner("tracking", engine, store, server.slots, server.lifecycle)),
               SERVICE_NAME)
    server.start()
    server.set_serving()
    try:
        video = ref_to_proto(store.put_file(_video(tmp_path / "v.avi", 5), "video/x-msvideo"))
        results, _ = phalp_results("master", {2: [(f, (10, 5, 50, 60), 0) for f in range(5)]}, 72, 96, 5)
        joblib.dump(results, tmp_path / "r.pkl", compress=3)
        stub = tracking_pb2_grpc.TrackingStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))

        def track(pkl):
            ref = ref_to_proto(store.put_file(pkl, "application/x-pickle"))
            options = tracking_pb2.TrackingOptions(phalp_results=ref)
            return list(stub.Track(tracking_pb2.TrackRequest(job_id="j", video=video, options=options)))

        result = track(tmp_path / "r.pkl")[-1].result.artifacts["tracklets"]
        fetched = store.get_file(ArtifactRef(result.key, result.sha256, result.media_type, result.size_bytes),
                                 tmp_path / "t.npz")
        assert str(load_tracklets(fetched)["source"]) == "phalp-import:master"
        assert not fake_phalp.PHALP.instances[0].cfg.video.source  # PHALP itself did not run
        marker = tmp_path / "executed"
        (tmp_path / "evil.pkl").write_bytes(b"\x80\x04cposix\nsystem\n(Vtouch " + str(marker).encode() + b"\ntR.")
        with pytest.raises(grpc.RpcError) as info:
            track(tmp_path / "evil.pkl")
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "posix.system" in info.value.details()
        assert not marker.exists()
    finally:
        server.server.stop(0)
