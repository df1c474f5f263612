"""The rendered ground-truth video's annotations (`mshot.gt-video/1`, written by scripts/render_gt_video.py;
format in tests/data/gt_video/README.md). Plain arrays, no pickles; numpy and the project's npz schema only, so
the renderer's own environment writes it with the same code the benchmarks read it with.

Rows are person-frames in which the person has at least `MIN_VISIBLE_PX` visible pixels, sorted by
(person_id, frame_index)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from mshot.artifacts.schema import Schema, f, i, s

MIN_VISIBLE_PX = 20
GT_VIDEO_PATH = Path("tests/data/gt_video/gt_video.mp4")  # relative to the repository root
GT_PATH = Path("tests/data/gt_video/gt_video.npz")

GT_VIDEO = Schema("mshot.gt-video/1", "ground truth", {
    "image_size": i(2), "fps": f(dtype="float64"), "num_frames": i(), "frame_shot_id": i("F"),
    "camera_focal_px": f("F"), "camera_principal_px": f("F", 2), "camera_world_to_cam": f("F", 4, 4),
    "person_id": i("M"), "frame_index": i("M"), "bbox_xyxy": f("M", 4), "mask_rle": s("M"),
    "visible_fraction": f("M"), "keypoints_body25": f("M", 25, 3), "joints3d_cam_body25": f("M", 25, 3),
    "person_height_m": f("P"),
})


@dataclass(frozen=True)
class GroundTruth:
    """See GT_VIDEO: F frames, M person-frame rows, P people (person_id 0..P-1)."""

    image_size: np.ndarray  # (2,) [H, W]
    fps: float
    num_frames: int
    frame_shot_id: np.ndarray  # (F,) 0, 1, 2, ... in video order
    camera_focal_px: np.ndarray  # (F,) px
    camera_principal_px: np.ndarray  # (F, 2) px
    camera_world_to_cam: np.ndarray  # (F, 4, 4) world (z up, metres) -> OpenCV camera frame
    person_id: np.ndarray  # (M,)
    frame_index: np.ndarray  # (M,)
    bbox_xyxy: np.ndarray  # (M, 4) px box of the visible pixels, x1/y1 exclusive
    mask_rle: np.ndarray  # (M,) COCO compressed RLE counts of the visible mask
    visible_fraction: np.ndarray  # (M,) visible pixels / pixels of the person rendered alone
    keypoints_body25: np.ndarray  # (M, 25, 3) x, y px; third: 1 visible, 0 occluded or outside the image
    joints3d_cam_body25: np.ndarray  # (M, 25, 3) metres, camera frame
    person_height_m: np.ndarray  # (P,)

    @property
    def cut_frames(self) -> np.ndarray:
        """Frame indices that start a new shot (first frame of shots 1, 2, ...)."""
        return np.flatnonzero(np.diff(self.frame_shot_id) != 0) + 1


def save_ground_truth(path: str | Path, arrays: dict) -> Path:
    return GT_VIDEO.save(path, arrays)


def load_ground_truth(path: str | Path) -> GroundTruth:
    data = GT_VIDEO.load(path)
    return GroundTruth(**{k: (data[k].item() if data[k].ndim == 0 else data[k]) for k in GT_VIDEO.fields})


def truncate_ground_truth(gt: GroundTruth, frames: int) -> GroundTruth:
    """The ground truth of the first `frames` frames only (per-frame arrays cut, rows of later frames dropped)."""
    keep = gt.frame_index < frames
    per_frame = ("frame_shot_id", "camera_focal_px", "camera_principal_px", "camera_world_to_cam")
    per_row = ("person_id", "frame_index", "bbox_xyxy", "mask_rle", "visible_fraction", "keypoints_body25",
               "joints3d_cam_body25")
    return replace(gt, num_frames=min(frames, gt.num_frames), **{k: getattr(gt, k)[:frames] for k in per_frame},
                   **{k: getattr(gt, k)[keep] for k in per_row})


def add_ground_truth_arguments(parser: argparse.ArgumentParser) -> None:
    """--video, --gt and --json, as every benchmark on the rendered video takes them."""
    parser.add_argument("--video", type=Path, default=GT_VIDEO_PATH)
    parser.add_argument("--gt", type=Path, default=GT_PATH)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")


def ground_truth_or_none(path: Path) -> GroundTruth | None:
    """The ground truth at `path`, or None after saying how to make it."""
    if not path.is_file():
        print(f"ground truth {path} not found (scripts/render_gt_video.py renders it)")
        return None
    return load_ground_truth(path)


def report(figures: dict, json_path: Path | None) -> None:
    """Print the figures as JSON, and write them to `json_path` when given."""
    text = json.dumps(figures, indent=2)
    print(text)
    if json_path:
        json_path.write_text(text)
