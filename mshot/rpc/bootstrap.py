"""Start a stage server: listen first (health NOT_SERVING, so probes see the process alive), then build
the stage's engine - validating configuration and loading models - then report SERVING.

A stage service module `services/<stage>/server.py` provides:
  SERVICE_NAME (e.g. "mshot.v1.Tracking"), register (the generated add_*Servicer_to_server),
  build_engine() -> engine (reads its settings from the environment), Servicer(runner: StageRunner).
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from mshot.config import STAGES, ServerConfig
from mshot.errors import InvalidInput
from mshot.rpc.server import GrpcServer
from mshot.rpc.stage import StageRunner
from mshot.store import ArtifactStore

log = logging.getLogger("mshot.bootstrap")


def stage_module(stage: str):
    if stage not in STAGES:
        raise InvalidInput(f"unknown stage '{stage}'; stages are: {', '.join(STAGES)}")
    return importlib.import_module(f"services.{stage}.server")


def start_stage_server(stage: str, config: ServerConfig, store: ArtifactStore,
                       scratch: str | Path | None = None) -> GrpcServer:
    """Listening and SERVING on return; raises (FailedPrecondition, ...) if the engine cannot be built."""
    module = stage_module(stage)
    server = GrpcServer(stage, config)
    runner = StageRunner(stage, None, store, server.slots, server.lifecycle, scratch)
    server.add(module.register, module.Servicer(runner), module.SERVICE_NAME)
    server.start()
    try:
        runner.engine = module.build_engine()
    except BaseException:
        server.server.stop(0)
        raise
    server.set_serving()
    return server
