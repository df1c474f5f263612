"""The person-frame row table the optimiser consumes: validation and temporal neighbourhoods.

A row table is a dict of arrays in the canonical tracklets layout (docs/artifacts.md, `mshot.tracklets/1`): rows
sorted by (person_id, frame_index). `check_rows` validates what the fit needs and raises InvalidInput naming the key;
`temporal_links` finds which rows are consecutive frames of one person (optionally within one shot),
`consecutive_runs` numbers the runs of consecutive frames of one person in one shot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mshot.artifacts.tracklets import TRACKLETS
from mshot.artifacts.tracklets import check_rows as check_row_order
from mshot.errors import InvalidInput

# The per-row arrays the fit reads, shaped as the tracklets schema (mshot.artifacts.tracklets.TRACKLETS) says.
FIT_ROW_KEYS = ("person_id", "frame_index", "shot_id", "global_orient", "body_pose", "betas", "transl", "focal_px",
                "principal_px")
OPTIONAL_ROW_KEYS = ("valid", "observed")  # (M,) each


def _trailing_shape(key: str) -> tuple[int, ...]:
    """The shape after the row axis M: from the tracklets schema; () for the optional flags."""
    return tuple(TRACKLETS.fields[key].shape[1:]) if key in TRACKLETS.fields else ()


def check_rows(rows: Mapping[str, np.ndarray], keypoints_body25: np.ndarray, what: str = "tracklets") -> int:
    """Validate a row table and its keypoints; return the number of rows M.

    Needs every key of FIT_ROW_KEYS with M rows, `image_size` (2,) [H, W] or (M, 2), finite floats, keypoints
    (M, 25, 3) finite, positive focal lengths and image sizes, rows sorted by (person_id, frame_index) without
    duplicates, and at least one row. `valid` (M,) and `observed` (M,) are optional. Raises InvalidInput naming the key.
    """
    missing = [k for k in [*FIT_ROW_KEYS, "image_size"] if k not in rows]
    if missing:
        raise InvalidInput(f"{what} lacks required key(s): {', '.join(missing)}")
    count = int(np.asarray(rows["person_id"]).reshape(-1).shape[0]) if np.asarray(rows["person_id"]).ndim == 1 else -1
    if count < 0:
        raise InvalidInput(f"{what}: key 'person_id' must be 1-D, got shape {np.shape(rows['person_id'])}")
    if count == 0:
        raise InvalidInput(f"{what} is empty: no person-frame rows to fit")
    for key in [*FIT_ROW_KEYS, *(k for k in OPTIONAL_ROW_KEYS if k in rows)]:
        trailing = _trailing_shape(key)
        array = np.asarray(rows[key])
        if array.shape != (count, *trailing):
            want = "(" + ", ".join(["M", *map(str, trailing)]) + ")"
            raise InvalidInput(f"{what}: key '{key}' has shape {array.shape}, expected {want} with M = {count}")
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise InvalidInput(f"{what}: key '{key}' has dtype {array.dtype}, expected numbers")
        if not np.all(np.isfinite(array)):
            raise InvalidInput(f"{what}: key '{key}' holds NaN or infinite values")
    image_size = np.asarray(rows["image_size"])
    if image_size.shape not in ((2,), (count, 2)) or not np.all(np.isfinite(image_size)) or np.any(image_size <= 0):
        raise InvalidInput(f"{what}: key 'image_size' must be (2,) or (M, 2) positive [H, W], got {image_size.shape}")
    if "fps" in rows and not (np.asarray(rows["fps"]).shape == () and 0 < float(rows["fps"]) < np.inf):
        raise InvalidInput(f"{what}: key 'fps' must be one positive frame rate, got {np.asarray(rows['fps'])!r}")
    if np.any(np.asarray(rows["focal_px"]) <= 0):
        raise InvalidInput(f"{what}: key 'focal_px' must be positive")
    keypoints = np.asarray(keypoints_body25)
    if keypoints.shape != (count, 25, 3):
        raise InvalidInput(f"keypoints: key 'keypoints_body25' has shape {keypoints.shape}, expected ({count}, 25, 3) "
                           f"to match the {count} {what} rows")
    if not np.all(np.isfinite(keypoints)):
        raise InvalidInput(f"keypoints: key 'keypoints_body25' holds {int(np.sum(~np.isfinite(keypoints)))} "
                           "NaN or infinite value(s)")
    check_row_order(rows, "given to the fit", what)
    return count


def consecutive_runs(person_id: np.ndarray, frame_index: np.ndarray, shot_id: np.ndarray) -> np.ndarray:
    """(M,) rows sorted by (person_id, frame_index) -> (M,) run id: a run is consecutive frames of one person in
    one shot (a new person, a frame gap or a cut starts the next)."""
    person, frame, shot = (np.asarray(a, dtype=np.int64) for a in (person_id, frame_index, shot_id))
    new = np.ones(len(person), bool)
    new[1:] = (person[1:] != person[:-1]) | (frame[1:] - frame[:-1] != 1) | (shot[1:] != shot[:-1])
    return np.cumsum(new) - 1


@dataclass(frozen=True)
class TemporalLinks:
    """Row indices of temporal neighbours. pairs (E, 2): consecutive frames of one person; triples (T, 3): three
    consecutive frames of one person; the `_in_shot` variants additionally stay within one shot."""

    pairs: np.ndarray
    triples: np.ndarray
    pairs_in_shot: np.ndarray
    triples_in_shot: np.ndarray


def temporal_links(person_id: np.ndarray, frame_index: np.ndarray, shot_id: np.ndarray) -> TemporalLinks:
    """Neighbourhoods for the smoothness terms; rows sorted by (person_id, frame_index), frames 1 apart."""
    person = np.asarray(person_id, dtype=np.int64)
    frame = np.asarray(frame_index, dtype=np.int64)
    shot = np.asarray(shot_id, dtype=np.int64)
    step = (person[1:] == person[:-1]) & (frame[1:] - frame[:-1] == 1)  # row i -> i + 1 is the next frame
    same_shot = shot[1:] == shot[:-1]
    first = np.flatnonzero(step)
    first_in_shot = np.flatnonzero(step & same_shot)
    double = np.flatnonzero(step[:-1] & step[1:])
    double_in_shot = np.flatnonzero((step & same_shot)[:-1] & (step & same_shot)[1:])

    def stack(starts: np.ndarray, length: int) -> np.ndarray:
        return np.stack([starts + k for k in range(length)], axis=1).astype(np.int64).reshape(-1, length)

    return TemporalLinks(stack(first, 2), stack(double, 3), stack(first_in_shot, 2), stack(double_in_shot, 3))
