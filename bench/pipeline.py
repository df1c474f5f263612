"""Stage throughput on the sample video (real footage, 640x360, 3 shots): `python -m bench.pipeline VIDEO`.

Runs the tracking, keypoints, multishot and dataset engines in turn (as `mshot run` does, minus gRPC) and
prints frames per second per stage plus what each found."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mshot.body.generate import write_generated_smpl_model
from mshot.video import probe_video


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.pipeline")
    parser.add_argument("video", type=Path, nargs="?", default=Path("data/sample/multishot_sample.mp4"))
    args = parser.parse_args(argv)
    from services.dataset.engine import DatasetEngine, DatasetSettings, options_with
    from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings
    from services.multishot.engine import MultishotEngine, MultishotOptions, MultishotSettings
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    frames = probe_video(args.video).num_frames
    quiet = lambda fraction, message="": None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = str(write_generated_smpl_model(work / "model.pkl"))
        stages = [
            ("tracking", lambda: TrackingEngine(TrackingSettings("cpu", "cpu", model)), TrackingOptions(),
             lambda: {"video": args.video}),
            ("keypoints", lambda: KeypointsEngine(KeypointsSettings()), KeypointsOptions(),
             lambda: {"video": args.video, "tracklets": outputs["tracklets"]}),
            ("multishot", lambda: MultishotEngine(MultishotSettings(model)), MultishotOptions(),
             lambda: {"tracklets": outputs["tracklets"], "keypoints": outputs["keypoints"]}),
            ("dataset", lambda: DatasetEngine(DatasetSettings(model)), options_with(),
             lambda: {"video": args.video, **outputs}),
        ]
        outputs: dict[str, Path] = {}
        print(f"pipeline benchmark on {args.video} ({frames} frames), CPU backends, generated body model")
        print(f"{'stage':<10}{'load s':>8}{'run s':>8}{'frames/s':>10}  result")
        for name, build, options, inputs in stages:
            started = time.perf_counter()
            engine = build()
            loaded = time.perf_counter()
            stage_dir = work / name
            stage_dir.mkdir()
            produced = engine.run(inputs(), options, stage_dir, quiet)
            ran = time.perf_counter() - loaded
            outputs.update({k: v for k, v in produced.outputs.items() if k != "report"})
            outputs.pop("dataset", None)
            summary = produced.summary
            print(f"{name:<10}{loaded - started:>8.1f}{ran:>8.1f}{frames / ran:>10.2f}  {str(summary)[:100]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
