"""How a student's value reaches a test cell judged outside the kernel: as itself, or as a view.

A test cell is ordinary Python on the student's values (``assert u == 7``,
``np.allclose(x, ...)``, ``conv.kernel_size``, ``normalize(x)``). Under grading it runs in the
judge, so each name it reads is looked up in the kernel here and answered in one of two ways:

* **Plain data** arrives as the value itself: ``None``, ``bool``, ``int``, ``float``,
  ``complex``, ``str``, ``bytes``, NumPy arrays and scalars of numeric or boolean dtype, and
  tuples, lists, sets and dicts of these, within :data:`MAX_PLAIN_BYTES`, :data:`MAX_ITEMS` and
  :data:`MAX_DEPTH`. Only exact builtin types count: an ``int`` subclass whose ``__eq__`` always
  says yes is not plain. A ``TensorShape`` arrives as the tuple it stands for.
* **Anything else** (a layer, a model, a tensor, the student's function or class, an array too
  large) stays in the kernel under a handle and arrives as an :class:`ObjectView`: its class
  hierarchy, whether it is callable or a class, its ``repr``. The judge wraps it in a proxy
  (:mod:`autograder.judge.proxy`) whose attributes, items, calls and operators are the requests
  of :data:`OPERATIONS`, each answered the same two ways.

Whatever arrives is an observation: the kernel may lie about it, never decide a verdict with it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.wire import ARRAY_KINDS, view

#: The most bytes of arrays one plain answer may carry; a larger array stays in the kernel.
MAX_PLAIN_BYTES = 64 * 2**20

#: The most items (elements of containers, all levels together) one plain answer may carry.
MAX_ITEMS = 100_000

#: The deepest nesting of containers a plain answer may have.
MAX_DEPTH = 16

#: The most items the ``iterate`` request sends back.
MAX_ITERATED = 10_000

#: The operators a proxy forwards, by the name the judge sends.
OPERATORS: dict[str, Callable[..., Any]] = {
    name: getattr(operator, name) for name in (
        "eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "truediv", "floordiv", "mod",
        "pow", "matmul", "and_", "or_", "xor", "lshift", "rshift", "neg", "pos", "abs", "invert",
        "contains")}


@view
@dataclass(frozen=True)
class ObjectView:
    """A value of the kernel that is not plain data, kept there under :attr:`handle`."""

    handle: str
    """The id the kernel keeps it under; later requests name it."""
    type_name: str
    """Its class's name (for a class: its own name)."""
    module: str
    """The module its class was defined in."""
    classes: tuple[str, ...]
    """``module.qualname`` of each class in its class's method resolution order (for a class: its
    own), which ``isinstance`` and ``issubclass`` in the judge read."""
    is_class: bool
    """Whether it is a class."""
    is_callable: bool
    """Whether it can be called."""
    text: str
    """Its ``repr``, at most 200 characters."""


class _TooLarge(Exception):
    """The value is larger than a plain answer may be."""


def plain(value: Any) -> tuple[bool, Any]:
    """``(True, value as plain data)`` when ``value`` is plain data within the limits (see the
    module docstring), else ``(False, None)``."""
    budget = {"bytes": MAX_PLAIN_BYTES, "items": MAX_ITEMS}
    try:
        return True, _plain(value, budget, 0)
    except _TooLarge:
        return False, None


def _plain(value: Any, budget: dict[str, int], depth: int) -> Any:
    kind = type(value)
    if value is None or kind in (bool, int, float, complex, str, bytes):
        if kind in (str, bytes):
            _spend(budget, "bytes", len(value))
        return value
    if isinstance(value, np.generic):
        if value.dtype.kind not in ARRAY_KINDS:
            raise _TooLarge
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise _TooLarge
        _spend(budget, "bytes", value.nbytes)
        return value if kind is np.ndarray else value.view(np.ndarray)
    if kind.__name__ == "TensorShape" and kind.__module__.startswith("tensorflow"):
        try:
            return tuple(None if d is None else int(d) for d in value.as_list())
        except (ValueError, TypeError):  # a shape of unknown rank
            raise _TooLarge from None
    if kind in (tuple, list, set, frozenset, dict):
        if depth >= MAX_DEPTH:
            raise _TooLarge
        _spend(budget, "items", len(value))
        if kind is dict:
            return {_plain(k, budget, depth + 1): _plain(v, budget, depth + 1) for k, v in value.items()}
        return kind(_plain(item, budget, depth + 1) for item in value)
    raise _TooLarge


def _spend(budget: dict[str, int], what: str, amount: int) -> None:
    budget[what] -= amount
    if budget[what] < 0:
        raise _TooLarge


# --- the kernel's side: answering a proxy ------------------------------------------------------


#: Objects kept for the judge, by handle.
KEPT: dict[str, Any] = {}


def _qualified(cls: type) -> str:
    return f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls.__name__)}"


def answer_value(value: Any) -> Any:
    """``value`` as the judge receives it: itself when plain, else an :class:`ObjectView` of it,
    kept under a new handle."""
    is_plain, found = plain(value)
    if is_plain:
        return found
    handle = f"o{len(KEPT) + 1}"
    KEPT[handle] = value
    is_class = isinstance(value, type)
    cls = value if is_class else type(value)
    try:
        text = repr(value)
    except Exception:
        text = f"<{cls.__name__} object>"
    try:
        mro = tuple(_qualified(c) for c in cls.__mro__)
    except Exception:
        mro = (_qualified(cls),)
    return ObjectView(handle=handle, type_name=str(cls.__name__), module=str(cls.__module__),
                      classes=mro, is_class=is_class, is_callable=callable(value),
                      text=text if len(text) <= 200 else text[:197] + "...")


def _unwrapped(item: Any) -> Any:
    """The judge's argument with each handle it names replaced by the object kept under it."""
    from autograder.checks.observe import Handle

    if isinstance(item, Handle):
        if item.id not in KEPT:
            raise NameError(f"no object under handle {item.id!r}")
        return KEPT[item.id]
    if isinstance(item, (list, tuple)):
        return type(item)(_unwrapped(x) for x in item)
    if isinstance(item, dict):
        return {k: _unwrapped(v) for k, v in item.items()}
    return item


def _invoke(target: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    return answer_value(target(*_unwrapped(tuple(args)), **_unwrapped(dict(kwargs or {}))))


def _operate(target: Any, name: str, other: Any = None, reflected: bool = False,
             unary: bool = False) -> Any:
    function = OPERATORS.get(name)
    if function is None:
        raise TypeError(f"operator {name!r} is not one a test may use")
    if unary:
        return answer_value(function(target))
    other = _unwrapped(other)
    return answer_value(function(other, target) if reflected else function(target, other))


def _iterate(target: Any) -> list:
    items: list[Any] = []
    for item in target:
        if len(items) >= MAX_ITERATED:
            raise ValueError(f"it yields more than {MAX_ITERATED:,} items")
        items.append(answer_value(item))
    return items


def _convert(target: Any, to: str) -> Any:
    converters: dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "complex": complex,
                                                   "index": operator.index, "bool": bool}
    return converters[to](target)


def _text(target: Any, kind: str = "str") -> str:
    text = repr(target) if kind == "repr" else str(target)
    return text if len(text) <= 100_000 else text[:100_000] + "..."


#: The requests a proxy makes, by name: each takes the target object and keyword arguments.
OPERATIONS: dict[str, Callable[..., Any]] = {
    "resolve": lambda target: answer_value(target),
    "getattr": lambda target, attr: answer_value(getattr(target, str(attr))),
    "getitem": lambda target, key: answer_value(target[_unwrapped(key)]),
    "len": lambda target: len(target),
    "iterate": _iterate,
    "invoke": _invoke,
    "operate": _operate,
    "convert": _convert,
    "text": _text,
}
