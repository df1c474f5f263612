"""Keypoints stage accuracy and speed on the rendered ground-truth video:
`python -m bench.keypoints [--video V] [--gt GT.npz] [--tracklets T.npz] [--backend cpu] [--max-frames N]`.

Tracklets: the tracking stage's output when `--tracklets` is given, else built from the ground truth (GT boxes
and visible masks, every person-frame observed: this isolates the keypoints stage from tracking errors).
Each tracklet row is paired with the GT person-frame whose box overlaps it most in that frame (IoU >= 0.3,
one-to-one per frame; identical when the tracklets come from the GT).

Figures (rows = paired person-frames):
- PCK@0.1: fraction of GT-visible joints whose prediction is within 0.1 x person height (px; height = vertical
  extent of the person's 25 projected GT joints, visible or not); a joint with no prediction counts as a miss;
- median px error per joint group over GT-visible joints that were predicted (confidence > 0);
- association accuracy: among rows that received a detection, the fraction whose detection is closest (median
  joint distance over joints visible in GT and predicted) to the row's own GT person rather than to another
  person in that frame; also the fraction of GT-visible rows left without a detection;
- frames/s: frames with people / wall time of the engine run (models already loaded).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from bench.ground_truth import add_ground_truth_arguments, ground_truth_or_none, report

JOINT_GROUPS = {"head": (0, 15, 16, 17, 18), "torso": (1, 2, 5, 8, 9, 12), "arms": (3, 4, 6, 7),
                "legs": (10, 11, 13, 14), "feet": (19, 20, 21, 22, 23, 24)}
PAIR_MIN_IOU = 0.3


def person_height_px(gt_keypoints: np.ndarray) -> np.ndarray:
    """(N, 25, 3) GT keypoints -> (N,) vertical extent of all 25 projected joints, px."""
    return gt_keypoints[..., 1].max(1) - gt_keypoints[..., 1].min(1)


def pck(pred: np.ndarray, gt: np.ndarray, fraction: float = 0.1) -> float:
    """PCK over GT-visible joints: pred (N, 25, 3) with confidence 0 = missing, gt (N, 25, 3) third = visible."""
    visible = gt[..., 2] > 0
    error = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)
    hit = (pred[..., 2] > 0) & (error <= fraction * person_height_px(gt)[:, None])
    return float(hit[visible].mean()) if visible.any() else float("nan")


def median_error_by_group(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """Median px error per joint group over GT-visible, predicted joints (NaN when a group has none)."""
    error = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)
    usable = (gt[..., 2] > 0) & (pred[..., 2] > 0)
    out = {}
    for name, joints in {**JOINT_GROUPS, "all": tuple(range(25))}.items():
        values = error[:, joints][usable[:, joints]]
        out[name] = float(np.median(values)) if values.size else float("nan")
    return out


def fit_distance(pred: np.ndarray, gt: np.ndarray) -> float:
    """Median distance (px) between one prediction (25, 3) and one GT person (25, 3) over joints both have."""
    both = (pred[:, 2] > 0) & (gt[:, 2] > 0)
    return float(np.median(np.linalg.norm(pred[both, :2] - gt[both, :2], axis=-1))) if both.any() else np.inf


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) xyxy -> (N, M)."""
    x0, y0 = np.maximum(a[:, None, 0], b[None, :, 0]), np.maximum(a[:, None, 1], b[None, :, 1])
    x1, y1 = np.minimum(a[:, None, 2], b[None, :, 2]), np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def pair_rows(tracklets: dict, gt) -> np.ndarray:
    """(M,) index of the GT row paired with each tracklet row, -1 when none (per frame, Hungarian on box IoU)."""
    paired = np.full(len(tracklets["frame_index"]), -1, dtype=np.int64)
    for frame in np.unique(tracklets["frame_index"]):
        rows = np.flatnonzero(tracklets["frame_index"] == frame)
        gt_rows = np.flatnonzero(gt.frame_index == frame)
        if gt_rows.size == 0:
            continue
        iou = box_iou(tracklets["bbox_xyxy"][rows], gt.bbox_xyxy[gt_rows])
        for r, c in zip(*linear_sum_assignment(-iou), strict=True):
            if iou[r, c] >= PAIR_MIN_IOU:
                paired[rows[r]] = gt_rows[c]
    return paired


def association_figures(keypoints: dict, paired: np.ndarray, gt) -> dict[str, float]:
    """Right-person rate among rows with a detection, and the rate of GT-visible rows without one."""
    right = judged = missed = visible_rows = 0
    for row, gt_row in enumerate(paired):
        if gt_row < 0 or not (gt.keypoints_body25[gt_row, :, 2] > 0).any():
            continue
        visible_rows += 1
        pred = keypoints["keypoints_body25"][row]
        if keypoints["match_score"][row] <= 0:
            missed += 1
            continue
        candidates = np.flatnonzero(gt.frame_index == gt.frame_index[gt_row])
        distances = [fit_distance(pred, gt.keypoints_body25[c]) for c in candidates]
        if np.isfinite(min(distances)):
            judged += 1
            right += int(candidates[int(np.argmin(distances))] == gt_row)
    return {"association_accuracy": right / judged if judged else float("nan"), "rows_judged": judged,
            "rows_without_detection": missed / visible_rows if visible_rows else float("nan")}


def tracklets_from_ground_truth(gt, path: Path) -> Path:
    """Every GT person-frame as an observed tracklet row with its GT box and visible mask."""
    from mshot.artifacts.tracklets import save_tracklets

    m = len(gt.person_id)
    height, width = (int(v) for v in gt.image_size)
    return save_tracklets(path, {
        "source": "ground-truth", "image_size": gt.image_size, "fps": float(gt.fps), "num_frames": int(gt.num_frames),
        "frame_shot_id": gt.frame_shot_id, "mask_source": "segmentation", "person_id": gt.person_id,
        "frame_index": gt.frame_index, "time_s": gt.frame_index / float(gt.fps),
        "shot_id": gt.frame_shot_id[gt.frame_index], "observed": np.ones(m, bool), "bbox_xyxy": gt.bbox_xyxy,
        "det_conf": np.ones(m, np.float32), "mask_rle": gt.mask_rle, "global_orient": np.zeros((m, 3)),
        "body_pose": np.zeros((m, 69)), "betas": np.zeros((m, 10)), "transl": np.zeros((m, 3)),
        "focal_px": gt.camera_focal_px[gt.frame_index], "principal_px": np.tile([width / 2, height / 2], (m, 1))})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.keypoints", description=__doc__.splitlines()[0])
    add_ground_truth_arguments(parser)
    parser.add_argument("--tracklets", type=Path, default=None, help="tracking output (default: from the GT)")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "opencv-dnn", "openpose"])
    args = parser.parse_args(argv)
    gt = ground_truth_or_none(args.gt)
    if gt is None:
        return 2
    from mshot.artifacts.keypoints import load_keypoints
    from mshot.artifacts.tracklets import load_tracklets
    from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tracklets_path = args.tracklets or tracklets_from_ground_truth(gt, work / "tracklets.npz")
        tracklets = load_tracklets(tracklets_path)
        engine = KeypointsEngine(KeypointsSettings.from_env())
        options = KeypointsOptions(backend=args.backend)
        started = time.perf_counter()
        out = engine.run({"video": args.video, "tracklets": tracklets_path}, options, work, lambda f, m="": None)
        seconds = time.perf_counter() - started
        keypoints = load_keypoints(out.outputs["keypoints"])
    observed = tracklets["observed"].astype(bool)
    frames = np.unique(tracklets["frame_index"][observed])
    people = np.bincount(tracklets["frame_index"][observed])
    paired = pair_rows(tracklets, gt)
    usable = paired >= 0
    pred, true = keypoints["keypoints_body25"][usable], gt.keypoints_body25[paired[usable]]
    figures = {
        "backend": str(keypoints["source"]), "video": str(args.video),
        "tracklets": str(args.tracklets) if args.tracklets else "ground truth boxes and masks",
        "image_size": [int(v) for v in gt.image_size], "frames": int(len(frames)),
        "max_people_per_frame": int(people.max()) if people.size else 0, "rows_paired_with_gt": int(usable.sum()),
        "pck@0.1": pck(pred, true), "median_px": median_error_by_group(pred, true),
        **association_figures(keypoints, paired, gt),
        "seconds": seconds, "frames_per_s": len(frames) / seconds if seconds else float("nan"),
    }
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
