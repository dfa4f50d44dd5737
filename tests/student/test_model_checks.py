"""Checks of whole models: layer-by-layer comparison, parameters, compilation, training."""

import keras
import numpy as np
import pytest

from autograder import checks, specs
from autograder.checks import CheckFailure


def mnist_layers(*, last_activation="softmax", first_kernel=3, first_dropout=True):
    layers = [
        keras.layers.Conv2D(32, kernel_size=first_kernel, padding="same", activation="relu"),
        keras.layers.Conv2D(64, kernel_size=3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(pool_size=2),
        keras.layers.Flatten(),
    ]
    if first_dropout:
        layers.append(keras.layers.Dropout(0.25))
    layers += [
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation=last_activation),
    ]
    return layers


def test_the_tutorial_cnn_passes():
    model = keras.models.Sequential(mnist_layers())
    checks.layers_match(model, specs.MNIST_CNN)
    checks.parameter_count(model, specs.MNIST_CNN)


def test_the_functional_api_passes_too():
    inputs = keras.Input(shape=(28, 28, 1))
    z = inputs
    for layer in mnist_layers():
        z = layer(z)
    checks.layers_match(keras.Model(inputs, z), specs.MNIST_CNN)


@pytest.mark.parametrize("kwargs, message", [
    ({"last_activation": None}, r"model_cnn_mnist layer 8 \(Dense\): activation: expected softmax, "
                                r"got linear\. The hidden Dense layer uses"),
    ({"first_kernel": 5}, r"model_cnn_mnist layer 1 \(Conv2D\): kernel_size: expected \(3, 3\), got "
                          r"\(5, 5\)\. Both convolutions use kernel_size=3"),
    ({"first_dropout": False}, r"model_cnn_mnist layer 5: expected Dropout\(rate=0.25\), got Dense\. "
                               r"Build the layers in the tutorial's order"),
])
def test_the_first_difference_is_reported_with_its_cause(kwargs, message):
    with pytest.raises(CheckFailure, match=message):
        checks.layers_match(keras.models.Sequential(mnist_layers(**kwargs)), specs.MNIST_CNN)


def test_a_missing_last_layer_is_reported_as_a_count():
    model = keras.models.Sequential(mnist_layers()[:-1])
    with pytest.raises(CheckFailure, match=r"number of layers \(8 expected, 7 found\); layer 8: "
                                           r"expected Dense\(units=10, activation='softmax'\), got no more layers"):
        checks.layers_match(model, specs.MNIST_CNN)


def test_compiled_and_trained():
    model = keras.models.Sequential(mnist_layers())
    with pytest.raises(CheckFailure, match="model_cnn_mnist.compile"):
        checks.compiled_for_mnist(model, name="model_cnn_mnist")
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    with pytest.raises(CheckFailure, match="the optimizer of model_cnn_mnist: expected nadam, got sgd"):
        checks.compiled_for_mnist(model, name="model_cnn_mnist")
    model.compile(loss="sparse_categorical_crossentropy", optimizer="nadam", metrics=["accuracy"])
    checks.compiled_for_mnist(model, name="model_cnn_mnist")
    with pytest.raises(CheckFailure, match="training steps taken by m: expected at least 1, got 0"):
        checks.trained(model, name="m")
    model.fit(np.zeros((8, 28, 28, 1)), np.zeros(8), epochs=1, batch_size=8, verbose=0)
    checks.trained(model, name="m")


def test_a_dense_loss_is_refused():
    model = keras.models.Sequential(mnist_layers())
    model.compile(loss="categorical_crossentropy", optimizer="nadam", metrics=["accuracy"])
    with pytest.raises(CheckFailure, match="the loss of m: expected sparse_categorical_crossentropy"):
        checks.compiled_for_mnist(model, name="m")


def test_a_typed_in_accuracy_is_refused():
    model = keras.models.Sequential(mnist_layers())
    with pytest.raises(CheckFailure, match=r"test_accuracy: expected 0\.\d{4} \(the model's accuracy "
                                           r"on the 10,000 test images\), got 0\.9900"):
        checks.reported_accuracy(0.99, model, name="test_accuracy")
