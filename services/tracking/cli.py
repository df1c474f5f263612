"""`mshot import phalp RESULTS.pkl [--video V] [--fps F] [--focal-px F] --out TRACKLETS.npz`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_import_commands(import_subparsers) -> None:
    command = import_subparsers.add_parser(
        "phalp", help="PHALP results (git master / 4D-Humans, v1.1, PyPI 0.1.3) to tracklets.npz")
    command.add_argument("results", type=Path, help="PHALP's results .pkl (joblib), read by a restricted unpickler")
    command.add_argument("--out", type=Path, required=True)
    command.add_argument("--video", type=Path, default=None,
                         help="the video PHALP ran on: checks frame count and size, gives fps, and computes masks "
                              "for layouts that stored none")
    command.add_argument("--fps", type=float, default=None, help="frame rate (needed without --video)")
    command.add_argument("--focal-px", type=float, default=0.0,
                         help="the video's focal length in pixels, if known: written instead of PHALP's camera "
                              "(5000 * max(H, W) / 256), depths scaled to it, image positions kept")
    command.set_defaults(func=import_phalp_command)


def import_phalp_command(args: argparse.Namespace) -> int:
    from mshot.artifacts.tracklets import tracklet_counts
    from mshot.errors import InvalidInput
    from services.tracking.phalp.importer import import_phalp

    if args.fps is not None and not (0 < args.fps <= 1000):
        raise InvalidInput(f"--fps {args.fps}: expected a frame rate in (0, 1000]")
    result = import_phalp(args.results, args.out, args.video, args.fps, focal_px=args.focal_px)
    tracklets = result.tracklets
    counts = tracklet_counts(tracklets)
    print(f"wrote {args.out}: layout {result.layout.name}, {counts['people']} people, {counts['rows']} rows, "
          f"{int(tracklets['num_frames'])} frames, {counts['shots']} shots, masks: {tracklets['mask_source']}")
    for note in result.notes:
        print(f"note: {note}")
    return 0
