"""`mshot` entry point: builds the argument parser from every area's commands and maps domain errors to
a one-line message and an exit code (mshot.errors), never a traceback (MSHOT_DEBUG=1 shows it)."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from mshot.errors import MshotError

# Areas that contribute commands: module -> function(subparsers) (import commands go under `mshot import`).
COMMAND_MODULES = (
    ("mshot.cli.pipeline_commands", "add_commands"),
    ("mshot.cli.server_commands", "add_commands"),
    ("mshot.body.cli", "add_commands"),
    ("services.multishot.cli", "add_commands"),
    ("services.dataset.cli", "add_commands"),
)
IMPORT_MODULES = (
    ("services.tracking.cli", "add_import_commands"),
    ("services.keypoints.cli", "add_import_commands"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mshot",
        description="Video with camera cuts -> per-person SMPL bodies consistent across shots -> NeRF/avatar datasets.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name, function in COMMAND_MODULES:
        getattr(importlib.import_module(module_name), function)(subparsers)
    importer = subparsers.add_parser("import", help="convert upstream outputs (PHALP, OpenPose) to mshot artifacts")
    import_subparsers = importer.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    for module_name, function in IMPORT_MODULES:
        getattr(importlib.import_module(module_name), function)(import_subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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


if __name__ == "__main__":
    sys.exit(main())
