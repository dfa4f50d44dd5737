"""The measuring process of the accuracy gate: honest figures, beyond the kernel's reach."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from autograder import data, weights
from autograder.budget import BUDGETS
from autograder.checks import CheckFailure, observe
from autograder.judge import gate as gates
from autograder.judge import reference, withheld
from autograder.judge.namespace import KernelData, judge_namespace


def run_gate(model_name, path, mode, cwd, folder=None, env=None):
    folder = folder or data.find_mnist_dir()
    process = subprocess.run([sys.executable, "-I", "-m", "autograder.judge.measure", model_name, str(path),
                              mode, "--data", str(folder)], capture_output=True, text=True, cwd=cwd,
                             timeout=600, env=env)
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
    # The one pass gives what the check of a reported accuracy needs too: the class of each test
    # image and the hits on the validation images, as evaluate measures them.
    found = gates.Measurement.from_result(result, "mnist_cnn", "inference")
    real = data.read_table(data.find_mnist_dir() / "test.csv.gz")[:, 0]
    assert found.accuracy_on(real) == result["test_accuracy"] == result["inference_test_accuracy"]
    assert found.valid_accuracy_of_first(5000) == result["valid_accuracy"]
    assert 0.0 <= found.accuracy_on(withheld.placeholder_labels(10_000)) < 0.3


def test_another_architecture_is_reported(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    weights.save(model, tmp_path / "w.npz")
    result = run_gate("mnist_cnn", tmp_path / "w.npz", "inference", tmp_path)
    assert result == {"mismatch": "weight layer 1: expected Conv2D[(3, 3, 1, 32), (32,)], "
                                  "got Dense[(784, 10), (10,)]"}


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
    process = subprocess.run([sys.executable, "-I", "-m", "autograder.judge.measure", "mnist_cnn",
                              str(tmp_path / "w.npz"), "inference", "--data", str(fake)],
                             capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert process.returncode != 0 and "damaged or was replaced" in process.stderr


def test_a_failed_measurement_reaches_the_test_as_a_check_failure(tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    model = reference.mnist_cnn()
    with pytest.raises(gates.GateError, match="the measuring process exited with status 1"):
        gates.measure(weights.extract(model), "mnist_cnn", "inference", tmp_path)  # no MNIST here
    clean = observe.TrainingView(fits=1, samples_seen=55_000, fresh_start=True, test_overlap=0.0,
                                 weights_unchanged=True)
    monkeypatch.setattr(observe, "training", lambda name, value: clean)
    gate = gates.Gate(BUDGETS["cpu"], tmp_path)
    with pytest.raises(CheckFailure, match=r"accuracy of model: expected a measurement by the grader, "
                                           r"got none: the measuring process exited with status 1.*"
                                           r"Tell your instructor"):
        gate(model, name="model", model_kind="mnist_cnn")


@pytest.mark.parametrize("result, message", [
    ({}, "printed no accuracy"),
    ({"test_accuracy": 0.9, "valid_accuracy": 0.9, "inference_test_accuracy": 0.9,
      "test_classes": "12", "valid_hits": "1" * 5000}, "10,000 digits per image set, got 2"),
    ({"test_accuracy": 0.9, "valid_accuracy": 0.9, "inference_test_accuracy": 0.9,
      "test_classes": "x" * 10_000, "valid_hits": "1" * 5000}, "10,000 digits per image set"),
    ([1, 2], "printed no result"),
])
def test_a_malformed_measurement_is_the_graders_failure(result, message):
    with pytest.raises(gates.GateError, match=message):
        gates.Measurement.from_result(result, "mnist_cnn", "inference")


# --- one pass for the gate and the reported accuracy, whichever test comes first ---------------

REAL = np.random.default_rng(7).integers(0, 10, 10_000)
PLACEHOLDERS = withheld.placeholder_labels(10_000)


def _measurement(kind="mnist_cnn", mode="inference"):
    """A trained model's figures: 98.42 % on the real test labels; 98.80 % on the first 500
    validation images (the smoke budget's), 98.66 % on all 5,000 (the cpu budget's)."""
    classes = REAL.copy()
    classes[:158] = (REAL[:158] + 1) % 10
    hits = np.ones(5000, bool)
    hits[:6] = hits[1000:1061] = False
    return gates.Measurement(kind, mode, test_accuracy=0.9842, valid_accuracy=0.9866,
                                inference_test_accuracy=0.9842, test_classes=classes, valid_hits=hits)


@pytest.fixture
def counted(monkeypatch):
    """Measurements by the (faked) measuring process, counted; the kernel's own predictions refused."""
    calls = []

    def measure(leaves, kind, mode, truth):
        calls.append((kind, mode))
        return _measurement(kind, mode)

    def no_predictions(name, value):
        raise AssertionError("the kernel was asked to run the model over the test set")

    clean = observe.TrainingView(fits=1, samples_seen=55_000, fresh_start=True, test_overlap=0.0,
                                 weights_unchanged=True)
    monkeypatch.setattr(gates, "measure", measure)
    monkeypatch.setattr(observe, "mnist_predictions", no_predictions)
    monkeypatch.setattr(observe, "training", lambda name, value: clean)
    return calls


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    return reference.mnist_cnn()


def _reported_check(gate, labels=PLACEHOLDERS):
    return gate.reported_accuracy_check(lambda: labels)


@pytest.mark.parametrize("reported_first", [True, False])
def test_one_measurement_serves_the_gate_and_the_reported_accuracy(counted, cnn, reported_first):
    gate = gates.Gate(BUDGETS["cpu"], data.find_mnist_dir())
    reported = float(np.float32(_measurement().accuracy_on(PLACEHOLDERS)))  # as evaluate returns it
    steps = [lambda: _reported_check(gate)(reported, cnn, name="test_accuracy"),
             lambda: gate(cnn, name="model_cnn_mnist", model_kind="mnist_cnn")]
    for step in steps if reported_first else steps[::-1]:
        step()
    assert counted == [("mnist_cnn", "inference")]


def test_the_judges_checks_namespace_has_the_gates_reported_accuracy(counted, cnn):
    truth = data.find_mnist_dir()
    checks = judge_namespace(gate=gates.Gate(BUDGETS["cpu"], truth), kernel_data=KernelData(truth))["checks"]
    right = _measurement().accuracy_on(data.read_table(truth / "test.csv.gz")[:, 0])
    checks.reported_accuracy(right, cnn, name="test_accuracy")  # labels: the kernel's test file's
    with pytest.raises(CheckFailure, match="not be typed in or loaded"):
        checks.reported_accuracy(0.99, cnn, name="test_accuracy")
    assert len(counted) == 1


def _refusal(gate, value, model, labels=PLACEHOLDERS):
    with pytest.raises(CheckFailure) as caught:
        _reported_check(gate, labels)(value, model, name="test_accuracy")
    return str(caught.value)


def test_a_reported_accuracy_must_come_from_the_data_the_kernel_had(counted, cnn):
    gate = gates.Gate(BUDGETS["smoke"], data.find_mnist_dir())  # no gate minimum: still measured
    found = _measurement()
    right = found.accuracy_on(PLACEHOLDERS)
    check = _reported_check(gate)
    for close in (right, float(np.float32(right)), right + 2e-4, right - 2e-4):  # two images tipped
        check(close, cnn, name="test_accuracy")
    expected = (rf"test_accuracy: expected {right:.4f} \(the model's accuracy on the 10,000 test "
                r"images, against the labels of the test file this notebook read \(placeholders")
    message = _refusal(gate, 0.988, cnn)
    assert re.match(expected, message), message
    assert ("got 0.9880, the accuracy on the first 500 validation images (fit's val_accuracy) "
            "(0.9880). test_accuracy must come from evaluate(X_test, y_test)") in message
    assert "the accuracy on the 5,000 validation images (0.9866)" in _refusal(gate, 0.9866, cnn)
    assert "the accuracy on the test images against their real labels" in _refusal(gate, 0.9842, cnn)
    typed = _refusal(gate, 0.99, cnn)
    assert re.match(expected, typed) and typed.endswith(
        "got 0.9900. test_accuracy must come from evaluate(X_test, y_test) on the trained model, not "
        "be typed in or loaded, nor measured on other data (the training or validation set, fit's "
        "history): on the same weights and images, evaluate agrees to within 0.00025.")
    assert f"got 0.{round((right + 5e-4) * 1e4):04d}." in _refusal(gate, right + 5e-4, cnn)


def test_with_the_real_labels_in_the_kernel_the_validation_accuracy_is_still_refused(counted, cnn):
    gate = gates.Gate(BUDGETS["cpu"], data.find_mnist_dir())
    _reported_check(gate, REAL)(0.9842, cnn, name="test_accuracy")
    message = _refusal(gate, 0.9866, cnn, REAL)  # 2.4 images from the test accuracy, on validation
    assert ("the accuracy on the first 5,000 validation images (fit's val_accuracy) (0.9866)"
            in message), message


def test_a_model_of_another_architecture_is_not_measured(counted):
    dense = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    message = _refusal(gates.Gate(BUDGETS["cpu"], data.find_mnist_dir()), 0.9, dense)
    assert message.startswith("weights of the model behind test_accuracy: expected those of the "
                              "tutorial's MNIST CNN or ResNet-34, got 1 weight layer(s), beginning with "
                              "Dense[(784, 10), (10,)]. The grader measures your trained weights in "
                              "the assignment's architecture"), message
    assert counted == []


def test_under_grading_the_kernel_is_never_asked_to_run_the_model_over_the_test_set(counted):
    from support.kernel import LiveKernel

    from autograder.judge.verdict import run_test

    truth = data.find_mnist_dir()
    namespace = judge_namespace(gate=gates.Gate(BUDGETS["cpu"], truth), kernel_data=KernelData(truth))
    right = _measurement().accuracy_on(data.read_table(truth / "test.csv.gz")[:, 0])
    test = ('checks.reported_accuracy(test_accuracy, model, name="test_accuracy",\n'
            '                         labels=data.mnist_table("test.csv.gz")[:, 0])')
    kernel = LiveKernel(timeout=120)
    try:
        # The kernel's model cannot predict: a check that asked it to would fail.
        kernel.run("import numpy as np, keras\nfrom autograder.judge import reference\n"
                   "keras.utils.set_random_seed(0)\nmodel = reference.mnist_cnn()\n"
                   "keras.Model.predict = lambda *a, **k: 1 / 0\n"
                   f"test_accuracy = np.float32({right!r})")
        assert run_test(test, "<test>", namespace, kernel.channel).outputs == []
        kernel.run("test_accuracy = 0.99")
        [failed] = run_test(test, "<test>", namespace, kernel.channel).outputs
        assert failed["ename"] == "CheckFailure" and "not be typed in or loaded" in failed["evalue"]
    finally:
        kernel.close()
    assert counted == [("mnist_cnn", "inference")]
