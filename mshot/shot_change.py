"""Is a content jump a cut, or a change laid over the same shot (a caption popping up, a text that changes)?

At a hard cut the whole scene changes: every part of the frame where the shot's content had been moving (people,
the camera's noise) changes at once. A caption, a sticker or a title card changes only where it is drawn; the
rest of the scene goes on as before. Static parts of the frame (a letterbox backdrop, a watermark, a fixed title)
change at neither, so they are left out: the test looks only at the shot's *live* cells, those whose grey level
moved by more than `LIVE_LEVELS` between two consecutive frames at least `MIN_LIVE_MOVES` times in the recent
history within the shot (a caption that appeared, a one-off step, does not make its cells live).

Frames are compared as grey thumbnails, `THUMB_LONG_SIDE` px on the long side, in cells of `CELL` x `CELL`
thumbnail px (a cell is 1/48 of the frame's long side: 22 px of a 1080p frame). A cell's change is the mean
absolute difference of its pixels, so a texture that moves or is replaced by a similar one (a tiled floor seen
from another camera) changes, where cell means alone would hardly move. Measured (tests/data/gt_video, gt_video2,
data/sample and scripts/real_footage.py's web clip): their true cuts change 0.80-1.0 of the live
cells (or have too few live cells before them to judge), the web clip's caption card popping up 0.39 (0.22 in
its 12-frame-shot version), going away 0.0.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

THUMB_LONG_SIDE = 192
CELL = 4
LIVE_LEVELS = 3.0  # grey levels (0..255) a cell must move by, frame to frame, to count as live
CHANGED_LEVELS = 12.0  # grey levels a cell must jump by at a cut
MIN_LIVE_MOVES = 2
MIN_LIVE_CHANGED = 0.6  # share of the live cells a cut changes
MIN_HISTORY = 3  # frames of the shot before the jump needed to judge (fewer: it is a cut)
MIN_LIVE_CELLS = 8  # fewer live cells (a still shot): it is a cut


def thumbnail(frame_bgr: np.ndarray) -> np.ndarray:
    """(h, w) float32 grey thumbnail, about THUMB_LONG_SIDE px on the long side, both sides multiples of CELL."""
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
    height, width = grey.shape
    step = max(height, width) / THUMB_LONG_SIDE
    size = (max(1, round(width / step) // CELL) * CELL, max(1, round(height / step) // CELL) * CELL)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def cell_change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two (h, w) thumbnails -> (h / CELL, w / CELL) mean absolute difference per cell, grey levels."""
    diff = np.abs(a - b)
    height, width = diff.shape
    return diff.reshape(height // CELL, CELL, width // CELL, CELL).mean(axis=(1, 3))


def live_share_changed(history: list[np.ndarray], after: np.ndarray) -> float | None:
    """Share of the live cells of `history` (thumbnails of the shot's frames up to the jump, in order) that
    change by more than CHANGED_LEVELS from its last frame to `after`; None when there is too little history
    or too few live cells to judge."""
    if len(history) < MIN_HISTORY:
        return None
    moves = np.sum([cell_change(a, b) > LIVE_LEVELS for a, b in zip(history, history[1:], strict=False)], axis=0)
    live = moves >= MIN_LIVE_MOVES
    if live.sum() < MIN_LIVE_CELLS:
        return None
    changed = cell_change(after, history[-1]) > CHANGED_LEVELS
    return float((changed & live).sum() / live.sum())


def is_overlay_change(history: list[np.ndarray], after: np.ndarray) -> bool:
    """True when the jump to `after` changed less than MIN_LIVE_CHANGED of the shot's live cells."""
    share = live_share_changed(history, after)
    return share is not None and share < MIN_LIVE_CHANGED


class ThumbnailHistory:
    """The last `length` frames' thumbnails by frame index, to judge a cut detected a few frames late."""

    def __init__(self, length: int = 25):
        self._frames: deque[tuple[int, np.ndarray]] = deque(maxlen=length)

    def add(self, index: int, frame_bgr: np.ndarray) -> None:
        self._frames.append((index, thumbnail(frame_bgr)))

    def is_overlay_cut(self, cut: int, since: int) -> bool:
        """Whether the jump at frame `cut` is an overlay change, judged on the frames from `since` (the current
        shot's first frame, or the last overlay change's: what was drawn there was not live) to `cut` - 1 that
        are still held."""
        before = [t for i, t in self._frames if since <= i < cut]
        after = [t for i, t in self._frames if i == cut]
        return bool(after) and is_overlay_change(before, after[0])
