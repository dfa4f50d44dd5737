"""Checks on single Keras layers: their settings, and what they compute on a fresh input.

The behaviour checks feed the layer a random input of a size the tutorial never uses and compare
its output with TensorFlow's own operation (``tf.nn.conv2d``, ``tf.nn.max_pool2d``, ...), so an
answer passes only if the layer really computes what the assignment asks for.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from autograder.checks.arrays import as_array, close, shape
from autograder.checks.failure import CheckFailure

#: Seed of the probe inputs, so that a failure reproduces.
PROBE_SEED = 1234

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


def _pair(value: Any) -> tuple[int, int]:
    """Keras accepts ``3`` and ``(3, 3)`` alike; compare both as a pair."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    return tuple(int(v) for v in value)  # type: ignore[return-value]


def _activation_name(layer: Any) -> str:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", str(activation))


def _probe(input_shape: tuple[int, ...]) -> np.ndarray:
    """A reproducible random input in [-1, 1], float32, of ``input_shape``."""
    rng = np.random.default_rng(PROBE_SEED)
    return rng.uniform(-1.0, 1.0, size=input_shape).astype(np.float32)


def _call(name: str, layer: Any, x: np.ndarray, cause: str = "") -> np.ndarray:
    """``layer(x)`` as an array, or a failure that says what the call raised."""
    try:
        return as_array(f"{name}(x)", layer(x))
    except CheckFailure:
        raise
    except Exception as exc:  # the student's layer may raise anything
        raise CheckFailure(
            f"{name} applied to an input of shape {x.shape}",
            "an output tensor",
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            cause,
        ) from None


def _require_type(name: str, layer: Any, class_name: str, write: str) -> None:
    keras = _keras()
    cls = getattr(keras.layers, class_name)
    if not isinstance(layer, cls):
        raise CheckFailure(
            f"type of {name}", f"keras.layers.{class_name}", type(layer).__name__,
            f"Create it with {write}(...).",
        )


def _keras() -> Any:
    import keras

    return keras


def conv2d(conv: Any, *, name: str = "conv", filters: int, kernel_size: int, strides: int,
           padding: str, activation: str) -> None:
    """``conv`` is a ``keras.layers.Conv2D`` with these settings (padding compared case-blind)."""
    _require_type(name, conv, "Conv2D", "keras.layers.Conv2D")
    wanted = {
        "filters": (filters, conv.filters),
        "kernel_size": (_pair(kernel_size), _pair(conv.kernel_size)),
        "strides": (_pair(strides), _pair(conv.strides)),
        "padding": (padding.lower(), str(conv.padding).lower()),
        "activation": (activation, _activation_name(conv)),
    }
    for key, (want, got) in wanted.items():
        if want != got:
            raise CheckFailure(f"{name}.{key}", want, got, CONV_CAUSES[key])


def conv2d_output(conv: Any, input_shape: tuple[int, int, int, int], *, name: str = "conv",
                  filters: int, kernel_size: int, strides: int, padding: str, activation: str) -> None:
    """Applied to a random batch of ``input_shape`` (batch, height, width, channels), ``conv``
    gives what ``tf.nn.conv2d`` with its own kernel (of ``kernel_size`` x ``kernel_size`` x
    channels x ``filters``) and bias, then the activation, gives.
    """
    import tensorflow as tf

    x = _probe(input_shape)
    got = _call(name, conv, x, "The layer must accept any batch of images with the same number "
                               "of channels, of any height and width.")
    kernel = np.asarray(conv.kernel)
    want_kernel = (kernel_size, kernel_size, input_shape[-1], filters)
    if kernel.shape != want_kernel:
        raise CheckFailure(f"shape of {name}'s kernel", want_kernel, kernel.shape,
                           CONV_CAUSES["kernel_size" if kernel.shape[:2] != want_kernel[:2] else "filters"])
    s = _pair(strides)
    reference = tf.nn.conv2d(x, kernel.astype(np.float32), strides=(1, *s, 1), padding=padding.upper())
    bias = getattr(conv, "bias", None)
    if bias is not None:
        reference = reference + np.asarray(bias)
    reference = _keras().activations.get(activation)(reference)
    want = np.asarray(reference)
    shape(f"{name}(x) for x of shape {tuple(input_shape)}", got, want.shape,
          _conv_shape_cause(input_shape, kernel.shape[0], s, got.shape))
    cause = CONV_CAUSES["activation"] if (got < 0).any() and activation == "relu" else (
        "The layer's output does not match a convolution with its own weights.")
    close(f"{name}(x) for x of shape {tuple(input_shape)}", got, want, atol=1e-4, cause=cause)


def _conv_shape_cause(input_shape: tuple[int, ...], side: int, strides: tuple[int, int],
                      got: tuple[int, ...]) -> str:
    """Name the likely cause of a wrong output shape by trying the common slips."""
    _, h, w, _ = input_shape
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
    _require_type(name, layer, class_name, write)
    if _pair(layer.pool_size) != _pair(pool_size):
        raise CheckFailure(f"{name}.pool_size", _pair(pool_size), _pair(layer.pool_size),
                           f"Use {write}(pool_size={pool_size}).")
    if _pair(layer.strides) != _pair(pool_size):
        raise CheckFailure(f"{name}.strides", _pair(pool_size), _pair(layer.strides),
                           "Leave strides at its default, which equals pool_size, so that the "
                           "windows do not overlap.")
    if str(layer.padding).lower() != "valid":
        raise CheckFailure(f"{name}.padding", "valid", layer.padding,
                           "Leave padding at its default, \"valid\".")


def pool2d_output(layer: Any, input_shape: tuple[int, int, int, int], *, name: str, kind: str,
                  pool_size: int) -> None:
    """Applied to a random batch of ``input_shape``, ``layer`` gives what ``tf.nn.max_pool2d``
    (or ``avg_pool2d``) with windows of ``pool_size`` and the same stride gives."""
    import tensorflow as tf

    ops: dict[str, Callable[..., Any]] = {"max": tf.nn.max_pool2d, "avg": tf.nn.avg_pool2d}
    x = _probe(input_shape)
    got = _call(name, layer, x)
    want = np.asarray(ops[kind](x, ksize=pool_size, strides=pool_size, padding="VALID"))
    shape(f"{name}(x) for x of shape {tuple(input_shape)}", got, want.shape,
          f"{POOL_KINDS[kind][1]}(pool_size={pool_size}) halves the height and width, rounding down.")
    other = "avg" if kind == "max" else "max"
    if got.shape == want.shape and np.allclose(
            got, ops[other](x, ksize=pool_size, strides=pool_size, padding="VALID"), atol=1e-5):
        cause = f"It computes {other} pooling: use {POOL_KINDS[kind][1]}."
    else:
        cause = f"The output does not match {kind} pooling."
    close(f"{name}(x) for x of shape {tuple(input_shape)}", got, want, atol=1e-5, cause=cause)


def global_pool(layer: Any, *, name: str) -> None:
    """``layer`` is a ``keras.layers.GlobalAveragePooling2D``."""
    _require_type(name, layer, "GlobalAveragePooling2D", "keras.layers.GlobalAvgPool2D")


def global_pool_output(layer: Any, input_shape: tuple[int, int, int, int], *, name: str) -> None:
    """Applied to a random batch of ``input_shape``, ``layer`` gives the mean of each feature map:
    shape (batch, channels)."""
    x = _probe(input_shape)
    got = _call(name, layer, x)
    want = x.mean(axis=(1, 2))
    shape(f"{name}(x) for x of shape {tuple(input_shape)}", got, want.shape,
          "Global pooling keeps one value per feature map: the output is (batch, channels).")
    cause = ("It computes the maximum of each feature map: use keras.layers.GlobalAvgPool2D."
             if np.allclose(got, x.max(axis=(1, 2)), atol=1e-5)
             else "The output is not the mean of each feature map.")
    close(f"{name}(x) for x of shape {tuple(input_shape)}", got, want, atol=1e-5, cause=cause)
