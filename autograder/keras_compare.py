"""Compare a student's Keras model with the expected one, layer by layer.

A model is described by a list of :class:`LayerSpec`: the layer's Keras class, the settings that
matter, and optionally its output shape and parameter count. :func:`first_difference` walks both
lists and reports the first place they part, the way pytest reports the first differing item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class LayerSpec:
    """What one layer of the expected model is."""

    kind: str
    """The Keras class name, e.g. ``"Conv2D"``; ``MaxPool2D`` and ``MaxPooling2D`` are one class."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Settings to compare, normalised as :func:`setting` reads them (pairs, lower-case padding,
    activation names)."""
    output_shape: tuple[int | None, ...] | None = None
    """The output shape without the batch axis, or ``None`` to skip the comparison."""
    params: int | None = None
    """The layer's parameter count, or ``None`` to skip it."""

    def describe(self) -> str:
        """``Conv2D(filters=32, kernel_size=(3, 3))``: the spec as a student would write it."""
        inner = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"{self.kind}({inner})"


@dataclass(frozen=True)
class Difference:
    """The first place where a model differs from its spec."""

    index: int
    """1-based position of the layer (input layers not counted)."""
    what: str
    """What differs, e.g. ``"layer 3 (MaxPooling2D): pool_size"``."""
    expected: Any
    """The expected value."""
    got: Any
    """What the model has."""


#: Readers for settings that are not plain attributes of the layer, by (layer kind, setting).
SETTING_READERS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def setting(layer: Any, key: str) -> Any:
    """Read ``key`` from ``layer``, normalised so that equivalent spellings compare equal."""
    reader = SETTING_READERS.get((layer_kind(layer), key))
    if reader is not None:
        return reader(layer)
    value = getattr(layer, key)
    if key in ("kernel_size", "pool_size", "strides"):
        return tuple(int(v) for v in np.broadcast_to(np.asarray(value), (2,)))
    if key == "padding":
        return str(value).lower()
    if key == "activation":
        return getattr(value, "__name__", str(value))
    if key == "rate":
        return float(value)
    return value


def model_layers(model: Any) -> list[Any]:
    """The model's layers in order, without ``InputLayer`` (the functional API adds one)."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def layer_kind(layer: Any) -> str:
    """The class name of a layer; aliases such as ``MaxPool2D`` share their class."""
    return type(layer).__name__


def output_shape(layer: Any) -> tuple[int | None, ...] | None:
    """The layer's output shape without the batch axis, or ``None`` if the model is not built."""
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return None
    return tuple(None if d is None else int(d) for d in shape[1:])


def first_difference(model: Any, expected: Sequence[LayerSpec]) -> Difference | None:
    """The first difference between ``model`` and ``expected``, or ``None`` if they agree.

    Layers are compared in order: kind, then each setting, then output shape, then parameters.
    A model with extra or missing layers differs at the first layer that does not line up.
    """
    layers = model_layers(model)
    for index, (layer, spec) in enumerate(zip(layers, expected), start=1):
        kind = layer_kind(layer)
        if kind != spec.kind:
            return Difference(index, f"layer {index}", spec.describe(), kind)
        for key, want in spec.settings.items():
            got = setting(layer, key)
            if got != want:
                return Difference(index, f"layer {index} ({kind}): {key}", want, got)
        if spec.output_shape is not None:
            got_shape = output_shape(layer)
            if got_shape is not None and got_shape != tuple(spec.output_shape):
                return Difference(index, f"layer {index} ({kind}): output shape",
                                  (None, *spec.output_shape), (None, *got_shape))
        if spec.params is not None and layer.count_params() != spec.params:
            return Difference(index, f"layer {index} ({kind}): parameters", spec.params,
                              layer.count_params())
    if len(layers) != len(expected):
        index = min(len(layers), len(expected)) + 1
        want = expected[index - 1].describe() if index <= len(expected) else "no more layers"
        got = layer_kind(layers[index - 1]) if index <= len(layers) else "no more layers"
        return Difference(index, f"number of layers ({len(expected)} expected, {len(layers)} found); "
                                 f"layer {index}", want, got)
    return None
