"""2D keypoints that jump away from their own track for a frame or two (a detector's per-frame miss), left out
of the fit before it starts.

What it catches: on tests/data/gt_video a walking man's legs detected 40-70 px (a third to a half of his height)
above his feet in every other frame at confidence 0.4-0.7 (frames 38 and 40: knees, ankles and feet together).
The fit follows such a row (its median reprojection there is 5.9 px against 2-3 px around it) and the legs then
jump in depth from frame to frame; the camera-frame smoothness term damps that jump but cannot remove it, and the
per-person residual gating (objective.FitProblem.gate_outliers) does not see it, because the fitted body went to
the wrong keypoints.

Test (per keypoint of a row): the window of 2 * SPIKE_HALF_WINDOW + 1 rows centred on it must be consecutive
frames of one person in one shot with the keypoint seen (confidence >= min_confidence) in every one of them; the
keypoint is a spike when its distance from the window's per-coordinate median (pixels) exceeds both `fraction` of
the person's keypoint extent (robust_scale.person_extent_px) and `factor` times that keypoint's typical distance
for its person (the median over the person's tested rows): a gross outlier for its own track, as the residual
gating is for the fitted body. The second bound spares a person whose keypoints are noisy throughout
(../shared/real_clips/seated_3people.mp4's left musician, knees and wrists 10-17 px of jitter: with the extent
bound alone a spike in half of her rows, and her reprojection 9.79 -> 10.14 px). A median of five keeps any
monotone motion (walking, turning: the median of a monotone run is its centre, distance 0) and clips a true
turning point by less than its overshoot over the runner-up, while two misses in one window (every other frame, as
above) are still outvoted by three good rows; a three-row median is not (with misses at 38 and 40 the good row 39
would be the odd one out).
Rows within SPIKE_HALF_WINDOW of a track's end, a gap or a cut are not tested.
"""

from __future__ import annotations

import numpy as np

SPIKE_HALF_WINDOW = 2  # rows on each side of the tested row


def temporal_spikes(keypoints: np.ndarray, run_id: np.ndarray, person_index: np.ndarray, extent_px: np.ndarray,
                    fraction: float, min_confidence: float, factor: float) -> np.ndarray:
    """keypoints (M, 25, 3) x, y px + confidence, run_id (M,) from rows.consecutive_runs, person_index (M,),
    extent_px (M,) each row's person extent in pixels, fraction of it, factor of the typical distance ->
    (M, 25) bool: the keypoints that are spikes by the module doc's test (none when fraction <= 0)."""
    keypoints = np.asarray(keypoints, dtype=np.float64)
    count = len(keypoints)
    spikes = np.zeros(keypoints.shape[:2], bool)
    half = SPIKE_HALF_WINDOW
    if count < 2 * half + 1 or fraction <= 0:
        return spikes
    centre = np.arange(half, count - half)
    window = centre[:, None] + np.arange(-half, half + 1)[None, :]  # (C, 5) row indices
    runs = np.asarray(run_id)
    whole = (runs[window] == runs[centre][:, None]).all(1)
    centre, window = centre[whole], window[whole]
    seen = (keypoints[window, :, 2] >= min_confidence).all(1)  # (C, 25)
    median = np.median(keypoints[window, :, :2], axis=1)  # (C, 25, 2)
    distance = np.linalg.norm(keypoints[centre, :, :2] - median, axis=-1)
    limit = np.maximum(fraction * np.asarray(extent_px, dtype=np.float64)[centre, None],
                       factor * typical_distance(distance, seen, np.asarray(person_index)[centre]))
    spikes[centre] = seen & (distance > limit)
    return spikes


def typical_distance(distance: np.ndarray, seen: np.ndarray, person_index: np.ndarray) -> np.ndarray:
    """distance (C, 25) px of each tested keypoint from its window's median, seen (C, 25), person_index (C,) ->
    (C, 25) px: the median distance of that keypoint over its person's tested rows (0 where none is seen)."""
    typical = np.zeros_like(distance)
    for person in np.unique(person_index):
        rows = person_index == person
        for joint in np.flatnonzero(seen[rows].any(0)):
            typical[rows, joint] = np.median(distance[rows & seen[:, joint], joint])
    return typical
