"""The `mshot` command line: builds the argument parser from the shared commands plus those the applications
registered (mshot.registry; the program's entry module mshot_main.py fills the registry) and maps domain errors
to a one-line message and an exit code (mshot.errors), never a traceback (MSHOT_DEBUG=1 shows it)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from mshot.errors import MshotError
from mshot.registry import Registry


def build_parser(registry: Registry) -> argparse.ArgumentParser:
    """Every command gets `args.registry`, the stages and orchestrator it may start."""
    from mshot.body import cli as body_cli
    from mshot.cli import pipeline_commands, server_commands

    parser = argparse.ArgumentParser(
        prog="mshot",
        description="Video with camera cuts -> per-person SMPL bodies consistent across shots -> NeRF/avatar datasets.")
    parser.set_defaults(registry=registry)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    pipeline_commands.add_commands(subparsers, registry.choices)
    server_commands.add_commands(subparsers)
    body_cli.add_commands(subparsers)
    for add_commands in registry.commands:
        add_commands(subparsers)
    if registry.import_commands:
        importer = subparsers.add_parser("import", help="convert upstream outputs (PHALP, OpenPose) to mshot artifacts")
        import_subparsers = importer.add_subparsers(dest="import_kind", metavar="KIND", required=True)
        for add_commands in registry.import_commands:
            add_commands(import_subparsers)
    return parser


def run_cli(registry: Registry, argv: list[str] | None = None) -> int:
    parser = build_parser(registry)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MshotError as exc:
        print(f"mshot: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mshot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the user gets one line, the log gets the traceback
        if os.environ.get("MSHOT_DEBUG"):
            raise
        logging.getLogger("mshot.cli").debug("unexpected error", exc_info=exc)
        print(f"mshot: internal error: {type(exc).__name__}: {exc} (set MSHOT_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 70
