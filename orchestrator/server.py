"""Start the orchestrator: the Pipeline service over a job book in the store; unfinished jobs resume."""

from __future__ import annotations

from pathlib import Path

import grpc

from mshot.config import OrchestratorConfig, ServerConfig
from mshot.rpc.client import channel_from_config
from mshot.rpc.server import GrpcServer
from mshot.store import ArtifactStore
from mshot.v1 import pipeline_pb2_grpc
from orchestrator.jobs import JobBook
from orchestrator.metrics import serve_metrics
from orchestrator.runner import JobRunner
from orchestrator.service import PipelineService


class _Channels:
    """One channel per stage address, created on first use and shared by all jobs."""

    def __init__(self, config: OrchestratorConfig, server_config: ServerConfig):
        self.config = config
        self.server_config = server_config
        self._channels: dict[str, grpc.Channel] = {}

    def __call__(self, stage: str) -> grpc.Channel:
        if stage not in self._channels:
            self._channels[stage] = channel_from_config(self.config.stage_addresses[stage], self.server_config)
        return self._channels[stage]


WATCH_STREAMS = 256  # WatchJob streams served at once (each holds a server thread while it follows a job)


def start_orchestrator(config: ServerConfig, orchestrator: OrchestratorConfig, store: ArtifactStore,
                       scratch: Path) -> GrpcServer:
    server = GrpcServer("orchestrator", config, cheap_call_threads=WATCH_STREAMS)
    book = JobBook(store)
    runner = JobRunner(book, orchestrator, _Channels(orchestrator, config))
    service = PipelineService(store, book, runner, orchestrator, scratch)
    server.add(pipeline_pb2_grpc.add_PipelineServicer_to_server, service, "mshot.v1.Pipeline")
    server.start()
    store.check()
    runner.resume(book.load_unfinished())
    if orchestrator.metrics_port:
        server.metrics = serve_metrics(config.host, orchestrator.metrics_port, runner, book)
    server.set_serving()
    return server
