"""Instance masks for PHALP layouts that stored none: BlazePose's person segmentation inside each observed
row's box (the CPU tracker's segmentation, mshot/pose2d/blazepose.py), as COCO RLE."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.artifacts.masks import box_mask, encode_mask
from mshot.pose2d.blazepose import BlazePoseBody25
from mshot.progress import Progress
from mshot.video import iter_frames


def segment_rows(video: str | Path, rows: dict[str, np.ndarray], progress: Progress) -> np.ndarray:
    """mask_rle (M,) for `rows` (frame_index, observed, bbox_xyxy): a segmentation on observed rows where
    BlazePose finds the person, '' elsewhere (predicted rows, misses)."""
    counts = np.full(len(rows["frame_index"]), "", dtype=object)
    wanted = np.flatnonzero(rows["observed"])
    if not len(wanted):
        return counts.astype(str)
    by_frame: dict[int, list[int]] = {}
    for row in wanted:
        by_frame.setdefault(int(rows["frame_index"][row]), []).append(int(row))
    last = max(by_frame)
    pose = BlazePoseBody25()
    try:
        for index, frame in iter_frames(video, stop=last + 1):
            if index not in by_frame:
                continue
            chosen = by_frame[index]
            _, masks = pose.estimate(frame, rows["bbox_xyxy"][chosen])
            for row, mask in zip(chosen, masks, strict=True):
                if mask.any():
                    counts[row] = encode_mask(mask)
            progress((index + 1) / (last + 1), f"segmenting frame {index + 1}/{last + 1}")
    finally:
        pose.close()
    return counts.astype(str)


def box_rows(rows: dict[str, np.ndarray], height: int, width: int) -> np.ndarray:
    """mask_rle (M,): each observed row's box as a mask (a prior, not a segmentation); '' on predicted rows."""
    return np.array([encode_mask(box_mask(box, height, width)) if observed else ""
                     for box, observed in zip(rows["bbox_xyxy"], rows["observed"], strict=True)], dtype=str)
