"""Checks on single Keras layers: their settings, and what they compute on a fresh input.

The behaviour checks feed the layer a random input of a size the tutorial never uses, give it
weights they draw themselves (both drawn by the judge at grading time, unknown to the student's
kernel beforehand), and compare its output with the operation computed here in NumPy with those
weights (:mod:`autograder.checks.numeric`), so an answer passes only if the layer really computes
what the assignment asks for: its own weights, all zeros or all ones, decide nothing. The layer
gets its own weights back afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograder.checks import numeric, observe
from autograder.checks.arrays import agree, shape, values_of
from autograder.checks.failure import CheckFailure
from autograder.checks.observe import ArrayView, LayerView
from autograder.messages import describe

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

#: Why an object whose output did not follow the weights the check set fails.
IGNORED_CAUSE = ("Its output did not change when the check set other weights: it computes with "
                 "weights of its own. Compute with the layers' own variables (kernels, biases, "
                 "batch normalisation parameters), which the check sets to values it draws.")

#: Why an object that does not hold the weights the check set fails.
UNSET_CAUSE = ("The check sets the weights of the object to values it draws and reads them back; "
               "keep the weights in the layers' own variables, and do not change them in call().")

#: Why an output that cannot tell a right computation from a wrong one fails.
DEGENERATE_CAUSE = ("The check gives the object weights and inputs it draws, so that its output "
                    "varies; an output that does not cannot show that it computes the right thing.")

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
    """``conv`` is a ``keras.layers.Conv2D`` with these settings (padding compared case-blind;
    not at all for a 1x1 kernel, which never meets the padding)."""
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
    if _pair(kernel_size) == (1, 1):
        del wanted["padding"]
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
    """Applied to a random batch of ``input_shape`` (batch, height, width, channels) with a kernel
    (of ``kernel_size`` x ``kernel_size`` x channels x ``filters``) and a bias drawn by the check,
    ``conv`` gives the convolution with that kernel and bias, with ``strides`` and ``padding``,
    then the activation. A layer without a bias (``use_bias=False``) is recomputed without one."""
    x = _probe(conv, input_shape)
    call_cause = ("The layer must accept any batch of images with the same number of channels, of "
                  "any height and width.")
    _call(name, conv, x, call_cause)  # builds the layer: its variables exist from here on
    kernel, bias = _conv_weights(name, observe.layer(name, conv, weights=True))
    want_kernel = (kernel_size, kernel_size, input_shape[-1], filters)
    if kernel.shape != want_kernel:
        raise CheckFailure(f"shape of {name}'s kernel", want_kernel, kernel.shape,
                           CONV_CAUSES["kernel_size" if kernel.shape[:2] != want_kernel[:2] else "filters"])
    rng = observe.parameter_rng(conv, PROBE_SEED + 1)
    s = _pair(strides)

    def draw() -> dict[str, np.ndarray]:
        drawn = {"kernel": numeric.draw_variable(rng, "kernel", want_kernel)}
        if bias is not None:
            drawn["bias"] = numeric.draw_variable(rng, "bias", bias.shape)
        return drawn

    def expected(drawn: dict[str, np.ndarray]) -> np.ndarray:
        return numeric.activation(activation, numeric.conv2d(x, drawn["kernel"], strides=s,
                                                             padding=padding, bias=drawn.get("bias")))

    def again() -> tuple[ArrayView, np.ndarray]:
        second = draw()
        observe.set_weights(name, conv, [second])
        return _call(name, conv, x, call_cause), expected(second)

    drawn = draw()
    label = f"{name}(x) for x of shape {tuple(input_shape)}"
    with set_drawn(name, conv, [drawn], keep=True) as held:
        weights_as_set(held, [drawn], lambda leaf: name)
        got = _call(name, conv, x, call_cause)
        want = expected(drawn)
        cause = CONV_CAUSES["activation"] if (
            got.values is not None and (got.values < 0).any() and activation == "relu") else (
            "The layer's output does not match a convolution with its own weights (the kernel and "
            "bias the check set).")
        judge_output(label, got, want, atol=1e-4, rtol=1e-4, cause=cause, again=again,
                     shape_cause=_conv_shape_cause(input_shape, kernel.shape[0], s, got.shape))


def judge_output(label: str, got: ArrayView, want: np.ndarray, *, atol: float, rtol: float,
                 cause: str, shape_cause: str = "",
                 again: Callable[[], tuple[ArrayView, np.ndarray]] | None = None) -> None:
    """The verdict on an object's output ``got`` with the weights the check drew: its shape is
    ``want``'s; when its values are not ``want``'s, whether it computes with its weights at all
    (``again()`` sets a second draw and gives the new output and the one expected: an output that
    stays while the expected one moves did not follow them); that it varies; and its values."""
    shape(label, got.values, want.shape, shape_cause or cause)
    if again is not None and not _agrees(got, want, atol=atol, rtol=rtol):
        try:
            got_again, want_again = again()
        except observe.ObservedError:
            got_again, want_again = None, want
        if (got_again is not None and unchanged(got, got_again)
                and not np.allclose(want, want_again, atol=atol, rtol=rtol)):
            agree(label, got, want, atol=atol, rtol=rtol, cause=IGNORED_CAUSE)
    output_informative(label, got)
    agree(label, got, want, atol=atol, rtol=rtol, cause=cause)


def _agrees(got: ArrayView, want: np.ndarray, *, atol: float, rtol: float) -> bool:
    reference = want if got.rows is None else want[got.rows]
    return (got.values is not None and got.values.shape == reference.shape
            and bool(np.allclose(got.values.astype(np.float64), reference, atol=atol, rtol=rtol)))


@contextmanager
def set_drawn(name: str, value: Any, arrays: list[dict[str, np.ndarray]], *,
              keep: bool) -> Iterator[list[observe.HeldWeights]]:
    """``with set_drawn(name, value, arrays, keep=...) as held:`` the object holds the weights the
    check drew (:func:`observe.set_weights`; ``held`` is what it reports holding), and with
    ``keep`` (an object the notebook goes on using, such as a model still to be trained) gets its
    own back on leaving, whatever happened inside."""
    try:
        held = observe.set_weights(name, value, arrays, keep=keep)
    except observe.ObservedError as exc:
        _restore(name, value, keep)
        raise _set_failure(name, exc) from None
    try:
        yield held
    finally:
        _restore(name, value, keep)


def _restore(name: str, value: Any, keep: bool) -> None:
    if keep:
        try:
            observe.restore_weights(name, value)
        except observe.ObservedError:  # the verdict does not depend on it
            pass


def _set_failure(name: str, exc: observe.ObservedError) -> CheckFailure:
    return CheckFailure(f"{name} given the weights the check drew", "the weights set",
                        f"{exc.kind}: {exc.message}", UNSET_CAUSE)


def weights_as_set(held: list[observe.HeldWeights], arrays: list[dict[str, np.ndarray]],
                   where: Callable[[int], str], *, optional: tuple[str, ...] = ()) -> None:
    """Every variable in ``arrays`` holds what was sent (one of ``optional`` may be missing); else
    a failure naming the variable and the leaf (``where(index)``, e.g. ``"conv"``)."""
    found = observe.unset(held, arrays, optional=optional)
    if found is not None:
        index, variable, holds = found
        raise CheckFailure(f"the {variable} of {where(index)} read back after the check set it",
                           "the values the check set", holds, UNSET_CAUSE)


def output_informative(label: str, got: ArrayView) -> None:
    """``got`` varies and is finite; else a failure saying that it cannot be judged."""
    why = numeric.degenerate(got.values)
    if why:
        raise CheckFailure(label, "values that vary with the input and the weights the check set",
                           why, DEGENERATE_CAUSE)


def unchanged(before: ArrayView, after: ArrayView) -> bool:
    """Whether two outputs of an object are the same (before and after its weights changed)."""
    return (before.values is not None and after.values is not None
            and before.values.shape == after.values.shape
            and bool(np.allclose(before.values, after.values, rtol=1e-5, atol=1e-6)))


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
    x = values_of("the input", observe.array("the input", inputs))
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
    why = numeric.degenerate(want)
    if why:  # the student's own weights decide here: they must not make any answer right
        raise CheckFailure(f"the layer behind {name}", "weights under which its output depends on "
                           "the input", f"an output of {why}",
                           "With these weights any array of that value would pass as the layer's "
                           "output: create the layer with Keras's default initializers.")
    index = positions[:, 0] if found.rows is None else np.searchsorted(found.rows, positions[:, 0])
    got = values_of(name, found, cause)[index, positions[:, 1], positions[:, 2]]
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
    x = values_of("the input", observe.array("the input", inputs))
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
    values = values_of(label, got)
    cause = ("It computes the maximum of each feature map: use keras.layers.GlobalAvgPool2D."
             if values.shape == want.shape
             and np.allclose(values, numeric.global_max_pool2d(x), atol=1e-5)
             else "The output is not the mean of each feature map.")
    agree(label, got, want, atol=1e-5, rtol=1e-4, cause=cause)


def global_pool_applied(name: str, output: Any, inputs: Any, *, cause: str = "") -> None:
    """``output`` is the mean of each feature map of ``inputs``."""
    want = numeric.global_avg_pool2d(values_of("the input", observe.array("the input", inputs)))
    shape(name, output, want.shape, cause)
    agree(name, observe.array(name, output), want, atol=1e-5, rtol=1e-4, cause=cause)
