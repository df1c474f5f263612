"""Multishot benchmark: `python -m bench.multishot [--quick] [--sizes 100,300,...]`.

Prints accuracy of the initial estimates and of the fit on a synthetic multi-shot tracklet (150 frames,
3 shots, 3 px noise, 12 % dropout, outliers, an occluded-legs shot, invalid frames), then seconds per frame
and peak memory for growing tracklets. Uses a generated SMPL-format body model (not SMPL)."""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench import metrics3d
from bench.synth_multishot import FOCAL, HEIGHT, WIDTH, SynthOptions, generate
from mshot.body.generate import write_generated_smpl_model
from mshot.body.joint_maps import body25_joints
from mshot.body.model import BodyModel
from mshot.geometry.camera import project
from services.multishot.fit import FitOptions, fit_tracklets
from services.multishot.kinematics import SparseSmplJoints


def evaluate(model, data, orient, pose, betas, transl) -> dict:
    truth = data["truth"]
    pred = metrics3d.smpl_joints(model, orient, pose, betas, transl)
    true = data["joints"]
    rows = data["tracklets"]
    segment = rows["person_id"] * 10_000 + rows["shot_id"]
    px = project(body25_joints(pred), FOCAL, np.array([WIDTH / 2, HEIGHT / 2]))
    person_betas = [betas[rows["person_id"] == p] for p in np.unique(rows["person_id"])]
    return {
        "MPJPE mm": metrics3d.mpjpe_mm(pred[:, :24], true[:, :24]),
        "PA-MPJPE mm": metrics3d.pa_mpjpe_mm(pred[:, :24], true[:, :24]),
        "pelvis mm": metrics3d.pelvis_error_mm(pred, true),
        "accel mm/f^2": metrics3d.acceleration_error_mm(pred[:, :24], true[:, :24], segment),
        "2D px": metrics3d.error_2d_px(px, data["clean_keypoints"]),
        "betas spread": float(np.mean([b.std(0).mean() for b in person_betas])),
        "betas err": float(np.abs(betas - truth["betas"]).mean()),
    }


def run_fit(joints_model, data, threads: int) -> tuple:
    torch.set_num_threads(threads)
    started = time.perf_counter()
    result = fit_tracklets(data["tracklets"], data["keypoints"], joints_model, FitOptions(device="cpu"))
    seconds = time.perf_counter() - started
    return result, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.multishot")
    parser.add_argument("--quick", action="store_true", help="accuracy table and sizes 100, 300 only")
    parser.add_argument("--sizes", default="100,300,1000,3000")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        model = BodyModel.from_file(write_generated_smpl_model(Path(tmp) / "model.pkl"))
    joints_model = SparseSmplJoints.from_body_model(model)

    data = generate(model, SynthOptions())
    result, seconds = run_fit(joints_model, data, args.threads)
    rows = data["tracklets"]
    initial = evaluate(model, data, rows["global_orient"], rows["body_pose"], rows["betas"], rows["transl"])
    fitted = evaluate(model, data, result.global_orient, result.body_pose, result.person_betas(), result.transl)
    print(f"multishot benchmark: {len(rows['person_id'])} frames at {SynthOptions.fps:g} fps, 3 shots, 3 px noise, "
          f"12% dropout, 2% outliers, occluded legs in shot 1, 3% invalid frames; generated body model; "
          f"{args.threads} threads")
    print(f"{'metric':<16}{'initial':>12}{'fit':>12}")
    for key in initial:
        print(f"{key:<16}{initial[key]:>12.2f}{fitted[key]:>12.2f}")
    stats = result.stats
    print(f"fit: {seconds:.2f} s = {seconds / len(rows['person_id']):.4f} s/frame; loss evaluations: "
          f"torso {stats['torso']['evaluations']}, body {stats['body']['evaluations']}, "
          f"refine {stats['refine']['evaluations']}; outliers gated {stats['outliers_gated']}")
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 300]
    print(f"\n{'frames':>8}{'seconds':>10}{'s/frame':>10}{'peak RSS MiB':>14}")
    for size in sizes:
        data = generate(model, SynthOptions(frames=size, shots=max(3, size // 100), seed=1))
        _, seconds = run_fit(joints_model, data, args.threads)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>8}{seconds:>10.2f}{seconds / size:>10.4f}{peak:>14.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
