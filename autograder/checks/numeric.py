"""What a Keras layer or model *should* output, computed with NumPy alone.

The judge compares a student's outputs with these, so they follow TensorFlow's semantics to the
letter, in float64:

* arrays are channels-last: images ``(batch, height, width, channels)``, kernels
  ``(kh, kw, c_in, c_out)``;
* ``"same"`` padding is TensorFlow's: on each axis ``pad_total = max((ceil(in / s) - 1) * s + k - in,
  0)``, ``pad_total // 2`` before and the rest (one more pixel when odd) after, for convolution and
  pooling alike; ``"valid"`` pads nothing and gives ``floor((in - k) / s) + 1``;
* max pooling pads with ``-inf``; average pooling over a ``"same"`` window divides by the number of
  real (unpadded) elements, as ``tf.nn.avg_pool2d`` does;
* batch normalisation is Keras's: ``(x - mean) / sqrt(variance + epsilon) * gamma + beta``, with the
  biased variance when it uses the batch's own statistics (``training=True``).

Nothing here imports TensorFlow or Keras: the judge process stays free of their seconds-long import.

The two networks of the tutorial take their weights as :func:`autograder.weights.extract` lists
them, leaf by leaf (see :func:`mnist_cnn_layout` and :func:`resnet34_layout` for the exact order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast, overload

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike

from autograder.messages import failure_message
from autograder.specs import RESNET34_UNITS

if TYPE_CHECKING:
    # Only for annotations: autograder.weights imports the checks package, which imports this.
    from autograder.weights import LeafWeights

#: A value for ``strides`` or ``pool_size``: one int for both axes, or ``(rows, cols)``.
IntOrPair = int | tuple[int, int]

PADDINGS = ("same", "valid")
NHWC_FIX = "Pass channels-last images, e.g. x[None, ..., None] for one grayscale image."


def _images(name: str, x: ArrayLike) -> np.ndarray:
    """``x`` as a float64 array of shape (batch, height, width, channels)."""
    array = np.asarray(x, dtype=np.float64)
    if array.ndim != 4:
        raise ValueError(failure_message(f"{name}.shape", "(batch, height, width, channels)",
                                         tuple(array.shape), NHWC_FIX))
    return array


def _pair(name: str, value: IntOrPair) -> tuple[int, int]:
    """``value`` as ``(rows, cols)`` of positive ints."""
    pair: tuple[Any, ...] = (value, value) if np.ndim(value) == 0 else tuple(cast(Iterable[Any], value))
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 and v >= 1 for v in pair):
        raise ValueError(failure_message(name, "a positive int or a pair of them", repr(value),
                                         f"Pass e.g. {name}=2 or {name}=(2, 2)."))
    return int(pair[0]), int(pair[1])


def _padding(value: str) -> str:
    mode = str(value).lower()
    if mode not in PADDINGS:
        raise ValueError(failure_message("padding", '"same" or "valid" (any case)', repr(value),
                                         "TensorFlow has only these two."))
    return mode


@overload
def _vector(name: str, value: None, size: int) -> None: ...


@overload
def _vector(name: str, value: ArrayLike, size: int) -> np.ndarray: ...


def _vector(name: str, value: ArrayLike | None, size: int) -> np.ndarray | None:
    """A per-channel parameter as a float64 array of shape (size,), or None."""
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(failure_message(f"{name}.shape", (size,), tuple(array.shape),
                                         f"It holds one value per channel of the input ({size})."))
    return array


def output_size(size: int, window: int, stride: int, padding: str) -> int:
    """The output length along one axis: ``ceil(size / stride)`` for ``"same"``,
    ``floor((size - window) / stride) + 1`` for ``"valid"``.

    >>> output_size(427, 7, 1, "valid"), output_size(9, 3, 2, "same")
    (421, 5)
    """
    if _padding(padding) == "same":
        return -(-size // stride)
    return (size - window) // stride + 1 if size >= window else 0


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``"same"`` padding along one axis: ``(before, after)``, the odd pixel after.

    >>> same_padding(9, 3, 2), same_padding(28, 2, 2), same_padding(14, 7, 2)
    ((1, 1), (0, 0), (2, 3))
    """
    total = max((-(-size // stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _pads(shape: tuple[int, int], window: tuple[int, int], strides: tuple[int, int],
          padding: str) -> tuple[tuple[int, int], tuple[int, int]]:
    if padding == "valid":
        return (0, 0), (0, 0)
    return same_padding(shape[0], window[0], strides[0]), same_padding(shape[1], window[1], strides[1])


def _out_shape(what: str, shape: tuple[int, int], window: tuple[int, int],
               strides: tuple[int, int], padding: str) -> tuple[int, int]:
    out = (output_size(shape[0], window[0], strides[0], padding),
           output_size(shape[1], window[1], strides[1], padding))
    if min(out) < 1:
        raise ValueError(failure_message(f"{what} window", f"at most the input's {shape}", window,
                                         'With padding="valid" the window must fit in the input; '
                                         'use padding="same" or a smaller window.'))
    return out


def _live_taps(size: int, window: int, stride: int, padding: str) -> slice:
    """The kernel taps along one axis that meet a real pixel at some output position; the others
    meet only padding and add nothing (a 3x3 "same" kernel on a 1x1 map uses its centre alone)."""
    out = output_size(size, window, stride, padding)
    before = same_padding(size, window, stride)[0] if padding == "same" else 0
    # Output i reads input row i * stride + tap - before.
    return slice(max(0, before - (out - 1) * stride), min(window, size + before))


def _windows(x: np.ndarray, window: tuple[int, int], strides: tuple[int, int], padding: str,
             fill: float, what: str, taps: tuple[slice, slice] | None = None) -> np.ndarray:
    """Every window the layer sees, (batch, out_h, out_w, channels, kh, kw), a view where possible;
    with ``taps``, only those rows and columns of each window."""
    out_h, out_w = _out_shape(what, x.shape[1:3], window, strides, padding)
    pad_rows, pad_cols = _pads(x.shape[1:3], window, strides, padding)
    if any(pad_rows + pad_cols):
        x = np.pad(x, ((0, 0), pad_rows, pad_cols, (0, 0)), constant_values=fill)
    if taps is not None:
        rows, cols = taps
        x = x[:, rows.start:, cols.start:]
        window = (rows.stop - rows.start, cols.stop - cols.start)
    views = sliding_window_view(x, window, axis=(1, 2))
    return views[:, ::strides[0], ::strides[1]][:, :out_h, :out_w]


def _kernel(kernel: ArrayLike, channels: int) -> np.ndarray:
    """``kernel`` checked against the input's channels, in its own dtype."""
    array = np.asarray(kernel)
    if array.ndim != 4 or array.shape[2] != channels:
        raise ValueError(failure_message("kernel.shape", f"(kh, kw, {channels}, c_out)",
                                         tuple(array.shape),
                                         f"The kernel's third axis matches the input's {channels} "
                                         "channels; the last one is the number of filters."))
    return array


def conv2d(x: ArrayLike, kernel: ArrayLike, *, strides: IntOrPair = 1, padding: str = "same",
           bias: ArrayLike | None = None) -> np.ndarray:
    """A 2D convolution (cross-correlation, as in TensorFlow) with an optional bias.

    Args:
        x: images, shape ``(batch, h, w, c_in)``.
        kernel: shape ``(kh, kw, c_in, c_out)``.
        strides: one int for both axes, or ``(rows, cols)``.
        padding: ``"same"`` or ``"valid"``, any case.
        bias: shape ``(c_out,)``, or None.

    Returns:
        float64 array of shape ``(batch, h', w', c_out)``: ``h' = ceil(h / strides)`` with
        ``"same"``, ``floor((h - kh) / strides) + 1`` with ``"valid"``.

    >>> x = np.random.rand(4, 9, 11, 3)
    >>> conv2d(x, np.random.rand(3, 3, 3, 8), strides=2).shape
    (4, 5, 6, 8)
    """
    x = _images("x", x)
    kernel = _kernel(kernel, x.shape[3])
    strides, padding = _pair("strides", strides), _padding(padding)
    window = kernel.shape[:2]
    _out_shape("convolution", x.shape[1:3], window, strides, padding)
    taps = (_live_taps(x.shape[1], window[0], strides[0], padding),
            _live_taps(x.shape[2], window[1], strides[1], padding))
    windows = _windows(x, window, strides, padding, 0.0, "convolution", taps)
    # Only the live taps go to float64, and contracting in the kernel's own (kh, kw, c_in) order
    # spares a transposed copy of it: ResNet-34's kernels hold 21 million numbers.
    kernel = kernel[taps].astype(np.float64, copy=False)
    out = np.tensordot(windows, kernel, axes=([4, 5, 3], [0, 1, 2]))
    bias = _vector("bias", bias, kernel.shape[3])
    return out if bias is None else out + bias


def _positions(positions: ArrayLike, limits: tuple[int, int, int]) -> np.ndarray:
    """``positions`` as an int array (n, 3) of (batch, row, col) inside ``limits``."""
    array = np.asarray(positions)
    if array.ndim != 2 or array.shape[1] != 3 or not (
            np.issubdtype(array.dtype, np.integer) or array.size == 0):
        raise ValueError(failure_message("positions", "an int array of shape (n, 3): batch, row, col",
                                         f"an array of shape {tuple(array.shape)} and dtype {array.dtype}",
                                         "Stack the indices, e.g. np.stack([b, r, c], axis=1)."))
    array = array.astype(np.intp)
    outside = np.flatnonzero(((array < 0) | (array >= np.array(limits))).any(axis=1))
    if outside.size:
        first = int(outside[0])
        raise ValueError(failure_message(f"positions[{first}]",
                                         f"inside the output (batch, rows, cols) = {limits}",
                                         tuple(int(v) for v in array[first]),
                                         "Draw rows and columns of the output, not of the input."))
    return array


def conv2d_at(x: ArrayLike, kernel: ArrayLike, positions: ArrayLike, *, strides: IntOrPair = 1,
              padding: str = "same", bias: ArrayLike | None = None) -> np.ndarray:
    """The convolution of :func:`conv2d`, computed only at the given output positions.

    Only the windows under those positions are read (and converted to float64), so a large output
    can be checked at a few hundred drawn positions in a few milliseconds.

    Args:
        x: images, shape ``(batch, h, w, c_in)``.
        kernel: shape ``(kh, kw, c_in, c_out)``.
        positions: int array of shape ``(n, 3)``: batch index, output row, output column.
        strides, padding, bias: as for :func:`conv2d`.

    Returns:
        float64 array of shape ``(n, c_out)``, row ``i`` equal to
        ``conv2d(x, kernel, ...)[b_i, r_i, c_i]``.

    >>> x = np.random.rand(2, 427, 640, 3)
    >>> conv2d_at(x, np.random.rand(7, 7, 3, 5), [[0, 0, 0], [1, 426, 639]]).shape
    (2, 5)
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(failure_message("x.shape", "(batch, height, width, channels)",
                                         tuple(x.shape), NHWC_FIX))
    kernel = _kernel(kernel, x.shape[3]).astype(np.float64, copy=False)
    (kh, kw), (sh, sw), padding = kernel.shape[:2], _pair("strides", strides), _padding(padding)
    batch, height, width = x.shape[:3]
    out_h, out_w = _out_shape("convolution", (height, width), (kh, kw), (sh, sw), padding)
    b, r, c = _positions(positions, (batch, out_h, out_w)).T
    (top, _), (left, _) = _pads((height, width), (kh, kw), (sh, sw), padding)
    rows = r[:, None] * sh - top + np.arange(kh)
    cols = c[:, None] * sw - left + np.arange(kw)
    inside = (((rows >= 0) & (rows < height))[:, :, None]
              & ((cols >= 0) & (cols < width))[:, None, :])
    patches = x[b[:, None, None], np.clip(rows, 0, height - 1)[:, :, None],
                np.clip(cols, 0, width - 1)[:, None, :]]
    patches = np.where(inside[..., None], patches.astype(np.float64), 0.0)
    out = np.tensordot(patches, kernel, axes=3)
    bias = _vector("bias", bias, kernel.shape[3])
    return out if bias is None else out + bias


def _pool(x: ArrayLike, pool_size: IntOrPair, strides: IntOrPair | None, padding: str,
          fill: float, what: str) -> tuple[np.ndarray, np.ndarray, tuple[int, int], tuple[int, int], str]:
    x = _images("x", x)
    window = _pair("pool_size", pool_size)
    steps = window if strides is None else _pair("strides", strides)
    padding = _padding(padding)
    return _windows(x, window, steps, padding, fill, what), x, window, steps, padding


def max_pool2d(x: ArrayLike, pool_size: IntOrPair, strides: IntOrPair | None = None,
               padding: str = "valid") -> np.ndarray:
    """Max pooling, as ``keras.layers.MaxPool2D``; ``"same"`` pads with ``-inf``.

    Args:
        x: images, shape ``(batch, h, w, c)``.
        pool_size: one int, or ``(rows, cols)``.
        strides: one int, ``(rows, cols)``, or None for ``pool_size``.
        padding: ``"same"`` or ``"valid"``, any case.

    Returns:
        float64 array of shape ``(batch, h', w', c)``, ``h'`` as for :func:`conv2d`.

    >>> max_pool2d(np.random.rand(2, 7, 7, 64), 3, strides=2, padding="same").shape
    (2, 4, 4, 64)
    """
    windows = _pool(x, pool_size, strides, padding, -np.inf, "max pooling")[0]
    return windows.max(axis=(4, 5))


def avg_pool2d(x: ArrayLike, pool_size: IntOrPair, strides: IntOrPair | None = None,
               padding: str = "valid") -> np.ndarray:
    """Average pooling, as ``keras.layers.AvgPool2D``: a ``"same"`` window at the border is the
    mean of its real elements only (padding is not counted), as in ``tf.nn.avg_pool2d``.

    Args and shapes as for :func:`max_pool2d`.

    >>> avg_pool2d(np.random.rand(2, 9, 11, 3), 2).shape
    (2, 4, 5, 3)
    """
    windows, x, window, steps, padding = _pool(x, pool_size, strides, padding, 0.0, "average pooling")
    sums = windows.sum(axis=(4, 5))
    if padding == "valid":
        return sums / (window[0] * window[1])
    ones = np.ones((1, *x.shape[1:3], 1))
    counts = _windows(ones, window, steps, padding, 0.0, "average pooling").sum(axis=(4, 5))
    return sums / counts


def global_avg_pool2d(x: ArrayLike) -> np.ndarray:
    """The mean over height and width, as ``keras.layers.GlobalAvgPool2D``.

    Input ``(batch, h, w, c)``, output ``(batch, c)``.

    >>> global_avg_pool2d(np.random.rand(2, 5, 7, 3)).shape
    (2, 3)
    """
    return _images("x", x).mean(axis=(1, 2))


def global_max_pool2d(x: ArrayLike) -> np.ndarray:
    """The maximum over height and width, as ``keras.layers.GlobalMaxPool2D``.

    Input ``(batch, h, w, c)``, output ``(batch, c)``.

    >>> global_max_pool2d(np.random.rand(2, 5, 7, 3)).shape
    (2, 3)
    """
    return _images("x", x).max(axis=(1, 2))


def batch_norm(x: ArrayLike, *, gamma: ArrayLike | None = None, beta: ArrayLike | None = None,
               mean: ArrayLike, variance: ArrayLike, epsilon: float = 1e-3) -> np.ndarray:
    """Batch normalisation in inference mode (``training=False``), over the last axis:
    ``(x - mean) / sqrt(variance + epsilon) * gamma + beta``.

    Args:
        x: any shape ``(..., c)``.
        gamma, beta: shape ``(c,)``; None for a layer built with ``scale=False`` (gamma 1) or
            ``center=False`` (beta 0).
        mean, variance: the layer's moving statistics, shape ``(c,)``.
        epsilon: the layer's ``epsilon`` (Keras's default is 1e-3).

    Returns:
        float64 array of the shape of ``x``.

    >>> c = np.ones(3)
    >>> batch_norm(np.random.rand(2, 5, 7, 3), mean=0 * c, variance=c).shape
    (2, 5, 7, 3)
    """
    x = np.asarray(x, dtype=np.float64)
    size = x.shape[-1]
    mean, variance = _vector("mean", mean, size), _vector("variance", variance, size)
    return _normalise(x, mean, variance, _vector("gamma", gamma, size), _vector("beta", beta, size),
                      epsilon)


def _normalise(x: np.ndarray, mean: np.ndarray, variance: np.ndarray, gamma: np.ndarray | None,
               beta: np.ndarray | None, epsilon: float) -> np.ndarray:
    out = (x - mean) / np.sqrt(variance + epsilon)
    if gamma is not None:
        out = out * gamma
    return out if beta is None else out + beta


def batch_norm_batch_statistics(x: ArrayLike, *, gamma: ArrayLike | None = None,
                                beta: ArrayLike | None = None, epsilon: float = 1e-3) -> np.ndarray:
    """Batch normalisation with the batch's own statistics, as Keras does with ``training=True``:
    the mean and the *biased* variance over every axis but the last.

    Args:
        x: shape ``(..., c)``.
        gamma, beta: shape ``(c,)``, or None (gamma 1, beta 0).
        epsilon: the layer's ``epsilon``.

    Returns:
        float64 array of the shape of ``x``.

    >>> batch_norm_batch_statistics(np.random.rand(8, 5, 7, 3)).shape
    (8, 5, 7, 3)
    """
    x = np.asarray(x, dtype=np.float64)
    axes = tuple(range(x.ndim - 1))
    size = x.shape[-1]
    return _normalise(x, x.mean(axis=axes), x.var(axis=axes), _vector("gamma", gamma, size),
                      _vector("beta", beta, size), epsilon)


def dense(x: ArrayLike, kernel: ArrayLike, bias: ArrayLike | None = None) -> np.ndarray:
    """A dense layer without its activation: ``x @ kernel + bias``.

    Input ``(..., n_in)``, kernel ``(n_in, n_out)``, bias ``(n_out,)`` or None; output
    ``(..., n_out)``.

    >>> dense(np.random.rand(32, 128), np.random.rand(128, 10), np.zeros(10)).shape
    (32, 10)
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.shape[0] != x.shape[-1]:
        raise ValueError(failure_message("kernel.shape", f"({x.shape[-1]}, n_out)",
                                         tuple(kernel.shape),
                                         "The kernel's first axis matches the input's last one."))
    out = x @ kernel
    bias = _vector("bias", bias, kernel.shape[1])
    return out if bias is None else out + bias


def relu(x: ArrayLike) -> np.ndarray:
    """``max(x, 0)``, any shape.

    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def softmax(x: ArrayLike) -> np.ndarray:
    """The softmax over the last axis, shifted by the maximum so that large inputs do not overflow.

    >>> softmax(np.array([[1000.0, 1000.0]]))
    array([[0.5, 0.5]])
    """
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _linear(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _sigmoid(x: ArrayLike) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    # exp of a negative number only: no overflow for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _tanh(x: ArrayLike) -> np.ndarray:
    return np.tanh(np.asarray(x, dtype=np.float64))


ACTIVATIONS: dict[str, Callable[[ArrayLike], np.ndarray]] = {
    "relu": relu, "softmax": softmax, "linear": _linear, "sigmoid": _sigmoid, "tanh": _tanh}


def _activation_function(name: str | None) -> Callable[[ArrayLike], np.ndarray]:
    key = "linear" if name is None else str(name).lower()
    if key not in ACTIVATIONS:
        raise ValueError(failure_message("activation", f"one of {', '.join(ACTIVATIONS)} or None",
                                         repr(name), "Name a Keras activation this module computes."))
    return ACTIVATIONS[key]


def activation(name: str | None, x: ArrayLike) -> np.ndarray:
    """The Keras activation called ``name`` (None means ``"linear"``), applied to ``x``.

    >>> activation("sigmoid", np.zeros(2))
    array([0.5, 0.5])
    """
    return _activation_function(name)(x)


@dataclass(frozen=True, kw_only=True)
class ConvBN:
    """A convolution (``padding="same"``, bias-free as in the tutorial unless ``bias`` is given)
    and the batch normalisation that follows it; the stride is the caller's."""

    kernel: ArrayLike
    """The convolution's kernel, ``(kh, kw, c_in, c_out)``."""
    bias: ArrayLike | None = None
    """The convolution's bias, ``(c_out,)``; None for ``use_bias=False``."""
    gamma: ArrayLike | None = None
    """The normalisation's scale, ``(c_out,)``; None for ``scale=False``."""
    beta: ArrayLike | None = None
    """The normalisation's offset, ``(c_out,)``; None for ``center=False``."""
    mean: ArrayLike
    """The normalisation's moving mean, ``(c_out,)``."""
    variance: ArrayLike
    """The normalisation's moving variance, ``(c_out,)``."""

    def __call__(self, x: ArrayLike, *, strides: IntOrPair = 1, epsilon: float = 1e-3) -> np.ndarray:
        """``BN(conv(x))`` in inference mode: (batch, h, w, c_in) to (batch, h', w', c_out)."""
        z = conv2d(x, self.kernel, strides=strides, padding="same", bias=self.bias)
        return batch_norm(z, gamma=self.gamma, beta=self.beta, mean=self.mean,
                          variance=self.variance, epsilon=epsilon)

    @classmethod
    def from_leaves(cls, conv: LeafWeights, norm: LeafWeights) -> ConvBN:
        """From a ``Conv2D`` leaf (a kernel, and a bias or none) and the ``BatchNormalization``
        leaf after it, as :func:`autograder.weights.extract` lists them. The normalisation has 4
        variables (gamma, beta, moving mean, moving variance) or 2 (the moving statistics only)."""
        if conv.kind != "Conv2D" or len(conv.arrays) not in (1, 2):
            raise ValueError(failure_message("convolution leaf", "Conv2D[(kh, kw, c_in, c_out)]",
                                             conv.signature(), "Pass a Conv2D leaf: its kernel, "
                                             "and its bias if it has one."))
        if norm.kind != "BatchNormalization" or len(norm.arrays) not in (2, 4):
            raise ValueError(failure_message(
                "normalisation leaf", "BatchNormalization with 4 variables (or 2)", norm.signature(),
                "With 3 variables it is ambiguous which of scale or center was dropped."))
        gamma, beta = norm.arrays[:2] if len(norm.arrays) == 4 else (None, None)
        return cls(kernel=conv.arrays[0], bias=conv.arrays[1] if len(conv.arrays) == 2 else None,
                   gamma=gamma, beta=beta, mean=norm.arrays[-2], variance=norm.arrays[-1])


def residual_unit(x: ArrayLike, *, strides: IntOrPair, main: Sequence[ConvBN],
                  skip: ConvBN | None = None, activation: str | None = "relu",
                  epsilon: float = 1e-3) -> np.ndarray:
    """The tutorial's residual unit in inference mode:
    ``act(BN2(conv2(act(BN1(conv1(x))))) + skip(x))``.

    ``conv1`` is 3x3 with the unit's ``strides``, ``conv2`` 3x3 with stride 1, both ``"same"`` and
    bias-free. The skip path is ``x`` itself when ``skip`` is None, otherwise ``BN(conv1x1(x))``
    with the unit's strides.

    Args:
        x: shape ``(batch, h, w, c_in)``.
        strides: the unit's strides.
        main: the two :class:`ConvBN` of the main path, in order.
        skip: the :class:`ConvBN` of the 1x1 projection, or None for the identity.
        activation: the unit's activation, by Keras name.
        epsilon: the normalisations' ``epsilon``.

    Returns:
        float64 array of shape ``(batch, ceil(h / strides), ceil(w / strides), filters)``.

    >>> def unit(c_in, side, c_out):
    ...     return ConvBN(kernel=np.random.rand(side, side, c_in, c_out), mean=np.zeros(c_out),
    ...                   variance=np.ones(c_out))
    >>> x = np.random.rand(2, 9, 11, 4)
    >>> residual_unit(x, strides=2, main=[unit(4, 3, 8), unit(8, 3, 8)], skip=unit(4, 1, 8)).shape
    (2, 5, 6, 8)
    """
    x = _images("x", x)
    if len(main) != 2:
        raise ValueError(failure_message("main", "two ConvBN (the 3x3 convolutions)",
                                         f"{len(main)} of them", "Pass [first, second]."))
    act = _activation_function(activation)
    z = act(main[0](x, strides=strides, epsilon=epsilon))
    z = main[1](z, strides=1, epsilon=epsilon)
    if skip is None:
        if z.shape != x.shape:
            raise ValueError(failure_message(
                "skip", f"a ConvBN projection to the main path's shape {z.shape}",
                f"None (the identity, shape {x.shape})",
                "A unit with strides > 1 or a change of channels needs the 1x1 projection."))
        shortcut = x
    else:
        shortcut = skip(x, strides=strides, epsilon=epsilon)
    return act(z + shortcut)


class LeafLayout(NamedTuple):
    """One leaf of a canonical weight list: what :func:`autograder.weights.extract` gives for it."""

    kind: str
    """The Keras class: ``"Conv2D"``, ``"BatchNormalization"`` or ``"Dense"``."""
    shapes: tuple[tuple[int, ...], ...]
    """The shapes of its variables, in :data:`autograder.weights.VARIABLE_ORDER`."""
    where: str
    """Where the leaf sits in the network, for messages."""

    def signature(self) -> str:
        """``Conv2D[(3, 3, 1, 32), (32,)]``, worded as :meth:`LeafWeights.signature`."""
        return f"{self.kind}{[tuple(s) for s in self.shapes]}"


def _conv_leaf(side: int, c_in: int, c_out: int, where: str, *, bias: bool) -> LeafLayout:
    shapes = ((side, side, c_in, c_out),) + (((c_out,),) if bias else ())
    return LeafLayout("Conv2D", shapes, where)


def _norm_leaf(channels: int, where: str) -> LeafLayout:
    return LeafLayout("BatchNormalization", ((channels,),) * 4, f"the BatchNormalization after {where}")


def _input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(failure_message("input_shape", "(height, width, channels)", shape,
                                         "Give one image's shape, without the batch axis."))
    return shape


def mnist_cnn_layout(input_shape: Sequence[int] = (28, 28, 1)) -> list[LeafLayout]:
    """The canonical weights of the tutorial's MNIST CNN for images of ``input_shape``:

    1. Conv2D: kernel ``(3, 3, c, 32)``, bias ``(32,)``
    2. Conv2D: kernel ``(3, 3, 32, 64)``, bias ``(64,)``
    3. Dense: kernel ``((h // 2) * (w // 2) * 64, 128)``, bias ``(128,)``
    4. Dense: kernel ``(128, 10)``, bias ``(10,)``

    >>> [leaf.signature() for leaf in mnist_cnn_layout()][2]
    'Dense[(12544, 128), (128,)]'
    """
    height, width, channels = _input_shape(input_shape)
    flat = (height // 2) * (width // 2) * 64
    return [_conv_leaf(3, channels, 32, "the first Conv2D", bias=True),
            _conv_leaf(3, 32, 64, "the second Conv2D", bias=True),
            LeafLayout("Dense", ((flat, 128), (128,)), "the hidden Dense layer"),
            LeafLayout("Dense", ((128, 10), (10,)), "the output Dense layer")]


def resnet34_layout(input_shape: Sequence[int] = (28, 28, 1)) -> list[LeafLayout]:
    """The canonical weights of the tutorial's ResNet-34 (73 leaves) for images of ``input_shape``:

    1. Conv2D ``(7, 7, c, 64)`` (no bias), then its BatchNormalization (gamma, beta, moving mean,
       moving variance, each ``(64,)``);
    2. per residual unit (:data:`autograder.specs.RESNET34_UNITS`, filters ``f``): the first 3x3
       Conv2D ``(3, 3, c_in, f)``, its BatchNormalization, the second 3x3 Conv2D ``(3, 3, f, f)``,
       its BatchNormalization, and in the three units with strides 2 the 1x1 projection
       ``(1, 1, c_in, f)`` and its BatchNormalization (convolutions without bias, normalisations
       with 4 variables ``(f,)``);
    3. Dense: kernel ``(512, 10)``, bias ``(10,)``.

    >>> layout = resnet34_layout()
    >>> len(layout), layout[-1].signature()
    (73, 'Dense[(512, 10), (10,)]')
    """
    channels = _input_shape(input_shape)[2]
    stem = "the first Conv2D"
    layout = [_conv_leaf(7, channels, 64, stem, bias=False), _norm_leaf(64, stem)]
    for number, (c_in, filters, strides) in enumerate(RESNET34_UNITS, start=1):
        unit = f"residual unit {number} ({filters} filters, strides {strides})"
        convs = [(3, c_in, f"the first 3x3 Conv2D of {unit}"),
                 (3, filters, f"the second 3x3 Conv2D of {unit}")]
        if strides != 1:
            convs.append((1, c_in, f"the 1x1 Conv2D (skip path) of {unit}"))
        for side, conv_in, where in convs:
            layout += [_conv_leaf(side, conv_in, filters, where, bias=False), _norm_leaf(filters, where)]
    layout.append(LeafLayout("Dense", ((512, 10), (10,)), "the output Dense layer"))
    return layout


def fit_layout(model: str, weights: Sequence[LeafWeights],
               layout: list[LeafLayout]) -> list[tuple[np.ndarray, ...]]:
    """The arrays of each leaf of ``weights``, once every leaf matches ``layout``; otherwise
    :class:`~autograder.weights.ArchitectureMismatch` (a ``ValueError``) naming the first misfit."""
    from autograder.weights import ArchitectureMismatch

    cause = (f"Pass autograder.weights.extract(model) of the tutorial's {model}, whose leaves "
             "come in the order of autograder.weights.")
    weights = list(weights)
    for index, (leaf, want) in enumerate(zip(weights, layout), start=1):
        arrays = getattr(leaf, "arrays", None)
        got = (f"{leaf.kind}{[tuple(np.shape(a)) for a in arrays]}" if arrays is not None
               else f"a {type(leaf).__name__}")
        if got != want.signature():
            raise ArchitectureMismatch(failure_message(f"{model} weight layer {index} ({want.where})",
                                                       want.signature(), got, cause))
    if len(weights) != len(layout):
        raise ArchitectureMismatch(failure_message(f"number of {model} weight layers", len(layout),
                                                   len(weights), cause))
    return [tuple(np.asarray(a) for a in leaf.arrays) for leaf in weights]


def mnist_cnn_forward(x: ArrayLike, weights: Sequence[LeafWeights]) -> np.ndarray:
    """The tutorial's MNIST CNN in inference mode: Conv2D(32, 3, same, relu), Conv2D(64, 3, same,
    relu), MaxPool2D(2), Flatten, Dropout(0.25), Dense(128, relu), Dropout(0.5), Dense(10, softmax).
    Dropout is the identity at inference.

    Args:
        x: images, shape ``(batch, 28, 28, 1)`` (other sizes work with matching weights).
        weights: the model's leaves, as :func:`autograder.weights.extract` gives them, in the order
            of :func:`mnist_cnn_layout`.

    Returns:
        float64 class probabilities, shape ``(batch, 10)``.

    Raises:
        ValueError (:class:`~autograder.weights.ArchitectureMismatch`): naming the first leaf whose
        kind or shapes do not fit.

    >>> from autograder.weights import LeafWeights
    >>> weights = [LeafWeights(leaf.kind, tuple(np.zeros(s) for s in leaf.shapes))
    ...            for leaf in mnist_cnn_layout()]
    >>> mnist_cnn_forward(np.zeros((4, 28, 28, 1)), weights).shape
    (4, 10)
    """
    x = _images("x", x)
    (k1, b1), (k2, b2), (k3, b3), (k4, b4) = fit_layout("MNIST CNN", weights,
                                                     mnist_cnn_layout(x.shape[1:]))
    z = relu(conv2d(x, k1, bias=b1))
    z = relu(conv2d(z, k2, bias=b2))
    z = max_pool2d(z, 2).reshape(len(x), -1)
    z = relu(dense(z, k3, b3))
    return softmax(dense(z, k4, b4))


def resnet34_forward(x: ArrayLike, weights: Sequence[LeafWeights], *,
                     epsilon: float = 1e-3) -> np.ndarray:
    """The tutorial's ResNet-34 in inference mode: Conv2D(64, 7, strides=2, same, no bias),
    BatchNormalization, ReLU, MaxPool2D(3, strides=2, same), 16 :func:`residual_unit`
    (:data:`autograder.specs.RESNET34_UNITS`),
    GlobalAvgPool2D, Flatten, Dense(10, softmax).

    Args:
        x: images, shape ``(batch, 28, 28, 1)`` (other sizes work with matching weights).
        weights: the model's leaves, as :func:`autograder.weights.extract` gives them, in the order
            of :func:`resnet34_layout`.
        epsilon: the batch normalisations' ``epsilon`` (Keras's default).

    Returns:
        float64 class probabilities, shape ``(batch, 10)``.

    Raises:
        ValueError (:class:`~autograder.weights.ArchitectureMismatch`): naming the first leaf whose
        kind or shapes do not fit.

    >>> from autograder.weights import LeafWeights
    >>> weights = [LeafWeights(leaf.kind, tuple(np.ones(s, np.float32) for s in leaf.shapes))
    ...            for leaf in resnet34_layout()]
    >>> resnet34_forward(np.zeros((2, 28, 28, 1)), weights).shape
    (2, 10)
    """
    return _resnet34(x, weights, epsilon=epsilon)


def _resnet34(x: ArrayLike, weights: Sequence[LeafWeights], *, epsilon: float,
              part: Callable[[ConvBN], ConvBN] = lambda conv_bn: conv_bn) -> np.ndarray:
    """:func:`resnet34_forward`, each convolution and its normalisation applied through
    ``part(ConvBN(...))``, in the order of the leaves (:func:`resnet34_calibrated` watches them)."""
    x = _images("x", x)
    leaves = iter(fit_layout("ResNet-34", weights, resnet34_layout(x.shape[1:])))

    def conv_bn() -> ConvBN:
        (kernel,), (gamma, beta, mean, variance) = next(leaves), next(leaves)
        return part(ConvBN(kernel=kernel, gamma=gamma, beta=beta, mean=mean, variance=variance))

    z = relu(conv_bn()(x, strides=2, epsilon=epsilon))
    z = max_pool2d(z, 3, strides=2, padding="same")
    for _, _, strides in RESNET34_UNITS:
        main = [conv_bn(), conv_bn()]
        skip = conv_bn() if strides > 1 else None
        z = residual_unit(z, strides=strides, main=main, skip=skip, epsilon=epsilon)
    kernel, bias = next(leaves)
    # Flatten leaves the pooled (batch, 512) as it is.
    return softmax(dense(global_avg_pool2d(z), kernel, bias))


# --- parameters the judge draws ---------------------------------------------------------------
#
# A behaviour check applies the student's object with parameters it draws itself (see
# autograder.checks.observe), at scales that keep every activation informative: kernels He-scaled,
# so that a convolution keeps the size of its input; biases, offsets and means of both signs, so
# that ReLU cuts; scales of both signs and away from 0, variances positive. In ResNet-34 the
# moving statistics come from what each normalisation sees (resnet34_calibrated).

#: How each variable is drawn, by its Keras name: uniform in (low, high), times a random sign where
#: the third item is True. A kernel's bound is ``sqrt(6 / fan_in)`` (He's uniform law).
LAWS: dict[str, tuple[float, float, bool]] = {
    "bias": (-0.5, 0.5, False), "beta": (-0.5, 0.5, False), "moving_mean": (-0.5, 0.5, False),
    "gamma": (0.5, 1.5, True), "moving_variance": (0.5, 2.0, False)}

#: The variables of each leaf kind in the order :func:`autograder.weights.extract` lists them.
LEAF_VARIABLES: dict[str, tuple[str, ...]] = {
    "Conv2D": ("kernel", "bias"), "Dense": ("kernel", "bias"),
    "BatchNormalization": ("gamma", "beta", "moving_mean", "moving_variance")}


def draw_variable(rng: np.random.Generator, name: str, shape: Sequence[int]) -> np.ndarray:
    """A float32 value for the variable called ``name`` (``kernel``, ``bias``, ``gamma``...) of
    ``shape``, drawn by its law in :data:`LAWS` (a kernel by He's uniform law).

    >>> kernel = draw_variable(np.random.default_rng(0), "kernel", (3, 3, 32, 64))
    >>> bool(abs(kernel.std() - np.sqrt(2 / 288)) < 0.002), kernel.dtype
    (True, dtype('float32'))
    """
    shape = tuple(int(n) for n in shape)
    if name == "kernel":
        bound = float(np.sqrt(6.0 / max(int(np.prod(shape[:-1])), 1)))
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    low, high, signed = LAWS.get(name, LAWS["bias"])
    value = rng.uniform(low, high, shape)
    if signed:
        value = value * rng.choice((-1.0, 1.0), shape)
    return value.astype(np.float32)


def draw_layout(rng: np.random.Generator, layout: Sequence[LeafLayout]) -> list[LeafWeights]:
    """Weights for every leaf of ``layout`` (:func:`mnist_cnn_layout`, :func:`resnet34_layout`),
    each variable drawn by :func:`draw_variable`."""
    from autograder.weights import LeafWeights

    return [LeafWeights(leaf.kind, tuple(draw_variable(rng, name, shape) for name, shape
                                         in zip(LEAF_VARIABLES[leaf.kind], leaf.shapes)))
            for leaf in layout]


@dataclass(frozen=True, kw_only=True)
class _Calibrating(ConvBN):
    """A :class:`ConvBN` whose normalisation takes its moving statistics from its own input."""

    rng: np.random.Generator
    found: list[tuple[np.ndarray, np.ndarray]]

    def __call__(self, x: ArrayLike, *, strides: IntOrPair = 1, epsilon: float = 1e-3) -> np.ndarray:
        z = conv2d(x, self.kernel, strides=strides, padding="same", bias=self.bias)
        mean, spread = z.mean(axis=(0, 1, 2)), np.maximum(z.std(axis=(0, 1, 2)), 1e-3)
        mean = (mean + self.rng.uniform(-0.5, 0.5, mean.shape) * spread).astype(np.float32)
        variance = (spread ** 2 * self.rng.uniform(0.5, 2.0, spread.shape)).astype(np.float32)
        self.found.append((mean, variance))
        return batch_norm(z, gamma=self.gamma, beta=self.beta, mean=mean, variance=variance,
                          epsilon=epsilon)


def resnet34_calibrated(x: ArrayLike, weights: Sequence[LeafWeights], rng: np.random.Generator,
                        *, epsilon: float = 1e-3) -> list[LeafWeights]:
    """``weights`` with the moving statistics of every batch normalisation taken from what it
    normalises when ResNet-34 is applied to ``x``: the mean shifted by up to half a standard
    deviation, the variance times 0.5 to 2. Drawn statistics would let the activations grow unit
    after unit until the softmax is one-hot whatever the network; these keep every normalised
    activation of order one at any depth, and still away from the identity.

    >>> layout = resnet34_layout()
    >>> x = np.random.default_rng(1).random((2, 28, 28, 1))
    >>> weights = resnet34_calibrated(x, draw_layout(np.random.default_rng(0), layout),
    ...                               np.random.default_rng(0))
    >>> [leaf.signature() for leaf in weights] == [leaf.signature() for leaf in layout]
    True
    """
    from autograder.weights import LeafWeights

    found: list[tuple[np.ndarray, np.ndarray]] = []
    _resnet34(x, weights, epsilon=epsilon, part=lambda conv_bn: _Calibrating(
        kernel=conv_bn.kernel, bias=conv_bn.bias, gamma=conv_bn.gamma, beta=conv_bn.beta,
        mean=conv_bn.mean, variance=conv_bn.variance, rng=rng, found=found))
    statistics = iter(found)
    calibrated = []
    for leaf in weights:
        if leaf.kind == "BatchNormalization":
            mean, variance = next(statistics)
            leaf = LeafWeights(leaf.kind, (*leaf.arrays[:2], mean, variance))
        calibrated.append(leaf)
    return calibrated


#: The tutorial's networks by their kind (:attr:`autograder.specs.ModelSpec.kind`): the name its
#: messages use, its leaves, and how the judge adjusts the weights it drew to a probe, if it does.
NETWORKS: dict[str, tuple[str, Callable[..., list[LeafLayout]],
                          Callable[..., list[LeafWeights]] | None]] = {
    "mnist_cnn": ("MNIST CNN", mnist_cnn_layout, None),
    "resnet34": ("ResNet-34", resnet34_layout, resnet34_calibrated),
}

#: A probability above this is a saturated softmax: one-hot whatever the logits, it tells nothing.
SATURATED = 0.99


def degenerate(values: ArrayLike | None, *, probabilities: bool = False) -> str:
    """Why ``values`` cannot tell a right computation from a wrong one, or ``""`` when they can:
    none, NaN or infinite values, the same value everywhere, or (``probabilities``) a softmax
    saturated above :data:`SATURATED`.

    >>> degenerate(np.zeros((2, 3))), degenerate([1.0, np.nan]), degenerate([0.5, 1.5])
    ('0 everywhere', 'NaN or infinite in 1 of 2 values', '')
    """
    if values is None:
        return "no values"
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return "no values"
    bad = ~np.isfinite(array)
    if bad.any():
        return f"NaN or infinite in {int(bad.sum())} of {array.size} values"
    if np.ptp(array) == 0:
        return f"{float(array.flat[0]):.6g} everywhere"
    if probabilities and array.max() > SATURATED:
        return f"a probability of {array.max():.6g} (a saturated softmax)"
    return ""
