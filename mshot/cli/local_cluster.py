"""Every stage and the orchestrator in this process, on loopback ports, over one local store: what
`mshot run` uses so one machine runs the same gRPC system a cluster runs."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mshot.config import STAGES, OrchestratorConfig, ServerConfig, StoreConfig
from mshot.logs import setup_logging
from mshot.rpc.bootstrap import start_stage_server
from mshot.rpc.server import GrpcServer
from mshot.store import open_store


class LocalCluster:
    def __init__(self, store_location: str, log_level: str = "WARNING"):
        self.store = open_store(StoreConfig(location=store_location))
        self.log_level = log_level
        self.servers: dict[str, GrpcServer] = {}
        self.scratch = Path(tempfile.mkdtemp(prefix="mshot-run-"))

    def __enter__(self) -> LocalCluster:
        from orchestrator.server import start_orchestrator

        setup_logging("mshot-run", self.log_level)
        try:
            for stage in STAGES:
                self.servers[stage] = start_stage_server(stage, ServerConfig(port=0), self.store, self.scratch)
            addresses = {stage: f"127.0.0.1:{server.port}" for stage, server in self.servers.items()}
            self.servers["orchestrator"] = start_orchestrator(
                ServerConfig(port=0), OrchestratorConfig(stage_addresses=addresses), self.store, self.scratch)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def pipeline_stub(self):
        from mshot.cli.client import pipeline_stub

        return pipeline_stub(f"127.0.0.1:{self.servers['orchestrator'].port}")

    def __exit__(self, *exc_info) -> None:
        for server in reversed(list(self.servers.values())):
            server.server.stop(grace=2).wait()
        shutil.rmtree(self.scratch, ignore_errors=True)
