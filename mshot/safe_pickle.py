"""The restricted unpickler for untrusted pickles: plain Python values, numpy arrays and what a caller admits.

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

Allocation is bounded: a call cannot make `bytes` or `bytearray` of a length (`bytearray(3_000_000_000)` is 35
bytes of pickle), and every object a call or BUILD makes is charged to a budget of `MAX_AMPLIFICATION` times the
bytes read so far plus `ALLOCATION_SLACK_BYTES`; past it the file is refused as an allocation bomb (InvalidInput).
Plain pickles decode to about their own size, so the budget only stops files that copy small inputs many times.

A caller admits more with an `Admit`: extra names, each mapped to a stand-in of its own (a `StandIn` subclass
that builds a safe value from the pickled state), and Python 2 pickles (protocols 0 and 1, 8-bit strings decoded
latin1). Used for PHALP results (services/tracking/phalp/), SMPL body model files (mshot/body/smpl_file.py: chumpy
arrays, scipy.sparse matrices) and SMPLify's pose prior (services/multishot/pose_prior.py).
"""

from __future__ import annotations

import _compat_pickle
import builtins
import collections
import lzma
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO
from zlib import error as zlib_error

import numpy as np

from mshot.compressed import decompressed
from mshot.errors import InvalidInput, NotFound
from mshot.safe_numpy import NUMPY_STAND_INS, StandIn
from mshot.safe_torch import TORCH_STORAGES, StorageType, load_storage, rebuild_tensor


@dataclass(frozen=True)
class UndecodedTensor:
    """Stands in for a pickled torch tensor, which this loader does not decode."""

    shape: tuple[int, ...]


class _ObjectBase:
    """Stands in for `object` as a Python 2 pickle names it in `copy_reg._reconstructor(cls, object, None)`."""


@dataclass(frozen=True)
class Admit:
    """What a caller reads beyond plain values and numpy arrays.

    stand_ins: (module, name) as the pickle names it -> our stand-in (usually a `StandIn` subclass);
    holds: what those are, said when a file is refused (e.g. "chumpy arrays, scipy.sparse matrices");
    python2: also read Python 2 pickles (protocols 0 and 1; 8-bit strings decoded latin1).
    """

    stand_ins: Mapping[tuple[str, str], Any] = field(default_factory=dict)
    holds: str = ""
    python2: bool = False


PLAIN = Admit()


def _codecs_encode(text: Any, encoding: str = "utf-8") -> bytes:
    """How protocol-2 pickles store bytes: `_codecs.encode(text, 'latin1')`."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise InvalidInput("_codecs.encode is only accepted with a str and the latin1 encoding")
    return text.encode("latin1")


def _reconstructor(cls: Any, base: Any = None, state: Any = None) -> StandIn:
    """`copy_reg._reconstructor(cls, object, None)`: how Python 2 pickles make an object of a class (our stand-in)."""
    if not (isinstance(cls, type) and issubclass(cls, StandIn)) or base is not _ObjectBase or state is not None:
        raise InvalidInput("copy_reg._reconstructor is only accepted for an admitted class on a plain object base")
    return cls()


def _torch_tensor(storage: Any = None, offset: Any = 0, size: Any = (), stride: Any = (),
                  *rest: Any) -> np.ndarray | UndecodedTensor:
    """torch._utils._rebuild_tensor(_v2): the elements as an array, or the shape if the storage was not decoded."""
    if isinstance(storage, np.ndarray):
        return rebuild_tensor(storage, offset, size, stride)
    return UndecodedTensor(tuple(int(n) for n in size) if isinstance(size, (tuple, list)) else ())


def _torch_storage(data: Any = b"") -> np.ndarray | None:
    """torch.storage._load_from_bytes: torch.save's legacy bytes, read by mshot/safe_torch.py."""
    return load_storage(data, RestrictedUnpickler)


PLAIN_BUILTINS = ("set", "frozenset", "complex", "bytearray", "list", "dict", "tuple", "int", "float", "str", "bool",
                  "bytes", "slice")
ALLOWED: dict[tuple[str, str], Any] = {
    **{("builtins", name): getattr(builtins, name) for name in PLAIN_BUILTINS},
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): _codecs_encode,
    **NUMPY_STAND_INS,
    ("torch._utils", "_rebuild_tensor_v2"): _torch_tensor,
    ("torch._utils", "_rebuild_tensor"): _torch_tensor,
    ("torch.storage", "_load_from_bytes"): _torch_storage,
    **{("torch", name): StorageType(name) for name in TORCH_STORAGES},
}
PYTHON2_ALLOWED = {("copyreg", "_reconstructor"): _reconstructor, ("builtins", "object"): _ObjectBase}


MAX_AMPLIFICATION = 4
ALLOCATION_SLACK_BYTES = 64 * 1024 * 1024
_SIZED_BY_INT = (bytes, bytearray)


class _CountingReader:
    """The pickle stream, counting the bytes read from it (the allocation budget grows with them)."""

    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.count += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.handle.readline(size)
        self.count += len(data)
        return data

    def readinto(self, buffer) -> int:
        count = self.handle.readinto(buffer)
        self.count += count or 0
        return count


def _footprint(obj: Any) -> int:
    """About how many bytes `obj` holds beyond what it shares with objects already charged."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (bytes, bytearray, str)):
        return len(obj)
    if isinstance(obj, (list, tuple, set, frozenset, dict)):
        return 8 * len(obj)
    return 64


class RestrictedUnpickler(pickle._Unpickler):  # the pure-Python unpickler: BUILD can be intercepted, as joblib does
    """Loads only what `ALLOWED` or the caller's `Admit` names; anything else raises InvalidInput before it is
    called."""

    dispatch = pickle._Unpickler.dispatch.copy()

    def __init__(self, file: BinaryIO, what: str, admit: Admit = PLAIN):
        self.raw_file = _CountingReader(file)
        super().__init__(self.raw_file, encoding="latin1" if admit.python2 else "ASCII")
        self.what = what
        self.admit = admit
        self.allocated = 0

    def _charge(self, obj: Any) -> Any:
        self.allocated += _footprint(obj)
        budget = MAX_AMPLIFICATION * self.raw_file.count + ALLOCATION_SLACK_BYTES
        if self.allocated > budget:
            raise InvalidInput(f"{self.what} makes more than {budget} bytes of objects from {self.raw_file.count} "
                               "bytes read: refused as an allocation bomb")
        return obj

    def _call(self, func: Any, args: Any, kwargs: Any = None) -> Any:
        """REDUCE, NEWOBJ and NEWOBJ_EX: refuse bytes/bytearray of a length, charge what the call made."""
        if func in _SIZED_BY_INT and args and isinstance(args[0], int):
            raise InvalidInput(f"{self.what} asks for a {func.__name__} of length {args[0]}, which is not allowed "
                               "(pickles store bytes, never a length to allocate)")
        if not isinstance(args, tuple) or not isinstance(kwargs or {}, dict):
            raise InvalidInput(f"{self.what}: a call's arguments are not a tuple (malformed pickle)")
        return self._charge(func(*args, **(kwargs or {})))

    def load_reduce(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = self._call(self.stack[-1], args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = self._new(self.stack[-1], args, {})

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        self.stack[-1] = self._new(self.stack[-1], args, kwargs)

    def _new(self, cls: Any, args: Any, kwargs: Any) -> Any:
        if cls in _SIZED_BY_INT:
            return self._call(cls, args, kwargs)
        return self._call(lambda *a, **k: cls.__new__(cls, *a, **k), args, kwargs)

    def find_class(self, module: str, name: str) -> Any:
        if self.proto < 3:  # protocol 0-2 pickles name Python 2 modules (__builtin__.set, copy_reg, ...)
            module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        tables = (ALLOWED, PYTHON2_ALLOWED if self.admit.python2 else {}, self.admit.stand_ins)
        target = next((table[module, name] for table in tables if (module, name) in table), None)
        if target is None:
            holds = f", {self.admit.holds}" if self.admit.holds else ""
            raise InvalidInput(f"{self.what} refers to the forbidden object '{module}.{name}', which is not allowed "
                               f"(only plain values, numpy arrays{holds} are read); nothing was executed")
        return target

    def persistent_load(self, pid: Any) -> Any:
        raise InvalidInput(f"{self.what} uses pickle persistent ids, which are not allowed")

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, StandIn):
            inst.build(_resolve(state, {}, self.what), self)
            self.stack[-1] = self._charge(inst.value)
        elif not isinstance(inst, (collections.OrderedDict, UndecodedTensor)):  # (their state is not needed)
            raise InvalidInput(f"{self.what}: object state set on a {type(inst).__name__}, which is not allowed")

    def load_inst(self) -> None:  # protocol 0 INST / OBJ import and call a class outside find_class's reach
        raise InvalidInput(f"{self.what} uses the INST/OBJ opcodes, which are not allowed")

    def load(self) -> Any:
        return _resolve(super().load(), {}, self.what)

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.NEWOBJ_EX[0]] = load_newobj_ex
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.OBJ[0]] = load_inst


def _resolve(obj: Any, done: dict[int, Any], what: str) -> Any:
    """`obj` with every `StandIn` holder replaced by its value (containers rebuilt or updated in place)."""
    if isinstance(obj, StandIn):
        if obj.value is None:
            raise InvalidInput(f"{what}: a pickled array, dtype or object was never completed (malformed pickle)")
        return obj.value
    if not isinstance(obj, (list, dict, tuple)) or id(obj) in done:
        return done.get(id(obj), obj)
    done[id(obj)] = obj
    if isinstance(obj, list):
        obj[:] = [_resolve(v, done, what) for v in obj]
    elif isinstance(obj, dict):
        if any(isinstance(k, StandIn) for k in obj):
            raise InvalidInput(f"{what}: an array is used as a dictionary key")
        for key, value in obj.items():
            obj[key] = _resolve(value, done, what)
    else:
        done[id(obj)] = obj = tuple(_resolve(v, done, what) for v in obj)
    return obj


def load_restricted(path: str | Path, what: str = "pickle", admit: Admit = PLAIN) -> Any:
    """Read a pickle or joblib file through `RestrictedUnpickler`; `what` names the file kind in errors. NotFound
    if missing; InvalidInput if it is not a pickle, is truncated or corrupt, or names anything outside `ALLOWED`
    and `admit` (nothing is executed)."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{what} not found: {path}")
    label = f"{what} {path}"
    with open(path, "rb") as raw:
        try:
            stream = decompressed(raw, label, legacy_protocols=admit.python2)
            return RestrictedUnpickler(stream, label, admit).load()
        except InvalidInput:
            raise
        except (pickle.UnpicklingError, EOFError, OSError, lzma.LZMAError, zlib_error, ValueError, TypeError,
                KeyError, IndexError, AttributeError, MemoryError, RecursionError) as exc:
            raise InvalidInput(f"{label} is not a readable pickle: {type(exc).__name__}: {exc}") from None
