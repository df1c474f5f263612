"""The crop a one-person pose model (BlazePose) is given for a small person.

BlazePose sees a square window around the person's box, enlarged by its `context` (mshot/pose2d/blazepose.py,
1.3), and resized to 256 px. For a person under about 86 px tall that window is under 112 px of the image, and
BlazePose's person detector often finds nobody in it: on the rendered GT video 2 a 1.27 m child 72 px tall is found in
none of 8 such crops, and in 7 of them once the window is 112 px (at 128-144 px it starts picking the neighbour
beside the child instead). So where the plain crop of such a small box finds nobody, the pose call is tried
once more with the box grown about its centre until the window is at least MIN_WINDOW_PX (only as a retry: on
the unpainted frame the wider window finds the neighbour in about half of the frames the plain crop was right);
people larger than that are cropped as before.

A person cut off by the left or right frame edge: BlazePose's person detector keys on the face and torso, and
with half of them beyond the edge it finds nobody, in any crop (seated_3people's musician at the right edge,
her face cut through the middle: none of the crops clipped to the image, nor one padded with grey or black,
finds her). People are nearly mirror-symmetric about a vertical axis, so the image mirrored across that edge
completes the half that is left into a whole face and torso, in which BlazePose finds her. Where the plain
crop of a box whose window leaves the image at a side finds nobody, the pose call is tried once more on the
box grown to its mirror image across that edge (mirrored_across_sides), the crop completed by mirroring
(blazepose.mirrored_crop); what BlazePose places beyond the edge is the mirror's echo and is unseen."""

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


def window_x(box_xyxy: np.ndarray, context: float) -> tuple[float, float]:
    """The x extent (px) of the box's (4,) xyxy square window: its longer side times `context` about its centre."""
    box = np.asarray(box_xyxy, dtype=np.float64)
    centre, side = (box[0] + box[2]) / 2, max(box[2] - box[0], box[3] - box[1]) * context
    return centre - side / 2, centre + side / 2


def leaves_at_a_side(box_xyxy: np.ndarray, width: int, context: float) -> bool:
    """The box's (4,) xyxy px window reaches beyond the image's left (x < 0) or right (x > width) edge."""
    x0, x1 = window_x(box_xyxy, context)
    return bool(x0 < 0 or x1 > width)


def mirrored_across_sides(box_xyxy: np.ndarray, width: int, context: float) -> np.ndarray:
    """(4,) xyxy px -> (4,) xyxy px: the box grown across each side edge its window leaves the image at, to
    the box's mirror image there (left edge: x0 = min(x0, -x1); right edge: x1 = max(x1, 2 * width - x0)),
    so the new box is centred on that edge; a box whose window stays inside unchanged."""
    box = np.array(box_xyxy, dtype=np.float64)
    (x0, x1), (left, right) = window_x(box, context), (box[0], box[2])
    if x0 < 0:
        box[0] = min(left, -right)
    if x1 > width:
        box[2] = max(right, 2 * width - left)
    return box
