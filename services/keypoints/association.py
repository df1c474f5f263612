"""Matching each frame's detected people (BODY_25) to the tracked persons, after the multishot reference's
preprocessing (optimization/process_phalp.py), which matches OpenPose people to PHALP masks.

Score of detection d for person p, in [0, 1]:
- precision P = confidence-weighted fraction of d's confident keypoints (confidence > MIN_CONFIDENCE) inside
  p's region, recall R = plain fraction of those keypoints inside; fit = 2PR / (P + R) (the reference combines
  the same two fractions harmonically, with R over all 25 joints: here over the detected ones, so a half-visible
  person is not penalised for the joints nobody could see);
- region = p's mask (`mask_rle`) dilated by 3 % of its box height (at least 2 px), so a wrist or toe on the
  silhouette's edge counts as inside; a person without a mask ('' - e.g. mask_source `box` or `none`) uses its
  box enlarged by 5 % per side instead;
- score = 0.9 fit + 0.1 IoU(box of d's confident keypoints, p's box): breaks ties between overlapping regions.
Assignment: Hungarian on the scores of each frame, with pairs scoring below MIN_SCORE (the cost cap) set to 0
before the assignment and refused after it. Unmatched detections stay on record (det_person_id -1), unmatched
persons get zero keypoints and match_score 0. Only observed (not coasting) rows take part.
A matched person's keypoints outside the image (BlazePose guesses the joints of a person cut off by the frame
edge) become "not detected" (0, 0, 0): the fit uses what is visible. The detections on record keep them (the
`cpu` backend's already with confidence 0, so they do not count in the score either).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from mshot.artifacts.masks import decode_mask
from mshot.geometry.boxes import outside_image, points_in_mask

MIN_SCORE = 0.5
MIN_CONFIDENCE = 0.1
MASK_TOLERANCE = 0.03  # of the box height
BOX_MARGIN = 0.05  # of the box size, per side


def person_region(mask_rle: str, box: np.ndarray, height: int, width: int) -> np.ndarray | None:
    """The person's mask dilated by MASK_TOLERANCE of its box height, or None without a mask."""
    return region_of_mask(decode_mask(mask_rle, height, width), box) if mask_rle else None


def region_of_mask(mask: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A decoded mask (H, W) bool dilated by MASK_TOLERANCE of the box's (4,) height (at least 2 px)."""
    radius = max(2, int(round(MASK_TOLERANCE * float(box[3] - box[1]))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def is_pose_of(keypoints: np.ndarray, region: np.ndarray | None, box: np.ndarray) -> bool:
    """The detection (25, 3) could be assigned to this person: fit_score >= MIN_SCORE (module docstring)."""
    return fit_score(keypoints, region, box) >= MIN_SCORE


def inside(xy: np.ndarray, region: np.ndarray | None, box: np.ndarray) -> np.ndarray:
    """(N, 2) px -> (N,) bool: in the region (pixel containing the point), or in the enlarged box."""
    if region is not None:
        return points_in_mask(xy, region)
    x0, y0, x1, y1 = box
    mx, my = BOX_MARGIN * (x1 - x0), BOX_MARGIN * (y1 - y0)
    return (xy[:, 0] >= x0 - mx) & (xy[:, 0] <= x1 + mx) & (xy[:, 1] >= y0 - my) & (xy[:, 1] <= y1 + my)


def fit_score(keypoints: np.ndarray, region: np.ndarray | None, box: np.ndarray) -> float:
    """Score in [0, 1] of one detection (25, 3) for one person (module docstring)."""
    confident = keypoints[:, 2] > MIN_CONFIDENCE
    if not confident.any():
        return 0.0
    xy, conf = keypoints[confident, :2], keypoints[confident, 2]
    hit = inside(xy, region, box)
    precision = float((conf * hit).sum() / conf.sum())
    recall = float(hit.mean())
    fit = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return 0.9 * fit + 0.1 * _box_iou(np.array([*xy.min(0), *xy.max(0)]), np.asarray(box, dtype=float))


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def match_frame(detections: np.ndarray, masks_rle: list[str], boxes: np.ndarray,
                image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """detections (D, 25, 3); per person mask RLE ('' = none) and box (P, 4).
    Returns (person index per detection (D,), -1 unmatched; score per detection (D,), 0 unmatched)."""
    height, width = image_size
    regions = [person_region(rle, box, height, width) for rle, box in zip(masks_rle, boxes, strict=True)]
    scores = np.array([[fit_score(d, regions[p], boxes[p]) for p in range(len(boxes))] for d in detections])
    assigned = np.full(len(detections), -1, dtype=np.int64)
    best = np.zeros(len(detections), dtype=np.float32)
    if scores.size:
        capped = np.where(scores >= MIN_SCORE, scores, 0.0)
        for r, c in zip(*linear_sum_assignment(-capped), strict=True):
            if capped[r, c] > 0:
                assigned[r], best[r] = c, scores[r, c]
    return assigned, best


def inside_image_only(keypoints: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """(25, 3) -> a copy with every keypoint outside the image (mshot.geometry.boxes.outside_image) set to
    (0, 0, 0)."""
    out = np.array(keypoints, dtype=np.float32, copy=True)
    out[outside_image(out[:, :2], *image_size)] = 0.0
    return out


def associate(tracklets: dict, det_frame_index: np.ndarray, det_keypoints: np.ndarray) -> dict:
    """Align detections with the tracklets rows. Returns keypoints_body25 (M, 25, 3), match_score (M,),
    det_person_id (D,) (-1 = unmatched, kept on record)."""
    rows = len(tracklets["person_id"])
    keypoints = np.zeros((rows, 25, 3), dtype=np.float32)
    match_score = np.zeros(rows, dtype=np.float32)
    det_person = np.full(len(det_frame_index), -1, dtype=np.int32)
    image_size = tuple(int(v) for v in tracklets["image_size"])
    observed = np.asarray(tracklets["observed"]).astype(bool)
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
                keypoints[row] = inside_image_only(det_keypoints[d], image_size)
                match_score[row] = s
                det_person[d] = tracklets["person_id"][row]
    return {"keypoints_body25": keypoints, "match_score": match_score, "det_person_id": det_person}
