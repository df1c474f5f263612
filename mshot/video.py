"""The one video decoding module every stage uses, so all stages see the same frames at the same indices.

Frames are BGR uint8 (H, W, 3) as OpenCV decodes them; `frame_index` is 0-based in decode order.

`probe_video` reads the container's metadata (frame count, rate, size) and checks it cheaply: the first frame
and the last one the metadata promises must decode, and the frame after it must not. A container whose count is
missing or wrong is counted by decoding (the decoded frames are the truth). It turns away, naming the problem,
a file that is not a video (an image renamed to .mp4 included). `require_trackable` adds what the tracker needs
(mshot run and the tracking stage check it before any work): frames of at least MIN_FRAME_SIDE_PX, at least
MIN_VIDEO_FRAMES frames, and not one flat colour throughout. A job probes its video once: the orchestrator
records the answer with the upload (record_probe, `videos/<sha256>.json` in the store) and the tracking stage
reuses it (recorded_probe).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from mshot.errors import InvalidInput, NotFound

MIN_FRAME_SIDE_PX = 96  # smaller frames hold no findable person (HOG's 64x128 window no longer fits)
MIN_VIDEO_FRAMES = 5  # a person must be followed over a few frames to be a track at all
FLAT_RANGE = 2  # a frame whose pixel values span at most this (0..255) shows one colour
SAMPLED_FRAMES = 5  # frames looked at for the one-colour check (evenly spread)
DEFAULT_FPS = 25.0  # containers without a usable rate

# Leading bytes of still-image formats OpenCV would otherwise open as a one-frame "video".
IMAGE_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF87a": "a GIF image",
                    b"GIF89a": "a GIF image", b"BM": "a BMP image", b"II*\x00": "a TIFF image",
                    b"MM\x00*": "a TIFF image"}


@dataclass(frozen=True)
class VideoInfo:
    num_frames: int
    fps: float  # frames per second
    height: int  # pixels
    width: int  # pixels

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> VideoInfo:
        try:
            fields = json.loads(data)
            return cls(int(fields["num_frames"]), float(fields["fps"]), int(fields["height"]), int(fields["width"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"recorded video probe is unreadable: {exc}") from None


def _probe_document(sha256: str) -> str:
    return f"videos/{sha256}.json"


def record_probe(store, sha256: str, info: VideoInfo) -> None:
    """Keep a video's probe beside it in the artifact store (mshot.store.ArtifactStore), by content digest."""
    store.put_document(_probe_document(sha256), info.to_json())


def recorded_probe(store, video) -> VideoInfo | None:
    """The probe recorded for `video` (an ArtifactRef), or None when it was never probed through the store."""
    data = store.get_document(_probe_document(video.sha256))
    return VideoInfo.from_json(data) if data is not None else None


def _open(path: str | Path) -> cv2.VideoCapture:
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"video file not found: {path}")
    if path.stat().st_size == 0:
        raise InvalidInput(f"video file {path} is empty")
    with open(path, "rb") as f:
        head = f.read(8)
    for signature, kind in IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            raise InvalidInput(f"{path} is {kind}, not a video")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise InvalidInput(f"{path} is not a readable video (unknown container or codec)")
    return capture


def _frame_at(capture: cv2.VideoCapture, index: int) -> np.ndarray | None:
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    return frame if ok and frame is not None else None


def _count_by_decoding(capture: cv2.VideoCapture) -> int:
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
    count = 0
    while capture.grab():
        count += 1
    return count


def _frame_count(capture: cv2.VideoCapture) -> int:
    """The metadata's count when its last frame decodes and the one after does not; else counted by decoding."""
    claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    if claimed > 0 and _frame_at(capture, claimed - 1) is not None and _frame_at(capture, claimed) is None:
        return claimed
    return _count_by_decoding(capture)


def require_trackable(path: str | Path, info: VideoInfo) -> None:
    """InvalidInput, naming the problem, for a video the tracker cannot find people in: frames smaller than
    MIN_FRAME_SIDE_PX (they crash OpenCV's HOG), fewer than MIN_VIDEO_FRAMES frames, or one flat colour in every
    one of SAMPLED_FRAMES frames spread over the clip. Looks at those few frames only."""
    if min(info.height, info.width) < MIN_FRAME_SIDE_PX:
        raise InvalidInput(f"{path} has {info.width}x{info.height} frames; mshot needs at least "
                           f"{MIN_FRAME_SIDE_PX}x{MIN_FRAME_SIDE_PX} pixels to find people")
    if info.num_frames < MIN_VIDEO_FRAMES:
        raise InvalidInput(f"{path} has only {info.num_frames} frame(s); mshot needs at least {MIN_VIDEO_FRAMES} "
                           "to follow a person")
    capture = _open(path)
    try:
        indices = np.unique(np.linspace(0, info.num_frames - 1, SAMPLED_FRAMES).round().astype(int))
        frames = [f for f in (_frame_at(capture, int(i)) for i in indices) if f is not None]
    finally:
        capture.release()
    if frames and all(int(np.ptp(frame)) <= FLAT_RANGE for frame in frames):
        raise InvalidInput(f"{path} shows one flat colour in every frame looked at (mean value "
                           f"{float(np.mean(frames[0])):.0f} of 255): there is nothing in it to track")


def probe_video(path: str | Path) -> VideoInfo:
    """Frame count, fps and size, from the container checked as described above (decoding only where the
    metadata is missing or wrong). InvalidInput for a file the stages cannot work on, naming why."""
    capture = _open(path)
    try:
        first = _frame_at(capture, 0)
        if first is None:
            raise InvalidInput(f"{path} has no decodable frames (empty, truncated or unsupported codec)")
        count = _frame_count(capture)
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = DEFAULT_FPS  # a documented default rather than a failure
    return VideoInfo(num_frames=count, fps=float(fps), height=int(first.shape[0]), width=int(first.shape[1]))


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
