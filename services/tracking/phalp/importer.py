"""PHALP results (any layout in layouts.py) -> the canonical tracklets artifact (docs/artifacts.md).

Read through the restricted unpickler only. Per person and frame: PHALP's `tid` is the person id, `time` the
frame index, `tracked_time > 0` marks a predicted row (the track coasting; PHALP repeats the last detection's
values there, so its mask and confidence are not kept), `bbox` [x0, y0, w, h] becomes xyxy, `smpl` rotation
matrices become axis-angle, `camera` the translation for PHALP's camera on the full image (camera.py); with a
focal length given, that focal and the depths it implies (camera.transl_at_focal).
`shot` cut flags become shot ids. Layouts without masks get none, or BlazePose segmentations with the video.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mshot.artifacts.tracklets import save_tracklets
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.geometry.camera import check_given_focal
from mshot.geometry.rotations import matrix_to_axis_angle, orthonormalize
from mshot.progress import Progress, no_progress
from mshot.safe_pickle import UndecodedTensor, load_restricted
from mshot.video import VideoInfo, probe_video
from services.tracking.phalp.camera import full_image_intrinsics, transl_at_focal
from services.tracking.phalp.layouts import Layout, detect_layout
from services.tracking.phalp.rows import person_rows

END_FRAME_CAP = 1300  # PHALP master's default video.end_frame


@dataclass
class PhalpImport:
    tracklets: dict
    layout: Layout
    notes: list[str] = field(default_factory=list)


def read_phalp_results(path: str | Path, video: str | Path | None = None, fps: float | None = None,
                       progress: Progress = no_progress, source: str | None = None,
                       focal_px: float = 0.0) -> PhalpImport:
    """Load and convert; InvalidInput for a file that is not PHALP results or does not match `video`.
    `source` (default `phalp-import:<layout>`) is the artifact's source label; `focal_px` (px, 0 = not given:
    PHALP's camera is kept) the video's focal length."""
    what = f"PHALP results {path}"
    frames = load_restricted(path, "PHALP results")
    layout = detect_layout(frames, what)
    records = _records_by_time(frames, what)
    info = probe_video(video) if video is not None else None
    if info is not None and len(records) != info.num_frames:
        hint = (f" (PHALP git master stops at video.end_frame={END_FRAME_CAP} unless told otherwise)"
                if len(records) == END_FRAME_CAP else "")
        raise InvalidInput(f"{what} cover {len(records)} frames, the video {video} has {info.num_frames}{hint}")
    if info is None and fps is None:
        raise InvalidInput(f"{what}: PHALP does not record the frame rate; give the video or the fps")
    num_frames = info.num_frames if info is not None else int(records[-1]["time"]) + 1
    if int(records[-1]["time"]) >= num_frames:
        raise InvalidInput(f"{what}: frame time {int(records[-1]['time'])} is past the video's {num_frames} frames")
    rows = person_rows(records, layout, what)
    height, width = _image_size(rows.pop("size_hw"), info, what)
    flags = np.zeros(num_frames, np.int32)
    for record in records:
        flags[int(record["time"])] = 1 if int(record["shot"]) else 0
    flags[0] = 0
    frame_shot = np.cumsum(flags).astype(np.int32)
    count = len(rows["person_id"])
    frame_rate = float(fps) if fps is not None else info.fps
    notes = []
    focal, principal, focal_source = _camera(rows, height, width, focal_px, notes)
    if layout.has_masks:
        mask_source = "phalp"
    elif info is not None:
        from services.tracking.phalp.segment import box_rows, segment_rows

        try:
            rows["mask_rle"] = segment_rows(video, rows, progress)
            mask_source = "segmentation"
            notes.append(f"layout {layout.name} has no instance masks: BlazePose segmentations computed from the "
                         f"video")
        except FailedPrecondition as exc:
            rows["mask_rle"] = box_rows(rows, height, width)
            mask_source = "box"
            notes.append(f"layout {layout.name} has no instance masks and BlazePose is unavailable ({exc.message}): "
                         f"box-shaped masks")
    else:
        mask_source = "none"
        notes.append(f"layout {layout.name} has no instance masks and no video was given: mask_rle is empty")
    if not layout.has_masks and info is None:
        rows["mask_rle"] = np.full(count, "", dtype="<U1")
    tracklets = {
        **rows, "source": source or f"phalp-import:{layout.name}", "image_size": [height, width], "fps": frame_rate,
        "num_frames": num_frames, "frame_shot_id": frame_shot, "mask_source": mask_source,
        "focal_source": focal_source,
        "time_s": rows["frame_index"] / frame_rate, "shot_id": frame_shot[rows["frame_index"]],
        "focal_px": np.full(count, focal, np.float32), "principal_px": np.tile(principal, (count, 1)),
        "global_orient": matrix_to_axis_angle(orthonormalize(rows.pop("global_orient_R"))).reshape(count, 3),
        "body_pose": matrix_to_axis_angle(orthonormalize(rows.pop("body_pose_R"))).reshape(count, 69),
    }
    if any(isinstance(e, UndecodedTensor) for r in records for e in r.get("embedding", [])):
        notes.append("the per-person 'embedding' holds torch tensors of a type numpy lacks (not decoded; not used)")
    return PhalpImport(tracklets, layout, notes)


def import_phalp(path: str | Path, out: str | Path, video: str | Path | None = None, fps: float | None = None,
                 progress: Progress = no_progress, source: str | None = None, focal_px: float = 0.0) -> PhalpImport:
    """read_phalp_results, then write `out` atomically (nothing is left behind on failure)."""
    result = read_phalp_results(path, video, fps, progress, source, focal_px)
    save_tracklets(out, result.tracklets)
    return result


def _camera(rows: dict, height: int, width: int, focal_px: float, notes: list[str]) -> tuple[float, np.ndarray, str]:
    """(focal px, principal point (2,) px, focal_source) of the rows' camera: PHALP's (camera.py), or with a
    given `focal_px` that focal, rows["transl"] moved to the depths it implies (camera.transl_at_focal)."""
    focal, principal = full_image_intrinsics(height, width)
    if not focal_px:
        return focal, principal, "phalp"
    check_given_focal(focal_px, "focal_px", height, width)
    rows["transl"] = transl_at_focal(rows["transl"], focal, focal_px)
    notes.append(f"focal length {focal_px:g} px given: PHALP's depths (for its {focal:g} px camera) scaled by "
                 f"{focal_px / focal:.4g}, image positions kept")
    return focal_px, principal, "given"


def _records_by_time(frames: dict, what: str) -> list[dict]:
    records = sorted(frames.values(), key=lambda r: _frame_time(r, what))
    times = [int(r["time"]) for r in records]
    if len(set(times)) != len(times):
        raise InvalidInput(f"{what}: two frame records share a time index")
    return records


def _frame_time(record: dict, what: str) -> int:
    time = record.get("time")
    if isinstance(time, (bool, np.bool_)) or not isinstance(time, (int, np.integer)) or time < 0:
        raise InvalidInput(f"{what}: a frame record's 'time' is {time!r}, expected a frame index >= 0")
    return int(time)


def _image_size(sizes: np.ndarray, info: VideoInfo | None, what: str) -> tuple[int, int]:
    distinct = {tuple(int(v) for v in s) for s in sizes}
    if len(distinct) > 1:
        raise InvalidInput(f"{what}: persons report different image sizes {sorted(distinct)}")
    if info is not None:
        if distinct and distinct != {(info.height, info.width)}:
            (h, w), = distinct
            raise InvalidInput(f"{what} are for {w}x{h} frames, the video is {info.width}x{info.height}")
        return info.height, info.width
    if not distinct:
        raise InvalidInput(f"{what}: no tracked person, so the image size is unknown; give the video")
    (h, w), = distinct
    return h, w
