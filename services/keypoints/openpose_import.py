"""OpenPose JSON folders (`<name>_<frame number>_keypoints.json`, format version 1.2/1.3) to BODY_25 detections.

The frame index is the trailing number before `_keypoints.json` (OpenPose numbers frames from 0, 12 digits).
Face and hand arrays are ignored. Validation: every file parses, every person has exactly 75 finite numbers,
coordinates are not negative, frame numbers are unique and inside the video when its length is known.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput, NotFound

_NAME = re.compile(r"(\d+)_keypoints\.json$")


def _parse(name: str, text: str) -> np.ndarray:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"OpenPose file {name} is not valid JSON: {exc}") from None
    people = document.get("people") if isinstance(document, dict) else None
    if not isinstance(people, list):
        raise InvalidInput(f"OpenPose file {name} has no 'people' list")
    out = []
    for k, person in enumerate(people):
        values = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if not isinstance(values, list) or len(values) != 75:
            count = len(values) if isinstance(values, list) else "no"
            raise InvalidInput(f"OpenPose file {name}: person {k} has {count} pose_keypoints_2d values, expected 75 "
                               "(BODY_25: 25 x (x, y, confidence))")
        try:
            array = np.asarray(values, dtype=np.float64).reshape(25, 3)
        except (TypeError, ValueError):
            raise InvalidInput(f"OpenPose file {name}: person {k} has non-numeric keypoint values") from None
        if not np.all(np.isfinite(array)):
            raise InvalidInput(f"OpenPose file {name}: person {k} has NaN or infinite keypoint values")
        if (array[:, :2] < 0).any():
            raise InvalidInput(f"OpenPose file {name}: person {k} has negative coordinates")
        if (array[:, 2] < 0).any() or (array[:, 2] > 1).any():
            raise InvalidInput(f"OpenPose file {name}: person {k} has confidences outside [0, 1]")
        out.append(array)
    return np.asarray(out, dtype=np.float32).reshape(-1, 25, 3)


def _entries(source: Path) -> list[tuple[str, str]]:
    if not source.exists():
        raise NotFound(f"OpenPose folder not found: {source}")
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            return [(n, archive.read(n).decode("utf-8", "replace")) for n in archive.namelist()
                    if n.endswith("_keypoints.json")]
    if source.is_dir():
        return [(str(p), p.read_text(errors="replace")) for p in sorted(source.glob("*_keypoints.json"))]
    raise InvalidInput(f"{source} is neither a folder nor a .zip of OpenPose JSON files")


def read_openpose(source: str | Path, num_frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """-> (det_frame_index (D,), det_keypoints_body25 (D, 25, 3)) sorted by frame."""
    source = Path(source)
    entries = _entries(source)
    if not entries:
        raise InvalidInput(f"{source} holds no OpenPose '*_keypoints.json' files")
    frames, detections, seen = [], [], {}
    for name, text in entries:
        match = _NAME.search(name)
        if match is None:
            raise InvalidInput(f"OpenPose file {name} has no frame number before '_keypoints.json'")
        frame = int(match.group(1))
        if frame in seen:
            raise InvalidInput(f"OpenPose files {seen[frame]} and {name} are both frame {frame}")
        seen[frame] = name
        if num_frames is not None and frame >= num_frames:
            raise InvalidInput(f"OpenPose file {name} is frame {frame}, but the video has {num_frames} frames")
        people = _parse(name, text)
        frames += [frame] * len(people)
        detections.append(people)
    order = np.argsort(np.asarray(frames, dtype=np.int64), kind="stable")
    stacked = np.concatenate(detections) if detections else np.zeros((0, 25, 3), np.float32)
    return np.asarray(frames, dtype=np.int32)[order], stacked[order]
