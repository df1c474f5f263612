"""Limbs the wrong way round in depth, counted against a rendered video's ground truth:
`python -m bench.limb_depth [VIDEO_DIR] --keep DIR` (DIR: the stage outputs `python -m bench.video3d VIDEO_DIR
--keep DIR` left there: tracklets, keypoints with world landmarks, fits).

A limb bone mirrored in depth (its component along the viewing ray negated) projects to almost the same 2D, so
its depth sign is what a per-frame 3D estimate can get wrong without the 2D noticing. Per limb bone (upper arms,
forearms, thighs, shins), over the scored rows (matched to the truth as bench/scoring3d.py says), for the BlazePose
landmark directions as the fit sees them (services/multishot/fit.py with_landmarks: ray-rotated, turned to the
image's up, averaged in time) and for the fitted body (fits.npz valid rows), camera frame:
- rows: rows where the bone is usable (landmarks: weight > 0; fit: every scored row);
- wrong way: rows whose mirrored bone is nearer the truth's by more than WRONG_WAY_DEG;
- angle: mean angle to the truth's bone, degrees;
- sign ceiling: the mean angle if every row took the nearer of the bone and its mirror (what a perfect choice of
  depth sign per row would leave). The viewing ray is the one through the true MidHip."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.ground_truth import load_ground_truth
from bench.scoring3d import SCORED_JOINTS, match_rows
from bench.stages import kept_outputs
from bench.video3d import DEFAULT_DIR, body25_camera_joints, find_inputs, fit_table
from mshot.body.blazepose_smpl import BONES
from mshot.body.joint_maps import BODY25_NAMES, MIDHIP_BODY25

WRONG_WAY_DEG = 10.0
# Limb bones: (BONES index, BODY_25 start joint, BODY_25 end joint).
_BODY25_OF = {"left_shoulder": "LShoulder", "left_elbow": "LElbow", "left_wrist": "LWrist",
              "right_shoulder": "RShoulder", "right_elbow": "RElbow", "right_wrist": "RWrist",
              "left_hip": "LHip", "left_knee": "LKnee", "left_ankle": "LAnkle",
              "right_hip": "RHip", "right_knee": "RKnee", "right_ankle": "RAnkle"}
LIMB_BONES = tuple((b, BODY25_NAMES.index(_BODY25_OF[start]), BODY25_NAMES.index(_BODY25_OF[end]))
                   for b, (start, end) in enumerate(BONES) if end.endswith(("elbow", "wrist", "knee", "ankle")))


def unit(vectors: np.ndarray) -> np.ndarray:
    """(..., 3) vectors -> (..., 3) unit vectors (zero vectors stay ~zero)."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def mirrored_in_depth(directions: np.ndarray, rays: np.ndarray) -> np.ndarray:
    """(..., 3) directions, (..., 3) unit viewing rays -> (..., 3) the directions with their component along the
    ray negated (the mirror image in depth)."""
    return directions - 2.0 * (directions * rays).sum(-1, keepdims=True) * rays


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3) unit vectors -> (...,) angle between them, degrees."""
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1.0, 1.0)))


def limb_figures(directions: np.ndarray, truth: np.ndarray, rays: np.ndarray, usable: np.ndarray) -> dict:
    """directions, truth (N, 3) unit bone directions, rays (N, 3) unit, usable (N,) bool -> rows, wrong_way,
    angle_deg (mean), sign_ceiling_deg (mean of the nearer of the bone and its mirror), over the usable rows."""
    kept = angle_deg(directions, truth)[usable]
    mirrored = angle_deg(unit(mirrored_in_depth(directions, rays)), truth)[usable]
    if not usable.any():
        return {"rows": 0, "wrong_way": 0, "angle_deg": float("nan"), "sign_ceiling_deg": float("nan")}
    return {"rows": int(usable.sum()), "wrong_way": int((mirrored + WRONG_WAY_DEG < kept).sum()),
            "angle_deg": float(kept.mean()), "sign_ceiling_deg": float(np.minimum(kept, mirrored).mean())}


def landmark_limbs(tracklets: dict, keypoints: dict, model) -> tuple[np.ndarray, np.ndarray]:
    """The landmark directions the fit uses -> ((M, L, 3) limb bone directions, camera frame, (M, L) usable),
    LIMB_BONES order."""
    from services.multishot.fit import FitOptions, with_landmarks
    from services.multishot.kinematics import SparseSmplJoints

    body25 = np.asarray(keypoints["keypoints_body25"], dtype=np.float32)
    options = FitOptions(landmark_init=False)  # the targets only
    _, targets, _ = with_landmarks(tracklets, body25, keypoints["world_landmarks"],
                                   SparseSmplJoints.from_body_model(model), options)
    bones = [b for b, _, _ in LIMB_BONES]
    return targets.directions[:, bones].astype(np.float64), targets.weights[:, bones] > 0


def joint_limbs(joints_body25: np.ndarray) -> np.ndarray:
    """(N, 25, 3) BODY_25 points -> (N, L, 3) unit limb bone directions, LIMB_BONES order."""
    return unit(np.stack([joints_body25[:, end] - joints_body25[:, start] for _, start, end in LIMB_BONES], 1))


def tables(work: Path, gt) -> dict[str, list[dict]]:
    """Per source ("landmarks", "fit"), one figures dict per limb bone (limb_figures, plus its name)."""
    from mshot.artifacts.fits import load_fits
    from mshot.artifacts.keypoints import load_keypoints
    from mshot.artifacts.tracklets import load_tracklets
    from mshot.body.model import BodyModel

    kept = kept_outputs(work)
    missing = [name for name in ("tracklets", "keypoints", "fits") if name not in kept]
    if missing:
        raise SystemExit(f"bench.limb_depth: {work} lacks {', '.join(missing)}: run bench.video3d with --keep first")
    tracklets, keypoints = dict(load_tracklets(kept["tracklets"])), load_keypoints(kept["keypoints"])
    if "world_landmarks" not in keypoints:
        raise SystemExit(f"bench.limb_depth: {kept['keypoints']} has no world_landmarks")
    model = BodyModel.from_file(work / "model.pkl")
    names = [f"{BONES[b][0]} -> {BONES[b][1]}" for b, _, _ in LIMB_BONES]
    out = {}
    matched = match_rows(tracklets, gt)
    truth = gt.joints3d_cam_body25[matched.gt_row]
    directions, usable = landmark_limbs(tracklets, keypoints, model)
    out["landmarks"] = per_bone(directions[matched.pred_row], usable[matched.pred_row], truth, names)
    fits = fit_table(load_fits(kept["fits"]), tracklets)
    matched = match_rows(fits, gt)
    take = lambda key: np.asarray(fits[key])[matched.pred_row]  # noqa: E731
    scored = body25_camera_joints(model, take("global_orient"), take("body_pose"), take("betas"), take("transl"))
    joints = np.zeros((len(scored), 25, 3))
    joints[:, list(SCORED_JOINTS)] = scored
    out["fit"] = per_bone(joint_limbs(joints), np.ones((len(joints), len(LIMB_BONES)), bool),
                          gt.joints3d_cam_body25[matched.gt_row], names)
    return out


def per_bone(directions: np.ndarray, usable: np.ndarray, truth_body25: np.ndarray, names: list[str]) -> list[dict]:
    """(N, L, 3) directions, (N, L) usable, (N, 25, 3) true BODY_25 joints -> one limb_figures dict per bone."""
    truth, rays = joint_limbs(truth_body25), unit(truth_body25[:, MIDHIP_BODY25])
    return [{"bone": name, **limb_figures(directions[:, k], truth[:, k], rays, usable[:, k])}
            for k, name in enumerate(names)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.limb_depth", description=__doc__.split("\n\n")[0])
    parser.add_argument("video_dir", type=Path, nargs="?", default=DEFAULT_DIR)
    parser.add_argument("--keep", type=Path, required=True, help="the folder bench.video3d --keep filled")
    args = parser.parse_args(argv)
    _, truth = find_inputs(args.video_dir)
    result = tables(args.keep, load_ground_truth(truth))
    print(f"limbs the wrong way round in depth on {args.video_dir} (wrong way: the mirror is > {WRONG_WAY_DEG:g} "
          "degrees nearer the truth; angles in degrees)")
    print(f"{'':<30}{'landmarks':>36}{'fit':>36}")
    print(f"{'bone':<30}" + "".join(f"{h:>9}" for h in ("rows", "wrong", "angle", "ceiling") * 2))
    for landmark, fit in zip(result["landmarks"], result["fit"], strict=True):
        cells = [cell for row in (landmark, fit) for cell in (
            f"{row['rows']:d}", f"{row['wrong_way']:d}", f"{row['angle_deg']:.1f}", f"{row['sign_ceiling_deg']:.1f}")]
        print(f"{landmark['bone']:<30}" + "".join(f"{c:>9}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
