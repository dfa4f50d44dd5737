"""Checks of a student's ResidualUnit, on the tutorial's unit and on broken ones."""

import re

import keras
import pytest

from autograder import checks
from autograder.checks import CheckFailure


def unit_class(*, projection=True, skip_side=1, final_activation=True, middle_activation=True,
               second_stride_is_unit_stride=False, bias=False, norm_after_activation=False,
               scale=True, center=True, skip_padding="SAME", adds_skip=True, conv_init=None,
               norm_init=None):
    """The tutorial's unit, or one with a mistake; ``conv_init`` and ``norm_init``: keyword
    arguments (initializers) for every Conv2D and every BatchNormalization."""
    conv_init, norm_init = conv_init or {}, norm_init or {}

    def norm(**settings):
        return keras.layers.BatchNormalization(**settings, **norm_init)

    class ResidualUnit(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu"):
            super().__init__()
            self.activation = keras.activations.get(activation)
            second = strides if second_stride_is_unit_stride else 1
            first_norm = norm(scale=scale, center=center)
            self.main_layers = [
                keras.layers.Conv2D(filters, 3, strides=strides, padding="SAME", use_bias=bias, **conv_init),
                *([self.activation, first_norm] if norm_after_activation else [first_norm])]
            if middle_activation and not norm_after_activation:
                self.main_layers.append(self.activation)
            self.main_layers += [
                keras.layers.Conv2D(filters, 3, strides=second, padding="SAME", use_bias=bias, **conv_init),
                norm()]
            self.skip_layers = []
            if strides > 1 and projection:
                self.skip_layers = [
                    keras.layers.Conv2D(filters, skip_side, strides=strides, padding=skip_padding,
                                        use_bias=bias, **conv_init),
                    norm()]

        def call(self, inputs):
            z = inputs
            for layer in self.main_layers:
                z = layer(z)
            skip = inputs
            for layer in self.skip_layers:
                skip = layer(skip)
            out = z + skip if adds_skip else z
            return self.activation(out) if final_activation else out

    return ResidualUnit


@pytest.mark.parametrize("strides", [1, 2])
def test_the_tutorial_unit_passes_every_check(strides):
    cls = unit_class()
    checks.residual_unit_layers(cls, strides=strides)
    checks.residual_unit_skip(cls, strides=strides)
    checks.residual_unit_output(cls, strides=strides)


def test_missing_projection_is_named():
    with pytest.raises(CheckFailure, match=r"When strides > 1 the skip path needs keras.layers.Conv2D"):
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


def test_bias_is_named_as_the_tutorial_prescribes():
    with pytest.raises(CheckFailure) as failure:
        checks.residual_unit_layers(unit_class(bias=True), strides=1)
    assert str(failure.value) == (
        "use_bias of convolution 1 (3x3) in ResidualUnit(8, strides=1): expected False, got True. "
        "Use use_bias=False, as the tutorial prescribes: the BatchNormalization after each "
        "convolution has its own offset, so a bias there changes nothing the unit can compute and "
        "only adds parameters (ResNet-34's count assumes none).")


@pytest.mark.parametrize("strides", [1, 2])
def test_convolutions_with_a_bias_compute_what_the_unit_should(strides):
    # The behaviour checks draw the biases too, and recompute with them.
    cls = unit_class(bias=True)
    checks.residual_unit_skip(cls, strides=strides)
    checks.residual_unit_output(cls, strides=strides)


def test_the_padding_of_the_1x1_projection_is_not_demanded():
    cls = unit_class(skip_padding="valid")  # a 1x1 kernel never meets the padding
    checks.residual_unit_layers(cls, strides=2)
    checks.residual_unit_skip(cls, strides=2)


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
    lacks = f"It lacks the BatchNormalization's {name} ({setting}=False?)"
    with pytest.raises(CheckFailure, match=re.escape(lacks)):
        checks.residual_unit_output(cls, strides=1)


# --- the behaviour checks draw every parameter: the unit's own decide nothing ---------------------

INITIALIZERS = [
    ({"kernel_initializer": "zeros"}, {"gamma_initializer": "zeros"}),
    ({"kernel_initializer": "ones", "bias_initializer": "ones"},
     {"beta_initializer": "ones", "moving_mean_initializer": "ones"}),
    ({"kernel_initializer": keras.initializers.Constant(0.1)},
     {"gamma_initializer": keras.initializers.Constant(2.0),
      "moving_variance_initializer": keras.initializers.Constant(5.0)}),
    ({}, {}),
]


@pytest.mark.parametrize("strides", [1, 2])
@pytest.mark.parametrize("conv_init, norm_init", INITIALIZERS)
def test_the_tutorial_unit_passes_whatever_its_initial_weights(strides, conv_init, norm_init):
    cls = unit_class(conv_init=conv_init, norm_init=norm_init, bias="bias_initializer" in conv_init)
    checks.residual_unit_skip(cls, strides=strides)
    checks.residual_unit_output(cls, strides=strides)


ZEROS = dict(conv_init={"kernel_initializer": "zeros"}, norm_init={"beta_initializer": "zeros"})


@pytest.mark.parametrize("strides", [1, 2])
def test_a_missing_middle_activation_fails_even_with_zero_kernels(strides):
    # Zero kernels make the main path constant, so that its activation made no difference.
    cls = unit_class(middle_activation=False, **ZEROS)
    checks.residual_unit_skip(cls, strides=strides)
    with pytest.raises(CheckFailure, match=r"ResidualUnit\(8, strides=\d\) output\[.*\]: expected .*, "
                                           r"got .*\. The main path is Conv2D"):
        checks.residual_unit_output(cls, strides=strides)


def test_a_missing_final_activation_fails_even_with_zero_kernels():
    with pytest.raises(CheckFailure, match="then applies the activation"):
        checks.residual_unit_skip(unit_class(final_activation=False, **ZEROS), strides=1)


@pytest.mark.parametrize("strides", [1, 2])
def test_a_unit_that_never_adds_its_skip_path_fails_even_with_zero_kernels(strides):
    cls = unit_class(adds_skip=False, **ZEROS)
    checks.residual_unit_layers(cls, strides=strides)  # the right layers...
    with pytest.raises(CheckFailure, match="with its main path silenced"):
        checks.residual_unit_skip(cls, strides=strides)
    with pytest.raises(CheckFailure, match="The main path is Conv2D"):
        checks.residual_unit_output(cls, strides=strides)


def test_a_unit_that_computes_with_weights_of_its_own_fails():
    tutorial = unit_class()

    class Hidden(tutorial):
        """Builds the tutorial's layers, but computes with a second unit kept out of Keras's sight."""

        def __init__(self, filters, strides=1, activation="relu"):
            super().__init__(filters, strides, activation)
            object.__setattr__(self, "hidden", tutorial(filters, strides, activation))

        def call(self, inputs):
            super().call(inputs)
            return self.hidden(inputs)

    for check in (checks.residual_unit_skip, checks.residual_unit_output):
        with pytest.raises(CheckFailure, match="Its output did not change when the check set other weights"):
            check(Hidden, strides=2)
