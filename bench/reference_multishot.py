"""Side by side with the multishot reference (geopavlakos/multishot): an optional benchmark, not run by make test.

`python -m bench.reference_multishot --reference-dir /work/ref/multishot --reference-python /work/venvs/ref/bin/python`

Makes the standard synthetic tracklet of bench/multishot.py (150 frames, 3 shots, 3 px noise, 12% dropout, ...),
writes it as the reference's per-person input npz, runs the reference optimiser (`optimization/main.py` of a
user-supplied checkout, with its own Python and its own `fit_smpl.yaml`) on a generated SMPL-format model and a
generated gmm_08.pkl (the fallback prior our optimiser uses, see pose_prior.fallback_prior_as_gmm), reads its
results back and scores them, and our optimiser on the same input, with the metrics of bench/multishot.py.

Glue only; no reference code here. Conventions bridged (docs/conventions.md for ours):
- camera: the reference's camera translation t is our `transl` (both: joints = J(pose, betas) + t, OpenCV axes,
  principal point at the image centre; the reference keeps the camera rotation at identity);
- focal: the reference assumes `cam_trans` was made for focal 5000 px and multiplies all three components by
  focal_length / 5000 when it loads them; we pass our focal as `--focal_length` and store cam_trans = transl *
  5000 / focal, so it loads exactly our initial translation (the file is thus an input for that focal, not 5000);
- frames: every frame has a regressor estimate, so `valid` = 1 everywhere (frames without keypoints fall back on
  the reference's own rule: torso points from `pred_torso`); `shot` holds our shot ids (the reference ignores it);
- MidHip: the keypoints both optimisers get put BODY_25 MidHip at the middle of the hips (as OpenPose does; ours
  model it so, mshot.body.joint_maps.body25_joints), while the reference maps it to SMPL's pelvis joint
  (BODY25_TO_SMPLX45, as SMPLify-X): each side fits with its own convention, and the glue check and the reference's
  `pred_torso` (hips and shoulders only) use the reference's. The 3D figures score SMPL's 24 joints, the same for
  both; the 2D figure projects BODY_25 points with our convention.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bench.multishot import evaluate, run_fit
from bench.synth_multishot import SynthOptions, generate
from mshot.body.generate import write_generated_smpl_model
from mshot.body.joint_maps import BODY25_TO_SMPLX45
from mshot.body.model import BodyModel
from mshot.errors import FailedPrecondition, InvalidInput, MshotError, NotFound
from mshot.geometry.camera import project
from mshot.npzio import load_npz, require_keys, require_shape
from services.multishot.kinematics import SparseSmplJoints
from services.multishot.pose_prior import fallback_prior_as_gmm, write_gmm_pose_prior
from services.multishot.reference_npz import REFERENCE_FOCAL_PX  # the focal of the reference's cam_trans

TORSO_BODY25 = (9, 12, 2, 5)  # the reference's pred_torso order: right hip, left hip, right shoulder, left shoulder
COLLECT_SCRIPT = Path(__file__).with_name("reference_multishot_collect.py")


def reference_inputs(model, data: dict) -> list[dict[str, np.ndarray]]:
    """One reference input dict per person (the keys of its npz), from a bench.synth_multishot sample."""
    rows, keypoints = data["tracklets"], data["keypoints"]
    focal = np.unique(rows["focal_px"])
    if len(focal) != 1:
        raise InvalidInput(f"the reference takes one focal length per run; the tracklet has {focal}")
    height, width = (int(v) for v in rows["image_size"])
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        init_joints = model(t(rows["global_orient"]), t(rows["body_pose"]), t(rows["betas"]),
                            t(rows["transl"])).joints.numpy()
    init_px = project(init_joints[:, list(BODY25_TO_SMPLX45)], focal[0], rows["principal_px"])
    persons = []
    for person in np.unique(rows["person_id"]):
        idx = np.flatnonzero(rows["person_id"] == person)
        lo, hi = init_px[idx].min(1), init_px[idx].max(1)
        n = len(idx)
        persons.append({
            "pred_aa": np.concatenate([rows["global_orient"][idx], rows["body_pose"][idx]], 1).astype(np.float64),
            "pred_betas": rows["betas"][idx].astype(np.float64),
            "cam_trans": rows["transl"][idx].astype(np.float64) * REFERENCE_FOCAL_PX / focal[0],
            "pred_torso": init_px[idx][:, list(TORSO_BODY25)],
            "imgname": np.array([f"synthetic/{f:06d}.jpg" for f in rows["frame_index"][idx]]),
            "center": (lo + hi) / 2, "scale": (hi - lo).max(1) / 200.0,
            "width": np.full(n, width), "height": np.full(n, height),
            "seqname": np.full(n, f"synthetic_person{person}"), "valid": np.ones(n, np.int64),
            "shot": rows["shot_id"][idx].astype(np.int64), "body_keypoints": keypoints[idx].astype(np.float64),
        })
    return persons


def run_reference(reference_dir: Path, python: Path, npz: Path, work: Path, focal_px: float, threads: int,
                  batch_size: int = 16) -> tuple[dict[str, np.ndarray], float, float]:
    """Run the reference's optimisation/main.py on one person's npz; returns its results, wall seconds and CPU
    seconds (user + system of the child: a fairer figure than wall time on a shared machine).
    `work` must hold models/smpl/SMPL_NEUTRAL.pkl and priors/gmm_08.pkl."""
    main_py, config = reference_dir / "optimization" / "main.py", reference_dir / "optimization" / "fit_smpl.yaml"
    for path in (main_py, config):
        if not path.is_file():
            raise NotFound(f"reference checkout {reference_dir} lacks {path.relative_to(reference_dir)}")
    if not python.is_file():
        raise NotFound(f"reference python not found: {python}")
    out = work / f"out_{npz.stem}"
    command = [str(python), str(main_py), "--config", str(config), "--batch_size", str(batch_size), "--npz", str(npz),
               "--output_folder", str(out), "--model_folder", str(work / "models"),
               "--prior_folder", str(work / "priors"), "--use_cuda", "false", "--focal_length", str(focal_px)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONWARNINGS="ignore")
    log = work / f"{npz.stem}.log"
    started, cpu_before = time.perf_counter(), _children_cpu_seconds()
    with open(log, "w") as f:
        code = subprocess.call(command, cwd=reference_dir, stdout=f, stderr=subprocess.STDOUT, env=env)
    seconds, cpu_seconds = time.perf_counter() - started, _children_cpu_seconds() - cpu_before
    if code != 0:
        tail = log.read_text().strip().splitlines()[-5:]
        raise FailedPrecondition(f"the reference exited with {code} (log {log}): " + " | ".join(tail))
    collected = work / f"{npz.stem}_results.npz"
    code = subprocess.call([str(python), str(COLLECT_SCRIPT), str(out / "results"), str(collected)])
    if code != 0:
        raise FailedPrecondition(f"collecting the reference's results in {out / 'results'} failed ({code})")
    return load_npz(collected, "reference results"), seconds, cpu_seconds


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reference_as_ours(results: dict[str, np.ndarray], count: int, path: str) -> dict[str, np.ndarray]:
    """The reference's results as our per-frame parameters (camera rotation must be the identity)."""
    require_keys(results, ["global_orient", "body_pose", "betas", "camera_translation", "camera_rotation"],
                 "reference results", path)
    for key, shape in (("global_orient", (count, 3)), ("body_pose", (count, 69)), ("betas", (count, 10)),
                       ("camera_translation", (count, 3)), ("camera_rotation", (count, 3, 3))):
        require_shape(results[key], shape, key, "reference results", path)
    if not np.allclose(results["camera_rotation"], np.eye(3), atol=1e-6):
        raise InvalidInput(f"reference results {path}: camera rotation is not the identity")
    return {"orient": results["global_orient"], "pose": results["body_pose"], "betas": results["betas"],
            "transl": results["camera_translation"]}


def projection_mismatch_px(model, results: dict[str, np.ndarray], focal_px: float, principal_px) -> float:
    """Largest distance (px) between the reference's own projected keypoints and our projection of its output
    parameters: ~0 when body model, joint map, camera and focal are bridged correctly."""
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        joints = model(t(results["global_orient"]), t(results["body_pose"]), t(results["betas"]),
                       t(results["camera_translation"])).joints.numpy()
    ours = project(joints[:, list(BODY25_TO_SMPLX45)], focal_px, principal_px)
    return float(np.abs(ours - results["projected_joints"]).max())


def compare(args) -> None:
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="mshot_refbench_"))
    model_path = write_generated_smpl_model(work / "models" / "smpl" / "SMPL_NEUTRAL.pkl")
    write_gmm_pose_prior(work / "priors" / "gmm_08.pkl", fallback_prior_as_gmm(8))
    model = BodyModel.from_file(model_path)
    if args.clean:
        options = SynthOptions(frames=args.frames, seed=args.seed, fps=args.fps, noise_px=0.0, dropout=0.0,
                               outlier_fraction=0.0, invalid_fraction=0.0, occluded_legs_shot=-1)
    else:
        options = SynthOptions(frames=args.frames, seed=args.seed, fps=args.fps)
    data = generate(model, options)
    rows = data["tracklets"]
    if args.clean:  # start both optimisers at the ground truth: what the objective alone does to it
        rows.update({key: data["truth"][key] for key in ("global_orient", "body_pose", "betas", "transl")})
    focal = float(rows["focal_px"][0])
    parts, ref_seconds, ref_cpu, glue_px = [], 0.0, 0.0, 0.0
    for person, arrays in zip(np.unique(rows["person_id"]), reference_inputs(model, data), strict=True):
        npz = work / f"person{person}.npz"
        np.savez(npz, **arrays)
        results, seconds, cpu_seconds = run_reference(Path(args.reference_dir), Path(args.reference_python), npz,
                                                      work, focal, args.reference_threads)
        parts.append(reference_as_ours(results, len(arrays["pred_aa"]), str(npz)))
        mismatch = projection_mismatch_px(model, results, focal, rows["principal_px"][0])
        if mismatch > 0.5:
            raise FailedPrecondition(f"glue check failed: the reference's projected keypoints differ from ours by "
                                     f"up to {mismatch:.2f} px for person {person}")
        glue_px = max(glue_px, mismatch)
        ref_seconds, ref_cpu = ref_seconds + seconds, ref_cpu + cpu_seconds
    ref = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    cpu_before = time.process_time()
    ours, our_seconds = run_fit(SparseSmplJoints.from_body_model(model), data, args.threads)
    our_cpu = time.process_time() - cpu_before
    count = len(rows["person_id"])
    table = {
        "initial": evaluate(model, data, rows["global_orient"], rows["body_pose"], rows["betas"], rows["transl"]),
        "reference": evaluate(model, data, ref["orient"], ref["pose"], ref["betas"], ref["transl"]),
        "ours": evaluate(model, data, ours.global_orient, ours.body_pose, ours.person_betas(), ours.transl),
    }
    table["reference"]["s/frame"], table["ours"]["s/frame"] = ref_seconds / count, our_seconds / count
    table["reference"]["CPU s/frame"], table["ours"]["CPU s/frame"] = ref_cpu / count, our_cpu / count
    setting = ("clean keypoints, ground truth as initial estimates" if args.clean else "3 px noise, 12% dropout, "
               "2% outliers, occluded legs in shot 1, 3% invalid frames")
    print(f"reference vs ours: {count} frames at {args.fps:g} fps, 3 shots, {setting}; focal {focal:.0f} px; "
          f"generated body model, fallback prior (as gmm_08 for the reference); reference "
          f"{args.reference_threads} thread(s), ours {args.threads}; work dir {work}; glue check: the reference's own "
          f"projected keypoints match ours to {glue_px:.1e} px")
    print_table(table)


def print_table(table: dict[str, dict[str, float]]) -> None:
    """Columns initial, reference, ours and the ratio ours / reference."""
    print(f"{'metric':<16}" + "".join(f"{name:>12}" for name in table) + f"{'ours/ref':>10}")
    for key in table["reference"]:
        values = [table[name].get(key, float("nan")) for name in table]
        ratio = values[2] / values[1] if values[1] else float("nan")
        print(f"{key:<16}" + "".join(f"{v:>12.3f}" if "s/frame" in key else f"{v:>12.2f}" for v in values)
              + f"{ratio:>10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.reference_multishot", description=__doc__.splitlines()[0])
    parser.add_argument("--reference-dir", required=True, help="checkout of geopavlakos/multishot")
    parser.add_argument("--reference-python", required=True, help="python of a venv where the reference runs")
    parser.add_argument("--reference-threads", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for our optimiser")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, default=SynthOptions.fps, help="motion frame rate of the tracklet")
    parser.add_argument("--clean", action="store_true",
                        help="sanity check: clean keypoints and the ground truth as initial estimates")
    parser.add_argument("--work-dir", default=None, help="where inputs, logs and results go (default: a new temp dir)")
    args = parser.parse_args(argv)
    try:
        compare(args)
    except MshotError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
