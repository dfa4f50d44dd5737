"""Checks of single layers: settings, and behaviour against TensorFlow's own operations."""

import keras
import numpy as np
import pytest

from autograder import checks
from autograder.checks import CheckFailure

CONV = dict(filters=5, kernel_size=7, strides=1, padding="same", activation="relu")


def make_conv(**overrides):
    settings = {**CONV, "padding": "SAME", **overrides}
    return keras.layers.Conv2D(**settings)


def test_tutorial_conv_passes_settings_and_behaviour():
    conv = make_conv()
    checks.conv2d(conv, **CONV)
    checks.conv2d_output(conv, (2, 50, 70, 3), filters=5, kernel_size=7, strides=1, padding="same", activation="relu")


@pytest.mark.parametrize("override, message", [
    ({"padding": "valid"}, "conv.padding: expected same, got valid. Use padding=\"SAME\""),
    ({"activation": None}, "conv.activation: expected relu, got linear. Pass activation=\"relu\""),
    ({"strides": 2}, r"conv.strides: expected \(1, 1\), got \(2, 2\). Use strides=s"),
    ({"kernel_size": 5}, r"conv.kernel_size: expected \(7, 7\), got \(5, 5\)"),
    ({"filters": 3}, "conv.filters: expected 5, got 3"),
])
def test_conv_settings_name_the_mistake(override, message):
    with pytest.raises(CheckFailure, match=message):
        checks.conv2d(make_conv(**override), **CONV)


def test_conv_of_another_type_is_refused():
    with pytest.raises(CheckFailure, match="type of conv: expected keras.layers.Conv2D, got Dense"):
        checks.conv2d(keras.layers.Dense(5), **CONV)


def test_conv_behaviour_catches_valid_padding_by_shape():
    with pytest.raises(CheckFailure, match=r"expected \(1, 50, 70, 5\), got \(1, 44, 64, 5\). "
                                           r"Use padding=\"SAME\""):
        checks.conv2d_output(make_conv(padding="valid"), (1, 50, 70, 3), filters=5, kernel_size=7, strides=1, padding="same",
                             activation="relu")


def test_conv_behaviour_catches_a_layer_that_only_looks_right():
    class Doubled(keras.layers.Conv2D):
        def call(self, inputs):
            return 2 * super().call(inputs)

    conv = Doubled(**{**CONV, "padding": "SAME"})
    checks.conv2d(conv, **CONV)  # its settings are right...
    with pytest.raises(CheckFailure, match="does not match a convolution with its own weights"):
        checks.conv2d_output(conv, (1, 20, 30, 3), filters=5, kernel_size=7, strides=1, padding="same", activation="relu")


def test_conv_behaviour_reports_a_call_that_fails():
    conv = make_conv()
    conv.build((None, None, None, 3))
    with pytest.raises(CheckFailure, match=r"conv applied to an input of shape \(1, 10, 10, 4\): "
                                           r"expected an output tensor, got"):
        checks.conv2d_output(conv, (1, 10, 10, 4), filters=5, kernel_size=7, strides=1, padding="same", activation="relu")


def test_pooling_settings_and_behaviour():
    checks.pool2d(keras.layers.MaxPool2D(2), name="pool_max", kind="max", pool_size=2)
    checks.pool2d(keras.layers.MaxPooling2D((2, 2)), name="pool_max", kind="max", pool_size=2)
    checks.pool2d_output(keras.layers.AvgPool2D(2), (2, 9, 11, 4), name="pool_avg", kind="avg", pool_size=2)
    checks.global_pool_output(keras.layers.GlobalAvgPool2D(), (2, 5, 7, 3), name="g")


@pytest.mark.parametrize("layer, message", [
    (keras.layers.AvgPool2D(2), "type of pool_max: expected keras.layers.MaxPooling2D, got AveragePooling2D"),
    (keras.layers.MaxPool2D(3), r"pool_max.pool_size: expected \(2, 2\), got \(3, 3\)"),
    (keras.layers.MaxPool2D(2, strides=1), r"pool_max.strides: expected \(2, 2\), got \(1, 1\)"),
    (keras.layers.MaxPool2D(2, padding="same"), "pool_max.padding: expected valid, got same"),
])
def test_pooling_settings_name_the_mistake(layer, message):
    with pytest.raises(CheckFailure, match=message):
        checks.pool2d(layer, name="pool_max", kind="max", pool_size=2)


def test_pooling_behaviour_recognises_the_other_kind():
    class Disguised(keras.layers.MaxPool2D):
        def call(self, inputs):
            return keras.ops.average_pool(inputs, 2, 2)

    with pytest.raises(CheckFailure, match="It computes avg pooling: use keras.layers.MaxPool2D"):
        checks.pool2d_output(Disguised(2), (1, 8, 8, 2), name="pool_max", kind="max", pool_size=2)


def test_global_pooling_recognises_max():
    with pytest.raises(CheckFailure, match="type of g: expected keras.layers.GlobalAveragePooling2D"):
        checks.global_pool(keras.layers.GlobalMaxPool2D(), name="g")
    with pytest.raises(CheckFailure, match="It computes the maximum of each feature map"):
        checks.global_pool_output(keras.layers.GlobalMaxPool2D(), (2, 5, 7, 3), name="g")


def test_conv_applied_accepts_the_layers_own_output_and_names_a_typed_in_one():
    images = np.random.default_rng(3).random((2, 20, 30, 3)).astype("float32")
    conv = make_conv()
    checks.conv2d_applied("image_after_conv", conv(images).numpy(), conv, images)
    with pytest.raises(CheckFailure, match=r"image_after_conv\[.*positions checked differ"):
        checks.conv2d_applied("image_after_conv", np.zeros((2, 20, 30, 5)), conv, images)
    never_called = make_conv()
    with pytest.raises(CheckFailure) as failure:
        checks.conv2d_applied("image_after_conv", np.zeros((2, 20, 30, 5)), never_called, images,
                              cause="image_after_conv must be the output of conv(images), not a "
                                    "stored or typed-in array.")
    assert str(failure.value) == (
        "image_after_conv: expected the output of the layer applied to the input, got a value computed "
        "without the layer (it was never called and has no weights yet). image_after_conv must be the "
        "output of conv(images), not a stored or typed-in array.")
