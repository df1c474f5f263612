"""Stage throughput on the sample video (real footage, 640x360, 3 shots): `python -m bench.pipeline VIDEO`.

Runs the tracking, keypoints, multishot and dataset engines in turn (as `mshot run` does, minus gRPC) and
prints frames per second per stage plus what each found."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mshot.body.generate import write_generated_smpl_model
from mshot.video import probe_video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.pipeline")
    parser.add_argument("video", type=Path, nargs="?", default=Path("data/sample/multishot_sample.mp4"))
    args = parser.parse_args(argv)
    from bench.stages import run_stages

    frames = probe_video(args.video).num_frames
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = str(write_generated_smpl_model(work / "model.pkl"))
        print(f"pipeline benchmark on {args.video} ({frames} frames), CPU backends, generated body model")
        print(f"{'stage':<10}{'load s':>8}{'run s':>8}{'frames/s':>10}  result")
        run_stages(args.video, work, model, on_stage=lambda run: print(
            f"{run.name:<10}{run.load_s:>8.1f}{run.run_s:>8.1f}{frames / run.run_s:>10.2f}  {str(run.summary)[:100]}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
