"""The module's data: the MNIST CSV files and the two sample images.

The MNIST files ship with the kit in the tutorial's CSV layout (label, then 784 pixels; no header),
gzipped, with their SHA-256 checksums. :func:`mnist_dir` finds them, checks them, and returns the
folder as the tutorial's ``path`` string, to which a notebook adds a file name::

    path = data.mnist_dir()      # ".../mnist/"; the files are path + "train.csv.gz" and "test.csv.gz"
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import settings
from autograder.errors import BadInput

if TYPE_CHECKING:
    import numpy as np

#: Environment variable that points the kit at another folder holding the MNIST files.
DATA_DIR_ENV = settings.DATA_DIR.name

MNIST_FILES = ("train.csv.gz", "test.csv.gz")
CHECKSUMS_FILE = "SHA256SUMS"

_verified: set[tuple[str, int, float]] = set()


class DataError(BadInput, RuntimeError):
    """A data file is missing or damaged; the message names it and how to restore it."""


def candidate_dirs() -> list[Path]:
    """Where the MNIST folder is looked for, in order.

    1. ``$CNNKIT_DATA_DIR``, if set;
    2. ``data/mnist`` of the repository the package lives in (a clone or an editable install);
    3. ``_data/mnist`` inside the package (the student distribution carries the files there);
    4. ``<prefix>/share/cnn-course-kit/mnist``, where ``pip install`` of the course kit puts it.
    """
    dirs = []
    if settings.DATA_DIR.get():
        dirs.append(Path(settings.DATA_DIR.get()))
    dirs.append(Path(__file__).resolve().parent.parent / "data" / "mnist")
    dirs.append(Path(__file__).resolve().parent / "_data" / "mnist")
    dirs.append(Path(sys.prefix) / "share" / "cnn-course-kit" / "mnist")
    return dirs


def _restore_hint() -> str:
    return ("Restore it from the course repository (git checkout -- data/mnist) or reinstall the "
            "kit (pip install --force-reinstall cnn-course-kit).")


def find_mnist_dir() -> Path:
    """The first candidate folder that holds the checksum file, or a :class:`DataError`."""
    for folder in candidate_dirs():
        if (folder / CHECKSUMS_FILE).is_file():
            return folder
    looked = ", ".join(str(d) for d in candidate_dirs())
    raise DataError(f"MNIST data folder: expected {CHECKSUMS_FILE} and {' and '.join(MNIST_FILES)} "
                    f"in one of: {looked}; found none. {_restore_hint()} Or set "
                    f"{DATA_DIR_ENV} to a folder that holds them.")


def expected_checksums(folder: Path) -> dict[str, str]:
    """The SHA-256 sums listed in ``folder/SHA256SUMS``, by file name."""
    sums = {}
    for line in (folder / CHECKSUMS_FILE).read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name.lstrip("*")] = digest
    return sums


def sha256(path: Path) -> str:
    """The SHA-256 of a file, as a hex string (read by :func:`hashlib.file_digest`)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify(folder: Path) -> None:
    """Check every MNIST file of ``folder`` against its listed checksum.

    A file already checked, unchanged since (same size and modification time), is not read again.
    """
    sums = expected_checksums(folder)
    for name in MNIST_FILES:
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path}: expected the MNIST file {name}, found no such file. "
                            f"{_restore_hint()}")
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime)
        if key in _verified:
            continue
        got = sha256(path)
        if got != sums.get(name):
            raise DataError(f"{path}: expected SHA-256 {sums.get(name)}, got {got}: the file is "
                            f"damaged or was replaced. {_restore_hint()}")
        _verified.add(key)


def mnist_dir() -> str:
    """The checked MNIST folder as a string ending in ``/``, the tutorial's ``path``."""
    folder = find_mnist_dir()
    verify(folder)
    return str(folder) + os.sep


def mnist_file(name: str) -> Path:
    """The checked path of one MNIST file, ``"train.csv.gz"`` or ``"test.csv.gz"``."""
    if name not in MNIST_FILES:
        raise ValueError(f"MNIST file name: expected one of {MNIST_FILES}, got {name!r}.")
    return Path(mnist_dir()) / name


def read_table(path: Path) -> np.ndarray:
    """An MNIST CSV file as the tutorial's layout has it: one row per image, the label then the
    784 pixels, as an array of shape (rows, 785) and dtype uint8."""
    import numpy as np
    import pandas as pd

    return pd.read_csv(path, header=None).to_numpy(dtype=np.uint8)


def mnist_table(name: str) -> np.ndarray:
    """The checked MNIST file ``name`` (``"train.csv.gz"`` or ``"test.csv.gz"``) as
    :func:`read_table` reads it: (60000, 785) or (10000, 785), uint8."""
    return read_table(mnist_file(name))


def load_mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The MNIST test set as the tutorial prepares it: images (10000, 28, 28, 1) in [0, 1]
    (float32) and labels (10000,) (int64). Used by the kit's own accuracy checks."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(mnist_file("test.csv.gz"), header=None)
    values = frame.to_numpy()
    images = (values[:, 1:].reshape(-1, 28, 28, 1) / 255).astype(np.float32)
    return images, values[:, 0].astype(np.int64)
