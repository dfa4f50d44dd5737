"""Hold ``Model.fit`` to the grading budget, and keep a record of every training run.

:func:`install` wraps ``keras.Model.fit`` once per kernel (``budget.training`` calls it). Before a
fit starts, the wrapper checks its size against the budget and refuses one that is too large with
:class:`BudgetExceeded`, naming the limit, instead of letting it run into a timeout. After a fit,
it records what was trained, whether the model started from freshly initialised weights, whether
it saw test images, and a digest of the weights it ended with. The accuracy gate reads the record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from autograder.messages import Problem, failure_message
from autograder.weights import digest


class BudgetExceeded(RuntimeError):
    """A ``fit`` asked for more training than the grading budget allows."""


@dataclass
class FitRecord:
    """What one call of ``fit`` trained."""

    epochs: int
    """Epochs asked for."""
    samples: int
    """Training images given."""
    batch_size: int
    """Batch size used."""
    fresh_start: bool
    """Whether the weights were freshly initialised (or already this kernel's own training) when
    the fit began."""
    test_overlap: float
    """Fraction of the training images that are MNIST test images."""
    digest_after: str = ""
    """Digest of the weights when the fit returned."""


@dataclass
class ModelRecord:
    """Every fit of one model object, and what went wrong, if anything."""

    fits: list[FitRecord] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    """Why fits were refused for exceeding the budget."""

    @property
    def fits_epochs(self) -> int:
        """Epochs trained over all fits."""
        return sum(f.epochs for f in self.fits)

    @property
    def samples_seen(self) -> int:
        """Training images processed over all fits (epochs times images)."""
        return sum(f.epochs * f.samples for f in self.fits)


class Limits(Protocol):
    """What the guard holds fits to: :class:`autograder.budget.Training`, which knows its rules
    (this module never imports the budget, which imports it to install the guard)."""

    def refusal(self, budget: str, record: ModelRecord, *, epochs: int, samples: int | None,
                batch_size: int, valid_samples: int | None) -> Problem | None:
        """Why this fit exceeds the limits, counting ``record``'s earlier fits; ``None`` if it fits."""


#: Records by ``id(model)``; the model objects are kept alive beside them.
RECORDS: dict[int, tuple[Any, ModelRecord]] = {}
_STATE: dict[str, Any] = {"training": None, "budget": "", "original_fit": None}


def record_of(model: Any) -> ModelRecord | None:
    """The training record of ``model``, or ``None`` if it never called ``fit``."""
    entry = RECORDS.get(id(model))
    return entry[1] if entry and entry[0] is model else None


def _length(x: Any) -> int | None:
    try:
        return len(x)
    except TypeError:
        return None


def _initial_state_is_fresh(model: Any) -> bool:
    """Whether every weight still has its initial value: zero biases and BN offsets, unit BN scales
    and variances, zero BN means, and kernels inside the Glorot-uniform bound where that is the
    initializer. Pretrained weights break at least one of these."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for variable in layer.weights:
            name = variable.name.split("/")[-1]
            value = np.asarray(variable)
            if name in ("bias", "beta", "moving_mean") and np.any(value != 0):
                return False
            if name in ("gamma", "moving_variance") and np.any(value != 1):
                return False
            initializer = type(getattr(layer, "kernel_initializer", None)).__name__
            if name == "kernel" and initializer == "GlorotUniform":
                receptive = int(np.prod(value.shape[:-2])) if value.ndim > 2 else 1
                fan_in, fan_out = value.shape[-2] * receptive, value.shape[-1] * receptive
                if np.max(np.abs(value)) > math.sqrt(6.0 / (fan_in + fan_out)) * 1.0001:
                    return False
    return True


_TEST_ROWS: dict[str, set[bytes]] = {}


def _test_overlap(x: Any) -> float:
    """Fraction of the images in ``x`` that are MNIST test images (compared pixel for pixel)."""
    if not _TEST_ROWS:
        from autograder.data import load_mnist_test

        images, _ = load_mnist_test()
        _TEST_ROWS["rows"] = {_row_key(row) for row in images.reshape(len(images), -1)}
    try:
        flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    except (TypeError, ValueError):
        return 0.0
    if flat.shape[1] != 784 or len(flat) == 0:
        return 0.0
    scale = 1.0 if flat.max() > 1.5 else 255.0
    rows = np.clip(np.rint(flat * scale), 0, 255).astype(np.uint8)
    hits = sum(row.tobytes() in _TEST_ROWS["rows"] for row in rows)
    return hits / len(rows)


def _row_key(row: np.ndarray) -> bytes:
    return np.clip(np.rint(np.asarray(row, dtype=np.float64) * 255), 0, 255).astype(np.uint8).tobytes()


def install(training: Limits, budget: str) -> None:
    """Wrap ``keras.Model.fit`` so that every fit in this kernel is held to ``training`` (the
    :class:`~autograder.budget.Training` of the budget named ``budget``)."""
    import keras

    _STATE["training"], _STATE["budget"] = training, budget
    if _STATE["original_fit"] is not None:
        return
    original = keras.Model.fit
    _STATE["original_fit"] = original

    def fit(self: Any, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            *args: Any, **kwargs: Any) -> Any:
        entry = RECORDS.setdefault(id(self), (self, ModelRecord()))
        record = entry[1]
        samples = _length(x)
        validation = kwargs.get("validation_data")
        valid_samples = (_length(validation[0]) if isinstance(validation, (tuple, list)) and validation
                         else None)
        if kwargs.get("validation_split"):
            valid_samples = int((samples or 0) * kwargs["validation_split"])
        problem = _STATE["training"].refusal(_STATE["budget"], record, epochs=int(epochs),
                                             samples=samples, batch_size=int(batch_size or 32),
                                             valid_samples=valid_samples)
        if problem:
            record.refused.append(problem)
            raise BudgetExceeded(failure_message(*problem))
        continuing = bool(record.fits) and record.fits[-1].digest_after == digest(self)
        fresh = continuing or not self.weights or _initial_state_is_fresh(self)
        overlap = _test_overlap(x) if samples else 0.0
        fit_record = FitRecord(int(epochs), samples or 0, int(batch_size or 32), fresh, overlap)
        history = original(self, x, y, batch_size, epochs, *args, **kwargs)
        fit_record.digest_after = digest(self)
        record.fits.append(fit_record)
        return history

    fit.__doc__ = original.__doc__
    keras.Model.fit = fit


def uninstall() -> None:
    """Restore the original ``keras.Model.fit`` and forget every record."""
    import keras

    if _STATE["original_fit"] is not None:
        keras.Model.fit = _STATE["original_fit"]
    _STATE.update(training=None, budget="", original_fit=None)
    RECORDS.clear()
