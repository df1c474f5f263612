"""A restricted unpickler for untrusted pickles (PHALP results): only plain Python values and numpy arrays.

Pickle can name any importable callable (GLOBAL / STACK_GLOBAL opcodes) and call it while loading (REDUCE,
NEWOBJ, BUILD), which is how a crafted pickle runs code. This loader imports nothing the pickle names: every
global is looked up in `ALLOWED`, a table of our own safe stand-ins, and anything else is refused with
InvalidInput naming it before it could run. What it decodes:

- plain values: None, bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset,
  collections.OrderedDict;
- numpy arrays and scalars of non-object dtypes, rebuilt from their raw bytes by our own code (numpy's
  pickle reducers are never called), including the arrays joblib writes after its `NumpyArrayWrapper`
  records (joblib.dump; read joblib/numpy_pickle.py for that layout);
- files compressed as joblib writes them (zlib, gzip, bz2, xz, lzma); lz4 is refused (needs the lz4 package);
- a pickled torch tensor (PHALP v1.1's `embedding`) loads as a numpy array, decoded by mshot/safe_torch.py
  without torch; one whose storage type has no numpy equivalent loads as an `UndecodedTensor` (its shape).
"""

from __future__ import annotations

import _compat_pickle
import builtins
import collections
import lzma
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from zlib import error as zlib_error

import numpy as np

from mshot.compressed import decompressed
from mshot.errors import InvalidInput, NotFound
from mshot.safe_torch import TORCH_STORAGES, StorageType, load_storage, rebuild_tensor

MAX_ARRAY_BYTES = 1 << 31  # one array's declared size above this is refused (2 GiB)


@dataclass(frozen=True)
class UndecodedTensor:
    """Stands in for a pickled torch tensor, which this loader does not decode."""

    shape: tuple[int, ...]


class _NdarrayClass:
    """Stands in for the class `numpy.ndarray` (or `numpy.memmap`) named inside a pickle."""


class _Pending:
    """A value that our stand-in for a pickled constructor returned, completed at BUILD (`value`).

    Pickle memoizes an object before its BUILD, so later references reach this holder, not the value:
    `_resolve` swaps every holder for its value once loading is done."""

    value: Any = None

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        raise NotImplementedError


class _Dtype(_Pending):
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


class _Array(_Pending):
    """`numpy.core.multiarray._reconstruct(ndarray, shape, code)`; BUILD state (version, shape, dtype, fortran, raw)."""

    def build(self, state: Any, unpickler: RestrictedUnpickler) -> None:
        if not (isinstance(state, tuple) and len(state) == 5):
            raise InvalidInput(f"{unpickler.what}: a pickled numpy array has an unexpected state")
        _, shape, dtype, fortran, raw = state
        if not isinstance(raw, (bytes, bytearray)):
            raise InvalidInput(f"{unpickler.what}: a pickled numpy array holds Python objects, not raw data")
        self.value = _array_from_bytes(bytes(raw), _dtype_of(dtype, unpickler.what), _shape(shape, unpickler.what),
                                       "F" if fortran else "C", unpickler.what)


class _JoblibArray(_Pending):
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


def _array_from_bytes(data: bytes, dtype: np.dtype, shape: tuple, order: str, what: str) -> np.ndarray:
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) != count * dtype.itemsize:
        raise InvalidInput(f"{what}: truncated array data ({len(data)} bytes, expected {count * dtype.itemsize})")
    flat = np.frombuffer(data, dtype=dtype, count=count).copy()
    return flat.reshape(shape[::-1]).T if order == "F" else flat.reshape(shape)


def _scalar(dtype: Any, data: Any = b"") -> np.generic:
    """`numpy.core.multiarray.scalar(dtype, bytes)` for non-object dtypes."""
    dtype = _dtype_of(dtype, "a pickled numpy scalar")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
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


def _codecs_encode(text: Any, encoding: str = "utf-8") -> bytes:
    """How protocol-2 pickles store bytes: `_codecs.encode(text, 'latin1')`."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise InvalidInput("_codecs.encode is only accepted with a str and the latin1 encoding")
    return text.encode("latin1")


def _torch_tensor(storage: Any = None, offset: Any = 0, size: Any = (), stride: Any = (),
                  *rest: Any) -> np.ndarray | UndecodedTensor:
    """torch._utils._rebuild_tensor(_v2): the elements as an array, or the shape if the storage was not decoded."""
    if isinstance(storage, np.ndarray):
        return rebuild_tensor(storage, offset, size, stride)
    return UndecodedTensor(tuple(int(n) for n in size) if isinstance(size, (tuple, list)) else ())


def _torch_storage(data: Any = b"") -> np.ndarray | None:
    """torch.storage._load_from_bytes: torch.save's legacy bytes, read by mshot/safe_torch.py."""
    return load_storage(data, RestrictedUnpickler)


_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
PLAIN_BUILTINS = ("set", "frozenset", "complex", "bytearray", "list", "dict", "tuple", "int", "float", "str", "bool",
                  "bytes", "slice")
ALLOWED: dict[tuple[str, str], Any] = {
    **{("builtins", name): getattr(builtins, name) for name in PLAIN_BUILTINS},
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): _codecs_encode,
    ("numpy", "dtype"): _Dtype,
    ("numpy", "ndarray"): _NdarrayClass,
    ("numpy", "memmap"): _NdarrayClass,
    **{(module, "_reconstruct"): _reconstruct for module in _MULTIARRAY},
    **{(module, "scalar"): _scalar for module in _MULTIARRAY},
    **{(module, "_frombuffer"): _frombuffer for module in ("numpy.core.numeric", "numpy._core.numeric")},
    ("joblib.numpy_pickle", "NumpyArrayWrapper"): _JoblibArray,
    ("torch._utils", "_rebuild_tensor_v2"): _torch_tensor,
    ("torch._utils", "_rebuild_tensor"): _torch_tensor,
    ("torch.storage", "_load_from_bytes"): _torch_storage,
    **{("torch", name): StorageType(name) for name in TORCH_STORAGES},
}


class RestrictedUnpickler(pickle._Unpickler):  # the pure-Python unpickler: BUILD can be intercepted, as joblib does
    """Loads only what `ALLOWED` names; anything else raises InvalidInput before it is called."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, file: BinaryIO, what: str):
        super().__init__(file)
        self.raw_file = file
        self.what = what

    def find_class(self, module: str, name: str) -> Any:
        if self.proto < 3:  # protocol 0-2 pickles name Python 2 modules (__builtin__.set, copy_reg, ...)
            module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        target = ALLOWED.get((module, name))
        if target is None:
            raise InvalidInput(f"{self.what} contains a pickled reference to '{module}.{name}', which is not "
                               f"allowed (only plain values and numpy arrays are read); nothing was executed")
        return target

    def persistent_load(self, pid: Any) -> Any:
        raise InvalidInput(f"{self.what} uses pickle persistent ids, which are not allowed")

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _Pending):
            inst.build(state, self)
            self.stack[-1] = inst.value
        elif not isinstance(inst, (collections.OrderedDict, UndecodedTensor)):  # (their state is not needed)
            raise InvalidInput(f"{self.what}: object state set on a {type(inst).__name__}, which is not allowed")

    def load_inst(self) -> None:  # protocol 0 INST / OBJ import and call a class outside find_class's reach
        raise InvalidInput(f"{self.what} uses the INST/OBJ opcodes, which are not allowed")

    def load(self) -> Any:
        return _resolve(super().load(), {}, self.what)

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.OBJ[0]] = load_inst


def _resolve(obj: Any, done: dict[int, Any], what: str) -> Any:
    """`obj` with every `_Pending` holder replaced by its value (containers rebuilt or updated in place)."""
    if isinstance(obj, _Pending):
        if obj.value is None:
            raise InvalidInput(f"{what}: a pickled array or dtype was never completed (malformed pickle)")
        return obj.value
    if not isinstance(obj, (list, dict, tuple)) or id(obj) in done:
        return done.get(id(obj), obj)
    done[id(obj)] = obj
    if isinstance(obj, list):
        obj[:] = [_resolve(v, done, what) for v in obj]
    elif isinstance(obj, dict):
        if any(isinstance(k, _Pending) for k in obj):
            raise InvalidInput(f"{what}: an array is used as a dictionary key")
        for key, value in obj.items():
            obj[key] = _resolve(value, done, what)
    else:
        done[id(obj)] = obj = tuple(_resolve(v, done, what) for v in obj)
    return obj


def load_restricted(path: str | Path, what: str = "pickle") -> Any:
    """Read a pickle or joblib file through `RestrictedUnpickler`. NotFound if missing; InvalidInput if it is
    not a pickle, is truncated or corrupt, or names anything outside `ALLOWED` (nothing is executed)."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{what} not found: {path}")
    label = f"{what} {path}"
    with open(path, "rb") as raw:
        try:
            stream = decompressed(raw, label)
            return RestrictedUnpickler(stream, label).load()
        except InvalidInput:
            raise
        except (pickle.UnpicklingError, EOFError, OSError, lzma.LZMAError, zlib_error, ValueError, TypeError,
                KeyError, IndexError, AttributeError, MemoryError, RecursionError) as exc:
            raise InvalidInput(f"{label} is not a readable pickle: {type(exc).__name__}: {exc}") from None
