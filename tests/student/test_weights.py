"""Weights move between a student's model and the reference, whatever the student's layer order."""

import keras
import numpy as np
import pytest

from autograder import weights
from autograder.judge import reference


def student_resnet_unit_skip_first():
    """A ResidualUnit that creates its skip path before its main path."""

    class ResidualUnit(keras.layers.Layer):
        def __init__(self, filters, strides=1):
            super().__init__()
            self.skip = []
            if strides > 1:
                self.skip = [keras.layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False),
                             keras.layers.BatchNormalization()]
            self.c1 = keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)
            self.b1 = keras.layers.BatchNormalization()
            self.c2 = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)
            self.b2 = keras.layers.BatchNormalization()

        def call(self, x):
            z = self.b2(self.c2(keras.activations.relu(self.b1(self.c1(x)))))
            s = x
            for layer in self.skip:
                s = layer(s)
            return keras.activations.relu(z + s)

    return ResidualUnit


def test_cnn_weights_round_trip(tmp_path):
    model = reference.mnist_cnn()
    path = tmp_path / "w.npz"
    weights.save(model, path)
    other = reference.mnist_cnn()
    weights.assign(other, weights.load(path))
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_unit_written_in_another_order_maps_onto_the_reference(tmp_path):
    unit_cls = student_resnet_unit_skip_first()
    student = keras.Sequential([keras.Input((6, 6, 4)), unit_cls(8, strides=2)])
    ref = keras.Sequential([keras.Input((6, 6, 4)), reference.residual_unit_class()(8, strides=2)])
    x = np.random.default_rng(0).random((2, 6, 6, 4)).astype("float32")
    weights.save(student, tmp_path / "w.npz")
    weights.assign(ref, weights.load(tmp_path / "w.npz"))
    np.testing.assert_allclose(np.asarray(ref(x)), np.asarray(student(x)), atol=1e-5)


def test_another_architecture_is_named(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    weights.save(model, tmp_path / "w.npz")
    with pytest.raises(weights.ArchitectureMismatch,
                       match=r"weight layer 1: expected Conv2D\[\(3, 3, 1, 32\), "
                             r"\(32,\)\], got Dense\[\(784, 10\), \(10,\)\]"):
        weights.assign(reference.mnist_cnn(), weights.load(tmp_path / "w.npz"))


def test_digest_changes_with_the_weights():
    model = reference.mnist_cnn()
    before = weights.digest(model)
    model.set_weights([w + 1 for w in model.get_weights()])
    assert weights.digest(model) != before


def test_leaves_of_a_model_a_unit_and_a_single_layer():
    unit = student_resnet_unit_skip_first()(8, strides=2)
    model = keras.Sequential([keras.Input((6, 6, 4)), unit])
    kinds = [(type(leaf).__name__, tuple(getattr(leaf, "kernel_size", ())))
             for leaf in weights.leaves_of(unit)]
    assert kinds == [("Conv2D", (3, 3)), ("BatchNormalization", ()), ("Conv2D", (3, 3)),
                     ("BatchNormalization", ()), ("Conv2D", (1, 1)), ("BatchNormalization", ())]
    assert weights.leaves_of(model) == weights.leaves_of(unit)

    class Doubled(keras.layers.Conv2D):
        pass

    conv = Doubled(4, 3)
    assert weights.leaves_of(conv) == [conv]
