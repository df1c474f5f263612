"""Multi-person BODY_25 parsing from part heatmaps and part-affinity fields (PAFs), after Cao et al.,
"OpenPose: Realtime Multi-Person 2D Pose Estimation using Part Affinity Fields" (bottom-up, greedy).

Network output layout (OpenPose BODY_25, pose_iter_584000): 78 channels at 1/8 of the input resolution:
channels 0..24 are the BODY_25 part heatmaps, 25 the background, 26..77 the PAFs. Limb k joins parts
`LIMBS[k] = (a, b)`; its field points from a to b and lives in channels 26 + PAF_CHANNELS[k] (x, y).
Both tables are OpenPose's `POSE_BODY_PART_PAIRS` / `POSE_MAP_INDEX` for BODY_25 (poseParameters.cpp).

Steps:
1. peaks: local maxima of each heatmap over a 3x3 window above `peak_threshold`, refined to sub-pixel by the
   score-weighted mean of the 3x3 neighbourhood;
2. limb candidates: for every pair of peaks (a, b) of a limb, the PAF is sampled at n points on the segment
   (n = clamp(round(sqrt(5 * longest side in map px)), 5, 25)); the dot product with the unit a->b vector is
   the support; a candidate is kept when more than `min_above_fraction` of the samples exceed `paf_threshold`
   and its score is the mean of those samples;
3. per limb, candidates are taken best first, each peak used at most once (a bipartite greedy matching);
4. assembly: limbs are visited in the table's order (a tree rooted at the neck, then two redundant
   ear-shoulder limbs that only fill gaps); a connection extends the person that already holds its first part,
   merges two partial persons that hold one end each, or starts a new person;
5. persons with fewer than `min_parts` parts or a mean score (peaks + limbs, per part) below `min_mean_score`
   are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_PARTS = 25
NUM_HEATMAPS = NUM_PARTS + 1  # + background
LIMBS = ((1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13),
         (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (2, 17), (5, 18), (14, 19), (19, 20), (14, 21),
         (11, 22), (22, 23), (11, 24))
PAF_CHANNELS = ((0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7), (2, 3), (4, 5), (8, 9),
                (10, 11), (12, 13), (30, 31), (32, 33), (36, 37), (34, 35), (38, 39), (20, 21), (28, 29), (40, 41),
                (42, 43), (44, 45), (46, 47), (48, 49), (50, 51))
NUM_CHANNELS = NUM_HEATMAPS + 2 * len(LIMBS)  # 78
REDUNDANT_LIMBS = frozenset({18, 19})  # shoulder-ear: only fill a missing end, never start or merge persons


@dataclass(frozen=True)
class ParseSettings:
    """OpenPose's defaults (render/nms threshold 0.05, inter-threshold 0.05, 95 % above, 3 parts, 0.4 score)."""

    peak_threshold: float = 0.05
    paf_threshold: float = 0.05
    min_above_fraction: float = 0.95
    min_parts: int = 3
    min_mean_score: float = 0.4


DEFAULT_SETTINGS = ParseSettings()


def find_peaks(heatmap: np.ndarray, threshold: float) -> np.ndarray:
    """(h, w) map -> (n, 3) peaks: x, y in map pixels (sub-pixel), heatmap score; local 3x3 maxima."""
    h, w = heatmap.shape
    padded = np.pad(heatmap, 1, mode="constant", constant_values=-np.inf)
    windows = np.stack([padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)])
    is_peak = (heatmap > threshold) & (heatmap >= windows.max(0))
    # plateaus: keep only the first pixel (in raster order) of equal neighbours
    left = np.zeros_like(is_peak)
    left[:, 1:] = is_peak[:, :-1] & (heatmap[:, 1:] == heatmap[:, :-1])
    up = np.zeros_like(is_peak)
    up[1:, :] = is_peak[:-1, :] & (heatmap[1:, :] == heatmap[:-1, :])
    is_peak &= ~(left | up)
    ys, xs = np.nonzero(is_peak)
    peaks = np.zeros((len(xs), 3), dtype=np.float64)
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        y0, y1, x0, x1 = max(y - 1, 0), min(y + 2, h), max(x - 1, 0), min(x + 2, w)
        patch = np.clip(heatmap[y0:y1, x0:x1], 0, None)
        gy, gx = np.mgrid[y0:y1, x0:x1]
        total = patch.sum()
        peaks[k] = (float((gx * patch).sum() / total), float((gy * patch).sum() / total), float(heatmap[y, x]))
    return peaks


def limb_candidates(peaks_a: np.ndarray, peaks_b: np.ndarray, paf_x: np.ndarray, paf_y: np.ndarray,
                    settings: ParseSettings) -> list[tuple[float, int, int]]:
    """Scored connections (score, index in a, index in b) for one limb, best first, each peak used once."""
    h, w = paf_x.shape
    scored = []
    for i, (ax, ay, _) in enumerate(peaks_a):
        for j, (bx, by, _) in enumerate(peaks_b):
            dx, dy = bx - ax, by - ay
            norm = np.hypot(dx, dy)
            if norm < 1e-6:
                continue
            n = int(np.clip(round(np.sqrt(5 * max(abs(dx), abs(dy)))), 5, 25))
            t = np.arange(n) / n
            xs = np.clip(np.rint(ax + t * dx).astype(int), 0, w - 1)
            ys = np.clip(np.rint(ay + t * dy).astype(int), 0, h - 1)
            support = (paf_x[ys, xs] * dx + paf_y[ys, xs] * dy) / norm
            above = support > settings.paf_threshold
            if above.sum() / n > settings.min_above_fraction:
                scored.append((float(support[above].mean()), i, j))
    scored.sort(key=lambda c: -c[0])
    used_a, used_b, chosen = set(), set(), []
    for score, i, j in scored:
        if i not in used_a and j not in used_b:
            chosen.append((score, i, j))
            used_a.add(i)
            used_b.add(j)
    return chosen


def assemble(peaks: list[np.ndarray], connections: list[list[tuple[float, int, int]]],
             settings: ParseSettings) -> np.ndarray:
    """Group limb connections into persons -> (P, 25, 3) x, y (map px), peak score; zeros where missing."""
    persons: list[dict] = []  # {"parts": (25,) peak index or -1, "score": float}
    for limb, chosen in enumerate(connections):
        a_part, b_part = LIMBS[limb]
        for score, i, j in chosen:
            holds_a = [p for p in persons if p["parts"][a_part] == i]
            holds_b = [p for p in persons if p["parts"][b_part] == j]
            if limb in REDUNDANT_LIMBS:
                for p in holds_a:
                    if p["parts"][b_part] < 0:
                        p["parts"][b_part] = j
                        p["score"] += peaks[b_part][j, 2] + score
                continue
            if holds_a and holds_b and holds_a[0] is not holds_b[0]:
                first, second = holds_a[0], holds_b[0]
                if not ((first["parts"] >= 0) & (second["parts"] >= 0)).any():
                    first["parts"] = np.maximum(first["parts"], second["parts"])
                    first["score"] += second["score"] + score
                    persons.remove(second)
            elif holds_a:
                person = holds_a[0]
                if person["parts"][b_part] < 0:
                    person["parts"][b_part] = j
                    person["score"] += peaks[b_part][j, 2] + score
            elif holds_b:
                person = holds_b[0]
                if person["parts"][a_part] < 0:
                    person["parts"][a_part] = i
                    person["score"] += peaks[a_part][i, 2] + score
            else:
                parts = np.full(NUM_PARTS, -1, dtype=np.int64)
                parts[a_part], parts[b_part] = i, j
                persons.append({"parts": parts, "score": peaks[a_part][i, 2] + peaks[b_part][j, 2] + score})
    out = []
    for person in persons:
        count = int((person["parts"] >= 0).sum())
        if count < settings.min_parts or person["score"] / count < settings.min_mean_score:
            continue
        keypoints = np.zeros((NUM_PARTS, 3), dtype=np.float32)
        for part, index in enumerate(person["parts"]):
            if index >= 0:
                keypoints[part] = peaks[part][index]
        out.append(keypoints)
    return np.asarray(out, dtype=np.float32).reshape(-1, NUM_PARTS, 3)


def parse_body25(heatmaps: np.ndarray, pafs: np.ndarray, settings: ParseSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """heatmaps (25 or 26, h, w), pafs (52, h, w) (OpenPose channel order) -> persons (P, 25, 3): x, y in map
    pixels, confidence = the part's heatmap peak (clipped to [0, 1]); zeros for parts not found."""
    if heatmaps.shape[0] < NUM_PARTS or pafs.shape[0] != 2 * len(LIMBS) or heatmaps.shape[1:] != pafs.shape[1:]:
        raise ValueError(f"expected heatmaps (25|26, h, w) and PAFs (52, h, w), got {heatmaps.shape} and {pafs.shape}")
    peaks = [find_peaks(heatmaps[part], settings.peak_threshold) for part in range(NUM_PARTS)]
    connections = []
    for (a_part, b_part), (cx, cy) in zip(LIMBS, PAF_CHANNELS, strict=True):
        if len(peaks[a_part]) and len(peaks[b_part]):
            connections.append(limb_candidates(peaks[a_part], peaks[b_part], pafs[cx], pafs[cy], settings))
        else:
            connections.append([])
    persons = assemble(peaks, connections, settings)
    persons[..., 2] = np.clip(persons[..., 2], 0.0, 1.0)
    return persons
