"""Which PHALP release wrote a results pickle, told from the keys of its per-frame records.

Every layout is a dict keyed by frame (a path, or (video, pts) with PHALP master's extract_video=False). Each
frame's record has `time` (0-based index in the tracked frames) and `shot` (1 on the frame where PHALP
detected a cut, with detect_shots=True), and per-person lists aligned with `tid`: `bbox` [x0, y0, w, h] px,
`tracked_time` (0 = detected in this frame, k = coasting k frames since the last detection), `conf`, `size`
[H, W], `center`, `scale`, `smpl` (rotation matrices), `camera` (see camera.py), `3d_joints` and more.
The releases differ (read from their sources, phalp/trackers/PHALP.py `track()` and `get_human_features()`):

- `master`: PHALP git master (the pinned PHALP_COMMIT) and 4D-Humans' track.py: adds `frame_path` per frame
  and `camera_bbox`, `2d_joints`, `class_name`, `annotations`, `extra_data` per person; `mask` (COCO RLE).
- `pypi-0.1.3`: PyPI phalp 0.1.3 (the v1.1 branch of mid-Dec 2022): `mask_name`, `embedding` (a pickled
  torch tensor), `mask`.
- `v1.1`: the v1.1 branch otherwise: before Dec 2022 `mask_name` and `embedding` but no `mask` (no instance
  masks at all); from 20 Dec 2022 (its head) `class_name`, `embedding` and `mask`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mshot.errors import InvalidInput

FRAME_KEYS = ("time", "shot", "tid", "bbox", "tracked_time")
PERSON_KEYS = ("tid", "bbox", "tracked_time", "conf", "size", "smpl", "camera")  # per-person lists we read
LAYOUTS = ("master", "pypi-0.1.3", "v1.1")


@dataclass(frozen=True)
class Layout:
    name: str  # one of LAYOUTS
    has_masks: bool  # per-person instance masks (COCO RLE) under `mask`
    has_camera_bbox: bool


def detect_layout(frames: Mapping, what: str) -> Layout:
    """The layout of a loaded results dict; InvalidInput naming what is wrong when it is none of LAYOUTS."""
    if not isinstance(frames, Mapping):
        raise InvalidInput(f"{what} holds a {type(frames).__name__}; PHALP results are a dict keyed by frame")
    if not frames:
        raise InvalidInput(f"{what} is an empty dict: no frames")
    keys: set[str] = set()
    for frame, record in frames.items():
        if not isinstance(record, Mapping):
            raise InvalidInput(f"{what}: frame {frame!r} holds a {type(record).__name__}, not a per-frame dict; "
                               f"not a PHALP results layout ({', '.join(LAYOUTS)})")
        keys |= {k for k in record if isinstance(k, str)}
    missing = [k for k in (*FRAME_KEYS, *PERSON_KEYS) if k not in keys]
    if missing:
        raise InvalidInput(f"{what}: unknown layout: the frame records lack {', '.join(missing)} (known PHALP "
                           f"layouts: {', '.join(LAYOUTS)}; keys found: {', '.join(sorted(keys)[:20])})")
    if "frame_path" in keys or "camera_bbox" in keys:
        name = "master"
    elif "mask_name" in keys and "mask" in keys:
        name = "pypi-0.1.3"
    elif "embedding" in keys and ("mask_name" in keys or "class_name" in keys):
        name = "v1.1"
    else:
        raise InvalidInput(f"{what}: unknown layout: PHALP-like frame records, but neither master's frame_path/"
                           f"camera_bbox, 0.1.3's mask_name with mask nor v1.1's embedding")
    return Layout(name, "mask" in keys, "camera_bbox" in keys)
