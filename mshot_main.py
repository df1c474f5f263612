"""The `mshot` program: the shared package (mshot/) plus the applications of this tree - the four stages
(services/<stage>/) and the orchestrator (orchestrator/) - assembled here, the one module that knows them all.

An application whose code is not present is left out (a per-stage image holds only its own stage: `mshot serve
dataset` in the tracking image says the stage is not installed); one that is present but fails to import (a
missing dependency) fails loudly.
"""

from __future__ import annotations

import importlib
import sys

from mshot.registry import Registry, StageService


def _present(module: str):
    """The module, or None when its application's code is not in this installation."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        application = module.rsplit(".", 1)[0]
        if exc.name and (application == exc.name or application.startswith(exc.name + ".")):
            return None
        raise


def _add_tracking(registry: Registry) -> None:
    if (server := _present("services.tracking.server")) is None:
        return
    from services.tracking.cli import add_import_commands
    from services.tracking.engine import BACKENDS

    registry.add_stage(StageService.from_module("tracking", server))
    registry.import_commands.append(add_import_commands)
    registry.choices["tracking_backend"] = BACKENDS


def _add_keypoints(registry: Registry) -> None:
    if (server := _present("services.keypoints.server")) is None:
        return
    from services.keypoints.cli import add_import_commands
    from services.keypoints.engine import BACKENDS

    registry.add_stage(StageService.from_module("keypoints", server))
    registry.import_commands.append(add_import_commands)
    registry.choices["keypoints_backend"] = BACKENDS


def _add_multishot(registry: Registry) -> None:
    if (server := _present("services.multishot.server")) is None:
        return
    from services.multishot.cli import add_commands

    registry.add_stage(StageService.from_module("multishot", server))
    registry.commands.append(add_commands)


def _add_dataset(registry: Registry) -> None:
    if (server := _present("services.dataset.server")) is None:
        return
    from services.dataset.cli import add_commands
    from services.dataset.exporters import FORMATS

    registry.add_stage(StageService.from_module("dataset", server))
    registry.commands.append(add_commands)
    registry.choices["format"] = FORMATS


def _add_orchestrator(registry: Registry) -> None:
    if (server := _present("orchestrator.server")) is not None:
        registry.start_orchestrator = server.start_orchestrator


def build_registry() -> Registry:
    registry = Registry(entry_module=__name__ if __name__ != "__main__" else "mshot_main")
    for add in (_add_tracking, _add_keypoints, _add_multishot, _add_dataset, _add_orchestrator):
        add(registry)
    return registry


def main(argv: list[str] | None = None) -> int:
    from mshot.cli.main import run_cli

    return run_cli(build_registry(), argv)


if __name__ == "__main__":
    sys.exit(main())
