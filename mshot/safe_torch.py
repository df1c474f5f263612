"""Pickled torch tensors decoded to numpy arrays without torch (used by mshot/safe_pickle.py).

`pickle.dumps(tensor)` gives `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` whose
storage is `torch.storage._load_from_bytes(b)`, b being torch.save's legacy format (torch/serialization.py
`_legacy_save`): five pickles - magic number, protocol version, system info, the storage (a persistent id
('storage', torch.<Type>Storage, key, location, numel, view)), the list of storage keys - then per key an
int64 element count and the raw little-endian elements. Those pickles go through the same restricted
unpickler; a storage type without a numpy equivalent (bfloat16, complex halves, quantized) stays undecoded.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from mshot.errors import InvalidInput

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                  "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
                  "BoolStorage": "?"}
TORCH_STORAGES = (*STORAGE_DTYPES, "BFloat16Storage", "ComplexFloatStorage", "ComplexDoubleStorage")


class StorageType:
    """Stands in for the class `torch.<Name>Storage` named inside the storage pickle."""

    def __init__(self, name: str):
        self.name = name


def load_storage(data: Any, restricted_unpickler: type) -> np.ndarray | None:
    """`torch.storage._load_from_bytes(data)` -> the storage's elements (1-D), or None if not decodable."""
    if not isinstance(data, bytes):
        raise InvalidInput("a pickled torch storage does not hold bytes")
    stream = io.BytesIO(data)

    def next_pickle(persistent=None):
        unpickler = restricted_unpickler(stream, "a pickled torch storage")
        if persistent is not None:
            unpickler.persistent_load = persistent
        return unpickler.load()

    if next_pickle() != LEGACY_MAGIC:
        return None  # not the legacy format (torch writes it for pickle.dumps; anything else is left alone)
    next_pickle()
    info = next_pickle()
    if not isinstance(info, dict) or info.get("little_endian") is not True:
        return None
    records: list[tuple] = []
    next_pickle(lambda pid: records.append(pid) or len(records) - 1)
    keys = next_pickle()
    if len(records) != 1 or not isinstance(keys, list) or len(keys) != 1:
        return None  # one storage per tensor is what Tensor.__reduce_ex__ writes
    kind, storage_type, key, _, numel, view = (tuple(records[0]) + (None,) * 6)[:6]
    if kind != "storage" or not isinstance(storage_type, StorageType) or key != keys[0]:
        raise InvalidInput("a pickled torch storage has a malformed record")
    if view is not None:
        return None  # a view into a larger storage, as very old torch wrote: not decoded
    dtype = STORAGE_DTYPES.get(storage_type.name)
    if dtype is None:
        return None
    count = int.from_bytes(stream.read(8), "little")
    dtype = np.dtype(dtype)
    raw = stream.read(count * dtype.itemsize)
    if count != numel or len(raw) != count * dtype.itemsize:
        raise InvalidInput("a pickled torch storage is truncated")
    return np.frombuffer(raw, dtype=dtype).copy()


def rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any) -> np.ndarray:
    """The tensor's elements gathered from its storage by index (bounds-checked, unlike a strided view)."""
    if not isinstance(storage, np.ndarray) or not isinstance(offset, int) or not isinstance(size, tuple) \
            or not isinstance(stride, tuple) or len(size) != len(stride) \
            or not all(isinstance(n, int) and n >= 0 for n in (*size, *stride)):
        raise InvalidInput("a pickled torch tensor has a malformed size or stride")
    if all(size):  # the last element's index, found without building the index (which a crafted size makes huge)
        last = offset + sum((length - 1) * step for length, step in zip(size, stride, strict=True))
        if offset < 0 or last >= storage.size:
            raise InvalidInput("a pickled torch tensor reaches outside its storage")
    if int(np.prod(size, dtype=np.float64)) > storage.size:  # (float: a product of huge sizes must not wrap)
        raise InvalidInput(f"a pickled torch tensor of size {size} has more elements than its storage "
                           f"({storage.size}); refused before allocating it")
    index = np.full(size, offset, dtype=np.int64)
    for axis, (length, step) in enumerate(zip(size, stride, strict=True)):
        shape = [1] * len(size)
        shape[axis] = length
        index = index + (np.arange(length, dtype=np.int64) * step).reshape(shape)
    return storage[index.reshape(-1)].reshape(size)
