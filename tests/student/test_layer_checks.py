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
    checks.conv2d_output(conv, (2, 50, 70, 3), filters=5, kernel_size=7, strides=1, padding="same",
                         activation="relu")


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
    with pytest.raises(CheckFailure, match=r"type of conv: expected keras.layers.Conv2D, got Dense"):
        checks.conv2d(keras.layers.Dense(5), **CONV)


def test_conv_behaviour_catches_valid_padding_by_shape():
    with pytest.raises(CheckFailure, match=r"expected \(1, 50, 70, 5\), got \(1, 44, 64, 5\). "
                                           r"Use padding=\"SAME\""):
        checks.conv2d_output(make_conv(padding="valid"), (1, 50, 70, 3), filters=5, kernel_size=7,
                             strides=1, padding="same", activation="relu")


def test_conv_behaviour_catches_a_layer_that_only_looks_right():
    class Doubled(keras.layers.Conv2D):
        def call(self, inputs):
            return 2 * super().call(inputs)

    conv = Doubled(**{**CONV, "padding": "SAME"})
    checks.conv2d(conv, **CONV)  # its settings are right...
    with pytest.raises(CheckFailure, match="does not match a convolution with its own weights"):
        checks.conv2d_output(conv, (1, 20, 30, 3), filters=5, kernel_size=7, strides=1, padding="same",
                             activation="relu")


def test_conv_behaviour_reports_a_call_that_fails():
    conv = make_conv()
    conv.build((None, None, None, 3))
    with pytest.raises(CheckFailure, match=r"conv applied to an input of shape \(1, 10, 10, 4\): "
                                           r"expected an output tensor, got"):
        checks.conv2d_output(conv, (1, 10, 10, 4), filters=5, kernel_size=7, strides=1, padding="same",
                             activation="relu")


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

    with pytest.raises(CheckFailure, match=r"It computes avg pooling: use keras.layers.MaxPool2D"):
        checks.pool2d_output(Disguised(2), (1, 8, 8, 2), name="pool_max", kind="max", pool_size=2)


def test_global_pooling_recognises_max():
    with pytest.raises(CheckFailure, match=r"type of g: expected keras.layers.GlobalAveragePooling2D"):
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


# --- the behaviour checks draw the weights: the layer's own decide nothing ---------------------

INITIALIZERS = [("zeros", "zeros"), ("ones", "ones"),
                (keras.initializers.Constant(0.3), keras.initializers.Constant(-0.2)),
                ("glorot_uniform", "zeros"), ("he_normal", "ones")]


def conv_output(conv, input_shape=(1, 20, 30, 3)):
    checks.conv2d_output(conv, input_shape, filters=5, kernel_size=7, strides=1, padding="same",
                         activation="relu")


@pytest.mark.parametrize("kernel_initializer, bias_initializer", INITIALIZERS)
def test_a_right_conv_passes_whatever_its_initial_weights_and_gets_them_back(kernel_initializer,
                                                                             bias_initializer):
    conv = make_conv(kernel_initializer=kernel_initializer, bias_initializer=bias_initializer)
    conv.build((None, None, None, 3))
    before = [np.array(w) for w in conv.get_weights()]
    conv_output(conv)
    for own, now in zip(before, conv.get_weights()):
        np.testing.assert_array_equal(own, now)


def test_a_conv_without_its_bias_is_recomputed_without_one():
    conv_output(make_conv(use_bias=False, kernel_initializer="zeros"))


@pytest.mark.parametrize("kernel_initializer, bias_initializer", INITIALIZERS[:3])
def test_a_conv_without_its_activation_fails_even_with_degenerate_weights(kernel_initializer,
                                                                          bias_initializer):
    # Zero weights made every output 0, relu or not: this conv scored 5 of 7 before the check drew them.
    conv = make_conv(activation=None, kernel_initializer=kernel_initializer,
                     bias_initializer=bias_initializer)
    conv.build((None, None, None, 3))
    before = [np.array(w) for w in conv.get_weights()]
    with pytest.raises(CheckFailure, match=r"^conv\(x\) for x of shape \(1, 20, 30, 3\)\[\d+, \d+, \d+, "
                                           r"\d\]: expected 0, got -[\d.e-]+ \(\d+ of 3000 values differ\)\. "
                                           r"Pass activation=\"relu\""):
        conv_output(conv)
    for own, now in zip(before, conv.get_weights()):  # given back, though the check failed
        np.testing.assert_array_equal(own, now)


def test_a_conv_with_the_wrong_padding_fails_even_with_zero_weights():
    with pytest.raises(CheckFailure, match=r"expected \(1, 20, 30, 5\), got \(1, 14, 24, 5\)"):
        conv_output(make_conv(padding="valid", kernel_initializer="zeros", bias_initializer="zeros"))


class Frozen(keras.layers.Conv2D):
    """Computes with copies of its weights taken when it was built: setting them changes nothing."""

    def build(self, input_shape):
        super().build(input_shape)
        self.frozen = (np.asarray(self.kernel).copy(), np.asarray(self.bias).copy())

    def call(self, inputs):
        kernel, bias = self.frozen
        return keras.activations.relu(keras.ops.conv(inputs, kernel, padding="same") + bias)


@pytest.mark.parametrize("kernel_initializer", ["zeros", "glorot_uniform"])
def test_a_conv_that_computes_with_weights_of_its_own_fails(kernel_initializer):
    conv = Frozen(**{**CONV, "padding": "SAME"}, kernel_initializer=kernel_initializer)
    checks.conv2d(conv, **CONV)
    with pytest.raises(CheckFailure) as failure:
        conv_output(conv)
    assert str(failure.value).endswith(
        "Its output did not change when the check set other weights: it computes with weights of its "
        "own. Compute with the layers' own variables (kernels, biases, batch normalisation "
        "parameters), which the check sets to values it draws.")


def test_an_output_that_cannot_be_judged_is_named():
    class Constant(keras.layers.Conv2D):  # the same value everywhere, though it follows the bias
        def call(self, inputs):
            return keras.ops.zeros_like(super().call(inputs)) + self.bias[0]

    class Broken(keras.layers.Conv2D):
        def call(self, inputs):
            return super().call(inputs) * np.nan

    with pytest.raises(CheckFailure, match=r"^conv\(x\) for x of shape \(1, 20, 30, 3\): expected values "
                                           r"that vary with the input and the weights the check set, "
                                           r"got -?[\d.e-]+ everywhere\. The check gives the object "
                                           r"weights and inputs it draws"):
        conv_output(Constant(**{**CONV, "padding": "SAME"}))
    with pytest.raises(CheckFailure, match=r"got NaN or infinite in 3000 of 3000 values\."):
        conv_output(Broken(**{**CONV, "padding": "SAME"}))


def test_conv_applied_refuses_weights_under_which_any_constant_passes():
    images = np.random.default_rng(3).random((2, 20, 30, 3)).astype("float32")
    conv = make_conv(kernel_initializer="zeros")
    with pytest.raises(CheckFailure) as failure:
        checks.conv2d_applied("image_after_conv", conv(images).numpy(), conv, images)
    assert str(failure.value) == (
        "the layer behind image_after_conv: expected weights under which its output depends on the "
        "input, got an output of 0 everywhere. With these weights any array of that value would "
        "pass as the layer's output: create the layer with Keras's default initializers.")


def test_the_padding_of_a_1x1_conv_is_not_demanded():
    # A 1x1 kernel never meets the padding: "valid" and "same" compute the same thing.
    settings = dict(filters=5, kernel_size=1, strides=2, activation="relu")
    checks.conv2d(keras.layers.Conv2D(**settings, padding="valid"), **settings, padding="same")
