"""Checks on whole Keras models: architecture, compilation, and that training happened."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks.failure import CheckFailure
from autograder.keras_compare import first_difference, model_layers
from autograder.specs import MNIST_INPUT, ModelSpec


def _require_model(name: str, model: Any) -> None:
    import keras

    if not isinstance(model, keras.Model):
        raise CheckFailure(f"type of {name}", "a keras model", type(model).__name__,
                           "Build it with keras.models.Sequential([...]) or keras.Model(inputs, outputs).")


def ensure_built(model: Any, input_shape: tuple[int, ...] = MNIST_INPUT) -> None:
    """Build ``model`` for inputs of ``input_shape`` (no batch axis) if it is not built yet.

    Calling the model once on zeros builds every layer, as the first ``fit`` would.
    """
    if getattr(model, "built", False) and all(layer.built for layer in model_layers(model)):
        return
    try:
        model(np.zeros((1, *input_shape), dtype=np.float32))
    except Exception as exc:
        raise CheckFailure(
            f"{getattr(model, 'name', 'model')} applied to one image of shape {input_shape}",
            "an output", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            "Check the layers: each must accept the previous one's output.",
        ) from None


def layers_match(model: Any, spec: ModelSpec) -> None:
    """``model`` has the layers of ``spec``, in order, with its settings and output shapes.

    A functional model passes as well as a ``Sequential`` one; the input layer is not counted.
    """
    _require_model(spec.name, model)
    ensure_built(model)
    difference = first_difference(model, spec.layers)
    if difference is None:
        return
    kind_and_key = difference.what.split(": ")[-1] if ": " in difference.what else "kind"
    if difference.what.startswith("number of layers"):
        cause = spec.causes.get(("*", "count"), "")
    elif kind_and_key in ("output shape",):
        cause = spec.causes.get(("*", "output shape"), "")
    elif kind_and_key == "kind" or "(" not in difference.what:
        cause = spec.causes.get(("*", "kind"), "")
    else:
        kind = difference.what.split("(")[1].split(")")[0]
        cause = spec.causes.get((kind, kind_and_key), "")
    raise CheckFailure(f"{spec.name} {difference.what}", difference.expected, difference.got, cause)


def parameter_count(model: Any, spec: ModelSpec) -> None:
    """``model`` has the spec's total parameter count for a (28, 28, 1) input."""
    _require_model(spec.name, model)
    ensure_built(model)
    got = int(model.count_params())
    if got != spec.params:
        raise CheckFailure(f"{spec.name}.count_params()", f"{spec.params:,}", f"{got:,}",
                           "A layer has the wrong size: compare each layer with the tutorial's.")


def compiled_for_mnist(model: Any, *, name: str, optimizer: str = "nadam") -> None:
    """``model`` was compiled with the tutorial's loss, optimizer and accuracy metric."""
    _require_model(name, model)
    config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if not config:
        raise CheckFailure(f"{name}.compile(...)", "a compiled model", "a model never compiled",
                           f"Call {name}.compile(loss=\"sparse_categorical_crossentropy\", "
                           f"optimizer=\"{optimizer}\", metrics=[\"accuracy\"]).")
    loss = config.get("loss")
    loss_name = loss if isinstance(loss, str) else (
        (loss or {}).get("config", {}).get("name") if isinstance(loss, dict) else type(loss).__name__)
    if str(loss_name).lower() not in ("sparse_categorical_crossentropy",
                                      "sparsecategoricalcrossentropy"):
        raise CheckFailure(f"the loss of {name}", "sparse_categorical_crossentropy", loss_name,
                           "The labels are digits 0-9, not one-hot vectors: use the sparse loss.")
    got_optimizer = type(model.optimizer).__name__.lower()
    if got_optimizer != optimizer:
        raise CheckFailure(f"the optimizer of {name}", optimizer, got_optimizer,
                           f"Compile with optimizer=\"{optimizer}\", as the tutorial does.")
    metrics = config.get("metrics") or []
    flat = [m for group in metrics for m in (group if isinstance(group, (list, tuple)) else [group])]
    if not any(str(m).lower() in ("accuracy", "acc") or "accuracy" in str(m).lower() for m in flat):
        raise CheckFailure(f"the metrics of {name}", ["accuracy"], metrics,
                           "Pass metrics=[\"accuracy\"] so that fit and evaluate report accuracy.")


def trained(model: Any, *, name: str, min_steps: int = 1) -> None:
    """``model``'s optimizer has taken at least ``min_steps`` training steps; a fit refused for
    exceeding the budget is reported with the budget's limits."""
    from autograder import training_guard

    _require_model(name, model)
    record = training_guard.record_of(model)
    if record is not None and record.refused and not record.fits:
        raise CheckFailure(*record.refused[-1])
    optimizer = getattr(model, "optimizer", None)
    steps = int(np.asarray(optimizer.iterations)) if optimizer is not None else 0
    if steps < min_steps:
        raise CheckFailure(f"training steps taken by {name}", f"at least {min_steps}", steps,
                           f"Call {name}.fit(...) on the training set before evaluating.")


def reported_accuracy(reported: Any, model: Any, *, name: str, tolerance: float = 0.002) -> None:
    """``reported`` (what the student's ``evaluate`` returned) is ``model``'s accuracy on the
    MNIST test set, as the kit measures it from the data files itself."""
    from autograder.data import load_mnist_test

    try:
        value = float(reported)
    except (TypeError, ValueError):
        raise CheckFailure(name, "a number from evaluate(...)", type(reported).__name__,
                           f"Unpack evaluate's result: test_loss, {name} = model.evaluate(...).") from None
    images, labels = load_mnist_test()
    predictions = np.asarray(model.predict(images, batch_size=1000, verbose=0))
    measured = float(np.mean(predictions.argmax(axis=-1) == labels))
    if abs(measured - value) > tolerance:
        raise CheckFailure(name, f"{measured:.4f} (the model's accuracy on the 10,000 test images)",
                           f"{value:.4f}",
                           f"{name} must come from evaluate(X_test, y_test) on the trained model, "
                           "not be typed in or loaded.")
