"""The measuring process of the accuracy gate: honest figures, beyond the kernel's reach."""

import json
import subprocess
import sys

import keras

from autograder.judge import reference

from autograder import weights


def run_gate(model_name, path, mode, cwd):
    process = subprocess.run([sys.executable, "-I", "-m", "autograder.judge.gate", model_name, str(path), mode],
                             capture_output=True, text=True, cwd=cwd, timeout=600)
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
