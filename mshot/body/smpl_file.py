"""Reading SMPL model files without chumpy: official .pkl (Python 2 pickles whose arrays are chumpy
objects) through the restricted loader (mshot/safe_pickle.py), and .npz with allow_pickle=False.

Beyond plain values and numpy arrays, the loader admits two stand-ins of ours: `chumpy.ch.Ch` becomes the array
its pickled state keeps under `x`, and scipy.sparse csc/csr/coo matrices (J_regressor) are rebuilt by our own
constructor call from their pickled state (data, indices, indptr or coords, _shape), bounds-checked. Anything
else in the file is refused before it can run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from mshot.errors import InvalidInput, NotFound
from mshot.npzio import load_npz
from mshot.safe_pickle import Admit, RestrictedUnpickler, StandIn, load_restricted

NUM_JOINTS = 24


class _ChumpyArray(StandIn):
    """Stands in for `chumpy.ch.Ch`: its value is the array the pickled state (the object's __dict__) holds as 'x'."""

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        x = state.get("x") if isinstance(state, dict) else None
        if not isinstance(x, (np.ndarray, np.generic, int, float)):
            raise InvalidInput(f"{unpickler.what}: a chumpy object holds no array under 'x'")
        self.value = np.asarray(x)


class _SparseMatrix(StandIn):
    """Stands in for a scipy.sparse matrix class: BUILD gives its __dict__ (`_shape` (rows, cols), `data` and
    `indices`/`indptr` (csc, csr) or `coords` / `row`, `col` (coo), older scipy)."""

    kind: type = scipy.sparse.csc_matrix  # (subclasses below for csr and coo)

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        what = f"{unpickler.what}: a pickled {self.kind.__name__}"
        if not isinstance(state, dict):
            raise InvalidInput(f"{what} has no state dictionary")
        shape = state.get("_shape", state.get("shape"))
        if not (isinstance(shape, tuple) and len(shape) == 2 and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise InvalidInput(f"{what} has a malformed shape {shape!r}")
        if self.kind is scipy.sparse.coo_matrix:
            row, col = state["coords"] if "coords" in state else (state.get("row"), state.get("col"))
            parts = (_vector(state.get("data"), what), (_vector(row, what), _vector(col, what)))
        else:
            parts = tuple(_vector(state.get(key), what) for key in ("data", "indices", "indptr"))
        try:
            matrix = self.kind(parts, shape=shape)
            if hasattr(matrix, "indptr"):
                matrix.check_format(full_check=True)
        except (ValueError, TypeError, IndexError) as exc:
            raise InvalidInput(f"{what} is inconsistent: {exc}") from None
        self.value = matrix


def _vector(value: Any, what: str) -> np.ndarray:
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biufc"):
        raise InvalidInput(f"{what} lacks one of its 1-D numeric arrays")
    return value


class _CsrMatrix(_SparseMatrix):
    kind = scipy.sparse.csr_matrix


class _CooMatrix(_SparseMatrix):
    kind = scipy.sparse.coo_matrix


_SPARSE = {"csc": _SparseMatrix, "csr": _CsrMatrix, "coo": _CooMatrix}
SMPL_PICKLE = Admit(  # scipy names its modules scipy.sparse.csc (older) or scipy.sparse._csc (1.8 and later)
    stand_ins={("chumpy.ch", "Ch"): _ChumpyArray,
               **{(f"scipy.sparse{sep}{name}", f"{name}_matrix"): stand_in
                  for name, stand_in in _SPARSE.items() for sep in (".", "._")}},
    holds="chumpy arrays, scipy.sparse csc/csr/coo matrices", python2=True)


def _plain(value):
    return np.asarray(value) if isinstance(value, (list, tuple)) else value


def load_smpl_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """v_template (V,3), shapedirs (V,3,S>=10), posedirs (V,3,207), J_regressor (24,V) dense or sparse,
    weights (V,24), kintree_table (2,24), f (F,3) - validated. Raises NotFound / InvalidInput naming the key."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"body model file not found: {path}")
    if path.suffix == ".npz":
        raw = load_npz(path, "body model")
    else:
        raw = load_restricted(path, "body model file", SMPL_PICKLE)
        if not isinstance(raw, dict):
            raise InvalidInput(f"body model file {path} holds a {type(raw).__name__}, expected a dict of arrays")
    arrays = {key: _plain(value) for key, value in raw.items()}
    _validate(arrays, path)
    return arrays


def _validate(arrays: dict, path: Path) -> None:
    required = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")
    missing = [k for k in required if k not in arrays]
    if missing:
        raise InvalidInput(f"body model file {path} lacks key(s): {', '.join(missing)}")
    v = np.asarray(arrays["v_template"])
    if v.ndim != 2 or v.shape[1] != 3:
        raise InvalidInput(f"body model file {path}: v_template has shape {v.shape}, expected (V, 3)")
    n = v.shape[0]
    checks = {
        "shapedirs": lambda a: a.ndim == 3 and a.shape[:2] == (n, 3) and a.shape[2] >= 10,
        "posedirs": lambda a: a.shape == (n, 3, 207),
        "J_regressor": lambda a: a.shape == (NUM_JOINTS, n),
        "weights": lambda a: a.shape == (n, NUM_JOINTS),
        "kintree_table": lambda a: a.shape == (2, NUM_JOINTS),
        "f": lambda a: a.ndim == 2 and a.shape[1] == 3,
    }
    expected = {"shapedirs": "(V, 3, >=10)", "posedirs": "(V, 3, 207)", "J_regressor": "(24, V)",
                "weights": "(V, 24)", "kintree_table": "(2, 24)", "f": "(F, 3)"}
    for key, ok in checks.items():
        value = arrays[key]
        shape = value.shape if hasattr(value, "shape") else np.asarray(value).shape
        if not ok(value if scipy.sparse.issparse(value) else np.asarray(value)):
            raise InvalidInput(f"body model file {path}: {key} has shape {tuple(shape)}, expected {expected[key]} "
                               f"with V = {n}")
    faces = np.asarray(arrays["f"])
    if faces.size and (faces.min() < 0 or faces.max() >= n):
        raise InvalidInput(f"body model file {path}: faces index vertices outside 0..{n - 1}")
    if not np.all(np.isfinite(v)):
        raise InvalidInput(f"body model file {path}: v_template holds NaN or infinite values")
