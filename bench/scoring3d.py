"""Scoring 3D bodies against the rendered video's ground truth (bench.video3d): which tracked row is which GT
person-frame, and the error figures of the matched rows.

Matching: per frame, tracked boxes and GT boxes (visible pixels) are paired by Hungarian assignment on box IoU
(bench.keypoints.pair_rows, IoU >= PAIR_MIN_IOU). Each track is then given the GT person it is paired with most
often; a row counts only where its frame's pairing agrees with its track's person (a track that wanders onto
someone else scores nothing there). A GT person is split when more than one track is given to it.

Joints: SCORED_JOINTS, 13 BODY_25 joints (MidHip first, then shoulders, elbows, wrists, hips, knees, ankles), in the
camera frame of the frame, metres; the MidHip is the root. Figures (mm unless named):
- PA-MPJPE: mean joint error after a per-frame similarity (Procrustes) alignment;
- MPJPE: mean joint error after aligning the roots (root-relative);
- root: median |predicted root - true root|, and the median of that over the true root's distance from the camera;
- accel: mean error of the root-relative joints' second difference (mm/frame^2) over three consecutive frames of
  one track in one shot (a gap or a cut starts a new run);
- axis x/y/z: mean |error| of the root-relative joints along each camera axis (z = depth);
- coverage: scored GT person-frames / all GT person-frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench import metrics3d
from bench.keypoints import pair_rows

SCORED_JOINTS = (8, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14)  # BODY_25 indices; MidHip (the root) first


@dataclass(frozen=True)
class Matched:
    """Rows of a prediction table matched to the ground truth: N scored rows of M predicted rows."""

    pred_row: np.ndarray  # (N,) index into the prediction table
    gt_row: np.ndarray  # (N,) index into the ground truth rows
    track_person: dict[int, int]  # track id -> GT person id given to it
    gt_rows_total: int


def track_people(track_id: np.ndarray, paired_person: np.ndarray) -> dict[int, int]:
    """Track id (M,) and the GT person its row is paired with (M,), -1 = none -> track id -> the GT person it is
    paired with most often (ties: the lower person id); tracks never paired are left out."""
    people = {}
    for track in np.unique(track_id):
        persons = paired_person[(track_id == track) & (paired_person >= 0)]
        if persons.size:
            values, counts = np.unique(persons, return_counts=True)
            people[int(track)] = int(values[np.argmax(counts)])
    return people


def match_rows(rows: dict, gt) -> Matched:
    """rows: a prediction table with person_id, frame_index, bbox_xyxy (M, 4) px; gt: bench.ground_truth
    GroundTruth. Rows are matched as the module doc says."""
    paired = pair_rows(rows, gt)
    paired_person = np.where(paired >= 0, gt.person_id[np.maximum(paired, 0)], -1)
    people = track_people(rows["person_id"], paired_person)
    given = np.array([people.get(int(t), -2) for t in rows["person_id"]])
    keep = np.flatnonzero((paired >= 0) & (paired_person == given))
    return Matched(keep, paired[keep], people, len(gt.person_id))


def split_people(track_person: dict[int, int]) -> dict[int, list[int]]:
    """GT person -> its tracks, for the GT people given to more than one track."""
    tracks: dict[int, list[int]] = {}
    for track, person in sorted(track_person.items()):
        tracks.setdefault(person, []).append(track)
    return {person: ts for person, ts in tracks.items() if len(ts) > 1}


def root_errors(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """(N, J, 3) metres, root first -> (median root error mm, median root error / true root distance)."""
    error = np.linalg.norm(pred[:, 0] - true[:, 0], axis=-1)
    return float(np.median(error) * 1000), float(np.median(error / np.linalg.norm(true[:, 0], axis=-1)))


def axis_errors_mm(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """(N, J, 3) metres, root first -> (3,) mean |root-relative error| along camera x, y, z, mm."""
    diff = (pred - pred[:, :1]) - (true - true[:, :1])
    return np.abs(diff[:, 1:]).reshape(-1, 3).mean(0) * 1000


def figures(pred: np.ndarray, true: np.ndarray, runs: np.ndarray, gt_rows_total: int) -> dict:
    """pred, true (N, J, 3) metres in the camera frame, root first; runs (N,) from
    services.multishot.rows.consecutive_runs (rows sorted by track and frame)."""
    out = {"frames": int(len(pred)), "gt_frames": int(gt_rows_total),
           "coverage": len(pred) / gt_rows_total if gt_rows_total else float("nan")}
    if not len(pred):
        return out
    root_mm, root_fraction = root_errors(pred, true)
    triples = (runs[:-2] == runs[2:]).any() if len(runs) > 2 else False
    x, y, z = axis_errors_mm(pred, true)
    out.update({"pa_mpjpe_mm": metrics3d.pa_mpjpe_mm(pred, true), "mpjpe_mm": metrics3d.mpjpe_mm(pred, true),
                "root_mm": root_mm, "root_fraction": root_fraction,
                "accel_mm_f2": metrics3d.acceleration_error_mm(pred, true, runs) if triples else float("nan"),
                "axis_x_mm": float(x), "axis_y_mm": float(y), "axis_z_mm": float(z)})
    return out
