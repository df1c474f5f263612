"""Reading SMPL model files without chumpy: official .pkl (Python 2 pickles whose arrays are chumpy
objects) through a restricted unpickler, and .npz with allow_pickle=False.

The unpickler admits only numpy/scipy.sparse reconstruction and plain types; chumpy classes become a stub
whose array is taken from the pickled state's `x`. Anything else is refused before it can run.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import scipy.sparse

from mshot.errors import InvalidInput, NotFound
from mshot.npzio import load_npz

NUM_JOINTS = 24


class _ChumpyStub:
    """Stands in for any chumpy class: keeps the array a chumpy object stores under 'x'."""

    def __init__(self, *args, **kwargs):
        self.x = None

    def __setstate__(self, state):
        self.x = state.get("x") if isinstance(state, dict) else None


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"),
    ("builtins", "object"), ("__builtin__", "object"), ("_codecs", "encode"),
    *((module, plain) for module in ("builtins", "__builtin__")
      for plain in ("set", "frozenset", "list", "dict", "tuple", "bytearray", "complex")),
}
_SPARSE = {"csc_matrix", "csr_matrix", "coo_matrix"}


class _SmplUnpickler(pickle.Unpickler):
    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module: str, name: str):
        if module.startswith("chumpy"):
            return _ChumpyStub
        if (module, name) in _ALLOWED:
            return getattr(__import__(module.replace("copy_reg", "copyreg").replace("__builtin__", "builtins"),
                                      fromlist=[name]), name)
        if module.startswith("scipy.sparse") and name in _SPARSE:
            return getattr(scipy.sparse, name)
        raise InvalidInput(f"body model file {self.path} holds a forbidden object {module}.{name}; "
                           "an SMPL file holds only arrays")


def _plain(value):
    if isinstance(value, _ChumpyStub):
        return np.asarray(value.x)
    if scipy.sparse.issparse(value):
        return value
    return np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else value


def load_smpl_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """v_template (V,3), shapedirs (V,3,S>=10), posedirs (V,3,207), J_regressor (24,V) dense or sparse,
    weights (V,24), kintree_table (2,24), f (F,3) - validated. Raises NotFound / InvalidInput naming the key."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"body model file not found: {path}")
    if path.suffix == ".npz":
        raw = load_npz(path, "body model")
    else:
        try:
            with open(path, "rb") as f:
                raw = _SmplUnpickler(f, path).load()
        except InvalidInput:
            raise
        except Exception as exc:  # noqa: BLE001 - any malformed/truncated pickle
            raise InvalidInput(f"body model file {path} is not a readable SMPL pickle: {type(exc).__name__}: {exc}"
                               ) from None
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
