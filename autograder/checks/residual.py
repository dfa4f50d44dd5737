"""Checks on the student's ``ResidualUnit`` class and on the ResNet-34 built from it.

A fresh unit is built on a small random input and taken apart: its convolutions are found by
kernel size (3x3 on the main path, 1x1 on the skip path), each paired with the batch
normalisation that follows it (:func:`autograder.weights.unit_leaves`). The check then draws every
parameter of the unit itself (kernels, biases, the normalisations' scales, offsets and moving
statistics: :func:`autograder.checks.numeric.draw_variable`), has the unit hold them, and compares
its output with the residual computation done here in NumPy with what it drew. The unit's own
initial weights decide nothing: zero kernels would make every output constant and hide a missing
activation, and freshly initialised batch normalisation is a uniform positive scale that commutes
with ReLU, which would hide a layer in the wrong place. Silencing the main path (zero 3x3 kernels
and biases, normalisations that keep 0 at 0) leaves only the skip path, which shows whether the
unit adds its input unchanged (stride 1) or through a strided 1x1 projection (stride 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import numeric, observe
from autograder.checks.arrays import shape
from autograder.checks.failure import CheckFailure
from autograder.checks.layers import judge_output, set_drawn, weights_as_set
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
BIAS_CAUSE = ("Use use_bias=False, as the tutorial prescribes: the BatchNormalization after each "
              "convolution has its own offset, so a bias there changes nothing the unit can compute "
              "and only adds parameters (ResNet-34's count assumes none).")
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
    the unit's stride) with ``padding="same"``, a 1x1 projection only when ``strides > 1``, a
    BatchNormalization after each convolution, every convolution with 8 filters and no bias.

    What is demanded changes what the unit computes, or is prescribed by the tutorial and said to
    be: ``use_bias=False`` changes nothing the unit can compute (the normalisation's offset absorbs
    a bias) but the tutorial prescribes it, and ResNet-34's parameter count depends on it. The
    padding of the 1x1 projection is not demanded: a 1x1 kernel never meets the padding."""
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
        if conv in main and conv.settings.get("padding") != "same":
            raise CheckFailure(f"padding of {conv_name} in {label}", "same", conv.settings.get("padding"),
                               "The 3x3 convolutions use padding=\"SAME\", so that the main path "
                               "keeps the height and width (divided by the stride).")
        if conv.settings.get("use_bias"):
            raise CheckFailure(f"use_bias of {conv_name} in {label}", False, True, BIAS_CAUSE)
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


#: The offset and moving mean with which a batch normalisation keeps 0 at 0 (a silenced main path).
KEEPS_ZERO = {"beta": 0.0, "moving_mean": 0.0}


def _drawn_unit(found: LayerView, rng: np.random.Generator, *, silence_main: bool = False
                ) -> tuple[list[dict[str, np.ndarray]], dict[int, numeric.ConvBN]]:
    """Parameters for every canonical leaf of the unit, drawn here, and each convolution's part of
    the expected computation (by the convolution's leaf index) with them.

    Every variable the unit reports is drawn; a batch normalisation gets all four of
    :data:`NORM_VARIABLES` (those it lacks, ``scale=False`` or ``center=False``, stay out of the
    unit but in the expected computation, so that their absence shows), and a convolution without
    a batch normalisation after it is expected with one drawn too. With ``silence_main``, the 3x3
    kernels and biases are zeros and the normalisations after them keep 0 at 0: the main path
    gives 0 and the output is the skip path's alone."""
    leaves = found.leaves()
    arrays = [{name: numeric.draw_variable(rng, name, value.shape) for name, value in leaf.weights.items()
               if name in numeric.LAWS or name == "kernel"} for leaf in leaves]
    parts = {}
    for leaf, conv, norm_leaf, _ in _pairs(found):
        kernel = arrays[leaf].get("kernel")
        if kernel is None:
            raise CheckFailure("the kernel of a convolution in the unit", "a built Conv2D", "none",
                               MAIN_PATH_CAUSE)
        silenced = silence_main and _is_conv(conv, 3)
        if silenced:
            arrays[leaf] = {name: np.zeros_like(value) for name, value in arrays[leaf].items()}
        channels = kernel.shape[-1]
        norm = {name: numeric.draw_variable(rng, name, (channels,)) for name in NORM_VARIABLES}
        if silenced:
            norm.update({name: np.full(channels, value, np.float32) for name, value in KEEPS_ZERO.items()})
        if norm_leaf is not None:
            arrays[norm_leaf] = norm
        parts[leaf] = numeric.ConvBN(kernel=arrays[leaf]["kernel"], bias=arrays[leaf].get("bias"),
                                     gamma=norm["gamma"], beta=norm["beta"], mean=norm["moving_mean"],
                                     variance=norm["moving_variance"])
    return arrays, parts


def _set_unit(label: str, unit: Any, found: LayerView, arrays: list[dict[str, np.ndarray]]
              ) -> list[observe.HeldWeights]:
    """Have the fresh unit hold ``arrays`` (it is the judge's own: nothing to give back); what it
    holds, once checked to be what was sent (a normalisation may lack its scale or offset)."""
    leaves = found.leaves()

    def where(index: int) -> str:
        kind = "BatchNormalization" if _is_norm(leaves[index]) else "Conv2D"
        return f"the {kind} (weight layer {index + 1}) of {label}"

    with set_drawn(label, unit, arrays, keep=False) as held:
        weights_as_set(held, arrays, where, optional=("gamma", "beta"))
    return held


def _lacks(found: LayerView, held: list[observe.HeldWeights]) -> list[str]:
    """What the unit lacks that the expected computation has, for the failure's cause."""
    missing = []
    for _, _, norm_leaf, _ in _pairs(found):
        if norm_leaf is None:
            missing.append("a BatchNormalization after each convolution")
            continue
        values = held[norm_leaf].values if norm_leaf < len(held) else {}
        missing += [f"the BatchNormalization's {name} ({'scale' if name == 'gamma' else 'center'}"
                    f"=False?)" for name in ("gamma", "beta") if name not in values]
    return list(dict.fromkeys(missing))


def _expected(label: str, compute: Any) -> np.ndarray:
    """``compute()``, the NumPy computation of the unit; a failure when the unit's convolutions
    cannot make one (kernels of the wrong shapes)."""
    try:
        return compute()
    except ValueError as exc:
        raise CheckFailure(f"the convolutions of {label}", "the kernels of the tutorial's unit",
                           str(exc), MAIN_PATH_CAUSE) from None


def _epsilon(unit: LayerView) -> float:
    norms = [s for s in unit.sublayers if _is_norm(s)]
    return float(norms[0].settings.get("epsilon", 1e-3)) if norms else 1e-3


def _call_unit(label: str, unit: Any, x: np.ndarray, cause: str) -> ArrayView:
    try:
        return observe.call(label, unit, x, training=False)
    except observe.ObservedError as exc:
        raise CheckFailure(f"{label} applied to an input of shape {x.shape}", "an output tensor",
                           f"{exc.kind}: {exc.message}", cause) from None


def _again(label: str, unit: Any, x: np.ndarray, draw: Any, expected: Any, cause: str) -> Any:
    """For :func:`judge_output`: a second draw set on the unit, its output and the one expected."""
    def again() -> tuple[ArrayView, np.ndarray]:
        arrays, parts = draw()
        observe.set_weights(label, unit, arrays)
        return _call_unit(label, unit, x, cause), _expected(label, lambda: expected(parts))
    return again


def residual_unit_skip(cls: Any, *, strides: int) -> None:
    """With the main path silenced (3x3 kernels and biases zero, and the normalisations after
    them keeping 0 at 0), ``cls(8, strides=strides)`` returns ``relu(x)`` for ``strides == 1`` and
    ``relu(BN(conv1x1(x)))`` with stride 2 otherwise, the 1x1 kernel and the batch
    normalisation's parameters and statistics drawn by the check."""
    label = _label(strides)
    unit, x, _ = _built_unit(cls, strides)
    found = observe.layer(label, unit, weights=True)
    rng = observe.parameter_rng(cls, 10 + strides)
    skip = [leaf for leaf, conv, _, _ in _pairs(found) if _is_conv(conv, 1)]
    if strides > 1 and len(skip) != 1:
        raise CheckFailure(f"1x1 Conv2D layers on the skip path of {label}", 1, len(skip),
                           PROJECTION_CAUSE)

    def draw() -> tuple[list[dict[str, np.ndarray]], dict[int, numeric.ConvBN]]:
        return _drawn_unit(found, rng, silence_main=True)

    def expected(parts: dict[int, numeric.ConvBN]) -> np.ndarray:
        if strides == 1:
            return numeric.relu(x)
        return numeric.relu(parts[skip[0]](x, strides=strides, epsilon=_epsilon(found)))

    arrays, parts = draw()
    _set_unit(label, unit, found, arrays)
    cause = IDENTITY_CAUSE if strides == 1 else PROJECTION_CAUSE
    got = _call_unit(label, unit, x, cause)
    judge_output(f"{label} with its main path silenced", got, _expected(label, lambda: expected(parts)),
                 atol=1e-4, rtol=1e-3, cause=cause, again=_again(label, unit, x, draw, expected, cause))


def residual_unit_output(cls: Any, *, strides: int) -> None:
    """``cls(8, strides=strides)`` computes ``relu(BN(conv2(relu(BN(conv1(x))))) + skip(x))`` in
    inference mode with kernels, biases (where it has them) and batch normalisation parameters and
    statistics all drawn by the check."""
    label = _label(strides)
    unit, x, _ = _built_unit(cls, strides)
    found = observe.layer(label, unit, weights=True)
    main, skip = _convs(found)
    if len(main) != 2:
        raise CheckFailure(f"3x3 Conv2D layers in {label}", 2, len(main), MAIN_PATH_CAUSE)
    rng = observe.parameter_rng(cls, 20 + strides)
    leaf_of = {id(conv): leaf for leaf, conv, _, _ in _pairs(found)}

    def draw() -> tuple[list[dict[str, np.ndarray]], dict[int, numeric.ConvBN]]:
        return _drawn_unit(found, rng)

    def expected(parts: dict[int, numeric.ConvBN]) -> np.ndarray:
        return numeric.residual_unit(
            x, strides=strides, main=(parts[leaf_of[id(main[0])]], parts[leaf_of[id(main[1])]]),
            skip=parts[leaf_of[id(skip[0])]] if skip else None, epsilon=_epsilon(found))

    arrays, parts = draw()
    held = _set_unit(label, unit, found, arrays)
    got = _call_unit(label, unit, x, MAIN_PATH_CAUSE)
    cause = MAIN_PATH_CAUSE
    missing = _lacks(found, held)
    if missing:
        cause += " It lacks " + ", ".join(missing) + "."
    judge_output(f"{label} output", got, _expected(label, lambda: expected(parts)), atol=1e-4,
                 rtol=1e-3, cause=cause, shape_cause=MAIN_PATH_CAUSE if strides == 1 else PROJECTION_CAUSE,
                 again=_again(label, unit, x, draw, expected, cause))


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
