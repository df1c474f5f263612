"""In-process stage servers whose engines are fakes (they stand in for the real stage engines so the
orchestrator's behaviour - ordering, retries, cancellation, restarts - is tested fast and exactly).
The gRPC servers, store, interceptor and orchestrator around them are the real ones."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

from mshot.config import OrchestratorConfig, ServerConfig
from mshot.engine_run import EngineRun
from mshot.errors import MshotError
from mshot.rpc.convert import optional_ref, ref_from_proto
from mshot.rpc.server import GrpcServer
from mshot.rpc.stage import StageRunner
from mshot.v1 import dataset_pb2_grpc, keypoints_pb2_grpc, multishot_pb2_grpc, tracking_pb2_grpc

OUTPUTS = {
    "tracking": ["tracklets"], "keypoints": ["keypoints"], "multishot": ["fits"], "dataset": ["dataset", "report"],
}
SUFFIX = {"dataset": ".tar", "report": ".json"}


class FakeEngine:
    """Writes one JSON output per declared output naming its inputs' digests; can fail or be slow on demand."""

    def __init__(self, name: str):
        self.name = name
        self.calls = 0
        self.failures: list[MshotError] = []  # raised by the next calls, in order
        self.steps = 3
        self.step_s = 0.01
        self.started = threading.Event()
        self.saw_error: BaseException | None = None
        self.videos: list[str] = []  # sha256 of each run's input video, in the order runs started

    def run(self, inputs, options, workdir: Path, progress):
        self.calls += 1
        if "video" in inputs:
            self.videos.append(hashlib.sha256(Path(inputs["video"]).read_bytes()).hexdigest())
        self.started.set()
        try:
            if self.failures:
                raise self.failures.pop(0)
            for step in range(self.steps):
                time.sleep(self.step_s)
                progress((step + 1) / self.steps, f"step {step + 1}")
        except BaseException as exc:
            self.saw_error = exc
            raise
        outputs = {}
        for name in OUTPUTS[self.name]:
            path = workdir / f"{name}{SUFFIX.get(name, '.json')}"
            if path.suffix == ".tar":
                import tarfile

                with tarfile.open(path, "w") as tar:
                    note = workdir / "note.txt"
                    note.write_text(f"{self.name} call {self.calls}")
                    tar.add(note, arcname="dataset/note.txt")
            else:
                path.write_text(json.dumps({"stage": self.name, "inputs": sorted(inputs), "call": self.calls,
                                            "options": str(options)}))
            outputs[name] = path
        return EngineRun(outputs, {"call": self.calls, "inputs": sorted(inputs)})


class FakeServicer(tracking_pb2_grpc.TrackingServicer, keypoints_pb2_grpc.KeypointsServicer,
                   multishot_pb2_grpc.MultishotServicer, dataset_pb2_grpc.DatasetServicer):
    def __init__(self, runner: StageRunner):
        self.runner = runner

    def _run(self, request, fields, context):
        inputs = {name: ref_from_proto(getattr(request, name), name) for name in fields}
        return self.runner.run(request.job_id, inputs, request.options.SerializeToString(), context)

    def Track(self, request, context):
        extra = optional_ref(request.options.phalp_results, "phalp_results")
        assert extra is None
        yield from self._run(request, ["video"], context)

    def Detect(self, request, context):
        yield from self._run(request, ["video", "tracklets"], context)

    def Fit(self, request, context):
        yield from self._run(request, ["tracklets", "keypoints"], context)

    def Export(self, request, context):
        yield from self._run(request, ["video", "tracklets", "keypoints", "fits"], context)


REGISTER = {
    "tracking": (tracking_pb2_grpc.add_TrackingServicer_to_server, "mshot.v1.Tracking"),
    "keypoints": (keypoints_pb2_grpc.add_KeypointsServicer_to_server, "mshot.v1.Keypoints"),
    "multishot": (multishot_pb2_grpc.add_MultishotServicer_to_server, "mshot.v1.Multishot"),
    "dataset": (dataset_pb2_grpc.add_DatasetServicer_to_server, "mshot.v1.Dataset"),
}


def start_fake_stage(name: str, store, config: ServerConfig | None = None, engine: FakeEngine | None = None):
    engine = engine or FakeEngine(name)
    server = GrpcServer(name, config or ServerConfig(port=0))
    runner = StageRunner(name, engine, store, server.slots, server.lifecycle)
    register, service_name = REGISTER[name]
    server.add(register, FakeServicer(runner), service_name)
    server.start()
    server.set_serving()
    return server, engine


def fast_retry_config(addresses: dict[str, str]) -> OrchestratorConfig:
    return OrchestratorConfig(stage_addresses=addresses, retry_window_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.2,
                              busy_backoff_s=0.02, busy_backoff_max_s=0.1)
