"""Measure a trained model's accuracy in a fresh process that the student's kernel cannot reach.

Run as ``python -I -m autograder.judge.gate MODEL WEIGHTS.npz MODE --data FOLDER``: it builds the reference
architecture of ``MODEL`` (``mnist_cnn`` or ``resnet34``), loads the student's weights into it
(which fails if the student's model has another architecture), reads the MNIST files of
``FOLDER`` (the grader's, with the real test labels; checked against their checksums), and
prints one JSON line::

    {"test_accuracy": 0.9843, "valid_accuracy": 0.9861}

``MODE`` is ``inference`` (batch normalisation uses its moving statistics, as ``evaluate`` does)
or ``batch_statistics`` (each batch of 500 images is normalised by its own statistics, which
tells a working ResNet-34 from a broken one after too few steps for the moving statistics to
settle). ``-I`` keeps the student's folder and environment variables off ``sys.path``.
On an architecture that does not fit, it prints ``{"mismatch": "<first misfit>"}``.
"""

from __future__ import annotations

import json
import sys
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


def accuracy(model: Any, images: np.ndarray, labels: np.ndarray, mode: str) -> float:
    """Fraction of ``images`` whose most probable class is the label."""
    correct = 0
    for start in range(0, len(images), BATCH):
        batch = images[start:start + BATCH]
        probabilities = np.asarray(model(batch, training=(mode == "batch_statistics")))
        correct += int(np.sum(probabilities.argmax(axis=-1) == labels[start:start + BATCH]))
    return correct / len(images)


def measure(model_name: str, weights_path: Path, mode: str, folder: Path) -> dict[str, Any]:
    """Load the weights into the reference model and measure test and validation accuracy on
    the MNIST files of ``folder``."""
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
    return {"test_accuracy": accuracy(model, test_images, test_labels, mode),
            "valid_accuracy": accuracy(model, valid_images, valid_labels, mode)}


def main(argv: list[str]) -> int:
    """Entry point: ``MODEL WEIGHTS MODE --data FOLDER``; prints the JSON result."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if len(argv) != 5 or argv[3] != "--data":
        print("usage: python -I -m autograder.judge.gate MODEL WEIGHTS.npz MODE --data FOLDER",
              file=sys.stderr)
        return 2
    print(json.dumps(measure(argv[0], Path(argv[1]), argv[2], Path(argv[4]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
