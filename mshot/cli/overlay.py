"""`overlay.mp4` in a result folder: the whole input video with every tracked person's fitted SMPL body drawn
over it, coloured by identity (person id), with the person id and shot id by each person and the frame and
shot in the corner. Written from the artifacts of the stages that finished: without fits (multishot did not
finish) the boxes alone are drawn. Frames are scaled so the longer side is at most MAX_SIDE_PX."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mshot.body.posed import FittedMeshes
from mshot.geometry.camera import intrinsics_matrix
from mshot.progress import Progress, no_progress
from mshot.video import iter_frames, probe_video

# One colour per identity, RGB 0..255 (person id modulo the palette).
PALETTE = np.array([(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190), (0, 128, 128), (170, 110, 40)])
MAX_SIDE_PX = 1280


def person_colour_rgb(person_id: int) -> np.ndarray:
    """(3,) RGB 0..255 of a person id."""
    return PALETTE[int(person_id) % len(PALETTE)]


def scaled_size(height: int, width: int) -> tuple[float, int, int]:
    """(scale, height, width) of the overlay: longer side at most MAX_SIDE_PX, even sides (video codecs)."""
    scale = min(1.0, MAX_SIDE_PX / max(height, width))
    return scale, max(2, round(height * scale) // 2 * 2), max(2, round(width * scale) // 2 * 2)


def scaled_intrinsics(focal_px: float, principal_px: np.ndarray, scale: float) -> np.ndarray:
    """K (3, 3) of the image scaled by `scale` (pixel centres: x' = (x + 0.5) * scale - 0.5)."""
    return intrinsics_matrix(focal_px * scale, (np.asarray(principal_px, np.float64) + 0.5) * scale - 0.5)


def write_overlay(video: Path, tracklets: dict, fits: dict | None, body_model, out: Path,
                  progress: Progress = no_progress) -> Path:
    """Write `out` (mp4) for every frame of `video`; a half-written file never appears under its name."""
    from mshot.render import MeshRenderer

    info = probe_video(video)
    scale, height, width = scaled_size(info.height, info.width)
    rows_by_frame: dict[int, list[int]] = {}
    for row, frame_index in enumerate(tracklets["frame_index"]):
        rows_by_frame.setdefault(int(frame_index), []).append(row)
    renderer = MeshRenderer(width, height, body_model.faces) if fits is not None else None
    meshes = FittedMeshes(body_model, fits) if fits is not None else None
    partial = out.with_name(out.stem + ".partial.mp4")
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"mp4v"), info.fps, (width, height))
    try:
        for index, frame in iter_frames(video):
            image = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
            rows = rows_by_frame.get(index, [])
            if renderer is not None:
                image = _draw_bodies(image, rows, fits, meshes, renderer, scale)
            _draw_labels(image, rows, tracklets, scale, index)
            writer.write(image)
            progress((index + 1) / max(info.num_frames, 1), f"overlay frame {index + 1}/{info.num_frames}")
    finally:
        writer.release()
        if renderer is not None:
            renderer.close()
    partial.replace(out)
    return out


def _draw_bodies(image: np.ndarray, rows: list[int], fits: dict, meshes: FittedMeshes, renderer,
                 scale: float) -> np.ndarray:
    """The fitted meshes of the frame's valid rows blended over the image: the rows seen with the same intrinsics
    (as a rule all of them) in one render, where the nearest body covers the others."""
    from mshot.render import overlay

    cameras: dict[tuple[float, float, float], list[int]] = {}
    for row in (r for r in rows if bool(fits["valid"][r])):
        cameras.setdefault((float(fits["focal_px"][row]), *map(float, fits["principal_px"][row])), []).append(row)
    for (focal, cx, cy), group in cameras.items():
        K = scaled_intrinsics(focal, np.array([cx, cy]), scale)
        bodies = [(meshes(row), tuple(person_colour_rgb(int(fits["person_id"][row])) / 255.0)) for row in group]
        mask, colour_image = renderer.render_many(bodies, K)
        image = overlay(image, mask, colour_image)
    return image


def _draw_labels(image: np.ndarray, rows: list[int], tracklets: dict, scale: float, frame_index: int) -> None:
    """In place: each row's box (thin when predicted, not observed) and `person P  shot S`; frame and shot."""
    height = image.shape[0]
    text_scale = max(0.4, height / 900)
    for row in rows:
        person, shot = int(tracklets["person_id"][row]), int(tracklets["shot_id"][row])
        colour = person_colour_rgb(person)[::-1].tolist()  # BGR
        box = np.asarray(tracklets["bbox_xyxy"][row], np.float64) * scale
        if not np.isfinite(box).all():
            continue
        limit = 4 * max(image.shape[:2])  # far beyond the border: drawn clipped, never overflowing int32
        x0, y0, x1, y1 = np.round(np.clip(box, -limit, limit)).astype(int).tolist()
        observed = bool(tracklets["observed"][row])
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, 2 if observed else 1)
        cv2.putText(image, f"person {person}  shot {shot}", (max(x0, 2), max(y0 - 6, 14)),
                    cv2.FONT_HERSHEY_SIMPLEX, text_scale, colour, 2, cv2.LINE_AA)
    shot = int(tracklets["frame_shot_id"][frame_index]) if frame_index < len(tracklets["frame_shot_id"]) else -1
    cv2.putText(image, f"frame {frame_index}  shot {shot}", (8, height - 12), cv2.FONT_HERSHEY_SIMPLEX, text_scale,
                (255, 255, 255), 2, cv2.LINE_AA)
