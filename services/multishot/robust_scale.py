"""The scale of the robust (Geman-McClure) 2D term, relative to each person's size in the image.

A fixed scale in pixels means something else for a person 200 px tall than for one 900 px tall: with rho = 100 px
the large person's limbs that start 200-800 px off their keypoints (a seated person whose initial legs hang
straight down while the knees are out at hip height and the feet tucked in) sit on the flat part of the penalty
and pull nothing. SMPLify's 100 px suits people about 400 px tall; the fit keeps that ratio for larger people in
its first stages and anneals to rho_px for the refinement (large first to find the pose, small later to discount
the outliers it leaves): stage scale = max(rho_px, fraction * the person's keypoint extent), fraction 0.25
(fit.FitOptions.rho_start_fraction). People up to 400 px (the synthetic benchmark's 391 px, the rendered videos')
keep 100 px throughout. A fraction of 1.0 (an almost L2 start) fits seated_1person better still but lets the
synthetic benchmark's gross outliers pull the body (PA-MPJPE 19.85 -> 22.3 mm).

person_extent_px: the larger side of the box around a row's confident keypoints, the median over the person's
valid rows (pixels): one figure per person, so a frame with the legs unseen does not shrink its scale.
"""

from __future__ import annotations

import numpy as np


def person_extent_px(keypoints: np.ndarray, person_index: np.ndarray, valid: np.ndarray,
                     min_confidence: float) -> np.ndarray:
    """keypoints (M, 25, 3) px + confidence, person_index (M,) 0..P-1, valid (M,) bool -> (M,) pixels: the median
    over the person's valid rows of max(width, height) of the box around its keypoints of confidence >=
    min_confidence (0 for a person without valid rows)."""
    seen = keypoints[..., 2] >= min_confidence
    low = np.where(seen[..., None], keypoints[..., :2], np.inf).min(1)
    high = np.where(seen[..., None], keypoints[..., :2], -np.inf).max(1)
    extent = np.where(seen.any(1), (high - low).max(1), 0.0)
    per_person = np.zeros(int(person_index.max()) + 1 if len(person_index) else 0)
    for p in range(len(per_person)):
        mine = (person_index == p) & valid & seen.any(1)
        if mine.any():
            per_person[p] = np.median(extent[mine])
    return per_person[person_index]


def robust_scale_px(extent_px: np.ndarray, fraction: float, floor_px: float) -> np.ndarray:
    """(M,) person extents (pixels) -> (M,) Geman-McClure scale max(floor_px, fraction * extent), pixels."""
    return np.maximum(floor_px, fraction * np.asarray(extent_px, dtype=np.float64))
