"""How observations travel from the student's kernel to the judge: JSON plus raw array buffers.

:func:`encode` turns a tree of observations (the views of :mod:`autograder.checks.observe`, plain
numbers (complex too), strings, bytes, lists, tuples, sets, dicts, NumPy arrays and scalars) into a
JSON-ready tree and a list of byte buffers, one per array or scalar. :func:`decode` turns them
back, and is the only place that reads what a kernel sent: it rebuilds nothing but the view
classes registered here, the builtin containers, and plain ``ndarray`` objects (or NumPy scalars)
of numeric or boolean dtypes whose buffer size matches their shape. No pickle, no object arrays,
no other classes: a kernel that sends anything else gets a :class:`WireError`.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from typing import Any

import numpy as np

#: The dtype kinds an observed array may have: booleans, integers, unsigned, floats, complex.
ARRAY_KINDS = frozenset("biufc")

#: How deeply a tree may nest; deeper ones are refused on both sides.
MAX_DEPTH = 64

#: Classes :func:`decode` may rebuild, by name; filled in by :func:`view`.
VIEWS: dict[str, type] = {}


class WireError(ValueError):
    """What a kernel sent is not a well-formed observation."""


def view(cls: type) -> type:
    """Register a frozen dataclass as an observation that may cross the wire."""
    VIEWS[cls.__name__] = cls
    return cls


def encode(tree: Any) -> tuple[Any, list[memoryview]]:
    """``tree`` as JSON-ready data and the buffers of its arrays."""
    buffers: list[memoryview] = []

    def walk(item: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"value: nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, (np.ndarray, np.generic)) and not isinstance(item, np.ndarray):
            if item.dtype.kind not in ARRAY_KINDS:
                return walk(item.item(), depth + 1)
            array = np.ascontiguousarray(np.asarray(item))
            buffers.append(array.reshape(1).data.cast("B"))
            return {"__scalar__": len(buffers) - 1, "dtype": array.dtype.str}
        if isinstance(item, np.ndarray):
            array = np.ascontiguousarray(item)
            if array.dtype.kind not in ARRAY_KINDS:
                raise WireError(f"array dtype: expected numbers, got {array.dtype}")
            buffers.append(array.reshape(-1).data.cast("B"))
            return {"__array__": len(buffers) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
        if isinstance(item, float) and not math.isfinite(item):
            return {"__float__": repr(item)}
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, complex):
            return {"__complex__": [walk(item.real), walk(item.imag)]}
        if isinstance(item, bytes):
            return {"__bytes__": base64.b64encode(item).decode("ascii")}
        if dataclasses.is_dataclass(item) and type(item).__name__ in VIEWS:
            return {"__view__": type(item).__name__,
                    "fields": {f.name: walk(getattr(item, f.name), depth + 1)
                               for f in dataclasses.fields(item)}}
        if isinstance(item, tuple):
            return {"__tuple__": [walk(x, depth + 1) for x in item]}
        if isinstance(item, list):
            return [walk(x, depth + 1) for x in item]
        if isinstance(item, (set, frozenset)):
            kind = "__set__" if isinstance(item, set) else "__frozenset__"
            return {kind: [walk(x, depth + 1) for x in item]}
        if isinstance(item, dict):
            if all(type(k) is str for k in item):
                return {"__dict__": {k: walk(v, depth + 1) for k, v in item.items()}}
            return {"__map__": [[walk(k, depth + 1), walk(v, depth + 1)] for k, v in item.items()]}
        raise WireError(f"value: expected an observation, got a {type(item).__name__}")

    return walk(tree), buffers


def decode(data: Any, buffers: list[Any]) -> Any:
    """The tree :func:`encode` made, checked; a :class:`WireError` for anything else."""

    def walk(item: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("observation nested too deeply")
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        if isinstance(item, list):
            return [walk(x, depth + 1) for x in item]
        if not isinstance(item, dict):
            raise WireError(f"observation part: expected JSON data, got {type(item).__name__}")
        if "__array__" in item:
            return _array(item, buffers)
        if "__scalar__" in item:
            return _array({"__array__": item["__scalar__"], "dtype": item.get("dtype"), "shape": []},
                          buffers)[()]
        if "__complex__" in item:
            parts = _list(item["__complex__"])
            if len(parts) != 2 or not all(isinstance(p, (int, float, dict)) for p in parts):
                raise WireError("complex: expected [real, imag]")
            real, imag = (walk(p, depth + 1) for p in parts)
            if not all(type(p) in (int, float) for p in (real, imag)):
                raise WireError("complex: expected [real, imag]")
            return complex(real, imag)
        if "__bytes__" in item:
            try:
                return base64.b64decode(str(item["__bytes__"]), validate=True)
            except (ValueError, TypeError):
                raise WireError("bytes: expected base64") from None
        if "__set__" in item or "__frozenset__" in item:
            members = [walk(x, depth + 1) for x in _list(item.get("__set__", item.get("__frozenset__")))]
            try:
                return set(members) if "__set__" in item else frozenset(members)
            except TypeError:
                raise WireError("set: expected hashable members") from None
        if "__map__" in item:
            pairs = [_list(p) for p in _list(item["__map__"])]
            if not all(len(p) == 2 for p in pairs):
                raise WireError("map: expected [key, value] pairs")
            try:
                return {walk(k, depth + 1): walk(v, depth + 1) for k, v in pairs}
            except TypeError:
                raise WireError("map: expected hashable keys") from None
        if "__float__" in item:
            if item["__float__"] not in ("nan", "inf", "-inf"):
                raise WireError("float: expected nan, inf or -inf")
            return float(item["__float__"])
        if "__tuple__" in item:
            return tuple(walk(x, depth + 1) for x in _list(item["__tuple__"]))
        if "__dict__" in item:
            inner = item["__dict__"]
            if not isinstance(inner, dict):
                raise WireError("dict: expected an object")
            return {str(k): walk(v, depth + 1) for k, v in inner.items()}
        if "__view__" in item:
            cls = VIEWS.get(item["__view__"])
            fields = item.get("fields")
            if cls is None or not isinstance(fields, dict):
                raise WireError(f"view: expected one of {sorted(VIEWS)}, got {item['__view__']!r}")
            names = {f.name for f in dataclasses.fields(cls)}
            if set(fields) != names:
                raise WireError(f"{cls.__name__}: expected fields {sorted(names)}")
            return cls(**{k: walk(v, depth + 1) for k, v in fields.items()})
        raise WireError("observation part: unknown form")

    return walk(data)


def _list(item: Any) -> list:
    if not isinstance(item, list):
        raise WireError("tuple: expected a list")
    return item


def _array(item: dict, buffers: list[Any]) -> np.ndarray:
    index, dtype, shape = item.get("__array__"), item.get("dtype"), item.get("shape")
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise WireError("array: no such buffer")
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise WireError(f"array dtype: expected a NumPy dtype, got {dtype!r}") from None
    if kind.kind not in ARRAY_KINDS or kind.hasobject or kind.fields is not None:
        raise WireError(f"array dtype: expected numbers, got {kind}")
    if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise WireError("array shape: expected a list of sizes")
    data = bytes(buffers[index])
    if len(data) != kind.itemsize * math.prod(shape):
        raise WireError(f"array: shape {tuple(shape)} of {kind} needs "
                        f"{kind.itemsize * math.prod(shape)} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=kind).reshape(shape).copy()
