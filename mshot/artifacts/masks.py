"""Instance masks as COCO compressed RLE strings (pycocotools), the form artifacts store them in."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as coco_mask


def encode_mask(mask: np.ndarray) -> str:
    """bool (H, W) -> COCO compressed RLE counts string."""
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return rle["counts"].decode("ascii")


def decode_mask(counts: str, height: int, width: int) -> np.ndarray:
    """COCO compressed RLE counts string -> bool (H, W); an empty string gives an all-False mask."""
    if not counts:
        return np.zeros((height, width), dtype=bool)
    return coco_mask.decode({"size": [height, width], "counts": counts.encode("ascii")}).astype(bool)


def box_mask(bbox_xyxy: np.ndarray, height: int, width: int) -> np.ndarray:
    """A box-shaped mask (a prior, not a segmentation)."""
    x0, y0, x1, y1 = np.round(bbox_xyxy).astype(int)
    mask = np.zeros((height, width), dtype=bool)
    mask[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)] = True
    return mask
