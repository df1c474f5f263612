"""Which frames of a person a human NeRF / avatar method should train on. Every row gets a verdict and the
reasons it was rejected; thresholds live in `SelectionOptions` (documented in services/dataset/README.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mshot.artifacts.masks import decode_mask

HEAD = (0, 15, 16)  # nose, eyes
ANKLES = (11, 14)


@dataclass(frozen=True)
class SelectionOptions:
    min_keypoint_conf: float = 0.3
    min_keypoints: int = 12  # of 25 at min_keypoint_conf
    border_margin_px: float = 2.0  # a box this close to the image border is cut by it
    min_height_px: float = 60.0
    max_overlap: float = 0.2  # fraction of the person's mask covered by other people's masks (boxes if no mask)
    max_reproj_px: float = 20.0
    min_silhouette_iou: float = 0.3  # rendered SMPL silhouette vs the instance mask (when the mask is a segmentation)
    min_body_in_mask: float = 0.85  # share of the rendered SMPL silhouette inside the instance mask (same condition)
    max_jump_m: float = 0.5  # body translation change between consecutive frames of a shot
    target_frames: int = 100
    val_fraction: float = 0.1


def gate_rows(rows: np.ndarray, tracklets: dict, keypoints: np.ndarray, fits: dict,
              options: SelectionOptions) -> dict[int, list[str]]:
    """Reasons each row (index into the artifacts) fails, without the silhouette gates (silhouette_reasons);
    [] = passes. Each reason reads "<gate>: <detail>"."""
    height, width = (int(v) for v in tracklets["image_size"])
    reasons: dict[int, list[str]] = {}
    frames = tracklets["frame_index"]
    for row in rows:
        why = []
        if not tracklets["observed"][row]:
            why.append("predicted: not observed in this frame")
        kp = keypoints[row]
        confident = kp[:, 2] >= options.min_keypoint_conf
        if confident.sum() < options.min_keypoints:
            why.append(f"keypoints: only {int(confident.sum())} confident (< {options.min_keypoints})")
        if not confident[list(HEAD)].any() or not confident[list(ANKLES)].all():
            why.append("full body: head or ankles not visible")
        x0, y0, x1, y1 = tracklets["bbox_xyxy"][row]
        m = options.border_margin_px
        if x0 <= m or y0 <= m or x1 >= width - m or y1 >= height - m:
            why.append("border: box cut by the image border")
        if y1 - y0 < options.min_height_px:
            why.append(f"height: {y1 - y0:.0f} px (< {options.min_height_px:.0f})")
        if not fits["valid"][row]:
            why.append("fit: not fitted (too few keypoints)")
        elif fits["reproj_px"][row] > options.max_reproj_px:
            why.append(f"reprojection: {fits['reproj_px'][row]:.1f} px (> {options.max_reproj_px:.0f})")
        others = np.flatnonzero((frames == frames[row]) & (tracklets["person_id"] != tracklets["person_id"][row]))
        if others.size:
            overlap = _overlap(row, others, tracklets, height, width)
            if overlap > options.max_overlap:
                why.append(f"overlap: {overlap:.0%} covered by other people (> {options.max_overlap:.0%})")
        reasons[int(row)] = why
    _temporal_jumps(rows, tracklets, fits, options, reasons)
    return reasons


def silhouette_reasons(silhouette: np.ndarray, mask: np.ndarray, options: SelectionOptions) -> list[str]:
    """Body/mask agreement of one frame: the fitted body's rendered silhouette (H, W) bool against the person's
    instance mask (H, W) bool. IoU says whether they are the same region; the share of the silhouette inside the
    mask says whether the body lands on the person (a limb of the fit off the person, or a mask missing a limb,
    lowers it; a mask looser than the body, as segmenters give for clothed people, does not). [] = passes."""
    both = float((silhouette & mask).sum())
    iou = both / max(float((silhouette | mask).sum()), 1.0)
    inside = both / max(float(silhouette.sum()), 1.0)
    why = []
    if iou < options.min_silhouette_iou:
        why.append(f"silhouette: SMPL silhouette IoU {iou:.2f} (< {options.min_silhouette_iou})")
    if inside < options.min_body_in_mask:
        why.append(f"body in mask: {inside:.1%} of the SMPL silhouette inside the mask "
                   f"(< {options.min_body_in_mask:.0%})")
    return why


def _overlap(row, others, tracklets, height, width) -> float:
    mine = _region(row, tracklets, height, width)
    if mine.sum() == 0:
        return 0.0
    covered = np.zeros_like(mine)
    for other in others:
        covered |= _region(other, tracklets, height, width)
    return float((mine & covered).sum() / mine.sum())


def _region(row, tracklets, height, width) -> np.ndarray:
    rle = str(tracklets["mask_rle"][row])
    if rle:
        return decode_mask(rle, height, width)
    from mshot.artifacts.masks import box_mask

    return box_mask(tracklets["bbox_xyxy"][row], height, width)


def _temporal_jumps(rows, tracklets, fits, options, reasons) -> None:
    for a, b in zip(rows[:-1], rows[1:], strict=True):
        same_shot = tracklets["shot_id"][a] == tracklets["shot_id"][b]
        next_frame = tracklets["frame_index"][b] - tracklets["frame_index"][a] == 1
        if same_shot and next_frame and fits["valid"][a] and fits["valid"][b]:
            jump = float(np.linalg.norm(fits["transl"][b] - fits["transl"][a]))
            if jump > options.max_jump_m:
                reasons[int(b)].append(f"jump: {jump:.2f} m from the previous frame (> {options.max_jump_m} m)")


def diverse_subset(features: np.ndarray, count: int) -> np.ndarray:
    """Farthest-point sampling: indices of `count` rows of `features` (N, D) that spread over pose and view."""
    if count >= len(features):
        return np.arange(len(features))
    chosen = [int(np.argmin(np.linalg.norm(features - features.mean(0), axis=1)))]
    distance = np.linalg.norm(features - features[chosen[0]], axis=1)
    while len(chosen) < count:
        nxt = int(np.argmax(distance))
        chosen.append(nxt)
        distance = np.minimum(distance, np.linalg.norm(features - features[nxt], axis=1))
    return np.sort(np.array(chosen))


def split_validation(selected: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th selected row (in time order) is held out for validation."""
    if fraction <= 0 or len(selected) < 3:
        return selected, selected[:0]
    step = max(int(round(1 / fraction)), 2)
    val = selected[step // 2 :: step]
    return np.setdiff1d(selected, val), val
