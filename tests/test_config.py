"""One typed configuration path: every stage's settings come through mshot.config's helpers from a mapping (the
environment by default), a bad value is a FailedPrecondition naming the variable, nothing is read at import
time, and MSHOT_SCRATCH lives in ServerConfig."""

from __future__ import annotations

import pytest

from mshot.config import ServerConfig, env_choice, env_device, orchestrator_address
from mshot.errors import FailedPrecondition
from services.dataset.engine import DatasetSettings
from services.keypoints.engine import KeypointsSettings
from services.multishot.engine import MultishotSettings
from services.tracking.engine import TrackingSettings

MODEL = {"MSHOT_BODY_MODEL": "/models/smpl.pkl"}


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("true", True), ("Yes", True), ("on", True),
                                               ("0", False), ("false", False), ("", False)])
def test_phalp_render_parses_booleans_like_every_other_flag(raw, expected):
    assert TrackingSettings.from_env({**MODEL, "MSHOT_PHALP_RENDER": raw}).phalp_render is expected


def test_a_bad_boolean_or_choice_names_the_variable():
    with pytest.raises(FailedPrecondition, match="MSHOT_PHALP_RENDER='2' is not a boolean"):
        TrackingSettings.from_env({**MODEL, "MSHOT_PHALP_RENDER": "2"})
    with pytest.raises(FailedPrecondition, match="MSHOT_TRACKING_BACKEND='gpu': choose one of auto, cpu, phalp"):
        TrackingSettings.from_env({**MODEL, "MSHOT_TRACKING_BACKEND": "gpu"})
    with pytest.raises(FailedPrecondition, match="MSHOT_DEVICE='tpu'"):
        KeypointsSettings.from_env({"MSHOT_DEVICE": "tpu"})
    with pytest.raises(FailedPrecondition, match="MSHOT_PHALP_OPENGL"):
        TrackingSettings.from_env({**MODEL, "MSHOT_PHALP_OPENGL": "glx"})


def test_every_stage_reads_its_settings_from_the_mapping_it_is_given():
    env = {**MODEL, "MSHOT_DEVICE": "cpu", "MSHOT_POSE_PRIOR": "/models/gmm_08.pkl",
           "MSHOT_KEYPOINTS_BACKEND": "opencv-dnn", "MSHOT_OPENPOSE_MODEL_DIR": "/models/openpose"}
    assert TrackingSettings.from_env(env).body_model == "/models/smpl.pkl"
    assert MultishotSettings.from_env(env) == MultishotSettings("/models/smpl.pkl", "/models/gmm_08.pkl", "cpu")
    assert DatasetSettings.from_env(env).body_model == "/models/smpl.pkl"
    keypoints = KeypointsSettings.from_env(env)
    assert (keypoints.backend, keypoints.device, keypoints.openpose_model_dir) == ("opencv-dnn", "cpu",
                                                                                    "/models/openpose")
    with pytest.raises(FailedPrecondition, match="MSHOT_BODY_MODEL is not set"):
        MultishotSettings.from_env({})


def test_helpers_default_and_validate():
    assert env_device({}) == "auto" and env_device({"MSHOT_DEVICE": " cuda "}) == "cuda"
    assert env_choice("X", ("a", "b"), "a", {"X": ""}) == "a"
    assert ServerConfig.from_env("tracking", {"MSHOT_SCRATCH": "/scratch"}).scratch == "/scratch"
    assert ServerConfig.from_env("tracking", {}).scratch == ""


def test_the_orchestrator_address_is_read_when_asked_not_at_import(monkeypatch):
    monkeypatch.setenv("MSHOT_ORCHESTRATOR_ADDR", "orchestrator.example:50050")
    assert orchestrator_address() == "orchestrator.example:50050"
    assert orchestrator_address("10.0.0.1:1") == "10.0.0.1:1"
    monkeypatch.delenv("MSHOT_ORCHESTRATOR_ADDR")
    assert orchestrator_address() == "127.0.0.1:50050"


def test_local_cluster_hands_settings_to_the_stages_without_touching_os_environ(tmp_path, monkeypatch):
    import os

    from mshot.cli.local_cluster import LocalCluster
    from mshot.config import STAGES
    from mshot.registry import Registry, StageService
    from mshot.rpc.server import GrpcServer

    monkeypatch.delenv("MSHOT_BODY_MODEL", raising=False)
    seen = {}

    def stage(name):
        return StageService(name, f"test.{name}", lambda servicer, server: None, lambda runner: None,
                            lambda env: seen.setdefault(name, env["MSHOT_BODY_MODEL"]))

    def start_orchestrator(config, orchestrator_config, store, scratch):
        server = GrpcServer("orchestrator", config)
        server.start()
        return server

    registry = Registry(stages={name: stage(name) for name in STAGES}, start_orchestrator=start_orchestrator)
    with LocalCluster(registry, str(tmp_path / "store"), settings={"MSHOT_BODY_MODEL": "/m.pkl"}):
        assert seen == dict.fromkeys(STAGES, "/m.pkl")
    assert "MSHOT_BODY_MODEL" not in os.environ
