"""Checks of a student's ResidualUnit, on the tutorial's unit and on broken ones."""

import re

import keras
import pytest

from autograder import checks
from autograder.checks import CheckFailure


def unit_class(*, projection=True, skip_side=1, final_activation=True, middle_activation=True,
               second_stride_is_unit_stride=False, bias=False, norm_after_activation=False,
               scale=True, center=True):
    class ResidualUnit(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu"):
            super().__init__()
            self.activation = keras.activations.get(activation)
            second = strides if second_stride_is_unit_stride else 1
            norm = keras.layers.BatchNormalization(scale=scale, center=center)
            self.main_layers = [
                keras.layers.Conv2D(filters, 3, strides=strides, padding="SAME", use_bias=bias),
                *([self.activation, norm] if norm_after_activation else [norm])]
            if middle_activation and not norm_after_activation:
                self.main_layers.append(self.activation)
            self.main_layers += [
                keras.layers.Conv2D(filters, 3, strides=second, padding="SAME", use_bias=False),
                keras.layers.BatchNormalization()]
            self.skip_layers = []
            if strides > 1 and projection:
                self.skip_layers = [
                    keras.layers.Conv2D(filters, skip_side, strides=strides, padding="SAME", use_bias=False),
                    keras.layers.BatchNormalization()]

        def call(self, inputs):
            z = inputs
            for layer in self.main_layers:
                z = layer(z)
            skip = inputs
            for layer in self.skip_layers:
                skip = layer(skip)
            return self.activation(z + skip) if final_activation else z + skip

    return ResidualUnit


@pytest.mark.parametrize("strides", [1, 2])
def test_the_tutorial_unit_passes_every_check(strides):
    cls = unit_class()
    checks.residual_unit_layers(cls, strides=strides)
    checks.residual_unit_skip(cls, strides=strides)
    checks.residual_unit_output(cls, strides=strides)


def test_missing_projection_is_named():
    with pytest.raises(CheckFailure, match="When strides > 1 the skip path needs keras.layers.Conv2D"):
        checks.residual_unit_skip(unit_class(projection=False), strides=2)


def test_3x3_projection_is_counted():
    with pytest.raises(CheckFailure, match=r"3x3 Conv2D layers in ResidualUnit\(8, strides=2\): "
                                           r"expected 2, got 3"):
        checks.residual_unit_layers(unit_class(skip_side=3), strides=2)


def test_missing_final_activation_fails_the_identity_check():
    with pytest.raises(CheckFailure, match="then applies the activation"):
        checks.residual_unit_skip(unit_class(final_activation=False), strides=1)


def test_missing_middle_activation_fails_the_output_check():
    cls = unit_class(middle_activation=False)
    checks.residual_unit_skip(cls, strides=1)  # the skip path alone is right
    with pytest.raises(CheckFailure, match="The main path is Conv2D"):
        checks.residual_unit_output(cls, strides=1)


def test_bias_is_named():
    with pytest.raises(CheckFailure, match="use_bias of .* expected False, got True. Use use_bias=False"):
        checks.residual_unit_layers(unit_class(bias=True), strides=1)


def test_stride_on_both_convolutions_is_named():
    with pytest.raises(CheckFailure, match="Only the first convolution of the main path"):
        checks.residual_unit_layers(unit_class(second_stride_is_unit_stride=True), strides=2)


@pytest.mark.parametrize("strides", [1, 2])
def test_batch_normalisation_after_the_activation_fails_the_output_check(strides):
    # Freshly initialised batch normalisation is a positive scale, which commutes with ReLU; the
    # check draws its parameters and statistics so that the order shows.
    cls = unit_class(norm_after_activation=True)
    checks.residual_unit_layers(cls, strides=strides)  # the same layers, in another order
    with pytest.raises(CheckFailure, match="The main path is Conv2D"):
        checks.residual_unit_output(cls, strides=strides)


@pytest.mark.parametrize("setting", ["scale", "center"])
def test_batch_normalisation_without_its_scale_or_centre_fails_the_output_check(setting):
    cls = unit_class(**{setting: False})
    name = "gamma" if setting == "scale" else "beta"
    with pytest.raises(CheckFailure, match=re.escape(f"It lacks the BatchNormalization's {name} ({setting}=False?)")):
        checks.residual_unit_output(cls, strides=1)
