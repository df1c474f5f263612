"""The four stage engines in `mshot run`'s order (tracking, keypoints, multishot, dataset), minus gRPC, with CPU
backends: shared by the benchmarks that run the whole pipeline (bench.pipeline, bench.video3d)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STAGE_NAMES = ("tracking", "keypoints", "multishot", "dataset")
OUTPUT_FILES = {"tracking": "tracklets.npz", "keypoints": "keypoints.npz", "multishot": "fits.npz"}


@dataclass(frozen=True)
class StageRun:
    name: str
    load_s: float  # building the engine (models loaded)
    run_s: float  # engine.run, wall seconds
    summary: dict


def _engines(model: str, focal_px: float = 0.0) -> dict[str, tuple[Callable, object, Callable[[dict], dict]]]:
    """name -> (engine factory, options, inputs from the outputs so far); `focal_px` the tracking stage's (px,
    0 = not given: max(H, W))."""
    from services.dataset.engine import DatasetEngine, DatasetSettings, options_with
    from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings
    from services.multishot.engine import MultishotEngine, MultishotOptions, MultishotSettings
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    return {
        "tracking": (lambda: TrackingEngine(TrackingSettings("cpu", "cpu", model)), TrackingOptions(focal_px=focal_px),
                     lambda out: {"video": out["video"]}),
        "keypoints": (lambda: KeypointsEngine(KeypointsSettings()), KeypointsOptions(),
                      lambda out: {"video": out["video"], "tracklets": out["tracklets"]}),
        "multishot": (lambda: MultishotEngine(MultishotSettings(model)), MultishotOptions(),
                      lambda out: {"tracklets": out["tracklets"], "keypoints": out["keypoints"]}),
        "dataset": (lambda: DatasetEngine(DatasetSettings(model)), options_with(),
                    lambda out: {k: out[k] for k in ("video", "tracklets", "keypoints", "fits")}),
    }


def kept_outputs(work: Path) -> dict[str, Path]:
    """Artifacts a previous run left in `work` (<stage>/<file>), by artifact name (tracklets, keypoints, fits)."""
    found = {}
    for stage, file in OUTPUT_FILES.items():
        if (work / stage / file).is_file():
            found[file.removesuffix(".npz")] = work / stage / file
    return found


def run_stages(video: Path, work: Path, model: str, stages: tuple[str, ...] = STAGE_NAMES,
               outputs: dict[str, Path] | None = None,
               on_stage: Callable[[StageRun], None] = lambda run: None,
               focal_px: float = 0.0) -> tuple[dict[str, Path], list[StageRun]]:
    """Run `stages` (in pipeline order) on `video`, each in work/<stage>/, feeding each the artifacts in
    `outputs` (earlier runs) and those the stages before it wrote; `on_stage` hears of each stage as it ends;
    `focal_px` the video's focal length for the tracker (0: not given). -> all artifact paths, one StageRun per
    stage."""
    outputs = {**(outputs or {}), "video": video}
    quiet = lambda fraction, message="": None  # noqa: E731
    runs = []
    engines = _engines(model, focal_px)
    for name in (s for s in STAGE_NAMES if s in stages):
        build, options, inputs = engines[name]
        started = time.perf_counter()
        engine = build()
        loaded = time.perf_counter()
        stage_dir = work / name
        stage_dir.mkdir(parents=True, exist_ok=True)
        produced = engine.run(inputs(outputs), options, stage_dir, quiet)
        ran = time.perf_counter() - loaded
        outputs.update({k: v for k, v in produced.outputs.items() if k != "report"})
        runs.append(StageRun(name, loaded - started, ran, produced.summary))
        on_stage(runs[-1])
    return outputs, runs
