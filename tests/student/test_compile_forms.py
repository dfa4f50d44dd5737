"""The compile check reads the loss, the metrics and the optimizer in every form Keras accepts."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autograder import checks
from autograder.checks import observe
from autograder.checks.failure import CheckFailure

RIGHT = {
    "strings": dict(loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
    "functions": dict(loss=keras.losses.sparse_categorical_crossentropy,
                      metrics=[keras.metrics.sparse_categorical_accuracy]),
    "objects": dict(loss=keras.losses.SparseCategoricalCrossentropy(),
                    metrics=[keras.metrics.SparseCategoricalAccuracy()]),
    "a list of one loss": dict(loss=["sparse_categorical_crossentropy"], metrics=["acc"]),
}

WRONG = {
    "string": "categorical_crossentropy",
    "function": keras.losses.categorical_crossentropy,
    "object": keras.losses.CategoricalCrossentropy(),
}


def _model(**compile_args) -> keras.Model:
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(**compile_args)
    model(np.zeros((1, 28, 28, 1), "float32"))
    return model


@pytest.mark.parametrize("optimizer", ["nadam", keras.optimizers.Nadam(), keras.optimizers.Nadam],
                         ids=["string", "object", "class"])
@pytest.mark.parametrize("form", RIGHT)
def test_the_tutorials_compile_passes_in_every_form(form, optimizer) -> None:
    optimizer = optimizer() if isinstance(optimizer, type) else optimizer
    checks.compiled_for_mnist(_model(optimizer=optimizer, **RIGHT[form]), name="model")


@pytest.mark.parametrize("form", WRONG)
def test_a_wrong_loss_fails_in_every_form(form) -> None:
    with pytest.raises(CheckFailure, match="the loss of model: expected sparse_categorical_crossentropy, "
                                           "got categorical_crossentropy"):
        checks.compiled_for_mnist(_model(optimizer="nadam", loss=WRONG[form], metrics=["accuracy"]),
                                  name="model")


@pytest.mark.parametrize("value, name", [
    ("relu", "relu"), (keras.activations.relu, "relu"),
    (keras.losses.MeanSquaredError(), "mean_squared_error"),
    ({"class_name": "MeanSquaredError", "config": {"name": "mse"}}, "mse"),
    ({"module": "keras.losses", "class_name": "function", "config": "mse"}, "mse"),
    (keras.initializers.HeNormal, "HeNormal"), (None, None),
])
def test_keras_names_of_every_form(value, name) -> None:
    assert observe.keras_name(value) == name
