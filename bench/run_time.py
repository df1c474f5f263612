"""Wall time of `mshot run` (all stages on this machine, gRPC on loopback) per stage and in total:
`python -m bench.run_time [VIDEO] [--repeat N]` (default tests/data/gt_video/gt_video.mp4, generated body model,
a fresh store each time). Minutes per run on a shared 2-core machine, so not part of `make bench`; to compare
two checkouts, run it in each, alternating, under the same load (the figures vary with it)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mshot.body.generate import write_generated_smpl_model

STAGE_LINE = re.compile(r"^(\w+)\s+done\s+(\d+) s", re.M)


def run_once(video: Path, work: Path, model: Path) -> tuple[dict[str, int], float]:
    """({stage or 'overlay': seconds as printed}, total wall seconds) of one `mshot run`."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "mshot_main", "run", str(video), "--out", str(work / "out"),
                           "--store", str(work / "store"), "--body-model", str(model)],
                          capture_output=True, text=True, check=False)
    total = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"mshot run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return {m.group(1): int(m.group(2)) for m in STAGE_LINE.finditer(done.stdout + done.stderr)}, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run_time")
    parser.add_argument("video", type=Path, nargs="?", default=Path("tests/data/gt_video/gt_video.mp4"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    names = ("tracking", "keypoints", "multishot", "dataset", "overlay")
    print(f"mshot run on {args.video}, generated body model; seconds (overlay runs beside the dataset stage)")
    print("".join(f"{n:>10}" for n in (*names, "total")))
    with tempfile.TemporaryDirectory() as tmp:
        model = write_generated_smpl_model(Path(tmp) / "model.pkl")
        for n in range(args.repeat):
            work = Path(tmp) / f"run{n}"
            stages, total = run_once(args.video, work, model)
            print("".join(f"{stages.get(name, ''):>10}" for name in names) + f"{total:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
