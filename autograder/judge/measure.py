"""Measure a trained model's accuracy in a fresh process that the student's kernel cannot reach.

Run as ``python -I -m autograder.judge.measure MODEL WEIGHTS.npz MODE --data FOLDER``: it builds the reference
architecture of ``MODEL`` (``mnist_cnn`` or ``resnet34``), loads the student's weights into it
(which fails if the student's model has another architecture), reads the MNIST files of
``FOLDER`` (the grader's, with the real test labels; checked against their checksums), and
prints one JSON line with everything grading needs from the weights, from one pass over the
10,000 test images and the 5,000 validation images (two where ``MODE`` is not ``inference``)::

    {"test_accuracy": 0.9843, "valid_accuracy": 0.9861, "inference_test_accuracy": 0.9843,
     "test_classes": "7210414959...", "valid_hits": "1111101111..."}

* ``test_accuracy``, ``valid_accuracy``: in ``MODE``, on the real labels (the accuracy gate's
  figures);
* ``inference_test_accuracy``, ``test_classes`` (the most probable class of each test image, one
  digit each) and ``valid_hits`` (``1`` for each validation image classified right): as
  ``evaluate`` measures, with batch normalisation's moving statistics. The judge compares a
  reported ``test_accuracy`` with these, on whichever labels the kernel had (placeholders under
  ``cnnkit grade``): the kernel is never asked to run the model over the test set again.

``MODE`` is ``inference`` (batch normalisation uses its moving statistics, as ``evaluate`` does)
or ``batch_statistics`` (each batch of 500 images is normalised by its own statistics, which
tells a working ResNet-34 from a broken one after too few steps for the moving statistics to
settle). ``-I`` keeps the student's folder and environment variables off ``sys.path``.
On an architecture that does not fit, it prints ``{"mismatch": "<first misfit>"}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MODES = ("inference", "batch_statistics")
BATCH = 500


def _images_and_labels(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of an MNIST table as the tutorial prepares them: (n, 28, 28, 1) in [0, 1], labels."""
    return (table[:, 1:].reshape(-1, 28, 28, 1) / 255).astype(np.float32), table[:, 0].astype(np.int64)


def _validation_set(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's validation set: the first 5,000 training rows."""
    import pandas as pd

    values = pd.read_csv(folder / "train.csv.gz", header=None, nrows=5000).to_numpy(dtype=np.uint8)
    return _images_and_labels(values)


def _forward(model: Any, mode: str) -> Callable[[np.ndarray], Any]:
    """``model`` applied to one batch in ``mode``. On TensorFlow, a traced graph (as ``evaluate``
    runs it, without XLA): about twice as fast as eager calls on a CPU, with the same numbers."""
    import keras

    training = mode == "batch_statistics"

    def call(batch: np.ndarray) -> Any:
        return model(batch, training=training)

    if keras.backend.backend() != "tensorflow":
        return call
    import tensorflow as tf

    return tf.function(call)


def classes(forward: Callable[[np.ndarray], Any], images: np.ndarray) -> np.ndarray:
    """The most probable class of each of ``images`` under ``forward`` (:func:`_forward`), batch
    by batch of :data:`BATCH`."""
    found = [np.asarray(forward(images[start:start + BATCH])).argmax(axis=-1)
             for start in range(0, len(images), BATCH)]
    return np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)


def accuracy(model: Any, images: np.ndarray, labels: np.ndarray, mode: str) -> float:
    """Fraction of ``images`` whose most probable class is the label."""
    return float(np.mean(classes(_forward(model, mode), images) == labels))


def measure(model_name: str, weights_path: Path, mode: str, folder: Path) -> dict[str, Any]:
    """Load the weights into the reference model and measure it on the MNIST files of ``folder``
    (the figures of the module docstring)."""
    from autograder import data, weights
    from autograder.judge import reference

    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}.")
    model = reference.build(model_name)
    model(np.zeros((1, 28, 28, 1), dtype=np.float32))
    try:
        weights.assign(model, weights.load(weights_path))
    except weights.ArchitectureMismatch as exc:
        return {"mismatch": str(exc)}
    data.verify(folder)
    test_images, test_labels = _images_and_labels(data.read_table(folder / "test.csv.gz"))
    valid_images, valid_labels = _validation_set(folder)
    # Inference first: a call with training=True (batch statistics) moves batch normalisation's
    # moving statistics, which inference reads.
    inference = _forward(model, "inference")
    test_classes = classes(inference, test_images)
    valid_hits = classes(inference, valid_images) == valid_labels
    if mode == "inference":
        test_accuracy = float(np.mean(test_classes == test_labels))
        valid_accuracy = float(np.mean(valid_hits))
    else:
        own = _forward(model, mode)
        test_accuracy = float(np.mean(classes(own, test_images) == test_labels))
        valid_accuracy = float(np.mean(classes(own, valid_images) == valid_labels))
    return {"test_accuracy": test_accuracy, "valid_accuracy": valid_accuracy,
            "inference_test_accuracy": float(np.mean(test_classes == test_labels)),
            "test_classes": "".join(map(str, test_classes.tolist())),
            "valid_hits": "".join("1" if hit else "0" for hit in valid_hits.tolist())}


def main(argv: list[str]) -> int:
    """Entry point: ``MODEL WEIGHTS MODE --data FOLDER``; prints the JSON result."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if len(argv) != 5 or argv[3] != "--data":
        print("usage: python -I -m autograder.judge.measure MODEL WEIGHTS.npz MODE --data FOLDER",
              file=sys.stderr)
        return 2
    print(json.dumps(measure(argv[0], Path(argv[1]), argv[2], Path(argv[4]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
