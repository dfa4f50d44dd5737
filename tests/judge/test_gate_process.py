"""The measuring process of the accuracy gate: honest figures, beyond the kernel's reach."""

import json
import subprocess
import sys

import keras

from autograder import data, weights
from autograder.judge import reference


def run_gate(model_name, path, mode, cwd, folder=None, env=None):
    folder = folder or data.find_mnist_dir()
    process = subprocess.run([sys.executable, "-I", "-m", "autograder.judge.gate", model_name, str(path), mode,
                              "--data", str(folder)], capture_output=True, text=True, cwd=cwd, timeout=600,
                             env=env)
    assert process.returncode == 0, process.stderr[-2000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def test_an_untrained_cnn_measures_near_chance_even_beside_a_fake_kit(tmp_path):
    fake = tmp_path / "autograder"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise SystemExit('the fake kit was imported')\n")
    keras.utils.set_random_seed(0)
    weights.save(reference.mnist_cnn(), tmp_path / "w.npz")
    result = run_gate("mnist_cnn", tmp_path / "w.npz", "inference", tmp_path)
    assert 0.0 <= result["test_accuracy"] < 0.3 and 0.0 <= result["valid_accuracy"] < 0.3


def test_another_architecture_is_reported(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    weights.save(model, tmp_path / "w.npz")
    result = run_gate("mnist_cnn", tmp_path / "w.npz", "inference", tmp_path)
    assert result == {"mismatch": "weight layer 1: expected Conv2D[(3, 3, 1, 32), (32,)], got Dense[(784, 10), (10,)]"}


def test_the_gate_reads_the_folder_it_is_given_not_the_environment(tmp_path):
    import os
    import shutil

    fake = tmp_path / "fake"
    shutil.copytree(data.find_mnist_dir(), fake)
    (fake / "test.csv.gz").write_bytes(b"not the test set")
    env = dict(os.environ, CNNKIT_DATA_DIR=str(fake))
    keras.utils.set_random_seed(0)
    weights.save(reference.mnist_cnn(), tmp_path / "w.npz")
    assert "test_accuracy" in run_gate("mnist_cnn", tmp_path / "w.npz", "inference", tmp_path, env=env)
    process = subprocess.run([sys.executable, "-I", "-m", "autograder.judge.gate", "mnist_cnn",
                              str(tmp_path / "w.npz"), "inference", "--data", str(fake)],
                             capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert process.returncode != 0 and "damaged or was replaced" in process.stderr


def test_a_failed_measurement_reaches_the_test_as_a_check_failure(tmp_path, monkeypatch):
    import pytest

    from autograder.budget import BUDGETS
    from autograder.checks import CheckFailure, observe
    from autograder.judge import accuracy

    keras.utils.set_random_seed(0)
    model = reference.mnist_cnn()
    with pytest.raises(accuracy.GateError, match="the measuring process exited with status 1"):
        accuracy.measure(weights.extract(model), "mnist_cnn", "inference", tmp_path)  # no MNIST here
    clean = observe.TrainingView(fits=1, samples_seen=55_000, fresh_start=True, test_overlap=0.0,
                                 weights_unchanged=True)
    monkeypatch.setattr(observe, "training", lambda name, value: clean)
    gate = accuracy.Gate(BUDGETS["cpu"], tmp_path)
    with pytest.raises(CheckFailure, match=r"accuracy of model: expected a measurement by the grader, "
                                           r"got none: the measuring process exited with status 1.*"
                                           r"Tell your instructor"):
        gate(model, name="model", model_kind="mnist_cnn")
