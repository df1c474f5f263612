"""The crop a one-person pose model (BlazePose) is given for a small person.

BlazePose sees a square window around the person's box, enlarged by its `context` (mshot/pose2d/blazepose.py,
1.3), and resized to 256 px. For a person under about 86 px tall that window is under 112 px of the image, and
BlazePose's person detector often finds nobody in it: on the rendered GT video 2 a 1.27 m child 72 px tall is found in
none of 8 such crops, and in 7 of them once the window is 112 px (at 128-144 px it starts picking the neighbour
beside the child instead). So where the plain crop of such a small box finds nobody, the pose call is tried
once more with the box grown about its centre until the window is at least MIN_WINDOW_PX (only as a retry: on
the unpainted frame the wider window finds the neighbour in about half of the frames the plain crop was right);
people larger than that are cropped as before."""

from __future__ import annotations

import numpy as np

MIN_WINDOW_PX = 112  # px of the image in the pose model's window, at least


def is_small(box_xyxy: np.ndarray, context: float, min_window_px: float = MIN_WINDOW_PX) -> bool:
    """The box's (4,) xyxy px window (longer side times `context`) is under `min_window_px`."""
    box = np.asarray(box_xyxy, dtype=np.float64)
    return bool(max(box[2] - box[0], box[3] - box[1]) * context < min_window_px)


def with_min_window(box_xyxy: np.ndarray, context: float, min_window_px: float = MIN_WINDOW_PX) -> np.ndarray:
    """(4,) xyxy px -> (4,) xyxy px: a small box (is_small) grown about its centre to a width and height of at
    least min_window_px / context (its window is then min_window_px); any other box unchanged."""
    box = np.asarray(box_xyxy, dtype=np.float64)
    if not is_small(box, context, min_window_px):
        return box
    centre = (box[:2] + box[2:]) / 2
    half = np.maximum(box[2:] - box[:2], min_window_px / context) / 2
    return np.concatenate([centre - half, centre + half])
