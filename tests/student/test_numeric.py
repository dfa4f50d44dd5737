"""The judge's NumPy reference computations agree with TensorFlow and Keras, in float32, to 1e-5.

TensorFlow and Keras are imported here only, to compare; the module itself must not import them.
"""

from __future__ import annotations

import dataclasses
import doctest
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from autograder import weights
from autograder.checks import numeric
from autograder.specs import RESNET34_FILTERS

ATOL = 1e-5


def close(ours: np.ndarray, theirs: object, atol: float = ATOL) -> None:
    """``ours`` (float64) within ``atol`` of TensorFlow's float32 result, of the same shape."""
    theirs = np.asarray(theirs)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=atol)


def images(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def randomise(model: keras.Model, seed: int = 0, kernel_scale: float = 1.0) -> None:
    """Give every variable a random value: He-scaled kernels, and batch normalisations whose scale,
    offset and moving statistics are far from Keras's initial 1, 0, 0, 1."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        name = variable.name.split("/")[-1]
        shape = tuple(variable.shape)
        if name == "kernel":
            fan_in = int(np.prod(shape[:-1]))
            value = rng.standard_normal(shape) * kernel_scale * np.sqrt(2.0 / fan_in)
        elif name in ("gamma", "moving_variance"):
            value = rng.uniform(0.5, 2.0, shape)
        else:  # bias, beta, moving_mean
            value = rng.uniform(-0.5, 0.5, shape)
        variable.assign(value.astype(np.float32))


def test_the_module_imports_neither_tensorflow_nor_keras():
    code = ("import autograder.checks.numeric, sys; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_docstring_examples_hold():
    result = doctest.testmod(numeric, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


@pytest.mark.parametrize("padding", ["same", "valid", "SAME"])
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
@pytest.mark.parametrize("size,kernel_size", [((9, 11), (3, 3)), ((5, 7), (4, 2)), ((14, 14), (7, 7))])
def test_conv2d_matches_tf_nn_conv2d(size, kernel_size, strides, padding):
    x = images((2, *size, 3))
    kernel = images((*kernel_size, 3, 5), seed=1)
    bias = images((5,), seed=2)
    want = tf.nn.bias_add(tf.nn.conv2d(x, kernel, strides=strides, padding=padding.upper()), bias)
    close(numeric.conv2d(x, kernel, strides=strides, padding=padding, bias=bias), want)


@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("size", [(1, 1), (2, 2), (1, 3), (3, 2)])
def test_conv2d_on_maps_smaller_than_the_kernel(size, strides):
    # Taps that meet only padding are skipped (ResNet-34's last units see 1x1 maps): still exact.
    x = images((2, *size, 4))
    kernel = images((3, 5, 4, 6), seed=1)
    want = tf.nn.conv2d(x, kernel, strides=strides, padding="SAME")
    close(numeric.conv2d(x, kernel, strides=strides), want)


def test_conv2d_matches_a_keras_conv2d_layer():
    x = images((3, 9, 11, 2))
    layer = keras.layers.Conv2D(4, (3, 5), strides=2, padding="same")
    want = layer(x)
    close(numeric.conv2d(x, layer.kernel.numpy(), strides=2, bias=layer.bias.numpy()), want)


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("strides", [1, 2])
def test_conv2d_at_equals_conv2d_at_every_position(strides, padding):
    x = images((2, 9, 11, 3))
    kernel = images((3, 4, 3, 5), seed=1)
    full = numeric.conv2d(x, kernel, strides=strides, padding=padding, bias=np.arange(5.0))
    positions = np.argwhere(np.ones(full.shape[:3], dtype=bool))
    got = numeric.conv2d_at(x, kernel, positions, strides=strides, padding=padding, bias=np.arange(5.0))
    np.testing.assert_allclose(got, full.reshape(-1, 5), rtol=0, atol=1e-12)


def test_conv2d_at_on_a_photo_sized_input_at_drawn_positions():
    x = images((2, 427, 640, 3))
    kernel = images((7, 7, 3, 5), seed=1)
    rng = np.random.default_rng(3)
    positions = np.stack([rng.integers(0, 2, 300), rng.integers(0, 214, 300),
                          rng.integers(0, 320, 300)], axis=1)
    positions[:4] = [[0, 0, 0], [1, 213, 319], [0, 0, 319], [1, 213, 0]]  # the corners
    want = np.asarray(tf.nn.conv2d(x, kernel, strides=2, padding="SAME"))
    got = numeric.conv2d_at(x, kernel, positions, strides=2)
    close(got, want[tuple(positions.T)])


def test_conv2d_at_names_a_position_outside_the_output():
    x = images((1, 9, 11, 3))
    with pytest.raises(ValueError, match=r"positions\[1\]: expected inside the output \(batch, rows, "
                                         r"cols\) = \(1, 7, 9\), got \(0, 7, 0\)"):
        numeric.conv2d_at(x, images((3, 3, 3, 2)), [[0, 0, 0], [0, 7, 0]], padding="valid")


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("pool_size,strides", [(2, None), (3, 2), (3, 1), ((2, 3), (1, 2))])
@pytest.mark.parametrize("size", [(9, 11), (5, 7)])
def test_pooling_matches_tf_nn(size, pool_size, strides, padding):
    x = images((2, *size, 3))
    tf_strides = pool_size if strides is None else strides
    want_max = tf.nn.max_pool2d(x, pool_size, tf_strides, padding.upper())
    want_avg = tf.nn.avg_pool2d(x, pool_size, tf_strides, padding.upper())
    close(numeric.max_pool2d(x, pool_size, strides, padding), want_max)
    close(numeric.avg_pool2d(x, pool_size, strides, padding), want_avg)


def test_max_pooling_pads_with_minus_infinity():
    x = -1 - images((1, 5, 5, 1)) ** 2  # every value below -1: a zero padding would win
    close(numeric.max_pool2d(x, 3, 2, "same"), tf.nn.max_pool2d(x, 3, 2, "SAME"))
    assert numeric.max_pool2d(x, 3, 2, "same").max() < -1


def test_global_pooling_matches_keras():
    x = images((2, 5, 7, 3))
    close(numeric.global_avg_pool2d(x), keras.layers.GlobalAvgPool2D()(x))
    close(numeric.global_max_pool2d(x), keras.layers.GlobalMaxPool2D()(x))


@pytest.mark.parametrize("scale,center", [(True, True), (False, True), (True, False)])
def test_batch_norm_matches_keras_in_inference(scale, center):
    x = images((2, 5, 7, 3)) * 3
    layer = keras.layers.BatchNormalization(scale=scale, center=center, epsilon=1e-2)
    layer.build(x.shape)
    randomise(keras.Sequential([keras.Input(x.shape[1:]), layer]))
    got = numeric.batch_norm(x, gamma=layer.gamma.numpy() if scale else None,
                             beta=layer.beta.numpy() if center else None,
                             mean=layer.moving_mean.numpy(), variance=layer.moving_variance.numpy(),
                             epsilon=1e-2)
    close(got, layer(x, training=False))


def test_batch_norm_with_batch_statistics_matches_keras_in_training():
    x = images((8, 5, 7, 3)) * 2 + 1
    layer = keras.layers.BatchNormalization()
    layer.build(x.shape)
    randomise(keras.Sequential([keras.Input(x.shape[1:]), layer]))
    got = numeric.batch_norm_batch_statistics(x, gamma=layer.gamma.numpy(), beta=layer.beta.numpy(),
                                              epsilon=layer.epsilon)
    close(got, layer(x, training=True))


def test_dense_and_activations_match_keras():
    x = images((4, 6)) * 4
    layer = keras.layers.Dense(5)
    want = layer(x)
    close(numeric.dense(x, layer.kernel.numpy(), layer.bias.numpy()), want)
    for name in ("relu", "softmax", "linear", "sigmoid", "tanh"):
        close(numeric.activation(name, x), keras.activations.get(name)(x))
    close(numeric.activation(None, x), x)
    close(numeric.relu(x), tf.nn.relu(x))
    close(numeric.softmax(x), tf.nn.softmax(x))


def test_softmax_and_sigmoid_are_stable_for_large_inputs():
    x = np.array([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(numeric.softmax(x), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(numeric.activation("sigmoid", x), [[1.0, 0.5, 0.0]])


def test_errors_name_the_argument_the_value_and_the_fix():
    x = images((1, 5, 7, 3))
    with pytest.raises(ValueError, match=r'padding: expected "same" or "valid" \(any case\), got \'full\''):
        numeric.conv2d(x, images((3, 3, 3, 2)), padding="full")
    with pytest.raises(ValueError, match=r"kernel.shape: expected \(kh, kw, 3, c_out\), got \(3, 3, 1, 2\)"):
        numeric.conv2d(x, images((3, 3, 1, 2)))
    with pytest.raises(ValueError,
                       match=r"x.shape: expected \(batch, height, width, channels\), got \(5, 7\)"):
        numeric.max_pool2d(x[0, ..., 0], 2)
    with pytest.raises(ValueError, match=r"strides: expected a positive int or a pair of them, got 0"):
        numeric.conv2d(x, images((3, 3, 3, 2)), strides=0)
    with pytest.raises(ValueError, match=r"activation: expected one of relu, softmax"):
        numeric.activation("gelu", x)


class TutorialUnit(keras.layers.Layer):
    """The tutorial's residual unit, or one of the mistakes a check must notice: BN after the
    activation, or BN without its scale or its offset."""

    def __init__(self, filters, strides=1, *, bn_after_activation=False, scale=True, center=True):
        super().__init__()
        self.bn_after_activation = bn_after_activation

        def norm():
            return keras.layers.BatchNormalization(scale=scale, center=center)

        self.conv1 = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)
        self.bn1 = norm()
        self.conv2 = keras.layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False)
        self.bn2 = norm()
        self.skip = []
        if strides > 1:
            self.skip = [keras.layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False),
                         norm()]

    def call(self, inputs):
        z = self.conv1(inputs)
        if self.bn_after_activation:
            z = self.bn1(keras.activations.relu(z))
        else:
            z = keras.activations.relu(self.bn1(z))
        z = self.bn2(self.conv2(z))
        skip = inputs
        for layer in self.skip:
            skip = layer(skip)
        return keras.activations.relu(z + skip)


def unit_model(x: np.ndarray, strides: int, seed: int = 0, **variant: bool) -> keras.Model:
    model = keras.Sequential([keras.Input(x.shape[1:]), TutorialUnit(8, strides, **variant)])
    randomise(model, seed)
    return model


def unit_weights(model: keras.Model) -> tuple[list[numeric.ConvBN], numeric.ConvBN | None]:
    """The unit's main path and skip path, from its leaves in canonical order."""
    leaves = weights.extract(model)
    pairs = [numeric.ConvBN.from_leaves(conv, norm) for conv, norm in zip(leaves[::2], leaves[1::2])]
    return pairs[:2], (pairs[2] if len(pairs) > 2 else None)


def copy_weights(source: keras.Model, target: keras.Model) -> None:
    """Give ``target`` the values of ``source``'s variables of the same leaf and name."""
    for from_leaf, to_leaf in zip(weights.leaves(source), weights.leaves(target)):
        by_name = {v.name.split("/")[-1]: v for v in from_leaf.weights}
        for variable in to_leaf.weights:
            variable.assign(by_name[variable.name.split("/")[-1]])


UNIT_INPUT_CHANNELS = {1: 8, 2: 4}


@pytest.mark.parametrize("strides", [1, 2])
def test_residual_unit_matches_the_tutorial_unit(strides):
    x = images((2, 9, 11, UNIT_INPUT_CHANNELS[strides]))
    model = unit_model(x, strides)
    main, skip = unit_weights(model)
    assert (skip is None) == (strides == 1)
    close(numeric.residual_unit(x, strides=strides, main=main, skip=skip), model(x, training=False))


@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("variant", [{"bn_after_activation": True}, {"scale": False}, {"center": False}])
def test_the_usual_mistakes_give_a_clearly_different_output(strides, variant):
    x = images((2, 9, 11, UNIT_INPUT_CHANNELS[strides]))
    tutorial = unit_model(x, strides)
    wrong = unit_model(x, strides, seed=1, **variant)
    copy_weights(tutorial, wrong)
    main, skip = unit_weights(tutorial)
    want = numeric.residual_unit(x, strides=strides, main=main, skip=skip)
    assert np.abs(want - np.asarray(wrong(x, training=False))).max() > 0.5  # a right unit: ~1e-6


@pytest.mark.parametrize("dropped", ["gamma", "beta"])
def test_a_missing_scale_or_offset_is_computed_as_none(dropped):
    x = images((2, 9, 11, 4))
    tutorial = unit_model(x, 2)
    wrong = unit_model(x, 2, **{"scale" if dropped == "gamma" else "center": False})
    copy_weights(tutorial, wrong)
    main, skip = unit_weights(tutorial)
    main = [dataclasses.replace(pair, **{dropped: None}) for pair in main]
    skip = dataclasses.replace(skip, **{dropped: None})
    close(numeric.residual_unit(x, strides=2, main=main, skip=skip), wrong(x, training=False))


def mnist_cnn() -> keras.Model:
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])


def resnet34() -> keras.Model:
    # The layers go to Sequential in one list: each model.add() would rebuild the whole model
    # symbolically (seconds for ResNet-34).
    layers = [keras.Input((28, 28, 1)),
              keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False),
              keras.layers.BatchNormalization(),
              keras.layers.Activation("relu"),
              keras.layers.MaxPool2D(pool_size=3, strides=2, padding="same")]
    previous = 64
    for filters in RESNET34_FILTERS:
        layers.append(TutorialUnit(filters, strides=1 if filters == previous else 2))
        previous = filters
    layers += [keras.layers.GlobalAvgPool2D(), keras.layers.Flatten(),
               keras.layers.Dense(10, activation="softmax")]
    return keras.Sequential(layers)


def test_mnist_cnn_forward_matches_the_keras_model():
    model = mnist_cnn()
    randomise(model)
    x = np.abs(images((4, 28, 28, 1)))
    want = model(x, training=False)
    assert np.asarray(want).max() < 0.999  # the softmax is not saturated: the comparison means something
    close(numeric.mnist_cnn_forward(x, weights.extract(model)), want)


@pytest.fixture(scope="module")
def resnet() -> keras.Model:
    model = resnet34()
    randomise(model, kernel_scale=0.5)
    return model


def test_resnet34_forward_matches_the_keras_model(resnet):
    x = np.abs(images((2, 28, 28, 1)))
    want = resnet(x, training=False)
    assert np.asarray(want).max() < 0.999
    close(numeric.resnet34_forward(x, weights.extract(resnet)), want)


def test_resnet34_forward_names_the_first_leaf_that_does_not_fit(resnet):
    leaves = weights.extract(resnet)
    x = np.zeros((1, 28, 28, 1))
    short_bn = [*leaves[:5], weights.LeafWeights("BatchNormalization", leaves[5].arrays[1:]), *leaves[6:]]
    with pytest.raises(ValueError, match=re.escape(
            "ResNet-34 weight layer 6 (the BatchNormalization after the second 3x3 Conv2D of "
            "residual unit 1 (64 filters, strides 1)): expected BatchNormalization[(64,), (64,), "
            "(64,), (64,)], got BatchNormalization[(64,), (64,), (64,)]. Pass")):
        numeric.resnet34_forward(x, short_bn)
    with pytest.raises(weights.ArchitectureMismatch, match=r"number of ResNet-34 weight layers: "
                                                           r"expected 73, got 72"):
        numeric.resnet34_forward(x, leaves[:-1])
    with pytest.raises(ValueError, match=re.escape(
            "MNIST CNN weight layer 1 (the first Conv2D): expected Conv2D[(3, 3, 1, 32), (32,)], "
            "got Conv2D[(7, 7, 1, 64)].")):
        numeric.mnist_cnn_forward(x, leaves)


# --- the parameters the judge draws -------------------------------------------------------------

def test_a_convolution_with_a_bias_before_its_normalisation_matches_keras():
    x = images((2, 9, 11, 4))
    model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Conv2D(8, 3, padding="same"),
                              keras.layers.BatchNormalization()])
    randomise(model)
    part = numeric.ConvBN.from_leaves(*weights.extract(model))
    assert part.bias is not None
    close(part(x), model(x, training=False))


def test_drawn_variables_follow_their_laws():
    rng = np.random.default_rng(0)
    kernel = numeric.draw_variable(rng, "kernel", (3, 3, 64, 64))
    assert np.abs(kernel).max() <= np.sqrt(6 / 576) and abs(kernel.std() - np.sqrt(2 / 576)) < 1e-3
    gamma = numeric.draw_variable(rng, "gamma", (1000,))
    assert (gamma < 0).any() and (gamma > 0).any() and np.abs(gamma).min() >= 0.5
    assert numeric.draw_variable(rng, "moving_variance", (1000,)).min() >= 0.5
    bias = numeric.draw_variable(rng, "bias", (1000,))
    assert (bias < 0).any() and (bias > 0).any() and bias.dtype == np.float32


def test_calibrated_resnet34_weights_keep_the_softmax_informative():
    x = np.random.default_rng(5).random((4, 28, 28, 1))
    layout = numeric.resnet34_layout()
    drawn = numeric.draw_layout(np.random.default_rng(5), layout)
    calibrated = numeric.resnet34_calibrated(x, drawn, np.random.default_rng(6))
    for before, after in zip(drawn, calibrated):
        assert before.kind == after.kind
        same = before.arrays if before.kind != "BatchNormalization" else before.arrays[:2]
        for a, b in zip(same, after.arrays):
            np.testing.assert_array_equal(a, b)
    probabilities = numeric.resnet34_forward(x, calibrated)
    assert numeric.degenerate(probabilities, probabilities=True) == ""
    assert np.ptp(probabilities, axis=0).max() > 0.05  # the four images are told apart


def test_degenerate_values_are_named():
    assert numeric.degenerate(None) == "no values"
    assert numeric.degenerate(np.full((2, 2), 0.1)) == "0.1 everywhere"
    assert numeric.degenerate([[0.995, 0.005]], probabilities=True) == (
        "a probability of 0.995 (a saturated softmax)")
    assert numeric.degenerate([[0.6, 0.4]], probabilities=True) == ""
