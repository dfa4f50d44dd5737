"""The names a test cell finds in the judge.

A test cell is written as it would run in the student's kernel (``checks.close("X", X,
data.mnist_table("train.csv.gz")[:, 1:] / 255)``). In the judge, the names the notebook's setup
cell imports resolve to trusted equivalents built here, and only the student's own variables
come from the kernel (:mod:`autograder.judge.verdict`):

* ``checks``: the kit's checks, plus ``accuracy_gate``, which only the judge can run (``trained``
  also keeps the weights it found for the gate);
* ``np``, ``specs``: NumPy and the kit's model specs;
* ``data``: the MNIST files *as the kernel was given them* (test labels withheld under
  ``cnnkit grade``), read by the judge from the grader's own copy;
* ``load_sample_image``: scikit-learn's two sample images, read from its package files with
  Pillow, as scikit-learn does, without importing scikit-learn;
* ``keras``, ``tf``, ``tensorflow``, ``layers``: stand-ins that answer ``isinstance`` and
  ``issubclass`` from what the kernel reports (:mod:`autograder.judge.keras_names`).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

from autograder import checks, data, specs
from autograder.judge.gate import Gate
from autograder.judge.keras_names import stand_ins


class KernelData:
    """The MNIST files the student's kernel reads, for the tests: the same API as the kernel's
    ``autograder.data`` for what tests use, read from ``folder`` and kept as ``.npy`` in ``cache``
    (parsing a CSV costs seconds; loading the array, milliseconds)."""

    def __init__(self, folder: Path, cache: Path | None = None) -> None:
        self.folder = Path(folder)
        self.cache = Path(cache) if cache is not None else None
        self._tables: dict[str, np.ndarray] = {}

    def mnist_table(self, name: str) -> np.ndarray:
        """The file ``name`` as (rows, 785) uint8, labels first (:func:`autograder.data.read_table`)."""
        if name not in data.MNIST_FILES:
            raise ValueError(f"MNIST file name: expected one of {data.MNIST_FILES}, got {name!r}.")
        if name not in self._tables:
            self._tables[name] = self._load(name)
        return self._tables[name]

    def _load(self, name: str) -> np.ndarray:
        data.verify(self.folder)
        digest = data.expected_checksums(self.folder)[name]
        stored = self.cache / f"mnist-{digest}.npy" if self.cache is not None else None
        if stored is not None and stored.is_file():
            try:
                return np.load(stored, allow_pickle=False)
            except (OSError, ValueError):
                pass
        table = data.read_table(self.folder / name)
        if stored is not None:
            stored.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(prefix=f".{stored.name}.", dir=stored.parent)
            with os.fdopen(handle, "wb") as file:
                np.save(file, table, allow_pickle=False)
            os.replace(partial, stored)
        return table


def sample_image(image_name: str) -> np.ndarray:
    """``sklearn.datasets.load_sample_image(image_name)``: (427, 640, 3) uint8, without importing
    scikit-learn (its import costs about a second)."""
    from PIL import Image

    if image_name not in ("china.jpg", "flower.jpg"):
        raise ValueError(f"sample image: expected 'china.jpg' or 'flower.jpg', got {image_name!r}.")
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-learn is not installed: the sample images come with it.")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "images" / image_name
    with Image.open(path) as image:
        return np.array(image)


def judge_namespace(*, gate: Gate, kernel_data: KernelData) -> dict[str, Any]:
    """The names a test cell resolves in the judge (see the module docstring)."""
    judged = {name: getattr(checks, name) for name in checks.__all__}
    judged["accuracy_gate"] = gate
    # The weights right after the training cell, as the training test finds them, are what the
    # gate must measure later.
    judged["trained"] = gate.trained_check()
    # A reported test accuracy is checked against the gate's one pass over the trained weights, on
    # the labels the kernel had, never by having the kernel run the model over the test set again.
    judged["reported_accuracy"] = gate.reported_accuracy_check(
        lambda: kernel_data.mnist_table("test.csv.gz")[:, 0])
    return {"checks": types.SimpleNamespace(**judged), "np": np, "specs": specs, "data": kernel_data,
            "load_sample_image": sample_image, **stand_ins()}
