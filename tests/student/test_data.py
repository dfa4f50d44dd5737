"""The MNIST files: found, verified, and a clear error when one is missing or damaged."""

import shutil

import pytest

from autograder import data
from autograder.data import DataError


def test_the_shipped_files_verify(repo):
    path = data.mnist_dir()
    assert path.endswith("/")
    assert data.find_mnist_dir() == repo / "data" / "mnist"


def test_the_test_set_loads_as_the_tutorial_prepares_it():
    images, labels = data.load_mnist_test()
    assert images.shape == (10000, 28, 28, 1) and labels.shape == (10000,)
    assert images.min() >= 0 and images.max() <= 1
    # The genuine MNIST test set (data/mnist/README.md): label counts and mean pixel value.
    assert [int((labels == d).sum()) for d in range(10)] == [980, 1135, 1032, 1010, 982, 892, 958,
                                                             1028, 974, 1009]
    assert abs(images.mean() * 255 - 33.7912) < 1e-3


@pytest.fixture
def copy_of_data(repo, tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    shutil.copytree(repo / "data" / "mnist", folder)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    return folder


def test_a_damaged_file_is_named_with_the_fix(copy_of_data):
    with (copy_of_data / "test.csv.gz").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0\0\0\0")
    with pytest.raises(DataError, match=r"test.csv.gz: expected SHA-256 1e89636b.*got [0-9a-f]{64}: the "
                                        r"file is damaged or was replaced\. Restore it"):
        data.mnist_dir()


def test_a_missing_file_is_named_with_the_fix(copy_of_data):
    (copy_of_data / "train.csv.gz").unlink()
    with pytest.raises(DataError, match=r"train.csv.gz: expected the MNIST file train.csv.gz, found no "
                                        r"such file\. Restore it from the course repository"):
        data.mnist_dir()


def test_no_data_folder_anywhere(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "candidate_dirs", lambda: [tmp_path / "nowhere"])
    with pytest.raises(DataError, match=r"MNIST data folder: expected SHA256SUMS .* found none"):
        data.mnist_dir()


def test_unknown_file_name():
    with pytest.raises(ValueError, match="MNIST file name: expected one of"):
        data.mnist_file("train.csv")


def test_an_installed_kit_carries_the_data(repo, monkeypatch, tmp_path):
    """`pip install` puts data/mnist under <prefix>/share/cnn-course-kit/mnist (pyproject's
    data-files), and the kit looks there when it is not in a clone."""
    import sys
    import tomllib

    config = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["data-files"]["share/cnn-course-kit/mnist"]
    assert {"data/mnist/SHA256SUMS", "data/mnist/train.csv.gz", "data/mnist/test.csv.gz"} <= set(shipped)
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    assert data.candidate_dirs()[-1] == tmp_path / "share" / "cnn-course-kit" / "mnist"
