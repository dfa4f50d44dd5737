"""The expected models of the module, as layer lists the checks compare against.

These restate the tutorial's architectures (``SEED.md`` sections 5 and 6); the parameter counts
are those Keras gives for a (28, 28, 1) input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from autograder.keras_compare import LayerSpec

MNIST_INPUT = (28, 28, 1)

#: The ResNet-34 filter list of the tutorial, one entry per residual unit. The stage layout of
#: ResNet-34 is written here only: everything else about it (:data:`RESNET34_UNITS`, the reference
#: model, the NumPy recomputation, the messages) is derived from this list.
RESNET34_FILTERS: tuple[int, ...] = (64,) * 3 + (128,) * 4 + (256,) * 6 + (512,) * 3


def filters_as_written(filters: tuple[int, ...]) -> str:
    """A filter list as the tutorial writes it, for messages.

    >>> filters_as_written(RESNET34_FILTERS)
    '[64] * 3 + [128] * 4 + [256] * 6 + [512] * 3'
    """
    return " + ".join(f"[{count}] * {len(list(run))}" for count, run in groupby(filters))


def residual_units(filters: tuple[int, ...], channels: int) -> tuple[tuple[int, int, int], ...]:
    """``(input channels, filters, strides)`` of each residual unit of a filter list whose first
    unit receives ``channels`` channels: strides 2 where the filter count changes, 1 elsewhere.

    >>> residual_units((64, 64, 128), 64)
    ((64, 64, 1), (64, 64, 1), (64, 128, 2))
    """
    units, previous = [], channels
    for count in filters:
        units.append((previous, count, 1 if count == previous else 2))
        previous = count
    return tuple(units)


#: ``(input channels, filters, strides)`` of each residual unit of ResNet-34 (the stem before
#: the units gives 64 channels).
RESNET34_UNITS: tuple[tuple[int, int, int], ...] = residual_units(RESNET34_FILTERS, 64)


@dataclass(frozen=True)
class ModelSpec:
    """An expected model: its layers, total parameters, and the likely cause of each difference."""

    name: str
    """The variable the notebook keeps the model in."""
    kind: str
    """Which of the module's models it is (``mnist_cnn`` or ``resnet34``, as in
    :data:`autograder.budget.MODELS`)."""
    layers: tuple[LayerSpec, ...]
    """The layers in order, input layer excluded."""
    params: int
    """Total parameter count for a :data:`MNIST_INPUT` input."""
    causes: dict[tuple[str, str], str] = field(default_factory=dict)
    """Hints by ``(layer kind, setting)``; ``("*", "kind")`` and ``("*", "count")`` for
    misplaced and missing layers."""


def _conv(filters: int, side: int, shape: tuple[int, int, int], params: int, *,
          strides: int = 1, activation: str = "relu", use_bias: bool = True) -> LayerSpec:
    settings = {"filters": filters, "kernel_size": (side, side), "strides": (strides, strides),
                "padding": "same", "activation": activation}
    if not use_bias:
        settings["use_bias"] = False
    return LayerSpec("Conv2D", settings, shape, params)


MNIST_CNN = ModelSpec(
    name="model_cnn_mnist",
    kind="mnist_cnn",
    layers=(
        _conv(32, 3, (28, 28, 32), 320),
        _conv(64, 3, (28, 28, 64), 18_496),
        LayerSpec("MaxPooling2D", {"pool_size": (2, 2)}, (14, 14, 64), 0),
        LayerSpec("Flatten", {}, (12_544,), 0),
        LayerSpec("Dropout", {"rate": 0.25}, (12_544,), 0),
        LayerSpec("Dense", {"units": 128, "activation": "relu"}, (128,), 1_605_760),
        LayerSpec("Dropout", {"rate": 0.5}, (128,), 0),
        LayerSpec("Dense", {"units": 10, "activation": "softmax"}, (10,), 1_290),
    ),
    params=1_625_866,
    causes={
        ("*", "kind"): "Build the layers in the tutorial's order: Conv2D, Conv2D, MaxPool2D, "
                       "Flatten, Dropout, Dense, Dropout, Dense.",
        ("*", "count"): "The network has exactly eight layers, in the tutorial's order.",
        ("Conv2D", "kernel_size"): "Both convolutions use kernel_size=3.",
        ("Conv2D", "filters"): "The first convolution has 32 filters, the second 64.",
        ("Conv2D", "padding"): 'Both convolutions use padding="same", which keeps 28x28.',
        ("Conv2D", "activation"): 'Both convolutions use activation="relu".',
        ("MaxPooling2D", "pool_size"): "Pool with keras.layers.MaxPool2D(pool_size=2).",
        ("Dropout", "rate"): "The first Dropout drops 0.25 of the units, the second 0.5.",
        ("Dense", "units"): "The hidden Dense layer has 128 units; the last has one per digit, 10.",
        ("Dense", "activation"): 'The hidden Dense layer uses "relu"; the last one needs '
                                 'activation="softmax" to give class probabilities.',
        ("*", "output shape"): "Check the reshape to (-1, 28, 28, 1) and the layers before this one.",
    },
)


def _resnet34_layers() -> tuple[LayerSpec, ...]:
    layers = [
        _conv(64, 7, (14, 14, 64), 3_136, strides=2, activation="linear", use_bias=False),
        LayerSpec("BatchNormalization", {}, (14, 14, 64), 256),
        LayerSpec("Activation", {"activation": "relu"}, (14, 14, 64), 0),
        LayerSpec("MaxPooling2D", {"pool_size": (3, 3), "strides": (2, 2), "padding": "same"},
                  (7, 7, 64), 0),
    ]
    side = 7
    for _, filters, strides in RESNET34_UNITS:
        side = -(-side // strides)
        layers.append(LayerSpec("ResidualUnit", {"filters": filters, "strides": strides},
                                (side, side, filters)))
    layers += [
        LayerSpec("GlobalAveragePooling2D", {}, (512,), 0),
        LayerSpec("Flatten", {}, (512,), 0),
        LayerSpec("Dense", {"units": 10, "activation": "softmax"}, (10,), 5_130),
    ]
    return tuple(layers)


RESNET34 = ModelSpec(
    name="model",
    kind="resnet34",
    layers=_resnet34_layers(),
    params=21_300_554,
    causes={
        ("*", "kind"): "The model starts with Conv2D, BatchNormalization, Activation(\"relu\") and "
                       "MaxPool2D, then has one ResidualUnit per filter count, then "
                       "GlobalAvgPool2D, Flatten and Dense.",
        ("*", "count"): f"ResNet-34 has 4 layers before the residual units, {len(RESNET34_FILTERS)} "
                        f"residual units ({filters_as_written(RESNET34_FILTERS)}) and 3 layers after them.",
        ("Conv2D", "kernel_size"): "The first convolution is 7x7: Conv2D(64, 7, strides=2, ...).",
        ("Conv2D", "strides"): "The first convolution uses strides=2.",
        ("Conv2D", "use_bias"): "The first convolution uses use_bias=False: the "
                                "BatchNormalization after it has its own offset.",
        ("Conv2D", "activation"): "The first convolution has no activation; "
                                  "Activation(\"relu\") follows the BatchNormalization.",
        ("MaxPooling2D", "pool_size"): "Use MaxPool2D(pool_size=3, strides=2, padding=\"same\").",
        ("MaxPooling2D", "strides"): "Use MaxPool2D(pool_size=3, strides=2, padding=\"same\").",
        ("MaxPooling2D", "padding"): "Use MaxPool2D(pool_size=3, strides=2, padding=\"same\").",
        ("ResidualUnit", "filters"): f"The filter counts follow {filters_as_written(RESNET34_FILTERS)}.",
        ("ResidualUnit", "strides"): "Use strides=2 only where the filter count changes ("
                                     + ", ".join(f"{c_in} to {filters}" for c_in, filters, strides
                                                 in RESNET34_UNITS if strides == 2)
                                     + "), strides=1 elsewhere.",
        ("Dense", "activation"): 'The last layer needs activation="softmax".',
        ("Dense", "units"): "The last layer has one unit per digit: 10.",
        ("*", "output shape"): "Check the strides of this layer and the ones before it.",
    },
)
