"""Checks of whole models: layer-by-layer comparison, parameters, compilation, training."""

import re

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
                                           r"expected Dense\(units=10, activation='softmax'\), "
                                           r"got no more layers"):
        checks.layers_match(model, specs.MNIST_CNN)


def test_compiled_and_trained():
    model = keras.models.Sequential(mnist_layers())
    with pytest.raises(CheckFailure, match=r"model_cnn_mnist.compile"):
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


# --- model_output draws every weight: the model's own decide nothing, and it gets them back ----

def cnn(*, conv_activation="relu", **initializers):
    return keras.models.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation=conv_activation, **initializers),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu", **initializers),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(128, activation="relu", **initializers),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax", **initializers),
    ])


@pytest.mark.parametrize("initializers", [{}, {"kernel_initializer": "zeros"},
                                          {"kernel_initializer": "ones", "bias_initializer": "ones"}])
def test_the_tutorial_cnn_computes_what_it_should_and_keeps_its_weights(initializers):
    model = cnn(**initializers)
    before = [np.array(w) for w in model.get_weights()]
    checks.model_output(model, specs.MNIST_CNN)
    for own, now in zip(before, model.get_weights()):  # as it was: still a fresh model to train
        np.testing.assert_array_equal(own, now)


def test_a_convolution_without_its_activation_fails_even_with_zero_weights():
    # Zero kernels made every image give the same 10 probabilities, relu or not.
    model = cnn(conv_activation=None, kernel_initializer="zeros")
    with pytest.raises(CheckFailure, match=r"^model_cnn_mnist\(x\) for 4 random images\[\d, \d\]: expected "
                                           r".*, got .* \(\d+ of 40 values differ\)\. The model does not "
                                           r"compute what its layers should"):
        checks.model_output(model, specs.MNIST_CNN)
    assert not np.any(model.get_weights()[0])  # its own zeros again


def test_a_model_of_another_architecture_is_named():
    model = keras.models.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                     keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(CheckFailure, match=re.escape(
            "weights of model_cnn_mnist: expected the weights of the tutorial's layers, got MNIST CNN "
            "weight layer 1 (the first Conv2D): expected Conv2D[(3, 3, 1, 32), (32,)], got "
            "Dense[(784, 10), (10,)].")):
        checks.model_output(model, specs.MNIST_CNN)


class Unit(keras.layers.Layer):
    """The tutorial's residual unit, zero-initialised; ``adds_skip = False`` forgets the skip path."""

    adds_skip = True

    def __init__(self, filters, strides=1):
        super().__init__()

        def conv(side, stride):
            return keras.layers.Conv2D(filters, side, strides=stride, padding="same", use_bias=False,
                                       kernel_initializer="zeros")

        self.main = [conv(3, strides), keras.layers.BatchNormalization(), conv(3, 1),
                     keras.layers.BatchNormalization()]
        self.skip = [conv(1, strides), keras.layers.BatchNormalization()] if strides > 1 else []

    def call(self, inputs):
        z = keras.activations.relu(self.main[1](self.main[0](inputs)))
        z = self.main[3](self.main[2](z))
        skip = inputs
        for layer in self.skip:
            skip = layer(skip)
        return keras.activations.relu(z + skip if self.adds_skip else z)


@pytest.fixture(scope="module")
def zero_resnet():
    layers = [keras.Input((28, 28, 1)),
              keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False,
                                  kernel_initializer="zeros"),
              keras.layers.BatchNormalization(), keras.layers.Activation("relu"),
              keras.layers.MaxPool2D(pool_size=3, strides=2, padding="same")]
    previous = 64
    for filters in specs.RESNET34_FILTERS:
        layers.append(Unit(filters, strides=1 if filters == previous else 2))
        previous = filters
    layers += [keras.layers.GlobalAvgPool2D(), keras.layers.Flatten(),
               keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")]
    return keras.Sequential(layers)


def test_resnet34_with_zero_weights_passes_and_one_that_never_adds_its_skip_path_fails(zero_resnet,
                                                                                       monkeypatch):
    checks.resnet34_output(zero_resnet)
    assert not any(np.any(w) for w in zero_resnet.get_weights()[:1])
    monkeypatch.setattr(Unit, "adds_skip", False)
    with pytest.raises(CheckFailure, match="The model does not compute what its layers should"):
        checks.resnet34_output(zero_resnet)
