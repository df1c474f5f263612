"""What the applications (the stages in services/, the orchestrator) register into, so the shared package never
imports them: dependencies point one way, applications -> mshot. The program's entry module (mshot_main.py at
the top of the tree) fills one Registry and hands it to the CLI (mshot/cli/main.py), which passes it on to the
servers it starts (mshot/rpc/bootstrap.py, mshot/cli/local_cluster.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mshot.config import STAGES
from mshot.errors import FailedPrecondition, InvalidInput

CommandAdder = Callable[[Any], None]  # function(argparse subparsers)


@dataclass(frozen=True)
class StageService:
    """One stage's gRPC service: what mshot/rpc/bootstrap.py needs to serve it.

    `register` is the generated add_*Servicer_to_server, `servicer(runner)` builds the servicer over a StageRunner,
    `build_engine(env)` reads the stage's settings from `env` (None: os.environ) through mshot.config's typed
    helpers and loads its models."""

    stage: str
    service_name: str
    register: Callable[[Any, Any], None]
    servicer: Callable[[Any], Any]
    build_engine: Callable[[Mapping[str, str] | None], Any]

    @classmethod
    def from_module(cls, stage: str, module) -> StageService:
        """From a stage's server module: SERVICE_NAME, register, Servicer, build_engine."""
        return cls(stage, module.SERVICE_NAME, module.register, module.Servicer, module.build_engine)


@dataclass
class Registry:
    """Stages, the orchestrator starter, CLI commands and the choices job options accept.

    `choices` maps a job option (`tracking_backend`, `keypoints_backend`, `format`) to the values the registered
    stage accepts; an option whose stage is not registered here is checked by the server instead."""

    stages: dict[str, StageService] = field(default_factory=dict)
    start_orchestrator: Callable[..., Any] | None = None
    commands: list[CommandAdder] = field(default_factory=list)
    import_commands: list[CommandAdder] = field(default_factory=list)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    entry_module: str = "mshot_main"  # `python -m <entry_module>` starts this program (mshot up's children)

    def add_stage(self, service: StageService) -> None:
        if service.stage not in STAGES:
            raise ValueError(f"unknown stage '{service.stage}'; stages are: {', '.join(STAGES)}")
        self.stages[service.stage] = service

    def stage(self, name: str) -> StageService:
        if name not in STAGES:
            raise InvalidInput(f"unknown stage '{name}'; stages are: {', '.join(STAGES)}")
        if name not in self.stages:
            raise FailedPrecondition(f"the {name} stage is not installed here (this program has: "
                                     f"{', '.join(self.stages) or 'no stages'})")
        return self.stages[name]

    def orchestrator(self) -> Callable[..., Any]:
        if self.start_orchestrator is None:
            raise FailedPrecondition("the orchestrator is not installed here")
        return self.start_orchestrator
