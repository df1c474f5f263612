"""Load an mshot export with an upstream avatar project's own dataset code, as a user would, and report whether
it loads and yields items per split, and the fraction of the projected SMPL vertices inside the person's mask.

    python scripts/check_upstream_loaders.py --format vid2avatar --upstream CHECKOUT --python VENV/bin/python \
        --export DATASET_DIR --body-model SMPL_NEUTRAL.pkl [--items 3] [--json out.json]

Fetches nothing: CHECKOUT is a checkout of the project (humannerf: chungyiweng/humannerf, neuralbody and
neuralbody_monocular: zju3dv/neuralbody, easymocap: zju3dv/EasyMocap, instantavatar: tijiang13/InstantAvatar,
gart: JiahuiLei/GART, vid2avatar: MoyGcc/vid2avatar), VENV an environment with its dependencies (CPU torch is
enough) and smplx. The checkout is not modified: each run works in a temporary tree of links to it, with the
export linked where the project expects its data. The probes (scripts/upstream_probes/probe_<format>.py) call
the project's
loaders and rebuild the body from what they return; the figure says where those bodies land.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROBES = Path(__file__).resolve().parent / "upstream_probes"
SUBFOLDER = {"humannerf": "humannerf", "neuralbody": "neuralbody", "neuralbody_monocular": "neuralbody_monocular",
             "easymocap": "easymocap", "instantavatar": "instantavatar", "gart": "instantavatar",
             "vid2avatar": "vid2avatar"}


def _tree(checkout: Path, where: Path) -> Path:
    """A tree of links to the checkout's files (real folders), so links to the data can be added."""
    return Path(shutil.copytree(checkout, where / "tree", copy_function=os.symlink, symlinks=True,
                                ignore=shutil.ignore_patterns(".git")))


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.symlink_to(target.resolve())


def _stage(fmt: str, unit: Path, split: str, checkout: Path, body_model: Path, work: Path) -> tuple[Path, Path]:
    """(working directory, data path) for one probe run."""
    tree = _tree(checkout, work)
    if fmt == "humannerf":
        source = unit if split == "train" else unit.with_name("humannerf_val")
        data = tree / "dataset" / "wild" / "monocular"
        data.mkdir(parents=True)
        for name in ("images", "masks", "metadata.json"):
            _link(source / name, data / name)
        _link(body_model, tree / "third_parties/smpl/models/basicModel_neutral_lbs_10_207_0_v1.0.0.pkl")
        return tree, data
    if fmt in ("neuralbody", "neuralbody_monocular"):
        name = "mshot" if fmt == "neuralbody" else "mshot_monocular"
        _link(unit, tree / "data" / name)
        _link(unit / f"mshot_{fmt}.yaml", tree / "configs" / f"mshot_{fmt}.yaml")
        return tree, tree / "data" / name
    if fmt == "vid2avatar":  # its loader reads ../data/<metainfo.data_dir> from code/
        (name,) = [line.split(":", 1)[1].strip().strip("/") for line in
                   (unit / "mshot_vid2avatar.yaml").read_text().splitlines() if line.strip().startswith("data_dir")]
        _link(unit, tree / "data" / name)
        return tree / "code", tree / "data" / name
    return tree, unit


def _units(fmt: str, export: Path) -> list[tuple[str, Path]]:
    units = []
    for person in sorted(export.glob("person_*")):
        folder = person / SUBFOLDER[fmt]
        if fmt in ("instantavatar", "gart"):
            units += [(f"{person.name}/{shot.name}", shot) for shot in sorted(folder.glob("shot_*"))]
        elif folder.is_dir():
            units.append((person.name, folder))
    return units


def _skipped(fmt: str, export: Path) -> list[tuple[str, str]]:
    """(person, reason) for persons the export wrote no such folder for (person_NNN/formats.csv)."""
    out = []
    for person in sorted(export.glob("person_*")):
        listing = person / "formats.csv"
        if listing.is_file():
            with open(listing) as f:
                for row in csv.DictReader(f):
                    if row["format"] == SUBFOLDER[fmt] and row["written"] == "no":
                        out.append((person.name, row["reason"]))
    return out


def probe(fmt: str, unit: Path, split: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="mshot-upstream-") as work:
        cwd, data = _stage(fmt, unit, split, args.upstream, args.body_model, Path(work))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROBES), str(cwd), str(cwd.parent)]),
               "MSHOT_PROBE": json.dumps({"split": split, "data": str(data), "items": args.items,
                                          "body_model": str(args.body_model.resolve())})}
        run = subprocess.run([str(args.python), str(PROBES / f"probe_{fmt}.py")], cwd=cwd, env=env, capture_output=True,
                             text=True, timeout=args.timeout)
    lines = [line for line in run.stdout.splitlines() if line.startswith("MSHOT_RESULT ")]
    if run.returncode or not lines:
        if args.verbose:
            print(run.stderr, file=sys.stderr)
        error = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return {"loads": False, "error": error[:300]}
    result = json.loads(lines[-1].split(" ", 1)[1])
    inside = result["inside"]
    return {"loads": True, "items": result["items"], "inside": sum(inside) / len(inside) if inside else None,
            "note": result["note"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, choices=sorted(SUBFOLDER))
    parser.add_argument("--upstream", type=Path, required=True, help="checkout of the upstream project")
    parser.add_argument("--python", type=Path, required=True, help="interpreter of a venv with its dependencies")
    parser.add_argument("--export", type=Path, required=True, help="an mshot dataset folder (person_NNN/...)")
    parser.add_argument("--body-model", type=Path, required=True, help="the SMPL .pkl the export was made with")
    parser.add_argument("--items", type=int, default=3, help="items fetched (and measured) per split")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per probe run")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--verbose", action="store_true", help="print a failing probe's whole error output")
    args = parser.parse_args(argv)
    for path in (args.upstream, args.export):
        if not path.is_dir():
            print(f"check_upstream_loaders: not a folder: {path}", file=sys.stderr)
            return 2
    rows = []
    splits = ["all"] if args.format == "easymocap" else ["train", "val"]
    for name, unit in _units(args.format, args.export):
        for split in splits:
            rows.append({"format": args.format, "unit": name, "split": split,
                         **probe(args.format, unit, split, args)})
            row = rows[-1]
            figure = f"{row['inside']:.1%}" if row.get("inside") is not None else "-"
            status = f"loads, {row['items']} items" if row["loads"] else f"FAILS: {row['error']}"
            print(f"| {args.format} | {name} | {split} | {status} | {figure} | {row.get('note', '')} |", flush=True)
    for person, reason in _skipped(args.format, args.export):
        rows.append({"format": args.format, "unit": person, "split": "-", "loads": None, "skipped": reason})
        print(f"| {args.format} | {person} | - | not exported: {reason} | - | |")
    loaded = [r for r in rows if r["loads"]]
    figures = [r["inside"] for r in loaded if r.get("inside") is not None]
    tested = [r for r in rows if r["loads"] is not None]
    mean = f"{sum(figures) / len(figures):.1%}" if figures else "-"
    print(f"{args.format}: {len(loaded)}/{len(tested)} split loads succeed; mean vertices inside mask {mean}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if len(loaded) == len(tested) else 1


if __name__ == "__main__":
    sys.exit(main())
