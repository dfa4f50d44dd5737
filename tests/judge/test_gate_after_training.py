"""The gate measures the model as the training cell left it: the judge keeps the weights the
training test found and compares them with the weights it measures, whatever the kernel's record
says. In process, with a small model and the measuring process replaced by a fixed figure."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from support.training import guarded

from autograder import data
from autograder.budget import BUDGETS
from autograder.checks import observe
from autograder.checks.failure import CheckFailure
from autograder.judge import gate as gate_module
from autograder.judge.gate import Gate, Measurement


@pytest.fixture(autouse=True)
def guard():
    with guarded():
        yield


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every set of leaves the gate sends to be measured; each measures 0.99 on both sets."""
    sent: list = []

    def measure(leaves, model_kind, mode, truth):
        sent.append(leaves)
        return Measurement(model_kind, mode, test_accuracy=0.99, valid_accuracy=0.99,
                           inference_test_accuracy=0.99)

    monkeypatch.setattr(gate_module, "measure", measure)
    return sent


def _trained_model() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 64)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="nadam")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    return model, x, y


def _forge_record(monkeypatch: pytest.MonkeyPatch, *, digest: str | None = None) -> None:
    """What a notebook can do to the kernel's side: a training report that always says the
    weights are still those of the last fit (and, given ``digest``, that they are those)."""
    real = observe.live_training

    def forged(model):
        found = real(model)
        changes = {"weights_unchanged": True, **({"digest": digest} if digest is not None else {})}
        return dataclasses.replace(found, **changes) if found else found

    monkeypatch.setattr(observe, "live_training", forged)


@pytest.mark.parametrize("budget", ["smoke", "cpu"])
def test_unchanged_weights_pass(budget: str, measured: list) -> None:
    model, _, _ = _trained_model()
    gate = Gate(BUDGETS[budget], data.find_mnist_dir())
    gate.trained_check()(model, name="model_cnn_mnist")
    model.evaluate(np.zeros((4, 28, 28, 1), "float32"), np.zeros(4), verbose=0)
    gate(model, name="model_cnn_mnist", model_kind="mnist_cnn")
    assert len(measured) == (1 if budget == "cpu" else 0)


@pytest.mark.parametrize("budget", ["smoke", "cpu"])
def test_training_by_hand_after_the_training_test_fails_though_the_record_is_forged(
        budget: str, measured: list, monkeypatch: pytest.MonkeyPatch) -> None:
    model, x, y = _trained_model()
    gate = Gate(BUDGETS[budget], data.find_mnist_dir())
    gate.trained_check()(model, name="model_cnn_mnist")
    _forge_record(monkeypatch)
    model.train_on_batch(x[:32], y[:32])  # not through fit: the record never hears of it
    assert observe.training("model_cnn_mnist", model).weights_unchanged
    with pytest.raises(CheckFailure, match=r"^weights of model_cnn_mnist after the training cell: "
                                           r"expected unchanged, got other weights\. Do not load, "
                                           r"edit or train the weights after the training cell"):
        gate(model, name="model_cnn_mnist", model_kind="mnist_cnn")


def test_a_forged_digest_does_not_hide_the_weights_the_judge_measures(
        measured: list, monkeypatch: pytest.MonkeyPatch) -> None:
    model, x, y = _trained_model()
    gate = Gate(BUDGETS["cpu"], data.find_mnist_dir())
    gate.trained_check()(model, name="model_cnn_mnist")
    after_training = observe.training("model_cnn_mnist", model).digest
    # The report now claims both the fit's weights and their digest; the leaves tell the truth.
    _forge_record(monkeypatch, digest=after_training)
    model.train_on_batch(x[:32], y[:32])
    with pytest.raises(CheckFailure, match="after the training cell: expected unchanged"):
        gate(model, name="model_cnn_mnist", model_kind="mnist_cnn")
    assert len(measured) == 1, "the judge's own reading of the weights decided"


def test_without_a_training_test_the_kernel_record_still_decides(measured: list) -> None:
    model, x, y = _trained_model()
    gate = Gate(BUDGETS["smoke"], data.find_mnist_dir())
    model.train_on_batch(x[:32], y[:32])
    with pytest.raises(CheckFailure, match="after its last fit: expected unchanged"):
        gate(model, name="model_cnn_mnist", model_kind="mnist_cnn")


@pytest.mark.parametrize("hidden", ["no digest", "no record"])
def test_a_record_that_hides_the_weights_at_the_training_test_does_not_escape_the_gate(
        hidden: str, measured: list, monkeypatch: pytest.MonkeyPatch) -> None:
    model, x, y = _trained_model()
    gate = Gate(BUDGETS["cpu"], data.find_mnist_dir())
    real = observe.live_training
    monkeypatch.setattr(observe, "live_training", lambda m: (
        None if hidden == "no record" else dataclasses.replace(real(m), digest="")))
    gate.trained_check()(model, name="model_cnn_mnist")  # the optimizer's steps still pass it
    monkeypatch.setattr(observe, "live_training", lambda m: dataclasses.replace(
        real(m), weights_unchanged=True))
    model.train_on_batch(x[:32], y[:32])
    with pytest.raises(CheckFailure, match="after the training cell: expected unchanged"):
        gate(model, name="model_cnn_mnist", model_kind="mnist_cnn")
