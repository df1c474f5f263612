"""Safe reading and atomic writing of the npz artifacts that cross stage boundaries.

Artifacts are never pickles: arrays are loaded with `allow_pickle=False`, so an object array inside an
npz is refused with a clear error instead of being unpickled. Strings are stored as fixed-width unicode
arrays (dtype '<U…'), which need no pickling. Writes go to a temporary file in the same folder and are
renamed into place, so a failed write never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput, NotFound


def save_npz(path: str | Path, arrays: Mapping[str, object], compress: bool = True) -> Path:
    """Write `arrays` to `path` atomically. Object arrays are rejected (they would need pickling)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    checked = {}
    for key, value in arrays.items():
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"artifact key '{key}' is an object array; store strings as unicode arrays")
        checked[key] = array
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **checked)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_npz(path: str | Path, what: str = "artifact") -> dict[str, np.ndarray]:
    """Read every array of an npz into memory, refusing pickled objects.

    Raises NotFound if the file is missing, InvalidInput if it is not an npz (a text file, a lone .npy, a pickle)
    or holds a pickled object array.
    `what` names the artifact in messages ("tracklets", "keypoints", ...).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{what} file not found: {path}")
    if not zipfile.is_zipfile(path):  # else np.load would try the file as a pickle and say it holds one
        raise InvalidInput(f"{what} file {path} is not an npz archive (a zip of .npy arrays)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InvalidInput(
                f"{what} file {path} contains a pickled Python object; artifacts must hold plain arrays only"
            ) from None
        raise InvalidInput(f"{what} file {path} is not a readable npz: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InvalidInput(f"{what} file {path} is not a readable npz: {exc}") from None


def require_keys(data: Mapping[str, np.ndarray], keys: list[str], what: str, path: str | Path) -> None:
    """Raise InvalidInput naming every key of `keys` that `data` lacks."""
    missing = [k for k in keys if k not in data]
    if missing:
        raise InvalidInput(f"{what} file {path} lacks required key(s): {', '.join(missing)}")


def require_shape(array: np.ndarray, shape: tuple[int | None, ...], key: str, what: str, path: str | Path) -> None:
    """Raise InvalidInput unless `array` has `shape` (None matches any length on that axis)."""
    ok = array.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, array.shape, strict=True))
    if not ok:
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise InvalidInput(f"{what} file {path}: key '{key}' has shape {tuple(array.shape)}, expected {want}")


def require_finite(array: np.ndarray, key: str, what: str, path: str | Path) -> None:
    """Raise InvalidInput if a float array holds NaN or infinity."""
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InvalidInput(f"{what} file {path}: key '{key}' holds {bad} NaN or infinite value(s)")
