"""Checks on whole Keras models: architecture, compilation, behaviour, and that training happened."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import numeric, observe
from autograder.checks.arrays import agree
from autograder.checks.failure import CheckFailure
from autograder.checks.observe import ModelView
from autograder.keras_compare import first_difference
from autograder.specs import MNIST_INPUT, ModelSpec

#: Images of the probe batch of :func:`model_output`, and its seed at home.
PROBE_IMAGES = 4
PROBE_SEED = 28

#: The NumPy forward pass of each expected model, by its kind.
FORWARDS = {"mnist_cnn": numeric.mnist_cnn_forward, "resnet34": numeric.resnet34_forward}


def _model(name: str, value: Any, input_shape: tuple[int, ...] = MNIST_INPUT) -> ModelView:
    """The observed model; a failure when it is no Keras model or cannot take one image."""
    found = observe.model(name, value, input_shape=input_shape)
    if not found.is_model:
        raise CheckFailure(f"type of {name}", "a keras model", found.type_name,
                           "Build it with keras.models.Sequential([...]) or keras.Model(inputs, outputs).")
    if found.build_error:
        raise CheckFailure(f"{name} applied to one image of shape {input_shape}", "an output",
                           found.build_error, "Check the layers: each must accept the previous one's output.")
    return found


def layers_match(model: Any, spec: ModelSpec) -> None:
    """``model`` has the layers of ``spec``, in order, with its settings and output shapes.

    A functional model passes as well as a ``Sequential`` one; the input layer is not counted.
    """
    difference = first_difference(_model(spec.name, model), spec.layers)
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
    got = _model(spec.name, model).params
    if got != spec.params:
        raise CheckFailure(f"{spec.name}.count_params()", f"{spec.params:,}", f"{got:,}",
                           "A layer has the wrong size: compare each layer with the tutorial's.")


def model_output(model: Any, spec: ModelSpec) -> None:
    """Applied to a batch of random images (fresh under grading), ``model`` gives what the
    expected network computes with the model's own weights, in inference mode: every layer in
    its place, with its activation."""
    _model(spec.name, model)
    x = observe.draw((PROBE_IMAGES, *MNIST_INPUT), fresh=observe.is_remote(model), seed=PROBE_SEED,
                     low=0.0, high=1.0)
    label = f"{spec.name}(x) for {PROBE_IMAGES} random images"
    try:
        got = observe.call(spec.name, model, x, training=False)
    except observe.ObservedError as exc:
        raise CheckFailure(label, "an output tensor", f"{exc.kind}: {exc.message}",
                           spec.causes.get(("*", "kind"), "")) from None
    try:
        want = FORWARDS[spec.kind](x, observe.leaves(spec.name, model))
    except (ValueError, observe.ObservedError) as exc:
        raise CheckFailure(f"weights of {spec.name}", "the weights of the tutorial's layers",
                           str(exc), spec.causes.get(("*", "kind"), "")) from None
    agree(label, got, want, atol=1e-4, rtol=1e-3,
          cause="The model does not compute what its layers should: check the order of the "
                "layers and each activation.")


def compiled_for_mnist(model: Any, *, name: str, optimizer: str = "nadam") -> None:
    """``model`` was compiled with the tutorial's loss, optimizer and accuracy metric."""
    config = _model(name, model).compile
    if not config:
        raise CheckFailure(f"{name}.compile(...)", "a compiled model", "a model never compiled",
                           f"Call {name}.compile(loss=\"sparse_categorical_crossentropy\", "
                           f"optimizer=\"{optimizer}\", metrics=[\"accuracy\"]).")
    loss_name = config.get("loss")
    if str(loss_name).lower() not in ("sparse_categorical_crossentropy",
                                      "sparsecategoricalcrossentropy"):
        raise CheckFailure(f"the loss of {name}", "sparse_categorical_crossentropy", loss_name,
                           "The labels are digits 0-9, not one-hot vectors: use the sparse loss.")
    got_optimizer = config.get("optimizer", "")
    if got_optimizer != optimizer:
        raise CheckFailure(f"the optimizer of {name}", optimizer, got_optimizer,
                           f"Compile with optimizer=\"{optimizer}\", as the tutorial does.")
    metrics = config.get("metrics") or []
    if not any(m.lower() in ("accuracy", "acc") or "accuracy" in m.lower() for m in metrics):
        raise CheckFailure(f"the metrics of {name}", ["accuracy"], metrics,
                           "Pass metrics=[\"accuracy\"] so that fit and evaluate report accuracy.")


def trained(model: Any, *, name: str, min_steps: int = 1) -> None:
    """``model``'s optimizer has taken at least ``min_steps`` training steps; a fit refused for
    exceeding the budget is reported with the budget's limits."""
    found = _model(name, model)
    record = observe.training(name, model)
    if record is not None and record.refused and not record.fits:
        raise CheckFailure(*record.refused[-1])
    if found.iterations < min_steps:
        raise CheckFailure(f"training steps taken by {name}", f"at least {min_steps}", found.iterations,
                           f"Call {name}.fit(...) on the training set before evaluating.")


def reported_accuracy(reported: Any, model: Any, *, name: str, labels: Any = None,
                      tolerance: float = 0.002) -> None:
    """``reported`` (what the student's ``evaluate`` returned) is ``model``'s accuracy on the
    MNIST test images of the notebook's data folder, against ``labels`` (default: that folder's
    labels, read here)."""
    value = observe.value(name, reported)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = float(value.reshape(()))
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise CheckFailure(name, "a number from evaluate(...)", getattr(value, "type_name", type(value).__name__),
                           f"Unpack evaluate's result: test_loss, {name} = model.evaluate(...).")
    if labels is None:
        from autograder.data import load_mnist_test

        labels = load_mnist_test()[1]
    try:
        predictions = observe.mnist_predictions(name, model)
    except observe.ObservedError as exc:
        raise CheckFailure(f"the predictions of the model behind {name}", "one class per test image",
                           f"{exc.kind}: {exc.message}", "Train and evaluate the model first.") from None
    labels = np.asarray(labels)
    if predictions.shape != labels.shape:
        raise CheckFailure(f"the predictions of the model behind {name}", f"{len(labels):,} classes",
                           f"an array of shape {predictions.shape}", "")
    measured = float(np.mean(predictions == labels))
    if abs(measured - float(value)) > tolerance:
        raise CheckFailure(name, f"{measured:.4f} (the model's accuracy on the 10,000 test images)",
                           f"{float(value):.4f}",
                           f"{name} must come from evaluate(X_test, y_test) on the trained model, "
                           "not be typed in or loaded.")
