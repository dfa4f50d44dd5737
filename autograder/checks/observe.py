"""Observations: what a check reads from an answer, as plain data.

A check never decides from a student's object directly. It asks this module for an
*observation* — an array, a plain value, a layer's settings and weights, a model's layers, the
output of the student's object on an input the check chose — and decides from that data alone.

* At home (and in the kit's own tests) the answer lives in this process: each ``observe``
  function takes the observation from the object here (the ``live_*`` functions).
* Under grading the answer lives in the student's sandboxed kernel and the check runs in the
  judge, a trusted process that runs no student code. There the answer is a :class:`Remote`:
  the same ``observe`` functions send a request to the kernel, which answers with the same
  ``live_*`` functions (:mod:`autograder.kernel_answers`), and the judge decodes plain arrays and JSON
  (:mod:`autograder.wire`). Whatever the kernel reports is an observation, never a
  verdict: patching the kernel changes what it says, not how it is judged.

The views are small frozen dataclasses; arrays in them are plain ``numpy.ndarray`` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder import training_guard
from autograder.wire import view

#: Arrays up to this many bytes are observed whole; larger ones by rows the kernel draws.
WHOLE_ARRAY_BYTES = 64 * 2**20

#: How many rows of a large array are observed.
SAMPLE_ROWS = 512

#: Settings read from a Keras layer when it has them (see :func:`live_settings`).
SETTING_NAMES = ("filters", "kernel_size", "strides", "padding", "activation", "use_bias", "units",
                 "rate", "pool_size", "epsilon", "center", "scale")


#: The kind of an :class:`ObservedError` that is the kit's own failure to observe, not the student's.
KIT_ERROR = "KitError"


class ObservedError(Exception):
    """The student's object raised while being observed (a call, a constructor, a build).

    ``kind`` is the exception's class name and ``message`` its first line, as the student's
    code raised them.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}" if message else kind)


class KitObservationError(Exception):
    """The kit's own code failed while observing (the kernel answered :data:`KIT_ERROR`): not
    an :class:`ObservedError`, so that no check scores it as the student's mistake; the verdict
    reports it as the kit's."""


class Remote:
    """An object that lives in the student's kernel, as the judge sees it.

    The judge subclasses it; checks only pass it to the ``observe`` functions below, which
    send requests through :meth:`_cnnkit_request`. Its own names all begin with ``_cnnkit_``, so
    that every other attribute a test reads (``layer.label``, ``model.request``) is the student
    object's.
    """

    _cnnkit_label: str = "?"

    def _cnnkit_request(self, op: str, **args: Any) -> Any:
        """Ask the kernel for observation ``op`` of this object; the decoded answer."""
        raise NotImplementedError

    def _cnnkit_handle(self, handle_id: str) -> Remote:
        """The object the kernel keeps under ``handle_id`` (made by ``construct``)."""
        raise NotImplementedError


#: True while the judge runs a test cell: every probe there is drawn from fresh entropy, whether
#: the value it concerns arrived as a proxy or as plain data (:func:`autograder.judge.verdict.run_test`).
JUDGING: ContextVar[bool] = ContextVar("cnnkit_judging", default=False)


def is_remote(value: Any) -> bool:
    """Whether ``value`` lives in another process, or a test cell is being judged (so probe
    inputs and parameters must be drawn fresh)."""
    return JUDGING.get() or isinstance(value, Remote)


def draw(shape: Sequence[int], *, fresh: bool, seed: int, low: float = -1.0,
         high: float = 1.0) -> np.ndarray:
    """A float32 array of ``shape``, uniform in ``[low, high)``.

    ``fresh``: drawn from the operating system's entropy, so that nothing in the student's kernel
    can know it beforehand (under grading); else from ``seed``, so that a failure at home
    reproduces.
    """
    rng = np.random.default_rng() if fresh else np.random.default_rng(seed)
    return rng.uniform(low, high, size=tuple(shape)).astype(np.float32)


# --- the views --------------------------------------------------------------------------------


@view
@dataclass(frozen=True)
class ArrayView:
    """An array-like answer: its shape and dtype, and its values or some of its rows."""

    type_name: str
    """The class of the observed object (``ndarray``, ``EagerTensor``, ``DataFrame``, ``float``)."""
    shape: tuple[int, ...] | None
    """Its shape; None when it is not an array, a tensor or a number."""
    dtype: str
    """Its dtype (``float64``...); empty when it is not an array."""
    values: np.ndarray | None
    """The whole array, or the rows in :attr:`rows`; None when not asked for or too large."""
    rows: np.ndarray | None = None
    """Indices along the first axis of the rows in :attr:`values`; None for the whole array."""
    low: float | None = None
    """The smallest element of the whole array (as the kernel reports it)."""
    high: float | None = None
    """The largest element of the whole array (as the kernel reports it)."""

    @property
    def is_array(self) -> bool:
        """Whether the object was array-like at all."""
        return self.shape is not None


@view
@dataclass(frozen=True)
class ValueView:
    """A value that is not plain data (an object of the student's), by its class and its text."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return self.text


@view
@dataclass(frozen=True)
class LayerView:
    """A Keras layer: its class, its settings, its weights and the layers inside it."""

    type_name: str
    """Its class name (``Conv2D``; a student's own class name for a custom layer)."""
    keras_classes: tuple[str, ...]
    """The Keras classes it is an instance of (``Conv2D``, ``BaseConv``, ``Layer``...)."""
    settings: dict[str, Any]
    """Settings of :data:`SETTING_NAMES` it has, normalised: pairs for sizes and strides, lower-case
    padding, activation names; for a layer made of convolutions, ``filters`` and ``strides`` of
    its first 3x3 convolution."""
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    """Its own variables by short name (``kernel``, ``bias``, ``gamma``...), when asked for."""
    output_shape: tuple[int | None, ...] | None = None
    """Its output shape without the batch axis, when the model knows it."""
    params: int = -1
    """Its parameter count (-1 when it is not built)."""
    sublayers: tuple[LayerView, ...] = ()
    """The Keras layers inside it, nested ones too, in the order they were assigned."""
    leaf_order: tuple[int, ...] = ()
    """Indices into :attr:`sublayers` of its weight-bearing leaves in the kit's canonical order
    (:func:`autograder.weights.leaves`): main 3x3 convolutions first, then the 1x1 projection,
    each followed by the batch normalisation that tracks it."""

    def leaves(self) -> list[LayerView]:
        """The sublayers in :attr:`leaf_order`."""
        return [self.sublayers[i] for i in self.leaf_order]


@view
@dataclass(frozen=True)
class ModelView:
    """A Keras model: its layers in order, its size, and how it was compiled."""

    type_name: str
    is_model: bool
    """Whether it is a ``keras.Model``."""
    layers: tuple[LayerView, ...] = ()
    """Its layers without the input layer, without weights."""
    params: int = 0
    """``count_params()``."""
    compile: dict[str, Any] | None = None
    """``loss`` (a name), ``optimizer`` (lower-case class name), ``metrics`` (names), or None when
    it was never compiled."""
    iterations: int = 0
    """Training steps its optimizer has taken."""
    build_error: str = ""
    """Why calling it on one image failed, when it could not be built."""


@view
@dataclass(frozen=True)
class FigureView:
    """A Matplotlib figure: each subplot that shows an image, from left to right."""

    type_name: str
    is_figure: bool
    panels: tuple[tuple[float, np.ndarray], ...] = ()
    """(left edge of the subplot, the image it shows last) for each subplot with an image."""


@view
@dataclass(frozen=True)
class TrainingView:
    """What the kit's ``fit`` wrapper recorded about a model in the kernel."""

    fits: int
    """Calls of ``fit`` that ran."""
    samples_seen: int
    """Training images processed over all fits (epochs times images)."""
    fresh_start: bool
    """Whether every fit began from freshly initialised weights (or from this kernel's own
    training)."""
    test_overlap: float
    """The largest fraction of MNIST test images among the training images of a fit."""
    weights_unchanged: bool
    """Whether the weights are still those the last fit ended with."""
    refused: tuple[tuple[str, str, str, str], ...] = ()
    """Fits refused for exceeding the budget: (what, expected, got, cause)."""
    digest: str = ""
    """The weights as they are now (:func:`autograder.weights.leaves_digest` of the model's leaves;
    empty when they cannot be read leaf by leaf), for the judge to compare with the weights it
    measures later."""


@view
@dataclass(frozen=True)
class Handle:
    """An object the kernel made for the judge and keeps under :attr:`id`."""

    id: str


@view
@dataclass(frozen=True)
class ErrorView:
    """The student's object raised while being observed."""

    kind: str
    message: str


# --- what checks call -------------------------------------------------------------------------


def array(name: str, value: Any, *, values: bool = True, rows: np.ndarray | None = None,
          stats: bool = False) -> ArrayView:
    """``value`` as an :class:`ArrayView`; with ``values``, its values (all of them at home; from
    the kernel, all of an array up to :data:`WHOLE_ARRAY_BYTES`, else :data:`SAMPLE_ROWS` rows
    drawn here, unknown to the kernel beforehand). ``rows``: only these rows, wherever it is.
    ``stats``: with the smallest and largest element of the whole array."""
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        found = (value._cnnkit_request("array", max_bytes=WHOLE_ARRAY_BYTES, rows=rows, stats=stats)
                 if isinstance(value, Remote) else live_array(value, rows=rows, stats=stats))
        if found.is_array and (found.rows is None or not np.array_equal(found.rows, rows)):
            raise ObservedError("ObservationError", f"{name}: the rows asked for did not come back")
        return found
    if not isinstance(value, Remote):
        return live_array(value, values=values, stats=stats)
    found = value._cnnkit_request("array", max_bytes=WHOLE_ARRAY_BYTES if values else 0, stats=stats)
    if values and found.values is None and found.shape:
        count = found.shape[0]
        rows = np.sort(np.random.default_rng().choice(count, size=min(count, SAMPLE_ROWS),
                                                      replace=False)).astype(np.int64)
        found = value._cnnkit_request("array", max_bytes=WHOLE_ARRAY_BYTES, rows=rows, stats=stats)
        if found.values is None or found.rows is None or not np.array_equal(found.rows, rows):
            raise ObservedError("ObservationError", f"{name}: the rows asked for did not come back")
    return found


def value(name: str, value: Any) -> Any:
    """``value`` as plain data: numbers, strings, booleans, None, tuples and lists of those, small
    arrays; anything else as a :class:`ValueView`."""
    if not isinstance(value, Remote):
        return live_value(value)
    return value._cnnkit_request("value")


def layer(name: str, value: Any, *, weights: bool = False) -> LayerView:
    """``value`` as a :class:`LayerView` (with each layer's variables when ``weights``)."""
    if not isinstance(value, Remote):
        return live_layer(value, weights=weights)
    return value._cnnkit_request("layer", weights=weights)


def model(name: str, value: Any, *, input_shape: tuple[int, ...]) -> ModelView:
    """``value`` as a :class:`ModelView`, built for inputs of ``input_shape`` (no batch axis)
    first if it is not built yet (calling it once on zeros, as the first ``fit`` would)."""
    if not isinstance(value, Remote):
        return live_model(value, input_shape=tuple(input_shape))
    return value._cnnkit_request("model", input_shape=tuple(input_shape))


def call(name: str, value: Any, x: np.ndarray, **kwargs: Any) -> ArrayView:
    """``value(x, **kwargs)`` as a whole :class:`ArrayView`; :class:`ObservedError` if it raises."""
    if not isinstance(value, Remote):
        return live_call(value, x, **kwargs)
    return value._cnnkit_request("call", x=np.asarray(x), kwargs=dict(kwargs))


def construct(name: str, cls: Any, *args: Any, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``: the object here, or a :class:`Remote` handle to it in the
    kernel; :class:`ObservedError` if the constructor raises."""
    if not isinstance(cls, Remote):
        return live_construct(cls, *args, **kwargs)
    made = cls._cnnkit_request("construct", args=tuple(args), kwargs=dict(kwargs))
    return cls._cnnkit_handle(made.id)


def assign(name: str, layer_value: Any, leaf: int, variable: str, data: np.ndarray) -> bool:
    """Set variable ``variable`` of the ``leaf``-th canonical leaf of ``layer_value`` (see
    :attr:`LayerView.leaf_order`) to ``data``; False when that leaf has no such variable."""
    if not isinstance(layer_value, Remote):
        return live_assign(layer_value, leaf, variable, data)
    return bool(layer_value._cnnkit_request("assign", leaf=int(leaf), variable=str(variable),
                                    data=np.asarray(data)))


def leaves(name: str, value: Any) -> list:
    """The model's weights leaf by leaf (:func:`autograder.weights.extract`)."""
    if not isinstance(value, Remote):
        return live_leaves(value)
    return list(value._cnnkit_request("leaves"))


def figure(name: str, value: Any) -> FigureView:
    """``value`` as a :class:`FigureView`."""
    if not isinstance(value, Remote):
        return live_figure(value)
    return value._cnnkit_request("figure")


def training(name: str, value: Any) -> TrainingView | None:
    """What the kit's ``fit`` wrapper recorded about ``value``; None if it never called ``fit``."""
    if not isinstance(value, Remote):
        return live_training(value)
    return value._cnnkit_request("training")


def mnist_predictions(name: str, value: Any) -> np.ndarray:
    """The class ``value`` predicts for each MNIST test image, as the notebook's own data folder
    holds them (``data.load_mnist_test``), shape (10000,)."""
    if not isinstance(value, Remote):
        return live_mnist_predictions(value)
    return value._cnnkit_request("mnist_predictions")


# --- observing objects in this process ---------------------------------------------------------


def _raised(exc: BaseException) -> ObservedError:
    text = str(exc).strip()
    kind = type(exc).__name__
    if kind == KIT_ERROR:  # the student's own class of that name is still the student's error
        kind = f"{kind} (raised by the notebook's code)"
    return ObservedError(kind, text.splitlines()[0] if text else "")


def _plain_array(value: Any) -> np.ndarray | None:
    """``value`` as a plain ``ndarray`` (never a subclass: a subclass is viewed as the base class,
    so its own methods play no part), or None if it is not array-like. Copies only what is not
    an array already (a tensor, a data frame)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.number, np.bool_)):
        return np.array(value, subok=False)
    try:
        if isinstance(value, np.ndarray):
            found = value
        elif hasattr(value, "numpy") and callable(value.numpy):
            found = np.asarray(value.numpy())
        elif hasattr(value, "shape") and hasattr(value, "__array__"):
            found = np.asarray(value)
        else:
            return None
        return found if type(found) is np.ndarray else found.view(np.ndarray)
    except Exception:  # the student's object may raise anything while being converted
        return None


def live_array(value: Any, *, values: bool = True, max_bytes: int | None = None,
               rows: np.ndarray | None = None, stats: bool = True) -> ArrayView:
    """:func:`array` for an object in this process; ``max_bytes`` and ``rows`` as the judge
    asks (None: no limit, all rows); ``stats``: the smallest and largest element too."""
    found = _plain_array(value)
    type_name = type(value).__name__
    if found is None:
        return ArrayView(type_name, None, "", None)
    shape = tuple(int(n) for n in found.shape)
    numeric = found.dtype.kind in "biuf"
    low = high = None
    if stats and numeric and found.size:
        low, high = float(np.min(found)), float(np.max(found))
    if not values or not numeric:
        return ArrayView(type_name, shape, str(found.dtype), None, None, low, high)
    if rows is not None:
        rows = np.asarray(rows, dtype=np.int64)
        if found.ndim == 0 or rows.ndim != 1 or (rows.size and (rows.min() < 0 or rows.max() >= shape[0])):
            raise ObservedError("IndexError", f"rows out of range for shape {shape}")
        return ArrayView(type_name, shape, str(found.dtype), np.ascontiguousarray(found[rows]), rows,
                         low, high)
    if max_bytes is not None and found.nbytes > max_bytes:
        return ArrayView(type_name, shape, str(found.dtype), None, None, low, high)
    return ArrayView(type_name, shape, str(found.dtype), found, None, low, high)


def live_value(value: Any, depth: int = 0) -> Any:
    """:func:`value` for an object in this process."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if type(value).__name__ == "TensorShape":
        try:
            return tuple(value.as_list())
        except Exception:
            pass
    if isinstance(value, (tuple, list)) and depth < 8 and len(value) <= 10_000:
        items = [live_value(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    found = _plain_array(value) if not isinstance(value, (tuple, list)) else None
    if found is not None and found.dtype.kind in "biuf" and found.nbytes <= 2**20:
        return found
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return ValueView(type(value).__name__, text if len(text) <= 200 else text[:197] + "...")


def _pair(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in np.broadcast_to(np.asarray(value), (2,)))


def live_settings(layer_value: Any) -> dict[str, Any]:
    """The layer's settings of :data:`SETTING_NAMES`, normalised so that equivalent spellings
    compare equal (``3`` and ``(3, 3)``, ``"SAME"`` and ``"same"``, ``"relu"`` and
    ``keras.activations.relu``)."""
    settings: dict[str, Any] = {}
    for key in SETTING_NAMES:
        try:
            raw = getattr(layer_value, key)
        except Exception:
            continue
        if callable(raw) and key != "activation":
            continue
        try:
            if key in ("kernel_size", "pool_size", "strides"):
                settings[key] = _pair(raw)
            elif key == "padding":
                settings[key] = str(raw).lower()
            elif key == "activation":
                settings[key] = getattr(raw, "__name__", str(raw))
            elif key == "rate":
                settings[key] = float(raw)
            elif key in ("filters", "units"):
                settings[key] = int(raw)
            elif key in ("use_bias", "center", "scale"):
                settings[key] = bool(raw)
            elif key == "epsilon":
                settings[key] = float(raw)
        except Exception:
            continue
    return settings


def _keras_classes(layer_value: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.__name__ for c in type(layer_value).__mro__
                               if c.__module__.split(".")[0] == "keras"))


def _sublayers(layer_value: Any) -> list[Any]:
    flatten = getattr(layer_value, "_flatten_layers", None)
    if flatten is None:
        return []
    try:
        return list(flatten(include_self=False, recursive=True))
    except Exception:
        return []


def _variables(layer_value: Any) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for variable in getattr(layer_value, "weights", []) or []:
        name = str(variable.name).split("/")[-1].split(":")[0]
        array = _plain_array(variable)
        if array is not None:
            found.setdefault(name, array)
    return found


def _output_shape(layer_value: Any) -> tuple[int | None, ...] | None:
    try:
        shape = layer_value.output.shape
    except Exception:
        return None
    return tuple(None if d is None else int(d) for d in shape[1:])


def _params(layer_value: Any) -> int:
    try:
        return int(layer_value.count_params())
    except Exception:
        return -1


def live_layer(layer_value: Any, *, weights: bool = False, nested: bool = True) -> LayerView:
    """:func:`layer` for an object in this process."""
    from autograder import weights as leaf_order

    inner = _sublayers(layer_value) if nested else []
    settings = live_settings(layer_value)
    convs = [s for s in inner if "Conv2D" in _keras_classes(s)
             and live_settings(s).get("kernel_size") == (3, 3)]
    if convs and "filters" not in settings:
        first = live_settings(convs[0])
        settings.update(filters=first.get("filters"), strides=(first.get("strides") or (0,))[0])
    order: tuple[int, ...] = ()
    if inner:
        positions = {id(s): i for i, s in enumerate(inner)}
        order = tuple(positions[id(leaf)] for leaf in leaf_order.unit_leaves(layer_value)
                      if id(leaf) in positions)
    return LayerView(
        type_name=type(layer_value).__name__, keras_classes=_keras_classes(layer_value),
        settings=settings, weights=_variables(layer_value) if weights else {},
        output_shape=_output_shape(layer_value), params=_params(layer_value),
        sublayers=tuple(live_layer(s, weights=weights, nested=False) for s in inner),
        leaf_order=order)


def keras_name(value: Any) -> str | None:
    """The name of a loss, metric, optimizer, activation or initializer in any form Keras accepts:
    a string, a function, an object (its ``name``, else its class), or a serialized config
    (``{"class_name": ..., "config": {"name": ...}}`` or ``{"config": "name"}``); None for None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        config = value.get("config")
        if isinstance(config, str):
            return config
        if isinstance(config, dict) and isinstance(config.get("name"), str):
            return config["name"]
        return str(value.get("class_name") or value)
    if isinstance(value, type):
        return value.__name__
    found = getattr(value, "name", None)
    if isinstance(found, str) and found:
        return found
    if callable(value) and isinstance(getattr(value, "__name__", None), str):
        return value.__name__
    return type(value).__name__


def _compile_config(model_value: Any) -> dict[str, Any] | None:
    if not getattr(model_value, "compiled", False):
        return None
    try:
        config = model_value.get_compile_config() or {}
    except Exception:
        config = {}
    loss = getattr(model_value, "loss", None)
    loss = config.get("loss") if loss is None else loss
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    metrics = config.get("metrics") or []
    flat = [m for group in (metrics if isinstance(metrics, (list, tuple)) else [metrics])
            for m in (group if isinstance(group, (list, tuple)) else [group])]
    optimizer = getattr(model_value, "optimizer", None)
    return {"loss": keras_name(loss), "metrics": [str(keras_name(m)) for m in flat],
            "optimizer": type(optimizer).__name__.lower() if optimizer is not None else ""}


def live_model(model_value: Any, *, input_shape: tuple[int, ...]) -> ModelView:
    """:func:`model` for an object in this process."""
    import keras

    type_name = type(model_value).__name__
    if not isinstance(model_value, keras.Model):
        return ModelView(type_name, False)
    error = ""
    layers = [layer_value for layer_value in model_value.layers
              if type(layer_value).__name__ != "InputLayer"]
    if not (getattr(model_value, "built", False) and all(x.built for x in layers)):
        try:
            model_value(np.zeros((1, *input_shape), dtype=np.float32))
        except Exception as exc:
            error = str(_raised(exc))
    optimizer = getattr(model_value, "optimizer", None)
    try:
        iterations = int(np.asarray(optimizer.iterations)) if optimizer is not None else 0
    except Exception:
        iterations = 0
    return ModelView(type_name, True, tuple(live_layer(x) for x in layers), _params(model_value),
                     _compile_config(model_value), iterations, error)


def live_call(value: Any, x: np.ndarray, **kwargs: Any) -> ArrayView:
    """:func:`call` for an object in this process."""
    try:
        out = value(x, **kwargs)
    except Exception as exc:  # the student's layer may raise anything
        raise _raised(exc) from None
    found = live_array(out)
    if not found.is_array:
        raise ObservedError("TypeError", f"it returned a {type(out).__name__}, not a tensor")
    return found


def live_construct(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """:func:`construct` for a class in this process."""
    try:
        return cls(*args, **kwargs)
    except Exception as exc:
        raise _raised(exc) from None


def live_assign(layer_value: Any, leaf: int, variable: str, data: np.ndarray) -> bool:
    """:func:`assign` for a layer in this process."""
    from autograder import weights as leaf_order

    found = leaf_order.unit_leaves(layer_value)
    if not 0 <= leaf < len(found):
        return False
    for candidate in found[leaf].weights:
        if str(candidate.name).split("/")[-1].split(":")[0] == variable:
            try:
                candidate.assign(np.asarray(data, dtype=np.float32).reshape(tuple(candidate.shape)))
            except Exception as exc:
                raise _raised(exc) from None
            return True
    return False


def live_leaves(model_value: Any) -> list:
    """:func:`leaves` for a model in this process."""
    from autograder import weights

    try:
        return weights.extract(model_value)
    except Exception as exc:
        raise _raised(exc) from None


def live_figure(value: Any) -> FigureView:
    """:func:`figure` for an object in this process."""
    from matplotlib.figure import Figure

    if not isinstance(value, Figure):
        return FigureView(type(value).__name__, False)
    panels = []
    for ax in value.axes:
        images = ax.get_images()
        if images and (data := images[-1].get_array()) is not None:
            shown = np.array(np.ma.getdata(data), subok=False)
            panels.append((float(ax.get_position().x0), shown))
    return FigureView(type(value).__name__, True, tuple(panels))


def live_training(model_value: Any) -> TrainingView | None:
    """:func:`training` for a model in this process."""
    from autograder import weights

    record = training_guard.record_of(model_value)
    if record is None:
        return None
    unchanged = bool(record.fits) and weights.digest(model_value) == record.fits[-1].digest_after
    try:
        now = weights.leaves_digest(weights.extract(model_value))
    except Exception:
        now = ""
    return TrainingView(
        fits=len(record.fits), samples_seen=record.samples_seen,
        fresh_start=all(f.fresh_start for f in record.fits),
        test_overlap=max((f.test_overlap for f in record.fits), default=0.0),
        weights_unchanged=unchanged, refused=tuple((a, b, c, d) for a, b, c, d in record.refused),
        digest=now)


def live_mnist_predictions(model_value: Any) -> np.ndarray:
    """:func:`mnist_predictions` for a model in this process."""
    from autograder.data import load_mnist_test

    images, _ = load_mnist_test()
    try:
        probabilities = np.asarray(model_value.predict(images, batch_size=1000, verbose=0))
    except Exception as exc:
        raise _raised(exc) from None
    return probabilities.argmax(axis=-1).astype(np.int64)


# --- parameters the judge draws -----------------------------------------------------------------
#
# A behaviour check decides from outputs on parameters it chose, never on the student's own:
# zero kernels make every output zero and hide a missing activation or a skip path never added,
# and a kernel can report weights it does not compute with. So before applying an object to its
# probe, the check draws every kernel, bias and batch normalisation variable itself
# (:func:`parameter_rng`; the laws are in :mod:`autograder.checks.numeric`), has the object hold
# them (:func:`set_weights`), compares what the object then reports with what it sent
# (:func:`unset`), and recomputes the output with the values it drew.


@view
@dataclass(frozen=True)
class HeldWeights:
    """What one canonical leaf of an object holds after :func:`set_weights`."""

    kind: str
    """Its class name (``Conv2D``, ``BatchNormalization``, ``Dense``...)."""
    values: dict[str, np.ndarray]
    """Its variables by short name (``kernel``, ``bias``, ``gamma``...), as they are now."""


def parameter_rng(value: Any, seed: int) -> np.random.Generator:
    """The generator of the parameters a check draws for ``value``: from the operating system's
    entropy under grading (:func:`is_remote`), so that nothing in the student's kernel knows them
    beforehand; from ``seed`` at home, so that a failure reproduces."""
    return np.random.default_rng() if is_remote(value) else np.random.default_rng(seed)


def set_weights(name: str, value: Any, arrays: Sequence[dict[str, np.ndarray]], *,
                keep: bool = False) -> list[HeldWeights]:
    """Set the variables of ``value``'s canonical leaves (:func:`autograder.weights.leaves_of`:
    the layer itself, a composite layer's leaves, a model's leaves): ``arrays[i]`` maps variable
    names of leaf ``i`` to their new values. A variable the leaf lacks, or has in another shape, is
    left as it is. With ``keep``, the values held before are kept for :func:`restore_weights`.

    Returns what every leaf holds afterwards (a leaf beyond ``arrays`` too), to compare with what
    was sent: the object's word, never proof that it computes with them."""
    arrays = [{str(k): np.asarray(v, dtype=np.float32) for k, v in leaf.items()} for leaf in arrays]
    if not isinstance(value, Remote):
        return live_set_weights(value, arrays, keep=keep)
    found = value._cnnkit_request("set_weights", arrays=arrays, keep=bool(keep))
    if not isinstance(found, list) or not all(
            isinstance(leaf, HeldWeights) and isinstance(leaf.values, dict)
            and all(isinstance(v, np.ndarray) for v in leaf.values.values()) for leaf in found):
        raise ObservedError("ObservationError", f"{name}: the weights read back are malformed")
    return found


def restore_weights(name: str, value: Any) -> bool:
    """Give ``value`` back the values its leaves held before ``set_weights(..., keep=True)``;
    False when nothing was kept."""
    if not isinstance(value, Remote):
        return live_restore_weights(value)
    return bool(value._cnnkit_request("restore_weights"))


def unset(held: Sequence[HeldWeights], arrays: Sequence[dict[str, np.ndarray]], *,
          optional: Sequence[str] = (), rtol: float = 1e-3,
          atol: float = 1e-6) -> tuple[int, str, str] | None:
    """The first variable that does not hold what was sent, as (leaf index, variable name, what
    it holds instead), or None. A variable the leaf lacks counts unless it is ``optional`` (the
    caller says what a missing one means); so do one of another shape, and one whose values differ
    beyond float16's rounding."""
    for index, wanted in enumerate(arrays):
        values = held[index].values if index < len(held) else {}
        for variable, data in wanted.items():
            found = values.get(variable)
            if found is None:
                if variable in optional:
                    continue
                return index, variable, "no such variable" if index < len(held) else "no such layer"
            if found.shape != data.shape:
                return index, variable, f"an array of shape {found.shape}"
            bad = ~np.isclose(found.astype(np.float64), data.astype(np.float64), rtol=rtol, atol=atol)
            if bad.any():
                return index, variable, f"other values ({int(bad.sum())} of {bad.size} differ)"
    return None


#: Values held before ``set_weights(..., keep=True)``, by ``id`` of the object: (the object,
#: [(variable, its old value)]).
_KEPT: dict[int, tuple[Any, list[tuple[Any, np.ndarray]]]] = {}


def _short_name(variable: Any) -> str:
    return str(variable.name).split("/")[-1].split(":")[0]


def live_set_weights(value: Any, arrays: Sequence[dict[str, np.ndarray]], *,
                     keep: bool = False) -> list[HeldWeights]:
    """:func:`set_weights` for an object in this process."""
    from autograder import weights as leaf_order

    try:
        found = leaf_order.leaves_of(value)
        if keep and not (id(value) in _KEPT and _KEPT[id(value)][0] is value):
            _KEPT[id(value)] = (value, [(v, np.array(_plain_array(v), copy=True)) for leaf in found
                                        for v in leaf.weights])
        for leaf, wanted in zip(found, arrays):
            variables: dict[str, Any] = {}
            for variable in leaf.weights:
                variables.setdefault(_short_name(variable), variable)
            for name, data in wanted.items():
                variable = variables.get(name)
                if variable is not None and tuple(variable.shape) == tuple(np.shape(data)):
                    variable.assign(np.asarray(data, dtype=np.float32))
    except Exception as exc:  # the student's layer may raise anything
        raise _raised(exc) from None
    return [HeldWeights(type(leaf).__name__, _variables(leaf)) for leaf in found]


def live_restore_weights(value: Any) -> bool:
    """:func:`restore_weights` for an object in this process."""
    entry = _KEPT.pop(id(value), None)
    if entry is None or entry[0] is not value:
        return False
    try:
        for variable, data in entry[1]:
            variable.assign(data)
    except Exception as exc:
        raise _raised(exc) from None
    return True
