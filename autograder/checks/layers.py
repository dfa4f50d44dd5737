"""Checks on single Keras layers: their settings, and what they compute on a fresh input.

The behaviour checks feed the layer a random input of a size the tutorial never uses (drawn by
the judge at grading time, unknown to the student's kernel beforehand) and compare its output
with the operation computed here in NumPy with the layer's own weights
(:mod:`autograder.checks.numeric`), so an answer passes only if the layer really computes what
the assignment asks for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import numeric, observe
from autograder.checks.arrays import agree, shape
from autograder.checks.failure import CheckFailure, describe
from autograder.checks.observe import ArrayView, LayerView

#: Seed of the probe inputs at home, so that a failure reproduces.
PROBE_SEED = 1234

#: Positions at which a large convolution output is recomputed and compared.
CONV_POSITIONS = 512

CONV_CAUSES: dict[str, str] = {
    "filters": "filters is the number of output feature maps: use filters=p.",
    "kernel_size": "kernel_size is the side of the square kernel: use kernel_size=u.",
    "strides": "Use strides=s: each extra step of the stride divides the height and width.",
    "padding": 'Use padding="SAME": it pads the border so that the output keeps the input\'s height '
               'and width, where "valid" shrinks them by kernel_size - 1.',
    "activation": 'Pass activation="relu" to the layer: without it the layer is linear and gives '
                  "negative values.",
}

POOL_KINDS: dict[str, tuple[str, str]] = {
    # kind: (Keras class name, what the student should write)
    "max": ("MaxPooling2D", "keras.layers.MaxPool2D"),
    "avg": ("AveragePooling2D", "keras.layers.AvgPool2D"),
}

_POOL_OPS = {"max": numeric.max_pool2d, "avg": numeric.avg_pool2d}


def _pair(value: Any) -> tuple[int, int]:
    """Keras accepts ``3`` and ``(3, 3)`` alike; compare both as a pair."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    return tuple(int(v) for v in value)  # type: ignore[return-value]


def _probe(value: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """A random input in [-1, 1], float32, of ``input_shape``: fresh under grading."""
    return observe.draw(input_shape, fresh=observe.is_remote(value), seed=PROBE_SEED)


def _call(name: str, layer: Any, x: np.ndarray, cause: str = "", **kwargs: Any) -> ArrayView:
    """``layer(x)`` observed, or a failure that says what the call raised."""
    try:
        return observe.call(name, layer, x, **kwargs)
    except observe.ObservedError as exc:
        raise CheckFailure(f"{name} applied to an input of shape {x.shape}", "an output tensor",
                           f"{exc.kind}: {exc.message}", cause) from None


def _require_type(name: str, layer: LayerView, class_name: str, write: str) -> None:
    if class_name not in layer.keras_classes:
        raise CheckFailure(f"type of {name}", f"keras.layers.{class_name}", layer.type_name,
                           f"Create it with {write}(...).")


def conv2d(conv: Any, *, name: str = "conv", filters: int, kernel_size: int, strides: int,
           padding: str, activation: str) -> None:
    """``conv`` is a ``keras.layers.Conv2D`` with these settings (padding compared case-blind)."""
    layer = observe.layer(name, conv)
    _require_type(name, layer, "Conv2D", "keras.layers.Conv2D")
    got = layer.settings
    wanted = {
        "filters": (filters, got.get("filters")),
        "kernel_size": (_pair(kernel_size), got.get("kernel_size")),
        "strides": (_pair(strides), got.get("strides")),
        "padding": (padding.lower(), got.get("padding")),
        "activation": (activation, got.get("activation")),
    }
    for key, (want, found) in wanted.items():
        if want != found:
            raise CheckFailure(f"{name}.{key}", want, found, CONV_CAUSES[key])


def _conv_weights(name: str, layer: LayerView) -> tuple[np.ndarray, np.ndarray | None]:
    kernel = layer.weights.get("kernel")
    if kernel is None:
        raise CheckFailure(f"{name}'s kernel", "a built Conv2D layer with a kernel", "no kernel",
                           "Create the layer with keras.layers.Conv2D(...).")
    return kernel, layer.weights.get("bias")


def conv2d_output(conv: Any, input_shape: tuple[int, int, int, int], *, name: str = "conv",
                  filters: int, kernel_size: int, strides: int, padding: str, activation: str) -> None:
    """Applied to a random batch of ``input_shape`` (batch, height, width, channels), ``conv``
    gives the convolution with its own kernel (of ``kernel_size`` x ``kernel_size`` x channels x
    ``filters``) and bias, with ``strides`` and ``padding``, then the activation.
    """
    x = _probe(conv, input_shape)
    got = _call(name, conv, x, "The layer must accept any batch of images with the same number "
                               "of channels, of any height and width.")
    kernel, bias = _conv_weights(name, observe.layer(name, conv, weights=True))
    want_kernel = (kernel_size, kernel_size, input_shape[-1], filters)
    if kernel.shape != want_kernel:
        raise CheckFailure(f"shape of {name}'s kernel", want_kernel, kernel.shape,
                           CONV_CAUSES["kernel_size" if kernel.shape[:2] != want_kernel[:2] else "filters"])
    s = _pair(strides)
    want = numeric.activation(activation, numeric.conv2d(x, kernel, strides=s, padding=padding, bias=bias))
    label = f"{name}(x) for x of shape {tuple(input_shape)}"
    shape(label, got.values, want.shape, _conv_shape_cause(input_shape, kernel.shape[0], s, got.shape))
    cause = CONV_CAUSES["activation"] if (got.values < 0).any() and activation == "relu" else (
        "The layer's output does not match a convolution with its own weights.")
    agree(label, got, want, atol=1e-4, rtol=1e-4, cause=cause)


def conv2d_applied(name: str, output: Any, conv: Any, inputs: Any, *, atol: float = 1e-4,
                   cause: str = "") -> None:
    """``output`` is ``conv(inputs)``: the convolution with the layer's own weights, strides,
    padding and activation, recomputed at :data:`CONV_POSITIONS` positions drawn here."""
    layer = observe.layer(f"{name}'s layer", conv, weights=True)
    if layer.weights.get("kernel") is None:  # never called, so nothing it gave can be ``output``
        raise CheckFailure(name, "the output of the layer applied to the input",
                           "a value computed without the layer (it was never called and has no "
                           "weights yet)", cause or "Call the layer on the input to compute it.")
    kernel, bias = _conv_weights("the layer", layer)
    x = observe.array("the input", inputs).values
    strides, padding = layer.settings.get("strides", (1, 1)), layer.settings.get("padding", "valid")
    batch, height, width = x.shape[:3]
    out_h, out_w = (numeric.output_size(height, kernel.shape[0], strides[0], padding),
                    numeric.output_size(width, kernel.shape[1], strides[1], padding))
    shape(name, output, (batch, out_h, out_w, kernel.shape[-1]), cause)
    found = observe.array(name, output)
    rng = np.random.default_rng() if observe.is_remote(output) else np.random.default_rng(PROBE_SEED)
    allowed = found.rows if found.rows is not None else np.arange(batch)
    positions = np.stack([rng.choice(allowed, CONV_POSITIONS), rng.integers(0, out_h, CONV_POSITIONS),
                          rng.integers(0, out_w, CONV_POSITIONS)], axis=1)
    want = numeric.activation(layer.settings.get("activation", "linear"),
                              numeric.conv2d_at(x, kernel, positions, strides=strides,
                                                padding=padding, bias=bias))
    index = positions[:, 0] if found.rows is None else np.searchsorted(found.rows, positions[:, 0])
    got = found.values[index, positions[:, 1], positions[:, 2]]
    bad = ~np.isclose(got.astype(np.float64), want, atol=atol, rtol=1e-4)
    if bad.any():
        first = int(np.argmax(bad.any(axis=1)))
        channel = int(np.argmax(bad[first]))
        where = [*(int(v) for v in positions[first]), channel]
        raise CheckFailure(f"{name}{where}", describe(float(want[first, channel])),
                           describe(float(got[first, channel]))
                           + f" ({int(bad.any(axis=1).sum())} of {CONV_POSITIONS} positions checked differ)",
                           cause)


def _conv_shape_cause(input_shape: tuple[int, ...], side: int, strides: tuple[int, int],
                      got: tuple[int, ...] | None) -> str:
    """Name the likely cause of a wrong output shape by trying the common slips."""
    _, h, w, _ = input_shape
    got = tuple(got or ())
    valid = (h - side + 1, w - side + 1)
    if tuple(got[1:3]) == valid:
        return CONV_CAUSES["padding"]
    if tuple(got[1:3]) != (h, w) and tuple(got[1:3]) == (-(-h // 2), -(-w // 2)):
        return CONV_CAUSES["strides"]
    return CONV_CAUSES["filters"] if tuple(got[1:3]) == (h, w) else "Check the padding and strides."


def pool2d(layer: Any, *, name: str, kind: str, pool_size: int) -> None:
    """``layer`` is a max (``kind="max"``) or average (``"avg"``) pooling layer of ``pool_size``,
    with the default stride (the pool size) and no padding."""
    class_name, write = POOL_KINDS[kind]
    found = observe.layer(name, layer)
    _require_type(name, found, class_name, write)
    settings = found.settings
    if settings.get("pool_size") != _pair(pool_size):
        raise CheckFailure(f"{name}.pool_size", _pair(pool_size), settings.get("pool_size"),
                           f"Use {write}(pool_size={pool_size}).")
    if settings.get("strides") != _pair(pool_size):
        raise CheckFailure(f"{name}.strides", _pair(pool_size), settings.get("strides"),
                           "Leave strides at its default, which equals pool_size, so that the "
                           "windows do not overlap.")
    if settings.get("padding") != "valid":
        raise CheckFailure(f"{name}.padding", "valid", settings.get("padding"),
                           "Leave padding at its default, \"valid\".")


def _pool_cause(kind: str, x: np.ndarray, got: ArrayView, pool_size: int, want: np.ndarray) -> str:
    other = "avg" if kind == "max" else "max"
    if got.values is not None and got.values.shape == want.shape and np.allclose(
            got.values, _POOL_OPS[other](x, pool_size), atol=1e-5):
        return f"It computes {other} pooling: use {POOL_KINDS[kind][1]}."
    return f"The output does not match {kind} pooling."


def pool2d_output(layer: Any, input_shape: tuple[int, int, int, int], *, name: str, kind: str,
                  pool_size: int) -> None:
    """Applied to a random batch of ``input_shape``, ``layer`` gives max (or average) pooling
    with windows of ``pool_size`` and the same stride, without padding."""
    x = _probe(layer, input_shape)
    got = _call(name, layer, x)
    want = _POOL_OPS[kind](x, pool_size)
    label = f"{name}(x) for x of shape {tuple(input_shape)}"
    shape(label, got.values, want.shape,
          f"{POOL_KINDS[kind][1]}(pool_size={pool_size}) halves the height and width, rounding down.")
    agree(label, got, want, atol=1e-5, rtol=1e-4, cause=_pool_cause(kind, x, got, pool_size, want))


def pool2d_applied(name: str, output: Any, inputs: Any, *, kind: str, pool_size: int,
                   cause: str = "") -> None:
    """``output`` is ``inputs`` pooled (max or average) with windows of ``pool_size``."""
    x = observe.array("the input", inputs).values
    want = _POOL_OPS[kind](x, pool_size)
    shape(name, output, want.shape, cause)
    agree(name, observe.array(name, output), want, atol=1e-5, rtol=1e-4, cause=cause)


def global_pool(layer: Any, *, name: str) -> None:
    """``layer`` is a ``keras.layers.GlobalAveragePooling2D``."""
    _require_type(name, observe.layer(name, layer), "GlobalAveragePooling2D",
                  "keras.layers.GlobalAvgPool2D")


def global_pool_output(layer: Any, input_shape: tuple[int, int, int, int], *, name: str) -> None:
    """Applied to a random batch of ``input_shape``, ``layer`` gives the mean of each feature map:
    shape (batch, channels)."""
    x = _probe(layer, input_shape)
    got = _call(name, layer, x)
    want = numeric.global_avg_pool2d(x)
    label = f"{name}(x) for x of shape {tuple(input_shape)}"
    shape(label, got.values, want.shape,
          "Global pooling keeps one value per feature map: the output is (batch, channels).")
    cause = ("It computes the maximum of each feature map: use keras.layers.GlobalAvgPool2D."
             if got.values.shape == want.shape
             and np.allclose(got.values, numeric.global_max_pool2d(x), atol=1e-5)
             else "The output is not the mean of each feature map.")
    agree(label, got, want, atol=1e-5, rtol=1e-4, cause=cause)


def global_pool_applied(name: str, output: Any, inputs: Any, *, cause: str = "") -> None:
    """``output`` is the mean of each feature map of ``inputs``."""
    want = numeric.global_avg_pool2d(observe.array("the input", inputs).values)
    shape(name, output, want.shape, cause)
    agree(name, observe.array(name, output), want, atol=1e-5, rtol=1e-4, cause=cause)
