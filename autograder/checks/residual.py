"""Checks on the student's ``ResidualUnit`` class and on the ResNet-34 built from it.

A fresh unit is built on a small random input and taken apart: its convolutions are found by
kernel size (3x3 on the main path, 1x1 on the skip path), and its output is compared with the
residual computation done here with the unit's own weights. Silencing the main path (zero 3x3
kernels) leaves only the skip path, which shows whether the unit adds its input unchanged
(stride 1) or through a strided 1x1 projection (stride 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.arrays import close, shape
from autograder.checks.failure import CheckFailure
from autograder.checks.models import layers_match, parameter_count
from autograder.keras_compare import SETTING_READERS
from autograder.specs import RESNET34

#: Filters of the probe unit, and the input channels used for each stride.
PROBE_FILTERS = 8
PROBE_IN_CHANNELS = {1: 8, 2: 4}
PROBE_SIDE = 6

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


def sublayers(unit: Any) -> list[Any]:
    """Every Keras layer inside ``unit``, in the order they were assigned, nested ones included."""
    return list(unit._flatten_layers(include_self=False, recursive=True))


def _convs(unit: Any) -> tuple[list[Any], list[Any]]:
    """The unit's 3x3 convolutions (main path) and 1x1 convolutions (skip path)."""
    import keras

    convs = [layer for layer in sublayers(unit) if isinstance(layer, keras.layers.Conv2D)]
    main = [c for c in convs if tuple(c.kernel_size) == (3, 3)]
    skip = [c for c in convs if tuple(c.kernel_size) == (1, 1)]
    return main, skip


def _unit_filters(unit: Any) -> int | None:
    main, _ = _convs(unit)
    return int(main[0].filters) if main else None


def _unit_strides(unit: Any) -> int | None:
    main, _ = _convs(unit)
    return int(main[0].strides[0]) if main else None


SETTING_READERS[("ResidualUnit", "filters")] = _unit_filters
SETTING_READERS[("ResidualUnit", "strides")] = _unit_strides


def _label(strides: int) -> str:
    return f"ResidualUnit({PROBE_FILTERS}, strides={strides})"


def _built_unit(cls: Any, strides: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """A fresh ``cls(PROBE_FILTERS, strides=strides)``, a random input, and its output."""
    rng = np.random.default_rng(strides)
    x = rng.uniform(-1, 1, (2, PROBE_SIDE, PROBE_SIDE, PROBE_IN_CHANNELS[strides])).astype(np.float32)
    try:
        unit = cls(PROBE_FILTERS, strides=strides)
    except Exception as exc:
        raise CheckFailure(f"{_label(strides)}", "a new layer", f"{type(exc).__name__}: {exc}",
                           "__init__ takes (self, filters, strides=1, activation=\"relu\").") from None
    try:
        out = np.asarray(unit(x, training=False))
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckFailure(f"{_label(strides)} applied to an input of shape {x.shape}",
                           "an output tensor", f"{type(exc).__name__}: {message}",
                           _failed_call_cause(unit, strides)) from None
    return unit, x, out


def _failed_call_cause(unit: Any, strides: int) -> str:
    """The likely cause of a unit whose call raised, from the convolutions it declares."""
    main, skip = _convs(unit)
    if len(main) == 2 and tuple(main[1].strides) != (1, 1):
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
    import keras

    unit, _, out = _built_unit(cls, strides)
    shape(f"{_label(strides)} output", out, _expected_shape(strides),
          MAIN_PATH_CAUSE if strides == 1 else PROJECTION_CAUSE)
    main, skip = _convs(unit)
    label = _label(strides)
    if len(main) != 2:
        raise CheckFailure(f"3x3 Conv2D layers in {label}", 2, len(main), MAIN_PATH_CAUSE)
    want_skip = 1 if strides > 1 else 0
    if len(skip) != want_skip:
        raise CheckFailure(f"1x1 Conv2D layers in {label}", want_skip, len(skip),
                           PROJECTION_CAUSE if strides > 1 else IDENTITY_CAUSE)
    first, second = main
    if tuple(first.strides) != (strides, strides) or tuple(second.strides) != (1, 1):
        raise CheckFailure(f"strides of the two 3x3 Conv2D layers in {label}",
                           [(strides, strides), (1, 1)], [tuple(first.strides), tuple(second.strides)],
                           SECOND_STRIDE_CAUSE)
    for conv in main + skip:
        if conv.filters != PROBE_FILTERS:
            raise CheckFailure(f"filters of {conv.name} in {label}", PROBE_FILTERS, conv.filters,
                               "Every convolution of the unit has `filters` filters.")
        if str(conv.padding).lower() != "same":
            raise CheckFailure(f"padding of {conv.name} in {label}", "same", conv.padding,
                               "Every convolution of the unit uses padding=\"SAME\".")
        if conv.use_bias:
            raise CheckFailure(f"use_bias of {conv.name} in {label}", False, True,
                               "Use use_bias=False: the BatchNormalization after each "
                               "convolution has its own offset.")
    norms = [layer for layer in sublayers(unit)
             if isinstance(layer, keras.layers.BatchNormalization)]
    if len(norms) != len(main) + len(skip):
        raise CheckFailure(f"BatchNormalization layers in {label}", len(main) + len(skip),
                           len(norms), "Each convolution is followed by a BatchNormalization.")


def residual_unit_skip(cls: Any, *, strides: int) -> None:
    """With the main path silenced (3x3 kernels set to zero), ``cls(8, strides=strides)`` returns
    ``relu(x)`` for ``strides == 1`` and ``relu(BN(conv1x1(x)))`` with stride 2 otherwise."""
    import tensorflow as tf

    unit, x, _ = _built_unit(cls, strides)
    main, skip = _convs(unit)
    for conv in main:
        conv.kernel.assign(np.zeros(conv.kernel.shape, dtype=np.float32))
    got = np.asarray(unit(x, training=False))
    label = f"{_label(strides)} with its main path silenced"
    if strides == 1:
        shape(label, got, x.shape, IDENTITY_CAUSE)
        close(label, got, np.maximum(x, 0), atol=1e-5, cause=IDENTITY_CAUSE)
        return
    if len(skip) != 1:
        raise CheckFailure(f"1x1 Conv2D layers on the skip path of {_label(strides)}", 1, len(skip),
                           PROJECTION_CAUSE)
    projection = tf.nn.conv2d(x, np.asarray(skip[0].kernel), strides=strides, padding="SAME")
    epsilon = _epsilon(unit)
    want = np.maximum(np.asarray(projection) / np.sqrt(1.0 + epsilon), 0)
    shape(label, got, want.shape, PROJECTION_CAUSE)
    close(label, got, want, atol=1e-4, cause=PROJECTION_CAUSE)


def _epsilon(unit: Any) -> float:
    import keras

    norms = [layer for layer in sublayers(unit) if isinstance(layer, keras.layers.BatchNormalization)]
    return float(norms[0].epsilon) if norms else 1e-3


def residual_unit_output(cls: Any, *, strides: int) -> None:
    """``cls(8, strides=strides)`` computes ``relu(BN(conv2(relu(BN(conv1(x))))) + skip(x))`` with
    its own weights, freshly initialised batch normalisation, in inference mode."""
    import tensorflow as tf

    unit, x, got = _built_unit(cls, strides)
    main, skip = _convs(unit)
    if len(main) != 2:
        raise CheckFailure(f"3x3 Conv2D layers in {_label(strides)}", 2, len(main), MAIN_PATH_CAUSE)
    scale = 1.0 / np.sqrt(1.0 + _epsilon(unit))

    def conv(t: Any, layer: Any, stride: int) -> Any:
        return tf.nn.conv2d(t, np.asarray(layer.kernel), strides=stride, padding="SAME") * scale

    z = tf.nn.relu(conv(x, main[0], strides))
    z = conv(z, main[1], 1)
    shortcut = conv(x, skip[0], strides) if skip else x
    want = np.asarray(tf.nn.relu(z + shortcut))
    label = f"{_label(strides)} output"
    shape(label, got, want.shape, MAIN_PATH_CAUSE if strides == 1 else PROJECTION_CAUSE)
    close(label, got, want, atol=1e-4, cause=MAIN_PATH_CAUSE)


def resnet34(model: Any) -> None:
    """``model`` is the tutorial's ResNet-34: its first four layers, 16 residual units with the
    right filters and strides, and its three last layers, with the right output shapes."""
    layers_match(model, RESNET34)


def resnet34_parameters(model: Any) -> None:
    """``model`` has ResNet-34's 21,300,554 parameters for a (28, 28, 1) input."""
    parameter_count(model, RESNET34)
