"""The student's objects in a test cell judged outside the kernel.

A name a test cell reads that the judge does not provide is the student's. It is looked up in
the kernel before the cell runs (:func:`resolve`): plain data arrives as the value itself
(:mod:`autograder.plain`), so ``==``, ``!=``, ``is None``, truthiness, ``.shape``, ``len``,
``np.allclose`` and ``np.testing`` behave exactly as in the kernel; a name the notebook never
defined stays undefined, so reading it raises ``NameError`` as it would there; anything else
arrives as a :class:`Proxy`.

A proxy asks the kernel for each thing the test does with it (an attribute, an item, ``len``,
iteration, a call, an operator, ``str``, a conversion to a number or an array) and gives back
plain data or another proxy. A call sends only plain data and other proxies (as handles) and the
kernel runs the student's object on it. ``isinstance(obj, keras.layers.Conv2D)``,
``issubclass`` and ``type(obj).__name__`` answer from the class hierarchy the kernel reported,
with no TensorFlow here (:mod:`autograder.judge.keras_names`). Nothing the kernel sends is
executed or unpickled here, every answer is bounded (:mod:`autograder.wire`), and whatever a
proxy cannot answer raises :class:`TestCellError`, the test's error, never a pass.

Every answer is an observation: as strong as the kernel's word. ``conv.kernel_size == (7, 7)``
is worth what typing ``(7, 7)`` costs; a check that draws its own inputs and parameters and
recomputes the output here is the strong evidence (see the README's "Writing an assignment").
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from autograder import plain
from autograder.checks import observe
from autograder.judge.channel import Channel

#: The most bytes ``np.asarray(proxy)`` fetches; a larger array is compared with a check.
MAX_ARRAY_BYTES = 256 * 2**20

#: Dunder names a test may read on a student's object (others are Python's own probes).
READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__module__", "__doc__", "__wrapped__"})


class TestCellError(Exception):
    """The test asked something of a student's object that cannot be answered outside the
    kernel: an error of the test, not of the student's answer."""

    __test__ = False  # not a pytest test class


class Proxy(observe.Remote):
    """A student's object in the kernel (see the module docstring); checks observe it through
    :meth:`request`, a test cell uses it as it would the object."""

    _cnnkit_view: plain.ObjectView | None = None

    def __init__(self, channel: Channel, target: dict, label: str,
                 view: plain.ObjectView | None = None) -> None:
        object.__setattr__(self, "_cnnkit_channel", channel)
        object.__setattr__(self, "_cnnkit_target", target)
        object.__setattr__(self, "_cnnkit_label", label)
        object.__setattr__(self, "_cnnkit_view", view)

    # --- the observation API the kit's checks use --------------------------------------------

    def _cnnkit_request(self, op: str, **args: Any) -> Any:
        """Observation ``op`` of this object; the student's error as an
        :class:`~observe.ObservedError` (a ``NameError`` when the name is not defined), the kit's
        own as :class:`~observe.KitObservationError`."""
        found = self._cnnkit_channel.ask_from_thread(self._cnnkit_target, op, args)
        if isinstance(found, observe.ErrorView):
            if found.kind == "NameError":
                raise NameError(found.message)
            if found.kind == observe.KIT_ERROR:
                raise observe.KitObservationError(found.message)
            raise observe.ObservedError(found.kind, found.message)
        return found

    def _cnnkit_handle(self, handle_id: str) -> Proxy:
        return Proxy(self._cnnkit_channel, {"handle": handle_id}, f"{self._cnnkit_label}(...)")

    # --- what a test cell does with it --------------------------------------------------------

    def _cnnkit_ask(self, op: str, label: str, **args: Any) -> Any:
        """Request ``op``; its answer as plain data or a proxy, the student's error as the same
        builtin exception the kernel raised."""
        found = self._cnnkit_channel.ask_from_thread(self._cnnkit_target, op, args)
        return _received(self._cnnkit_channel, found, label)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_cnnkit_") or (
                name.startswith("__") and name not in READABLE_DUNDERS):
            raise AttributeError(name)
        return self._cnnkit_ask("getattr", f"{self._cnnkit_label}.{name}", attr=name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise TestCellError(f"{self._cnnkit_label}.{name} = ...: a test judged outside the kernel cannot "
                            f"change the student's objects; build what the test needs from "
                            f"plain values instead.")

    def __getitem__(self, key: Any) -> Any:
        return self._cnnkit_ask("getitem", f"{self._cnnkit_label}[{key!r}]", key=_sendable(key, "an index"))

    def __len__(self) -> int:
        return int(self._cnnkit_ask("len", f"len({self._cnnkit_label})"))

    def __iter__(self) -> Any:
        return iter(self._cnnkit_ask("iterate", f"item of {self._cnnkit_label}"))

    def __contains__(self, item: Any) -> bool:
        return bool(self._cnnkit_ask("operate", f"... in {self._cnnkit_label}", name="contains",
                              other=_sendable(item, "the value looked for")))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._cnnkit_ask("invoke", f"{self._cnnkit_label}(...)",
                         args=tuple(_sendable(a, "an argument") for a in args),
                         kwargs={str(k): _sendable(v, "an argument") for k, v in kwargs.items()})

    def __bool__(self) -> bool:
        return bool(self._cnnkit_ask("convert", f"bool({self._cnnkit_label})", to="bool"))

    def __int__(self) -> int:
        return int(self._cnnkit_ask("convert", f"int({self._cnnkit_label})", to="int"))

    def __float__(self) -> float:
        return float(self._cnnkit_ask("convert", f"float({self._cnnkit_label})", to="float"))

    def __complex__(self) -> complex:
        return complex(self._cnnkit_ask("convert", f"complex({self._cnnkit_label})", to="complex"))

    def __index__(self) -> int:
        return int(self._cnnkit_ask("convert", f"{self._cnnkit_label} as an index", to="index"))

    def __str__(self) -> str:
        return str(self._cnnkit_ask("text", f"str({self._cnnkit_label})", kind="str"))

    def __repr__(self) -> str:
        if self._cnnkit_view is not None:
            return self._cnnkit_view.text
        return f"<{self._cnnkit_label} in the student's kernel>"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        found = observe.array(self._cnnkit_label, self, values=False)
        if not found.is_array:
            raise TestCellError(f"{self._cnnkit_label}: the test uses it as an array, but it is a "
                                f"{found.type_name}, which is not array-like.")
        size = np.dtype(found.dtype).itemsize * int(np.prod(found.shape or ())) if found.dtype else 0
        if size > MAX_ARRAY_BYTES:
            raise TestCellError(f"{self._cnnkit_label}: the test uses all {size:,} bytes of it as an array, "
                                f"more than the judge fetches ({MAX_ARRAY_BYTES:,}); compare it "
                                f"with a check (checks.close, checks.shape), which reads rows.")
        values = self._cnnkit_request("array", max_bytes=MAX_ARRAY_BYTES).values
        if values is None:
            raise TestCellError(f"{self._cnnkit_label}: its values could not be read as numbers.")
        return values if dtype is None else values.astype(dtype)

    __hash__ = object.__hash__


def _operator(name: str, *, reflected: bool = False, unary: bool = False) -> Any:
    def method(self: Proxy, other: Any = None) -> Any:
        args: dict[str, Any] = {"name": name, "unary": unary, "reflected": reflected}
        if not unary:
            args["other"] = _sendable(other, "the other operand")
        return self._cnnkit_ask("operate", f"{name} of {self._cnnkit_label}", **args)

    method.__name__ = f"__{'r' if reflected else ''}{name.rstrip('_')}__"
    return method


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Proxy, f"__{_name}__", _operator(_name))
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_",
              "xor", "lshift", "rshift"):
    _dunder = _name.rstrip("_")
    setattr(Proxy, f"__{_dunder}__", _operator(_name))
    setattr(Proxy, f"__r{_dunder}__", _operator(_name, reflected=True))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(Proxy, f"__{_name}__", _operator(_name, unary=True))
# Defining __eq__ above would otherwise make it unhashable.
Proxy.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]


def _sendable(value: Any, what: str) -> Any:
    """``value`` as it may travel to the kernel: plain data, with proxies as their handles."""
    if isinstance(value, Proxy):
        handle = value._cnnkit_target.get("handle")
        if handle is None:
            raise TestCellError(f"{value._cnnkit_label}: cannot be passed back to the kernel.")
        return observe.Handle(handle)
    if isinstance(value, (list, tuple)):
        return type(value)(_sendable(v, what) for v in value)
    if isinstance(value, dict):
        return {k: _sendable(v, what) for k, v in value.items()}
    is_plain, found = plain.plain(value)
    if not is_plain:
        raise TestCellError(f"{what}: the test sends a {type(value).__name__} to the student's "
                            f"object; only plain data (numbers, strings, NumPy arrays and "
                            f"containers of them) and the student's own objects can be sent.")
    return found


def _classes_for(view: plain.ObjectView) -> type:
    """A subclass of :class:`Proxy` named as the student's class, so that ``type(obj).__name__``
    and ``obj.__class__.__name__`` read as in the kernel."""
    return type(view.type_name, (Proxy,), {"__module__": view.module, "__qualname__": view.type_name})


def _received(channel: Channel, found: Any, label: str) -> Any:
    """What the kernel answered, for the test: plain data as is, a view as a proxy, the student's
    error as the builtin exception of the same name (else :class:`~observe.ObservedError`)."""
    if isinstance(found, observe.ErrorView):
        raise _student_error(found)
    if isinstance(found, plain.ObjectView):
        return _classes_for(found)(channel, {"handle": found.handle}, label, found)
    if isinstance(found, list):
        return [_received(channel, item, label) for item in found]
    return found


def _student_error(found: observe.ErrorView) -> BaseException:
    if found.kind == observe.KIT_ERROR:
        return observe.KitObservationError(found.message)
    kind = getattr(builtins, found.kind, None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
        try:
            return kind(found.message)
        except Exception:
            pass
    return observe.ObservedError(found.kind, found.message)


def resolve(channel: Channel, name: str) -> tuple[bool, Any]:
    """The kernel's variable ``name`` for a test cell: ``(True, value or proxy)``, or
    ``(False, None)`` when the notebook never defined it."""
    found = channel.ask_from_thread({"name": name}, "resolve", {})
    if isinstance(found, observe.ErrorView) and found.kind == "NameError":
        return False, None
    return True, _received(channel, found, name)
