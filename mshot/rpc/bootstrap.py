"""Start a stage server: listen first (health NOT_SERVING, so probes see the process alive), then build
the stage's engine - validating configuration and loading models - then report SERVING.

The stage comes as a StageService (mshot.registry): the stages register themselves there (mshot_main.py), so
this shared module never imports an application.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from mshot.config import ServerConfig
from mshot.registry import StageService
from mshot.rpc.server import GrpcServer
from mshot.rpc.stage import StageRunner
from mshot.store import ArtifactStore

log = logging.getLogger("mshot.bootstrap")


def start_stage_server(service: StageService, config: ServerConfig, store: ArtifactStore,
                       scratch: str | Path | None = None, env: Mapping[str, str] | None = None) -> GrpcServer:
    """Listening and SERVING on return; raises (FailedPrecondition, ...) if the engine cannot be built.
    `scratch` defaults to config.scratch; the engine reads its settings from `env` (default os.environ)."""
    server = GrpcServer(service.stage, config)
    runner = StageRunner(service.stage, None, store, server.slots, server.lifecycle, scratch or config.scratch)
    server.add(service.register, service.servicer(runner), service.service_name)
    server.start()
    try:
        runner.engine = service.build_engine(env)
    except BaseException:
        server.server.stop(0)
        raise
    server.set_serving()
    return server
