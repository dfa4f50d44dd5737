"""The MNIST folder a graded kernel sees: the real images, the test labels withheld.

Under ``cnnkit grade`` the sandboxed kernel reads its MNIST files from a copy made here:
``train.csv.gz`` as it is, and ``test.csv.gz`` with the same 10,000 images but placeholder labels
(one fixed pseudo-random digit per image, the same for every student), with a ``SHA256SUMS`` of
its own so that the notebook's ``data.mnist_dir()`` checks pass. The notebook runs unchanged:
``X_test`` holds the real test images and ``evaluate`` runs, but on the placeholders, so the
accuracy it prints there means nothing, and no route of training on the test labels exists in
the kernel. The judge measures the trained weights on the real labels, outside
(:mod:`autograder.judge.gate`), and on these placeholders too, for the check that the
``test_accuracy`` a notebook reports is what ``evaluate`` measured on the data the kernel had.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import tempfile
from pathlib import Path

import numpy as np

from autograder import data, settings

#: The seed of the placeholder labels.
PLACEHOLDER_SEED = 20260101


def placeholder_labels(count: int) -> np.ndarray:
    """The labels that stand in for the real ones: ``count`` digits, fixed, uniform."""
    return np.random.default_rng(PLACEHOLDER_SEED).integers(0, 10, count).astype(np.uint8)


def _csv_gz(table: np.ndarray) -> bytes:
    """``table`` as the tutorial's gzipped CSV, byte for byte the same on every run."""
    text = io.StringIO()
    np.savetxt(text, table, fmt="%d", delimiter=",")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=6) as handle:
        handle.write(text.getvalue().encode("ascii"))
    return buffer.getvalue()


def kernel_view(truth: Path, cache: Path) -> Path:
    """The folder of MNIST files for graded kernels, made once in ``cache`` from the checked
    folder ``truth``; readable by any user (the sandbox's user is not the grader)."""
    data.verify(truth)
    sums = data.expected_checksums(truth)
    key = hashlib.sha256(f"{sums['train.csv.gz']}:{sums['test.csv.gz']}:{PLACEHOLDER_SEED}"
                         .encode()).hexdigest()[:16]
    folder = cache / f"mnist-withheld-{key}"
    if (folder / data.CHECKSUMS_FILE).is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache))
    shutil.copyfile(truth / "train.csv.gz", partial / "train.csv.gz")
    table = data.read_table(truth / "test.csv.gz")
    table[:, 0] = placeholder_labels(len(table))
    (partial / "test.csv.gz").write_bytes(_csv_gz(table))
    lines = [f"{data.sha256(partial / name)}  {name}" for name in data.MNIST_FILES]
    (partial / data.CHECKSUMS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return settings.publish(partial, folder)


def are_placeholders(labels: np.ndarray) -> bool:
    """Whether ``labels`` are the placeholder labels of a kernel's test file (:func:`kernel_view`),
    not the real ones."""
    labels = np.asarray(labels).reshape(-1)
    return bool(np.array_equal(labels, placeholder_labels(len(labels))))
