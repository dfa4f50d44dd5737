"""Checks on the student's ``ResidualUnit`` class and on the ResNet-34 built from it.

A fresh unit is built on a small random input and taken apart: its convolutions are found by
kernel size (3x3 on the main path, 1x1 on the skip path), each paired with the batch
normalisation that follows it (:func:`autograder.weights.unit_leaves`). Its output is compared
with the residual computation done here in NumPy with the unit's own weights and with batch
normalisation parameters and statistics drawn at random: freshly initialised batch
normalisation is a uniform positive scale that commutes with ReLU, which would hide a layer in
the wrong place. Silencing the main path (zero 3x3 kernels) leaves only the skip path, which shows
whether the unit adds its input unchanged (stride 1) or through a strided 1x1 projection
(stride 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import numeric, observe
from autograder.checks.arrays import agree, shape
from autograder.checks.failure import CheckFailure
from autograder.checks.models import layers_match, model_output, parameter_count
from autograder.checks.observe import ArrayView, LayerView
from autograder.specs import RESNET34

#: Filters of the probe unit, and the input channels used for each stride.
PROBE_FILTERS = 8
PROBE_IN_CHANNELS = {1: 8, 2: 4}
PROBE_SIDE = 6

#: Batch normalisation variables drawn for the behaviour checks.
NORM_VARIABLES = ("gamma", "beta", "moving_mean", "moving_variance")

PROJECTION_CAUSE = ("When strides > 1 the skip path needs keras.layers.Conv2D(filters, 1, "
                    "strides=strides, padding=\"SAME\", use_bias=False) followed by "
                    "BatchNormalization, so that the input matches the main path's shape.")
IDENTITY_CAUSE = ("When strides == 1 the skip path is empty: call() adds the inputs unchanged to "
                  "the main path's output, then applies the activation.")
SECOND_STRIDE_CAUSE = ("Only the first convolution of the main path uses the unit's stride; the "
                       "second uses strides=1.")
MAIN_PATH_CAUSE = ("The main path is Conv2D(filters, 3, strides=strides), BatchNormalization, "
                   "activation, Conv2D(filters, 3, strides=1), BatchNormalization; call() returns "
                   "activation(main + skip).")


def _label(strides: int) -> str:
    return f"ResidualUnit({PROBE_FILTERS}, strides={strides})"


def _is_conv(layer: LayerView, side: int) -> bool:
    return "Conv2D" in layer.keras_classes and layer.settings.get("kernel_size") == (side, side)


def _is_norm(layer: LayerView) -> bool:
    return "BatchNormalization" in layer.keras_classes


def _convs(unit: LayerView) -> tuple[list[LayerView], list[LayerView]]:
    """The unit's 3x3 convolutions (main path) and 1x1 convolutions (skip path)."""
    return ([s for s in unit.sublayers if _is_conv(s, 3)], [s for s in unit.sublayers if _is_conv(s, 1)])


def _built_unit(cls: Any, strides: int) -> tuple[Any, np.ndarray, ArrayView]:
    """A fresh ``cls(PROBE_FILTERS, strides=strides)``, a random input, and its output."""
    x = observe.draw((2, PROBE_SIDE, PROBE_SIDE, PROBE_IN_CHANNELS[strides]),
                     fresh=observe.is_remote(cls), seed=strides)
    try:
        unit = observe.construct(_label(strides), cls, PROBE_FILTERS, strides=strides)
    except observe.ObservedError as exc:
        raise CheckFailure(f"{_label(strides)}", "a new layer", f"{exc.kind}: {exc.message}",
                           "__init__ takes (self, filters, strides=1, activation=\"relu\").") from None
    try:
        out = observe.call(_label(strides), unit, x, training=False)
    except observe.ObservedError as exc:
        raise CheckFailure(f"{_label(strides)} applied to an input of shape {x.shape}",
                           "an output tensor", f"{exc.kind}: {exc.message}",
                           _failed_call_cause(observe.layer(_label(strides), unit), strides)) from None
    return unit, x, out


def _failed_call_cause(unit: LayerView, strides: int) -> str:
    """The likely cause of a unit whose call raised, from the convolutions it declares."""
    main, skip = _convs(unit)
    if len(main) == 2 and main[1].settings.get("strides") != (1, 1):
        return SECOND_STRIDE_CAUSE
    if strides > 1 and not skip:
        return PROJECTION_CAUSE
    return MAIN_PATH_CAUSE


def _expected_shape(strides: int) -> tuple[int, ...]:
    side = -(-PROBE_SIDE // strides)
    return (2, side, side, PROBE_FILTERS)


def residual_unit_layers(cls: Any, *, strides: int) -> None:
    """``cls(8, strides=strides)`` has the tutorial's layers: two 3x3 convolutions (the first with
    the unit's stride), a 1x1 projection only when ``strides > 1``, a BatchNormalization after each
    convolution, all convolutions with ``padding="same"`` and no bias."""
    unit, _, out = _built_unit(cls, strides)
    shape(f"{_label(strides)} output", out.values, _expected_shape(strides),
          MAIN_PATH_CAUSE if strides == 1 else PROJECTION_CAUSE)
    found = observe.layer(_label(strides), unit)
    main, skip = _convs(found)
    label = _label(strides)
    if len(main) != 2:
        raise CheckFailure(f"3x3 Conv2D layers in {label}", 2, len(main), MAIN_PATH_CAUSE)
    want_skip = 1 if strides > 1 else 0
    if len(skip) != want_skip:
        raise CheckFailure(f"1x1 Conv2D layers in {label}", want_skip, len(skip),
                           PROJECTION_CAUSE if strides > 1 else IDENTITY_CAUSE)
    first, second = main
    if first.settings.get("strides") != (strides, strides) or second.settings.get("strides") != (1, 1):
        raise CheckFailure(f"strides of the two 3x3 Conv2D layers in {label}",
                           [(strides, strides), (1, 1)],
                           [first.settings.get("strides"), second.settings.get("strides")],
                           SECOND_STRIDE_CAUSE)
    for index, conv in enumerate(main + skip, start=1):
        conv_name = f"convolution {index} ({'3x3' if conv in main else '1x1'})"
        if conv.settings.get("filters") != PROBE_FILTERS:
            raise CheckFailure(f"filters of {conv_name} in {label}", PROBE_FILTERS,
                               conv.settings.get("filters"),
                               "Every convolution of the unit has `filters` filters.")
        if conv.settings.get("padding") != "same":
            raise CheckFailure(f"padding of {conv_name} in {label}", "same", conv.settings.get("padding"),
                               "Every convolution of the unit uses padding=\"SAME\".")
        if conv.settings.get("use_bias"):
            raise CheckFailure(f"use_bias of {conv_name} in {label}", False, True,
                               "Use use_bias=False: the BatchNormalization after each "
                               "convolution has its own offset.")
    norms = [s for s in found.sublayers if _is_norm(s)]
    if len(norms) != len(main) + len(skip):
        raise CheckFailure(f"BatchNormalization layers in {label}", len(main) + len(skip),
                           len(norms), "Each convolution is followed by a BatchNormalization.")


def _pairs(unit: LayerView) -> list[tuple[int, LayerView, int | None, LayerView | None]]:
    """(leaf index, convolution, leaf index, its batch normalisation or None) in canonical order."""
    leaves = unit.leaves()
    pairs = []
    index = 0
    while index < len(leaves):
        conv = leaves[index]
        if _is_norm(conv):
            index += 1
            continue
        norm = leaves[index + 1] if index + 1 < len(leaves) and _is_norm(leaves[index + 1]) else None
        pairs.append((index, conv, index + 1 if norm is not None else None, norm))
        index += 2 if norm is not None else 1
    return pairs


def _draw_norm(rng: np.random.Generator, channels: int) -> dict[str, np.ndarray]:
    """Batch normalisation variables that make it neither the identity nor a positive scale."""
    sign = rng.choice([-1.0, 1.0], channels)
    return {"gamma": (sign * rng.uniform(0.5, 1.5, channels)).astype(np.float32),
            "beta": rng.uniform(-0.5, 0.5, channels).astype(np.float32),
            "moving_mean": rng.uniform(-0.5, 0.5, channels).astype(np.float32),
            "moving_variance": rng.uniform(0.5, 2.0, channels).astype(np.float32)}


_FRESH = {"gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0}


def _set_norm(label: str, unit: Any, leaf: int, values: dict[str, np.ndarray]) -> list[str]:
    """Give the unit's ``leaf``-th leaf these variables; the names it lacks."""
    return [name for name, data in values.items() if not observe.assign(label, unit, leaf, name, data)]


def _conv_bn(conv: LayerView, norm: LayerView | None, values: dict[str, np.ndarray],
             filters: int) -> numeric.ConvBN:
    kernel = conv.weights.get("kernel")
    if kernel is None:
        raise CheckFailure("the kernel of a convolution in the unit", "a built Conv2D", "none",
                           MAIN_PATH_CAUSE)
    full = {name: values.get(name, np.full(filters, _FRESH[name], dtype=np.float32))
            for name in NORM_VARIABLES}
    return numeric.ConvBN(kernel=kernel, gamma=full["gamma"], beta=full["beta"],
                          mean=full["moving_mean"], variance=full["moving_variance"])


def _epsilon(unit: LayerView) -> float:
    norms = [s for s in unit.sublayers if _is_norm(s)]
    return float(norms[0].settings.get("epsilon", 1e-3)) if norms else 1e-3


def residual_unit_skip(cls: Any, *, strides: int) -> None:
    """With the main path silenced (3x3 kernels set to zero), ``cls(8, strides=strides)`` returns
    ``relu(x)`` for ``strides == 1`` and ``relu(BN(conv1x1(x)))`` with stride 2 otherwise, its
    batch normalisation holding random parameters and statistics."""
    label = _label(strides)
    unit, x, _ = _built_unit(cls, strides)
    found = observe.layer(label, unit, weights=True)
    pairs = _pairs(found)
    for leaf, conv, _, _ in pairs:
        if _is_conv(conv, 3):
            observe.assign(label, unit, leaf, "kernel", np.zeros_like(conv.weights["kernel"]))
    silenced = f"{label} with its main path silenced"
    skip = [(leaf, conv, norm_leaf, norm) for leaf, conv, norm_leaf, norm in pairs if _is_conv(conv, 1)]
    if strides == 1:
        got = observe.call(label, unit, x, training=False)
        shape(silenced, got.values, x.shape, IDENTITY_CAUSE)
        agree(silenced, got, np.maximum(x, 0), atol=1e-5, rtol=1e-4, cause=IDENTITY_CAUSE)
        return
    if len(skip) != 1:
        raise CheckFailure(f"1x1 Conv2D layers on the skip path of {label}", 1, len(skip),
                           PROJECTION_CAUSE)
    _, conv, norm_leaf, norm = skip[0]
    rng = np.random.default_rng() if observe.is_remote(cls) else np.random.default_rng(10 + strides)
    values = _draw_norm(rng, PROBE_FILTERS)
    if norm_leaf is not None:
        _set_norm(label, unit, norm_leaf, values)
    got = observe.call(label, unit, x, training=False)
    part = _conv_bn(conv, norm, values, PROBE_FILTERS)
    want = numeric.relu(part(x, strides=strides, epsilon=_epsilon(found)))
    shape(silenced, got.values, want.shape, PROJECTION_CAUSE)
    agree(silenced, got, want, atol=1e-4, rtol=1e-3, cause=PROJECTION_CAUSE)


def residual_unit_output(cls: Any, *, strides: int) -> None:
    """``cls(8, strides=strides)`` computes ``relu(BN(conv2(relu(BN(conv1(x))))) + skip(x))`` with
    its own weights and batch normalisation parameters and statistics drawn at random, in
    inference mode."""
    label = _label(strides)
    unit, x, _ = _built_unit(cls, strides)
    found = observe.layer(label, unit, weights=True)
    main, skip = _convs(found)
    if len(main) != 2:
        raise CheckFailure(f"3x3 Conv2D layers in {label}", 2, len(main), MAIN_PATH_CAUSE)
    rng = np.random.default_rng() if observe.is_remote(cls) else np.random.default_rng(20 + strides)
    parts, missing = {}, []
    for _, conv, norm_leaf, norm in _pairs(found):
        values = _draw_norm(rng, PROBE_FILTERS)
        if norm_leaf is None:
            missing.append("a BatchNormalization after each convolution")
        else:
            missing += [f"the BatchNormalization's {name} ({'scale' if name == 'gamma' else 'center'}"
                        f"=False?)" for name in _set_norm(label, unit, norm_leaf, values)
                        if name in ("gamma", "beta")]
        parts[id(conv)] = _conv_bn(conv, norm, values, PROBE_FILTERS)
    got = observe.call(label, unit, x, training=False)
    want = numeric.residual_unit(x, strides=strides, main=(parts[id(main[0])], parts[id(main[1])]),
                                 skip=parts[id(skip[0])] if skip else None, epsilon=_epsilon(found))
    out_label = f"{label} output"
    shape(out_label, got.values, want.shape, MAIN_PATH_CAUSE if strides == 1 else PROJECTION_CAUSE)
    cause = MAIN_PATH_CAUSE
    if missing:
        cause += " It lacks " + ", ".join(dict.fromkeys(missing)) + "."
    agree(out_label, got, want, atol=1e-4, rtol=1e-3, cause=cause)


def resnet34(model: Any) -> None:
    """``model`` is the tutorial's ResNet-34: its first four layers, 16 residual units with the
    right filters and strides, and its three last layers, with the right output shapes."""
    layers_match(model, RESNET34)


def resnet34_parameters(model: Any) -> None:
    """``model`` has ResNet-34's 21,300,554 parameters for a (28, 28, 1) input."""
    parameter_count(model, RESNET34)


def resnet34_output(model: Any) -> None:
    """Applied to random images, ``model`` computes ResNet-34 with its own weights, every layer in
    its place (:func:`~autograder.checks.models.model_output`)."""
    model_output(model, RESNET34)
