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


def _add_stage(registry: Registry, stage: str, server, commands=None, import_commands=None,
               choices: dict[str, tuple[str, ...]] | None = None) -> None:
    registry.add_stage(StageService.from_module(stage, server))
    registry.commands += [commands] if commands else []
    registry.import_commands += [import_commands] if import_commands else []
    registry.choices.update(choices or {})


def _add_tracking(registry: Registry) -> None:
    if (server := _present("services.tracking.server")) is not None:
        from services.tracking.cli import add_import_commands
        from services.tracking.engine import BACKENDS

        _add_stage(registry, "tracking", server, import_commands=add_import_commands,
                   choices={"tracking_backend": BACKENDS})


def _add_keypoints(registry: Registry) -> None:
    if (server := _present("services.keypoints.server")) is not None:
        from services.keypoints.cli import add_import_commands
        from services.keypoints.engine import BACKENDS

        _add_stage(registry, "keypoints", server, import_commands=add_import_commands,
                   choices={"keypoints_backend": BACKENDS})


def _add_multishot(registry: Registry) -> None:
    if (server := _present("services.multishot.server")) is not None:
        from services.multishot.cli import add_commands

        _add_stage(registry, "multishot", server, commands=add_commands)


def _add_dataset(registry: Registry) -> None:
    if (server := _present("services.dataset.server")) is not None:
        from services.dataset.cli import add_commands
        from services.dataset.formats import FORMATS

        _add_stage(registry, "dataset", server, commands=add_commands, choices={"format": FORMATS})


def _add_orchestrator(registry: Registry) -> None:
    if (server := _present("orchestrator.server")) is not None:
        registry.start_orchestrator = server.start_orchestrator


def build_registry() -> Registry:
    registry = Registry()
    for add in (_add_tracking, _add_keypoints, _add_multishot, _add_dataset, _add_orchestrator):
        add(registry)
    return registry


def main(argv: list[str] | None = None) -> int:
    from mshot.cli.main import run_cli

    return run_cli(build_registry(), argv)


if __name__ == "__main__":
    sys.exit(main())
