"""`mshot export --video V --tracklets T --keypoints K --fits F --format FORMAT (services/dataset/formats.py)
--body-model M --out DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from services.dataset.formats import FORMATS


def add_commands(subparsers) -> None:
    export = subparsers.add_parser("export", help="select each person's frames and write training datasets")
    for name in ("video", "tracklets", "keypoints", "fits"):
        export.add_argument(f"--{name}", type=Path, required=True)
    export.add_argument("--body-model", type=Path, required=True)
    export.add_argument("--format", dest="formats", action="append", default=[],
                        help="one of: " + ", ".join(FORMATS) + " (repeatable; default all)")
    export.add_argument("--person", dest="persons", type=int, action="append", default=[])
    export.add_argument("--target-frames", type=int, default=0)
    export.add_argument("--no-previews", action="store_true")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    from mshot.body.model import BodyModel
    from services.dataset.engine import export_dataset, options_with

    options = options_with(args.formats, args.persons, args.target_frames, 0.0, not args.no_previews)
    paths = {"video": args.video, "tracklets": args.tracklets, "keypoints": args.keypoints, "fits": args.fits}
    for name, path in paths.items():
        if not path.is_file():
            from mshot.errors import NotFound

            raise NotFound(f"{name} file not found: {path}")
    report = export_dataset(paths, args.out, BodyModel.from_file(args.body_model), options)
    for person, counts in report["summary"].items():
        print(f"person {person}: {counts['kept_train']} train, {counts['kept_val']} val, {counts['rejected']} rejected")
        for fmt, reason in counts["skipped_formats"].items():
            print(f"  {fmt} not written: {reason}")
    print(f"wrote {args.out}/ (report.json, person_*/manifest.csv)")
    return 0
