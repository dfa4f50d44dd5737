"""The accuracy gate: points for a trained model only when it reaches the budget's minimum test
accuracy, measured honestly.

The gate does not trust the kernel. It reads the training record that the kit's ``fit`` wrapper
kept (budget respected, fresh start, no test images, weights unchanged since), then sends the
weights to a fresh Python process (``autograder.judge.gate``) that rebuilds the reference architecture,
reads the MNIST files itself and measures the accuracy, beyond the reach of anything the student's
code patched in this kernel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from autograder import budget as budgets
from autograder import training_guard, weights
from autograder.checks.failure import CheckFailure

#: Seconds the measuring process may take.
GATE_TIMEOUT = 900

GENERIC_CAUSE = ("Check the data (pixels / 255, labels in the same order as the images), the "
                 "activations (relu inside, softmax on the last layer), and that fit trains on "
                 "X_train[:TRAINING.train_images] for TRAINING.epochs epochs.")


def _training_problem(model: Any, name: str) -> training_guard.Problem | None:
    """Why the kernel's training record disqualifies ``model``, or ``None``."""
    record = training_guard.record_of(model)
    if record is None or not record.fits:
        if record is not None and record.refused:
            return record.refused[-1]
        return (f"training of {name}", f"a {name}.fit(...) in this notebook", "none",
                "Train the model you evaluate; weights from anywhere else earn no points.")
    if not all(f.fresh_start for f in record.fits):
        return (f"weights of {name} when fit began", "freshly initialised weights",
                "weights that were loaded or set beforehand", "Build the model, then train it here.")
    overlap = max(f.test_overlap for f in record.fits)
    if overlap > 0.001:
        return (f"training images of {name}", "none from the test set", f"{overlap:.1%} MNIST test images",
                "Train on X_train only; the test set measures the model.")
    if weights.digest(model) != record.fits[-1].digest_after:
        return (f"weights of {name} after its last fit", "unchanged", "other weights",
                "Do not load or edit weights after training.")
    return None


def _measure(model: Any, model_kind: str, mode: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cnnkit-gate-") as folder:
        path = Path(folder) / "weights.npz"
        weights.save(model, path)
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        process = subprocess.run([sys.executable, "-I", "-m", "autograder.judge.gate", model_kind, str(path), mode],
                                 capture_output=True, text=True, timeout=GATE_TIMEOUT, env=env,
                                 cwd=folder, stdin=subprocess.DEVNULL)
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        tail = (process.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"the kit's accuracy measurement failed (exit {process.returncode}): {tail}")
    return json.loads(lines[-1])


def accuracy_gate(model: Any, *, name: str, model_kind: str) -> None:
    """``model`` was trained here within the budget and reaches the budget's minimum accuracy on
    the 10,000 MNIST test images, measured in a separate process.

    Under a budget without a minimum (the kit's own ``smoke`` budget) only the training record
    is checked.
    """
    budget = budgets.current()
    training = budget.training(model_kind)
    problem = _training_problem(model, name)
    if problem:
        raise CheckFailure(*problem)
    if training.min_test_accuracy is None:
        return
    result = _measure(model, model_kind, training.accuracy_mode)
    if "mismatch" in result:
        raise CheckFailure(f"architecture of {name}", "the tutorial's layers, with their weights",
                           result["mismatch"], "Build the network exactly as the assignment asks.")
    test, valid = result["test_accuracy"], result["valid_accuracy"]
    mode = "" if training.accuracy_mode == "inference" else ", batch statistics"
    if test < training.min_test_accuracy:
        raise CheckFailure(f"accuracy of {name} on the 10,000 MNIST test images (your trained weights "
                           f"in the assignment's architecture{mode})",
                           f"at least {training.min_test_accuracy:.4f} under the '{budget.name}' budget",
                           f"{test:.4f}", _cause(model, training))
    if test - valid > budgets.MAX_TEST_OVER_VALID:
        raise CheckFailure(f"accuracy of {name} on the test images minus the validation images",
                           f"at most {budgets.MAX_TEST_OVER_VALID:.4f}", f"{test - valid:.4f} "
                           f"(test {test:.4f}, validation {valid:.4f})",
                           "A model that does much better on the test set than on unseen validation "
                           "images has trained on the test set.")


def _cause(model: Any, training: budgets.Training) -> str:
    record = training_guard.record_of(model)
    if record is not None and record.samples_seen < training.epochs * training.train_images // 2:
        return (f"It trained on {record.samples_seen:,} images in all (epochs x images), where the "
                f"budget allows {training.epochs * training.train_images:,}: use "
                "X_train[:TRAINING.train_images] and epochs=TRAINING.epochs. " + GENERIC_CAUSE)
    return GENERIC_CAUSE

