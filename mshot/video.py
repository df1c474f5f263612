"""The one video decoding module every stage uses, so all stages see the same frames at the same indices.

Frames are BGR uint8 (H, W, 3) as OpenCV decodes them; `frame_index` is 0-based in decode order.
Containers that misreport their frame count are counted by decoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mshot.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class VideoInfo:
    num_frames: int
    fps: float
    height: int
    width: int


def _open(path: str | Path) -> cv2.VideoCapture:
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"video file not found: {path}")
    if path.stat().st_size == 0:
        raise InvalidInput(f"video file {path} is empty")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise InvalidInput(f"{path} is not a readable video (unknown container or codec)")
    return capture


def probe_video(path: str | Path) -> VideoInfo:
    """Frame count (by decoding), fps and size. InvalidInput for a file that is not a video or has no frames."""
    capture = _open(path)
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = 0
        height = width = 0
        while True:
            ok = capture.grab()
            if not ok:
                break
            if count == 0:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    break
                height, width = frame.shape[:2]
            count += 1
    finally:
        capture.release()
    if count == 0:
        raise InvalidInput(f"{path} has no decodable frames (empty, truncated or unsupported codec)")
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = 25.0  # containers without a rate: a documented default rather than a failure
    return VideoInfo(num_frames=count, fps=float(fps), height=int(height), width=int(width))


def iter_frames(path: str | Path, start: int = 0, stop: int | None = None,
                step: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (frame_index, BGR frame) for start <= index < stop, every `step` frames, in decode order."""
    if step < 1 or start < 0:
        raise InvalidInput(f"bad frame range: start={start}, step={step}")
    capture = _open(path)
    try:
        index = 0
        while stop is None or index < stop:
            if index < start or (index - start) % step:
                if not capture.grab():
                    return
            else:
                ok, frame = capture.read()
                if not ok or frame is None:
                    return
                yield index, frame
            index += 1
    finally:
        capture.release()


def read_frame(path: str | Path, index: int) -> np.ndarray:
    """One frame by index (decodes from the start: for random access use iter_frames in order)."""
    for _, frame in iter_frames(path, start=index, stop=index + 1):
        return frame
    raise InvalidInput(f"{path} has no frame {index}")
