"""Every stage and the orchestrator in this process, on loopback ports, over one local store: what
`mshot run` uses so one machine runs the same gRPC system a cluster runs. The servers come from the
registry (mshot.registry), which the program's entry module fills."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mshot.config import STAGES, OrchestratorConfig, ServerConfig, StoreConfig
from mshot.logs import setup_logging
from mshot.registry import Registry
from mshot.rpc.bootstrap import start_stage_server
from mshot.rpc.server import GrpcServer
from mshot.store import open_store


class LocalCluster:
    def __init__(self, registry: Registry, store_location: str, log_level: str = "WARNING",
                 settings: Mapping[str, str] | None = None):
        """`settings`: MSHOT_* values the stages read over this process's environment (which stays untouched)."""
        self.registry = registry
        self.environment = {**os.environ, **(settings or {})}
        self.store = open_store(StoreConfig(location=store_location))
        self.log_level = log_level
        self.servers: dict[str, GrpcServer] = {}
        self.scratch = Path(tempfile.mkdtemp(prefix="mshot-run-"))

    def __enter__(self) -> LocalCluster:
        setup_logging("mshot-run", self.log_level)
        try:
            start_orchestrator = self.registry.orchestrator()
            for stage in STAGES:
                self.servers[stage] = start_stage_server(self.registry.stage(stage), ServerConfig(port=0),
                                                         self.store, self.scratch, self.environment)
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
