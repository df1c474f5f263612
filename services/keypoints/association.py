"""Matching each frame's detected people (BODY_25) to the tracked persons, as the multishot reference's
preprocessing does with masks: a detection fits a person by the confidence-weighted fraction of its keypoints
inside the person's mask and the plain fraction inside; Hungarian assignment with a floor on that score.
Persons without a mask (mask_rle '') are matched with their box (enlarged by 10 %) instead."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from mshot.artifacts.masks import decode_mask

MIN_SCORE = 0.5
MIN_CONFIDENCE = 0.1


def inside_fraction(keypoints: np.ndarray, region: np.ndarray | None, box: np.ndarray) -> float:
    """Score in [0, 1]: mean of (confidence-weighted fraction inside, fraction inside) of confident keypoints."""
    confident = keypoints[:, 2] > MIN_CONFIDENCE
    if not confident.any():
        return 0.0
    xy, conf = keypoints[confident, :2], keypoints[confident, 2]
    if region is not None:
        h, w = region.shape
        xi = np.clip(np.round(xy[:, 0]).astype(int), 0, w - 1)
        yi = np.clip(np.round(xy[:, 1]).astype(int), 0, h - 1)
        inside = region[yi, xi] & (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
    else:
        x0, y0, x1, y1 = box
        mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
        inside = (xy[:, 0] >= x0 - mx) & (xy[:, 0] <= x1 + mx) & (xy[:, 1] >= y0 - my) & (xy[:, 1] <= y1 + my)
    return 0.5 * float((conf * inside).sum() / conf.sum()) + 0.5 * float(inside.mean())


def match_frame(detections: np.ndarray, masks_rle: list[str], boxes: np.ndarray,
                image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """detections (D, 25, 3); per person mask RLE ('' = none) and box (P, 4).
    Returns (person index per detection (D,), -1 unmatched; score per detection (D,))."""
    height, width = image_size
    regions = [decode_mask(rle, height, width) if rle else None for rle in masks_rle]
    scores = np.array([[inside_fraction(d, regions[p], boxes[p]) for p in range(len(boxes))] for d in detections])
    assigned = np.full(len(detections), -1, dtype=np.int64)
    best = np.zeros(len(detections), dtype=np.float32)
    if scores.size:
        rows, cols = linear_sum_assignment(-scores)
        for r, c in zip(rows, cols, strict=True):
            if scores[r, c] >= MIN_SCORE:
                assigned[r], best[r] = c, scores[r, c]
    return assigned, best


def associate(tracklets: dict, det_frame_index: np.ndarray, det_keypoints: np.ndarray) -> dict:
    """Align detections with the tracklets rows. Returns keypoints_body25 (M, 25, 3), match_score (M,),
    det_person_id (D,) (-1 = unmatched, kept on record)."""
    rows = len(tracklets["person_id"])
    keypoints = np.zeros((rows, 25, 3), dtype=np.float32)
    match_score = np.zeros(rows, dtype=np.float32)
    det_person = np.full(len(det_frame_index), -1, dtype=np.int32)
    image_size = tuple(int(v) for v in tracklets["image_size"])
    observed = tracklets["observed"].astype(bool)
    for frame in np.unique(det_frame_index):
        dets = np.flatnonzero(det_frame_index == frame)
        persons = np.flatnonzero((tracklets["frame_index"] == frame) & observed)
        if persons.size == 0:
            continue
        assigned, score = match_frame(det_keypoints[dets], [str(tracklets["mask_rle"][p]) for p in persons],
                                      tracklets["bbox_xyxy"][persons], image_size)
        for d, a, s in zip(dets, assigned, score, strict=True):
            if a >= 0:
                row = persons[a]
                keypoints[row] = det_keypoints[d]
                match_score[row] = s
                det_person[d] = tracklets["person_id"][row]
    return {"keypoints_body25": keypoints, "match_score": match_score, "det_person_id": det_person}
