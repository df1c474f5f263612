"""Tracking stage accuracy and speed on the rendered ground-truth video:
`python -m bench.tracking [--video V] [--gt GT.npz] [--tracklets T.npz] [--json OUT]`.

Runs the `cpu` tracker (unless `--tracklets` gives a finished run) and scores its tracklets against the GT:
- IDF1, MOTA, ID switches (motmetrics, CLEAR-MOT and identity metrics), boxes matched at IoU >= 0.5; every
  tracklet row counts, observed or predicted. GT person-frames with less than `MIN_EVAL_VISIBILITY` of the person
  visible are "don't care": they are not required, and a row matching one is dropped rather than counted false;
- shot cuts: a predicted cut is right if a GT cut lies within `CUT_TOLERANCE` frames (one-to-one);
- mask IoU: mean over observed rows matched (box IoU >= 0.5, per frame Hungarian) to a GT person-frame;
- frames/s: video frames / wall time of the tracker run (models already loaded; shots, detection,
  association and the initial 3D fit); also frames per CPU second of the process, which other jobs on the
  machine disturb less (with 2 cores a quiet machine's wall time lies between CPU time / 2 and CPU time).
Targets (issue 4): IDF1 >= 0.85, every cut found, >= 2 frames/s on 2 cores at 640x360 with <= 4 people.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from bench.ground_truth import add_ground_truth_arguments, ground_truth_or_none, report
from bench.keypoints import box_iou

MIN_EVAL_VISIBILITY = 0.2
MATCH_IOU = 0.5
CUT_TOLERANCE = 1


def cut_precision_recall(predicted: np.ndarray, truth: np.ndarray, tolerance: int = CUT_TOLERANCE) -> dict:
    """Cut frames (first frame of a new shot) -> precision, recall; each GT cut matches at most one prediction."""
    predicted, truth = np.asarray(predicted, int), np.asarray(truth, int)
    found = 0
    if predicted.size and truth.size:
        gap = np.abs(predicted[:, None] - truth[None, :]).astype(float)
        rows, cols = linear_sum_assignment(gap)
        found = int((gap[rows, cols] <= tolerance).sum())
    return {"cut_precision": found / predicted.size if predicted.size else float(truth.size == 0),
            "cut_recall": found / truth.size if truth.size else 1.0,
            "cuts_predicted": predicted.tolist(), "cuts_true": truth.tolist()}


def cuts_of(frame_shot_id: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diff(np.asarray(frame_shot_id)) != 0) + 1


def _xywh(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    return np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])


def mot_figures(gt_frame, gt_id, gt_box, gt_care, hyp_frame, hyp_id, hyp_box, num_frames: int) -> dict:
    """CLEAR-MOT and identity figures with motmetrics. gt_care (M,) False = don't care (see module doc)."""
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=False)
    for frame in range(num_frames):
        g = np.flatnonzero(gt_frame == frame)
        h = np.flatnonzero(hyp_frame == frame)
        ignored = g[~gt_care[g]]
        g = g[gt_care[g]]
        if ignored.size and h.size:  # rows on "don't care" people are dropped, not counted false
            iou = box_iou(hyp_box[h], gt_box[ignored])
            best_care = box_iou(hyp_box[h], gt_box[g]).max(1) if g.size else np.zeros(h.size)
            h = h[~((iou.max(1) >= MATCH_IOU) & (iou.max(1) > best_care))]
        distance = mm.distances.iou_matrix(_xywh(gt_box[g]), _xywh(hyp_box[h]), max_iou=1 - MATCH_IOU)
        acc.update(gt_id[g].tolist(), hyp_id[h].tolist(), distance, frameid=frame)
    summary = mm.metrics.create().compute(acc, metrics=[
        "idf1", "mota", "motp", "num_switches", "num_false_positives", "num_misses", "precision", "recall",
        "num_unique_objects", "mostly_tracked", "num_fragmentations"], name="all")
    row = summary.loc["all"]
    return {"idf1": float(row["idf1"]), "mota": float(row["mota"]), "id_switches": int(row["num_switches"]),
            "false_positives": int(row["num_false_positives"]), "misses": int(row["num_misses"]),
            "box_precision": float(row["precision"]), "box_recall": float(row["recall"]),
            "gt_people": int(row["num_unique_objects"]), "mostly_tracked": int(row["mostly_tracked"]),
            "fragmentations": int(row["num_fragmentations"]), "motp_1_minus_iou": float(row["motp"])}


def mask_iou_figures(gt, tracklets: dict) -> dict:
    """Mean mask IoU over observed tracklet rows matched to a GT person-frame (box IoU >= MATCH_IOU)."""
    from mshot.artifacts.masks import decode_mask

    height, width = (int(v) for v in gt.image_size)
    ious = []
    observed = np.asarray(tracklets["observed"], bool)
    for frame in np.unique(tracklets["frame_index"][observed]):
        rows = np.flatnonzero((tracklets["frame_index"] == frame) & observed)
        gt_rows = np.flatnonzero(gt.frame_index == frame)
        if not gt_rows.size:
            continue
        iou = box_iou(tracklets["bbox_xyxy"][rows], gt.bbox_xyxy[gt_rows])
        for r, c in zip(*linear_sum_assignment(-iou), strict=True):
            if iou[r, c] >= MATCH_IOU:
                a = decode_mask(str(tracklets["mask_rle"][rows[r]]), height, width)
                b = decode_mask(str(gt.mask_rle[gt_rows[c]]), height, width)
                ious.append((a & b).sum() / max((a | b).sum(), 1))
    return {"mask_iou_mean": float(np.mean(ious)) if ious else float("nan"),
            "mask_iou_median": float(np.median(ious)) if ious else float("nan"), "mask_pairs": len(ious)}


def run_tracker(video: Path, work: Path) -> tuple[Path, float, float]:
    """-> tracklets path, engine load seconds, run wall seconds, run CPU seconds of this process (cpu backend,
    generated body model). CPU seconds show what the run costs when other jobs share the cores."""
    from mshot.body.generate import write_generated_smpl_model
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    model = str(write_generated_smpl_model(work / "model.pkl"))
    started = time.perf_counter()
    engine = TrackingEngine(TrackingSettings("cpu", "cpu", model))
    loaded, cpu = time.perf_counter(), time.process_time()
    out = engine.run({"video": video}, TrackingOptions(backend="cpu"), work, lambda f, m="": None)
    return out.outputs["tracklets"], loaded - started, time.perf_counter() - loaded, time.process_time() - cpu


def score(gt, tracklets: dict) -> dict:
    care = gt.visible_fraction >= MIN_EVAL_VISIBILITY
    figures = mot_figures(gt.frame_index, gt.person_id, gt.bbox_xyxy, care, tracklets["frame_index"],
                          tracklets["person_id"], tracklets["bbox_xyxy"], int(gt.num_frames))
    figures.update(cut_precision_recall(cuts_of(tracklets["frame_shot_id"]), gt.cut_frames))
    figures.update(mask_iou_figures(gt, tracklets))
    figures["tracked_people"] = int(len(np.unique(tracklets["person_id"])))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.tracking", description=__doc__.splitlines()[0])
    add_ground_truth_arguments(parser)
    parser.add_argument("--tracklets", type=Path, default=None, help="score this run instead of running the tracker")
    parser.add_argument("--save-tracklets", type=Path, default=None,
                        help="keep the tracker's output here (e.g. for bench.keypoints --tracklets)")
    args = parser.parse_args(argv)
    gt = ground_truth_or_none(args.gt)
    if gt is None:
        return 2
    from mshot.artifacts.tracklets import load_tracklets

    with tempfile.TemporaryDirectory() as tmp:
        load_s = run_s = cpu_s = float("nan")
        path = args.tracklets
        if path is None:
            path, load_s, run_s, cpu_s = run_tracker(args.video, Path(tmp))
        tracklets = load_tracklets(path)
        if args.save_tracklets:
            shutil.copyfile(path, args.save_tracklets)
        figures = {"backend": str(tracklets["source"]), "video": str(args.video),
                   "image_size": [int(v) for v in gt.image_size], "frames": int(gt.num_frames),
                   "max_gt_people_per_frame": int(np.bincount(gt.frame_index).max()), **score(gt, tracklets),
                   "load_s": load_s, "run_s": run_s, "run_cpu_s": cpu_s,
                   "frames_per_s": int(gt.num_frames) / run_s, "frames_per_cpu_s": int(gt.num_frames) / cpu_s}
    figures["targets_met"] = {"idf1>=0.85": figures["idf1"] >= 0.85, "all_cuts_found": figures["cut_recall"] == 1.0,
                              "fps>=2": bool(figures["frames_per_s"] >= 2.0)}
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
