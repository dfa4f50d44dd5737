"""Checks on whole Keras models: architecture, compilation, behaviour, and that training happened."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.checks import numeric, observe
from autograder.checks.failure import CheckFailure
from autograder.checks.layers import judge_output, set_drawn, weights_as_set
from autograder.checks.observe import ModelView
from autograder.keras_compare import first_difference
from autograder.specs import MNIST_INPUT, ModelSpec
from autograder.weights import VARIABLE_ORDER, LeafWeights

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
    """Applied to a batch of random images with every kernel, bias and batch normalisation
    variable drawn by the check (both fresh under grading), ``model`` gives what the expected
    network computes with those weights, in inference mode: every layer in its place, with its
    activation. Its own weights decide nothing (all zeros would make every network alike), and
    it gets them back afterwards, to be trained."""
    _model(spec.name, model)
    x = observe.draw((PROBE_IMAGES, *MNIST_INPUT), fresh=observe.is_remote(model), seed=PROBE_SEED,
                     low=0.0, high=1.0)
    label = f"{spec.name}(x) for {PROBE_IMAGES} random images"
    kind_cause = spec.causes.get(("*", "kind"), "")
    title, layout_of, calibrate = numeric.NETWORKS[spec.kind]
    layout = layout_of(MNIST_INPUT)

    def call() -> observe.ArrayView:
        try:
            return observe.call(spec.name, model, x, training=False)
        except observe.ObservedError as exc:
            raise CheckFailure(label, "an output tensor", f"{exc.kind}: {exc.message}", kind_cause) from None

    def draw(attempt: int) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
        """Weights by leaf, and the output expected with them; drawn again (hardly ever) until that
        output tells something."""
        rng = observe.parameter_rng(model, PROBE_SEED + attempt)
        for _ in range(4):
            drawn = numeric.draw_layout(rng, layout)
            if calibrate is not None:
                drawn = calibrate(x, drawn, rng)
            want = FORWARDS[spec.kind](x, drawn)
            why = numeric.degenerate(want, probabilities=True)
            if not why:
                return [dict(zip(numeric.LEAF_VARIABLES[leaf.kind], leaf.arrays)) for leaf in drawn], want
        raise CheckFailure(f"the weights drawn for {spec.name}", "an output that varies", why,
                           "The kit could not draw weights that test the model: run the test again.")

    def again() -> tuple[observe.ArrayView, np.ndarray]:
        arrays, want = draw(1)
        observe.set_weights(spec.name, model, arrays)
        return call(), want

    arrays, want = draw(0)
    with set_drawn(spec.name, model, arrays, keep=True) as held:
        try:
            numeric.fit_layout(title, [LeafWeights(leaf.kind, tuple(
                leaf.values[name] for name in VARIABLE_ORDER if name in leaf.values)) for leaf in held],
                layout)
        except ValueError as exc:
            raise CheckFailure(f"weights of {spec.name}", "the weights of the tutorial's layers",
                               str(exc), kind_cause) from None
        weights_as_set(held, arrays, lambda index: layout[index].where)
        judge_output(label, call(), want, atol=1e-4, rtol=1e-3, again=again,
                     cause="The model does not compute what its layers should: check the order of "
                           "the layers and each activation.")


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


def trained(model: Any, *, name: str, min_steps: int = 1) -> observe.TrainingView | None:
    """``model``'s optimizer has taken at least ``min_steps`` training steps; a fit refused for
    exceeding the budget is reported with the budget's limits. Returns the kit's training record
    of ``model`` (None without one), which the judge keeps for the accuracy gate."""
    found = _model(name, model)
    record = observe.training(name, model)
    if record is not None and record.refused and not record.fits:
        raise CheckFailure(*record.refused[-1])
    if found.iterations < min_steps:
        raise CheckFailure(f"training steps taken by {name}", f"at least {min_steps}", found.iterations,
                           f"Call {name}.fit(...) on the training set before evaluating.")
    return record


#: How far a reported accuracy may be from the one measured on its data. ``evaluate`` and another
#: pass over the same weights and images agree to about 1e-7 (the float32 rounding of the metric),
#: but an image whose two most probable classes are within float32 noise of each other may tip
#: with the batch size: two such images in 10,000 are allowed. After one epoch the validation
#: accuracy is typically 0.1 to 0.3 points from the test accuracy, far outside.
REPORTED_TOLERANCE = 2.5e-4

#: Accuracies closer than this are the same number (a float32 metric against an exact fraction).
SAME_ACCURACY = 1e-6


def reported_accuracy(reported: Any, model: Any, *, name: str, labels: Any = None,
                      tolerance: float = REPORTED_TOLERANCE, measured: Any = None) -> None:
    """``reported`` (what the student's ``evaluate`` returned) is ``model``'s accuracy on the
    MNIST test images of the notebook's data folder against ``labels`` (default: that folder's
    labels), to within ``tolerance``, and no nearer an accuracy on other data.

    ``measured``: the judge's own measurement of the trained weights (under grading,
    ``Gate.reported_figures`` behind ``checks.reported_accuracy``), called as
    ``measured(model, name=name, labels=labels)``; it gives ``[(data, accuracy), ...]``, the data
    the number must come from first, then data it must not come from (the validation images, the
    real test labels where the kernel had placeholders), so the kernel is not asked to run the
    model again. Without it (at home), the model predicts the test images here.
    """
    value = observe.value(name, reported)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = float(value.reshape(()))
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise CheckFailure(name, "a number from evaluate(...)",
                           getattr(value, "type_name", type(value).__name__),
                           f"Unpack evaluate's result: test_loss, {name} = model.evaluate(...).")
    if measured is not None:
        figures = measured(model, name=name, labels=labels)
    else:
        figures = [("the 10,000 test images", _test_accuracy_here(name, model, labels))]
    _compare_reported(name, float(value), figures, tolerance)


def _test_accuracy_here(name: str, model: Any, labels: Any) -> float:
    """``model``'s accuracy on the notebook's MNIST test images, predicted by the model itself."""
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
    return float(np.mean(predictions == labels))


def _compare_reported(name: str, value: float, figures: list[tuple[str, float]],
                      tolerance: float) -> None:
    """``value`` is within ``tolerance`` of the first of ``figures`` (data, accuracy) and no other
    is nearer; else a failure that names the data the number seems to come from."""
    (data, right), wrong = figures[0], figures[1:]
    off = abs(value - right)
    nearer = [(what, accuracy) for what, accuracy in wrong
              if abs(value - accuracy) <= tolerance and abs(value - accuracy) < off - SAME_ACCURACY]
    if off <= tolerance and not nearer:
        return
    expected = f"{right:.4f} (the model's accuracy on {data})"
    if nearer:
        what, accuracy = min(nearer, key=lambda found: abs(value - found[1]))
        raise CheckFailure(name, expected, f"{value:.4f}, the accuracy on {what} ({accuracy:.4f})",
                           f"{name} must come from evaluate(X_test, y_test) on the trained model, "
                           "on the test set this notebook read, not from other data, and not be "
                           "typed in or loaded.")
    raise CheckFailure(name, expected, f"{value:.4f}",
                       f"{name} must come from evaluate(X_test, y_test) on the trained model, "
                       "not be typed in or loaded, nor measured on other data (the training or "
                       "validation set, fit's history): on the same weights and images, evaluate "
                       f"agrees to within {tolerance:g}.")
