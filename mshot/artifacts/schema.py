"""Declarative npz schemas: each key's dtype kind and shape over named dimensions, checked on load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput
from mshot.npzio import load_npz, require_finite, require_keys, save_npz

KINDS = {"i": "integer", "f": "float", "b": "bool", "U": "string"}


@dataclass(frozen=True)
class Field:
    kind: str  # 'i', 'f', 'b' or 'U'
    shape: tuple[str | int, ...]  # named dimensions ('M' rows, 'F' frames, ...) or fixed sizes
    dtype: str  # what it is stored as


@dataclass(frozen=True)
class Schema:
    name: str  # e.g. "mshot.tracklets/1"
    what: str  # for messages, e.g. "tracklets"
    fields: Mapping[str, Field]
    optional: tuple[str, ...] = ()

    def load(self, path: str | Path) -> dict[str, np.ndarray]:
        data = load_npz(path, self.what)
        require_keys(data, ["schema"], self.what, path)
        if str(data["schema"]) != self.name:
            raise InvalidInput(f"{self.what} file {path} has schema '{data['schema']}', expected '{self.name}'")
        require_keys(data, [k for k in self.fields if k not in self.optional], self.what, path)
        self.check(data, path)
        return data

    def check(self, data: Mapping[str, np.ndarray], path: str | Path) -> dict[str, int]:
        """Check kinds, shapes (named dimensions must agree across keys) and finiteness; returns dimension sizes."""
        sizes: dict[str, int] = {}
        for key, spec in self.fields.items():
            if key not in data:
                continue
            array = np.asarray(data[key])
            ok_kind = array.dtype.kind == spec.kind or (spec.kind == "f" and array.dtype.kind in "iu") or (
                spec.kind == "i" and array.dtype.kind == "u")
            if not ok_kind:
                raise InvalidInput(f"{self.what} file {path}: key '{key}' holds {array.dtype}, expected "
                                   f"{KINDS[spec.kind]} values")
            if array.ndim != len(spec.shape):
                raise InvalidInput(f"{self.what} file {path}: key '{key}' has shape {array.shape}, expected "
                                   f"{_shape_text(spec.shape)}")
            for axis, (dim, size) in enumerate(zip(spec.shape, array.shape, strict=True)):
                if isinstance(dim, int):
                    if size != dim:
                        raise InvalidInput(f"{self.what} file {path}: key '{key}' has shape {array.shape}, "
                                           f"expected {_shape_text(spec.shape)}")
                elif sizes.setdefault(dim, size) != size:
                    raise InvalidInput(f"{self.what} file {path}: key '{key}' has {size} entries on axis {axis}, "
                                       f"other keys have {sizes[dim]} ({dim})")
            require_finite(array, key, self.what, path)
        return sizes

    def save(self, path: str | Path, data: Mapping[str, object]) -> Path:
        arrays = {"schema": np.array(self.name)}
        for key, spec in self.fields.items():
            if key in data:
                arrays[key] = np.asarray(data[key]).astype(spec.dtype)
        for key, value in data.items():
            arrays.setdefault(key, np.asarray(value))
        self.check(arrays, path)
        return save_npz(path, arrays)


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def f(*shape, dtype="float32") -> Field:
    return Field("f", shape, dtype)


def i(*shape, dtype="int32") -> Field:
    return Field("i", shape, dtype)


def b(*shape) -> Field:
    return Field("b", shape, "bool")


def s(*shape) -> Field:
    return Field("U", shape, "U")
