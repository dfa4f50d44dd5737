"""The reference models of the module, built with plain Keras (any backend).

They restate the tutorial's code (``SEED.md`` sections 5 and 6). The accuracy gate loads a
student's trained weights into them, in a fresh process, and the benchmark trains them.
"""

from __future__ import annotations

from typing import Any

from autograder.specs import RESNET34_UNITS


def mnist_cnn() -> Any:
    """The tutorial's MNIST CNN: input (batch, 28, 28, 1), output (batch, 10) probabilities."""
    import keras

    return keras.models.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=3, padding="same", activation="relu"),
        keras.layers.Conv2D(64, kernel_size=3, padding="same", activation="relu"),
        keras.layers.MaxPool2D(pool_size=2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])


def residual_unit_class() -> type:
    """The tutorial's ``ResidualUnit`` layer class (defined on first use, so that importing this
    module does not import Keras)."""
    import keras

    class ResidualUnit(keras.layers.Layer):
        """Main path conv3x3(strides)-BN-act-conv3x3-BN plus the skip path (identity, or a strided
        1x1 convolution and BN when ``strides > 1``); returns ``activation(main + skip)``.

        Input (batch, h, w, c) gives (batch, ceil(h / strides), ceil(w / strides), filters).
        """

        def __init__(self, filters: int, strides: int = 1, activation: str = "relu", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.activation = keras.activations.get(activation)
            self.main_layers = [
                keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
                keras.layers.BatchNormalization(),
                self.activation,
                keras.layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False),
                keras.layers.BatchNormalization()]
            self.skip_layers = []
            if strides > 1:
                self.skip_layers = [
                    keras.layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False),
                    keras.layers.BatchNormalization()]

        def call(self, inputs: Any) -> Any:
            z = inputs
            for layer in self.main_layers:
                z = layer(z)
            skip = inputs
            for layer in self.skip_layers:
                skip = layer(skip)
            return self.activation(z + skip)

    return ResidualUnit


def resnet34() -> Any:
    """The tutorial's ResNet-34 for (28, 28, 1) inputs: 21,300,554 parameters, output (batch, 10)."""
    import keras

    unit = residual_unit_class()
    model = keras.models.Sequential([keras.Input(shape=(28, 28, 1))])
    model.add(keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False))
    model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.MaxPool2D(pool_size=3, strides=2, padding="same"))
    for _, filters, strides in RESNET34_UNITS:
        model.add(unit(filters, strides=strides))
    model.add(keras.layers.GlobalAvgPool2D())
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


BUILDERS = {"mnist_cnn": mnist_cnn, "resnet34": resnet34}


def build(model: str) -> Any:
    """A fresh reference model: ``"mnist_cnn"`` or ``"resnet34"``."""
    if model not in BUILDERS:
        raise ValueError(f"model: expected one of {', '.join(BUILDERS)}, got {model!r}.")
    return BUILDERS[model]()


def compile_for_mnist(model: Any) -> Any:
    """Compile as the tutorial does: sparse categorical cross-entropy, Nadam, accuracy."""
    model.compile(loss="sparse_categorical_crossentropy", optimizer="nadam", metrics=["accuracy"])
    return model
