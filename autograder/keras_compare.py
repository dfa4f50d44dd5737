"""Compare a student's Keras model with the expected one, layer by layer.

A model is described by a list of :class:`LayerSpec`: the layer's Keras class, the settings that
matter, and optionally its output shape and parameter count. :func:`first_difference` walks both
lists and reports the first place they part, the way pytest reports the first differing item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the checks import the specs, which import this module
    from autograder.checks.observe import LayerView, ModelView


@dataclass(frozen=True)
class LayerSpec:
    """What one layer of the expected model is."""

    kind: str
    """The Keras class name, e.g. ``"Conv2D"``; ``MaxPool2D`` and ``MaxPooling2D`` are one class."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Settings to compare, normalised as the observation reads them
    (:func:`autograder.checks.observe.live_settings`: pairs, lower-case padding, activation
    names)."""
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


def layer_kind(layer: LayerView) -> str:
    """The class name of a layer; aliases such as ``MaxPool2D`` share their class."""
    return layer.type_name


def first_difference(model: ModelView, expected: Sequence[LayerSpec]) -> Difference | None:
    """The first difference between the observed ``model`` and ``expected``, or ``None`` if they
    agree.

    Layers are compared in order: kind, then each setting, then output shape, then parameters.
    A model with extra or missing layers differs at the first layer that does not line up.
    """
    layers = list(model.layers)
    for index, (layer, spec) in enumerate(zip(layers, expected), start=1):
        kind = layer_kind(layer)
        if kind != spec.kind:
            return Difference(index, f"layer {index}", spec.describe(), kind)
        for key, want in spec.settings.items():
            got = layer.settings.get(key)
            if got != want:
                return Difference(index, f"layer {index} ({kind}): {key}", want, got)
        if spec.output_shape is not None:
            got_shape = layer.output_shape
            if got_shape is not None and got_shape != tuple(spec.output_shape):
                return Difference(index, f"layer {index} ({kind}): output shape",
                                  (None, *spec.output_shape), (None, *got_shape))
        if spec.params is not None and layer.params != spec.params:
            return Difference(index, f"layer {index} ({kind}): parameters", spec.params, layer.params)
    if len(layers) != len(expected):
        index = min(len(layers), len(expected)) + 1
        want = expected[index - 1].describe() if index <= len(expected) else "no more layers"
        got = layer_kind(layers[index - 1]) if index <= len(layers) else "no more layers"
        return Difference(index, f"number of layers ({len(expected)} expected, {len(layers)} found); "
                                 f"layer {index}", want, got)
    return None
