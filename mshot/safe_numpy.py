"""numpy arrays, dtypes and scalars rebuilt from their pickled state by our own code (for mshot/safe_pickle.py).

numpy pickles an array as `numpy.core.multiarray._reconstruct(ndarray, shape, code)` completed by a BUILD state
(version, shape, dtype, fortran, raw bytes), a dtype as `numpy.dtype(code, align, copy)` with a BUILD state, a
scalar as `numpy.core.multiarray.scalar(dtype, bytes)`, and (protocol 5) an array as
`numpy.core.numeric._frombuffer(bytes, dtype, shape, order)`; joblib writes a `NumpyArrayWrapper` record and the
raw bytes after it (read joblib/numpy_pickle.py). The stand-ins here take those calls; numpy's own reducers are
never called, and object, structured and void dtypes are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mshot.errors import InvalidInput

if TYPE_CHECKING:
    from mshot.safe_pickle import RestrictedUnpickler

MAX_ARRAY_BYTES = 1 << 31  # one array's declared size above this is refused (2 GiB)


class StandIn:
    """Base of our stand-ins for pickled classes: made by the pickle's constructor call (REDUCE with its arguments,
    NEWOBJ or copy_reg._reconstructor without), completed at BUILD by `build`, which sets `value`.

    Pickle memoizes an object before its BUILD, so later references reach this holder, not the value: the state
    given to `build` and the loaded result have every holder swapped for its value."""

    value: Any = None

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        """Check `state` (raising InvalidInput naming `unpickler.what`) and set `self.value` from it."""
        raise NotImplementedError


class _NdarrayClass:
    """Stands in for the class `numpy.ndarray` (or `numpy.memmap`) named inside a pickle."""


class _Dtype(StandIn):
    """`numpy.dtype(code, align, copy)` for a type code only; structured and object dtypes are refused."""

    def __init__(self, code: Any = "", align: Any = False, copy: Any = True):
        value = np.dtype(code) if isinstance(code, str) and code.isalnum() and code[0] not in "OV" else None
        if value is None or value.hasobject or value.kind == "V":
            raise InvalidInput(f"pickled dtype {code!r} is not a plain numeric, bool or string dtype")
        self.value = value

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        # state: (version, byteorder, subarray, names, fields, elsize, alignment, flags)
        if not isinstance(state, tuple) or len(state) < 6 or state[2] is not None or state[3] is not None:
            raise InvalidInput(f"{unpickler.what}: a pickled dtype is structured or malformed")
        byteorder, elsize = state[1], state[5]
        if self.value.kind in "SU" and isinstance(elsize, int) and elsize > 0:
            self.value = np.dtype(f"{self.value.kind}{elsize // (4 if self.value.kind == 'U' else 1)}")
        if byteorder in ("<", ">"):
            self.value = self.value.newbyteorder(byteorder)


class _Array(StandIn):
    """`numpy.core.multiarray._reconstruct(ndarray, shape, code)`; BUILD state (version, shape, dtype, fortran, raw)."""

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise InvalidInput(f"{unpickler.what}: a pickled numpy array has an unexpected state")
        _, shape, dtype, fortran, raw = state
        if not isinstance(raw, (bytes, bytearray, str)):
            raise InvalidInput(f"{unpickler.what}: a pickled numpy array holds Python objects, not raw data")
        what = unpickler.what
        self.value = _array_from_bytes(_raw_bytes(raw), _dtype_of(dtype, what), _shape(shape, what),
                                       "F" if fortran else "C", what)


class _JoblibArray(StandIn):
    """`joblib.numpy_pickle.NumpyArrayWrapper`: BUILD sets its record (shape, order, dtype, ...); the raw bytes
    follow in the stream right after (joblib >= 1.2 first writes a padding length byte and the padding)."""

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        if not isinstance(state, dict) or not {"shape", "order", "dtype"} <= set(state):
            raise InvalidInput(f"{unpickler.what}: a joblib array record lacks shape, order or dtype")
        if state.get("subclass", _NdarrayClass) is not _NdarrayClass:
            raise InvalidInput(f"{unpickler.what}: a joblib array record names a class other than numpy.ndarray")
        dtype, shape = _dtype_of(state["dtype"], unpickler.what), _shape(state["shape"], unpickler.what)
        handle = unpickler.raw_file
        if state.get("numpy_array_alignment_bytes") is not None:
            handle.read(int.from_bytes(handle.read(1) or b"\0", "little"))
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if size > MAX_ARRAY_BYTES:
            raise InvalidInput(f"{unpickler.what}: an array declares {size} bytes, over the {MAX_ARRAY_BYTES} limit")
        self.value = _array_from_bytes(handle.read(size), dtype, shape, state["order"], unpickler.what)


def _dtype_of(dtype: Any, what: str) -> np.dtype:
    """A dtype our `_Dtype` built: the holder itself (a later reference) or its value (right after BUILD)."""
    if isinstance(dtype, _Dtype):
        return dtype.value
    if not isinstance(dtype, np.dtype):
        raise InvalidInput(f"{what}: a pickled array's dtype is {type(dtype).__name__}, not a numpy dtype")
    return dtype


def _shape(shape: Any, what: str) -> tuple[int, ...]:
    if not isinstance(shape, (tuple, list)) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise InvalidInput(f"{what}: a pickled array has a malformed shape")
    return tuple(shape)


def _raw_bytes(data: bytes | bytearray | str) -> bytes:
    """Raw array bytes; a str is a Python 2 pickle's 8-bit string decoded latin1 (undone here, as numpy does)."""
    return data.encode("latin1") if isinstance(data, str) else bytes(data)


def _array_from_bytes(data: bytes, dtype: np.dtype, shape: tuple, order: str, what: str) -> np.ndarray:
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != count * dtype.itemsize:
        raise InvalidInput(f"{what}: truncated array data ({len(data)} bytes, expected {count * dtype.itemsize})")
    flat = np.frombuffer(data, dtype=dtype, count=count).copy()
    return flat.reshape(shape[::-1]).T if order == "F" else flat.reshape(shape)


def _scalar(dtype: Any, data: Any = b"") -> np.generic:
    """`numpy.core.multiarray.scalar(dtype, bytes)` for non-object dtypes."""
    dtype = _dtype_of(dtype, "a pickled numpy scalar")
    data = _raw_bytes(data) if isinstance(data, (bytes, str)) else None
    if data is None or len(data) != dtype.itemsize:
        raise InvalidInput("a pickled numpy scalar is not a plain numeric, bool or string value")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _reconstruct(subtype: Any, shape: Any = (0,), code: Any = b"b") -> _Array:
    if subtype is not _NdarrayClass:
        raise InvalidInput("a pickled numpy array names a class other than numpy.ndarray")
    return _Array()


def _frombuffer(data: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    """`numpy.core.numeric._frombuffer(bytes, dtype, shape, order)`: how protocol 5 pickles store arrays."""
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidInput("a protocol-5 pickled numpy array has no in-band data")
    what = "a protocol-5 pickled numpy array"
    return _array_from_bytes(bytes(data), _dtype_of(dtype, what), _shape(shape, what), "F" if order == "F" else "C",
                             what)


_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
NUMPY_STAND_INS: dict[tuple[str, str], Any] = {
    ("numpy", "dtype"): _Dtype,
    ("numpy", "ndarray"): _NdarrayClass,
    ("numpy", "memmap"): _NdarrayClass,
    **{(module, "_reconstruct"): _reconstruct for module in _MULTIARRAY},
    **{(module, "scalar"): _scalar for module in _MULTIARRAY},
    **{(module, "_frombuffer"): _frombuffer for module in ("numpy.core.numeric", "numpy._core.numeric")},
    ("joblib.numpy_pickle", "NumpyArrayWrapper"): _JoblibArray,
}
