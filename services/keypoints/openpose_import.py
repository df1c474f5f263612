"""OpenPose JSON folders (`<name>_<frame number>_keypoints.json`, format version 1.2/1.3) to BODY_25 detections.

Per file: `{"version": 1.3, "people": [{"pose_keypoints_2d": [x0, y0, c0, ... x24, y24, c24], ...}]}`,
x, y in source pixels, c in [0, 1], 0, 0, 0 = not detected. Face and hand arrays are optional and ignored;
people whose 25 keypoints are all undetected are dropped.

Frame index: the trailing number before `_keypoints.json` (OpenPose numbers a video's frames from 0, 12 digits;
for an image folder the number of the image's name - mshot's openpose backend names images by frame index).
Validation (InvalidInput naming the file): every file parses as JSON with a `people` list, every person has
exactly 75 finite numbers, no negative coordinates, confidences in [0, 1] (values up to 1.05 - heatmap
overshoot - are clipped to 1), one file per frame number, one name prefix for the whole folder (two videos'
outputs mixed), frame numbers inside the video when its length is known (numbering from 1 shows up here).
Gaps: with `contiguous=True` (the importer's default) the frame numbers must form one unbroken run
(first..last), because OpenPose writes a file for every frame, with an empty `people` list when it finds
nobody; a missing number means a lost file. The run may cover only part of the video (e.g. a clip).
mshot's own openpose backend writes files for the observed frames only and reads them with contiguous=False.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput, NotFound

_NAME = re.compile(r"^(.*?)(\d+)_keypoints\.json$")
CONFIDENCE_OVERSHOOT = 1.05


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
        if isinstance(person, dict) and values is None and "pose_keypoints" in person:
            raise InvalidInput(f"OpenPose file {name}: person {k} uses 'pose_keypoints' (OpenPose JSON before "
                               "version 1.2); expected 'pose_keypoints_2d' (versions 1.2, 1.3)")
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
        if (array[:, 2] < 0).any() or (array[:, 2] > CONFIDENCE_OVERSHOOT).any():
            raise InvalidInput(f"OpenPose file {name}: person {k} has confidences outside [0, 1]")
        array[:, 2] = np.minimum(array[:, 2], 1.0)
        if array[:, 2].max() > 0:
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


def read_openpose(source: str | Path, num_frames: int | None = None,
                  contiguous: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Folder or .zip -> (det_frame_index (D,) int32, det_keypoints_body25 (D, 25, 3) float32 px), by frame."""
    source = Path(source)
    entries = _entries(source)
    if not entries:
        raise InvalidInput(f"{source} holds no OpenPose '*_keypoints.json' files")
    frames, detections, seen, prefixes = [], [], {}, {}
    for name, text in entries:
        match = _NAME.match(Path(name).name)
        if match is None:
            raise InvalidInput(f"OpenPose file {name} has no frame number before '_keypoints.json'")
        prefix, frame = match.group(1), int(match.group(2))
        prefixes.setdefault(prefix, name)
        if len(prefixes) > 1:
            first = next(iter(prefixes.values()))
            raise InvalidInput(f"OpenPose files {first} and {name} have different name prefixes: outputs of two "
                               "videos in one folder?")
        if frame in seen:
            raise InvalidInput(f"OpenPose files {seen[frame]} and {name} are both frame {frame}")
        seen[frame] = name
        if num_frames is not None and frame >= num_frames:
            raise InvalidInput(f"OpenPose file {name} is frame {frame}, but the video has {num_frames} frames")
        people = _parse(name, text)
        frames += [frame] * len(people)
        detections.append(people)
    if contiguous:
        numbers = sorted(seen)
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        if missing:
            before = max(n for n in numbers if n < missing[0])
            raise InvalidInput(f"OpenPose output has no file for frame {missing[0]} (after {seen[before]}; "
                               f"{len(missing)} frames missing in {numbers[0]}..{numbers[-1]}): OpenPose writes one "
                               "file per frame, so a file is lost")
    order = np.argsort(np.asarray(frames, dtype=np.int64), kind="stable")
    stacked = np.concatenate(detections) if detections else np.zeros((0, 25, 3), np.float32)
    return np.asarray(frames, dtype=np.int32)[order], stacked[order]
