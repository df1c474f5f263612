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
Limits (InvalidInput, checked while streaming, one file in memory at a time): a file of at most
`MAX_FILE_BYTES` (also inside a .zip, whatever its header declares), at most `MAX_FILES` files and
`MAX_TOTAL_BYTES` in all, JSON nested at most `MAX_DEPTH` deep, frame numbers below `MAX_FRAME`.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput, NotFound

_NAME = re.compile(r"^(.*?)(\d+)_keypoints\.json$")
CONFIDENCE_OVERSHOOT = 1.05
MAX_FILE_BYTES = 16 * 1024 * 1024  # OpenPose writes ~2 KB per person with face and hands
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_FILES = 1_000_000
MAX_DEPTH = 16  # OpenPose's own files are 4 deep
MAX_FRAME = 10**9
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_depth(name: str, text: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before parsing it (the parser would recurse that deep)."""
    depth = 0
    for token in _NESTING.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidInput(f"OpenPose file {name} nests JSON more than {MAX_DEPTH} levels deep")
        elif bracket in "]}":
            depth -= 1


def _parse(name: str, text: str) -> np.ndarray:
    _check_depth(name, text)
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


def _read_limited(name: str, handle, total: list[int]) -> str:
    data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"OpenPose file {name} is larger than {MAX_FILE_BYTES} bytes: not an OpenPose output")
    total[0] += len(data)
    if total[0] > MAX_TOTAL_BYTES:
        raise InvalidInput(f"OpenPose output holds more than {MAX_TOTAL_BYTES} bytes of JSON")
    return data.decode("utf-8", "replace")


def _entries(source: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of each `*_keypoints.json` file, read one at a time within the size limits."""
    if not source.exists():
        raise NotFound(f"OpenPose folder not found: {source}")
    total = [0]
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = [n for n in archive.namelist() if n.endswith("_keypoints.json")]
            _check_count(source, len(names))
            for name in names:
                with archive.open(name) as handle:
                    yield name, _read_limited(name, handle, total)
    elif source.is_dir():
        paths = sorted(source.glob("*_keypoints.json"))
        _check_count(source, len(paths))
        for path in paths:
            with open(path, "rb") as handle:
                yield str(path), _read_limited(str(path), handle, total)
    else:
        raise InvalidInput(f"{source} is neither a folder nor a .zip of OpenPose JSON files")


def _check_count(source: Path, count: int) -> None:
    if count == 0:
        raise InvalidInput(f"{source} holds no OpenPose '*_keypoints.json' files")
    if count > MAX_FILES:
        raise InvalidInput(f"{source} holds {count} OpenPose files, more than {MAX_FILES}")


def read_openpose(source: str | Path, num_frames: int | None = None,
                  contiguous: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Folder or .zip -> (det_frame_index (D,) int32, det_keypoints_body25 (D, 25, 3) float32 px), by frame."""
    source = Path(source)
    frames, detections, seen, prefixes = [], [], {}, {}
    for name, text in _entries(source):
        match = _NAME.match(Path(name).name)
        if match is None:
            raise InvalidInput(f"OpenPose file {name} has no frame number before '_keypoints.json'")
        prefix, digits = match.group(1), match.group(2).lstrip("0") or "0"
        if len(digits) > len(str(MAX_FRAME)) or int(digits) >= MAX_FRAME:
            raise InvalidInput(f"OpenPose file {name} has frame number {digits[:30]}, above {MAX_FRAME}")
        frame = int(digits)
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
