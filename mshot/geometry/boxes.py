"""Boxes on images: a box (x0, y0, x1, y1) in pixels (docs/conventions.md) clipped to an image before it
indexes image data, so a box at or beyond the border, or a zero-area one, never wraps around (negative
slice ends count from the far side) or reads outside the image."""

from __future__ import annotations

import numpy as np


def box_slices(box_xyxy: np.ndarray, height: int, width: int) -> tuple[slice, slice]:
    """(rows, columns) slices of the pixels the box covers, rounded to whole pixels and clipped to the
    image (height, width); empty slices when the box lies outside the image or is non-finite."""
    box = np.asarray(box_xyxy, dtype=np.float64)
    if not np.isfinite(box).all():
        return slice(0, 0), slice(0, 0)
    x0, y0, x1, y1 = np.round(box).astype(np.int64)
    x0, x1 = int(np.clip(x0, 0, width)), int(np.clip(x1, 0, width))
    y0, y1 = int(np.clip(y0, 0, height)), int(np.clip(y1, 0, height))
    return slice(y0, max(y1, y0)), slice(x0, max(x1, x0))


def points_in_mask(xy: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N, 2) px -> (N,) bool: the pixel containing each point (nearest pixel centre) is set in mask (H, W);
    points outside the image or non-finite are not in it."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    height, width = mask.shape
    finite = np.isfinite(xy).all(axis=1)
    x = np.floor(np.where(finite, xy[:, 0], -1.0) + 0.5).astype(np.int64)
    y = np.floor(np.where(finite, xy[:, 1], -1.0) + 0.5).astype(np.int64)
    ok = finite & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    out = np.zeros(len(xy), dtype=bool)
    out[ok] = mask[y[ok], x[ok]]
    return out


def outside_image(xy: np.ndarray, height, width) -> np.ndarray:
    """(..., 2) px -> (...) bool: the point lies outside the image [-0.5, width - 0.5] x [-0.5, height - 0.5]
    (pixel centres at integers, docs/conventions.md) or is non-finite. height and width: numbers, or arrays
    that broadcast against (...) (one image size per row)."""
    xy = np.asarray(xy, dtype=np.float64)
    x, y = xy[..., 0], xy[..., 1]
    inside = (x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5)
    return ~inside


def grown(box: np.ndarray, factor: float) -> np.ndarray:
    """(4,) xyxy px -> (4,) xyxy px: the box scaled by `factor` about its centre."""
    box = np.asarray(box, dtype=np.float64)
    centre, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * factor
    return np.concatenate([centre - half, centre + half])
