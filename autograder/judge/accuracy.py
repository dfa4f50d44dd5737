"""The accuracy gate: points for a trained model only when it reaches the budget's minimum test
accuracy, measured by the judge on labels the student's kernel never holds.

Only the judge runs it. The budget comes from the grader (``JudgedExecute.budget``), never from
the kernel's environment; the weights are taken from the kernel as plain arrays (an observation)
and measured in a fresh process (``python -I -m autograder.judge.gate``) that builds the
assignment's reference architecture and reads the grader's own MNIST files. Under ``cnnkit
grade`` the kernel's copy of ``test.csv.gz`` holds placeholder labels, so no route of training
on the test labels exists in the kernel; the training record the kit's ``fit`` wrapper kept
there is still read, as an observation that can only cost points.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import budget as budgets
from autograder import weights
from autograder.checks import observe
from autograder.checks.failure import CheckFailure
from autograder.checks.observe import TrainingView

#: Seconds the measuring process may take.
GATE_TIMEOUT = 900

GENERIC_CAUSE = ("Check the data (pixels / 255, labels in the same order as the images), the "
                 "activations (relu inside, softmax on the last layer), and that fit trains on "
                 "X_train[:TRAINING.train_images] for TRAINING.epochs epochs.")

#: A reason a training run is disqualified: (what, expected, got, likely cause).
Problem = tuple[str, str, str, str]


def training_problem(record: TrainingView | None, name: str) -> Problem | None:
    """Why the kernel's training record disqualifies the model, or ``None``."""
    if record is None or not record.fits:
        if record is not None and record.refused:
            return record.refused[-1]
        return (f"training of {name}", f"a {name}.fit(...) in this notebook", "none",
                "Train the model you evaluate; weights from anywhere else earn no points.")
    if not record.fresh_start:
        return (f"weights of {name} when fit began", "freshly initialised weights",
                "weights that were loaded or set beforehand", "Build the model, then train it here.")
    if record.test_overlap > 0.001:
        return (f"training images of {name}", "none from the test set",
                f"{record.test_overlap:.1%} MNIST test images",
                "Train on X_train only; the test set measures the model.")
    if not record.weights_unchanged:
        return (f"weights of {name} after its last fit", "unchanged", "other weights",
                "Do not load or edit weights after training.")
    return None


class GateError(RuntimeError):
    """The measuring process failed; the message says how."""


def measure(leaves: list, model_kind: str, mode: str, truth: Path) -> dict[str, Any]:
    """Measure ``leaves`` in the reference ``model_kind`` on the MNIST files in ``truth``."""
    with tempfile.TemporaryDirectory(prefix="cnnkit-gate-") as folder:
        path = Path(folder) / "weights.npz"
        weights.save_leaves(leaves, path)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PYTHON", "CNNKIT_"))}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        try:
            process = subprocess.run(
                [sys.executable, "-I", "-m", "autograder.judge.gate", model_kind, str(path), mode,
                 "--data", str(truth)], capture_output=True, text=True, timeout=GATE_TIMEOUT,
                env=env, cwd=folder, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise GateError(f"the measurement took longer than {GATE_TIMEOUT} s") from None
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        tail = (process.stderr.strip().splitlines() or ["no output"])[-1]
        raise GateError(f"the measuring process exited with status {process.returncode}: {tail}")
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        raise GateError("the measuring process printed no result") from None


@dataclass
class Gate:
    """``checks.accuracy_gate`` in the judge, bound to the grader's budget and MNIST folder."""

    budget: budgets.Budget
    """The budget the grader chose."""
    truth: Path
    """The grader's MNIST folder, with the real test labels."""
    _measured: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    def __call__(self, model: Any, *, name: str, model_kind: str) -> None:
        """``model`` was trained in the notebook within the budget and reaches the budget's
        minimum accuracy on the 10,000 MNIST test images.

        Under a budget without a minimum (the kit's own ``smoke`` budget) only the training
        record is checked.
        """
        training = self.budget.training(model_kind)
        record = observe.training(name, model)
        problem = training_problem(record, name)
        if problem:
            raise CheckFailure(*problem)
        if training.min_test_accuracy is None:
            return
        try:
            leaves = observe.leaves(name, model)
        except observe.ObservedError as exc:
            raise CheckFailure(f"weights of {name}", "the trained weights", f"{exc.kind}: {exc.message}",
                               "Build the network exactly as the assignment asks.") from None
        key = (weights.leaves_digest(leaves), model_kind, training.accuracy_mode)
        if key not in self._measured:
            try:
                self._measured[key] = measure(leaves, model_kind, training.accuracy_mode, self.truth)
            except GateError as exc:
                raise CheckFailure(f"accuracy of {name}", "a measurement by the grader",
                                   f"none: {exc}", "Tell your instructor: the grader failed, "
                                   "not your notebook.") from None
        self._judge(name, training, self._measured[key], _cause(record, training))

    def _judge(self, name: str, training: budgets.Training, result: dict[str, Any],
               cause: str) -> None:
        if "mismatch" in result:
            raise CheckFailure(f"architecture of {name}", "the tutorial's layers, with their weights",
                               result["mismatch"], "Build the network exactly as the assignment asks.")
        test, valid = result["test_accuracy"], result["valid_accuracy"]
        mode = "" if training.accuracy_mode == "inference" else ", batch statistics"
        if test < training.min_test_accuracy:
            raise CheckFailure(f"accuracy of {name} on the 10,000 MNIST test images (your trained "
                               f"weights in the assignment's architecture{mode})",
                               f"at least {training.min_test_accuracy:.4f} under the "
                               f"'{self.budget.name}' budget", f"{test:.4f}", cause)
        if test - valid > budgets.MAX_TEST_OVER_VALID:
            raise CheckFailure(f"accuracy of {name} on the test images minus the validation images",
                               f"at most {budgets.MAX_TEST_OVER_VALID:.4f}", f"{test - valid:.4f} "
                               f"(test {test:.4f}, validation {valid:.4f})",
                               "A model that does much better on the test set than on unseen "
                               "validation images has trained on the test set.")


def _cause(record: TrainingView | None, training: budgets.Training) -> str:
    allowed = training.epochs * training.train_images
    if record is not None and record.samples_seen < allowed // 2:
        return (f"It trained on {record.samples_seen:,} images in all (epochs x images), where the "
                f"budget allows {allowed:,}: use X_train[:TRAINING.train_images] and "
                "epochs=TRAINING.epochs. " + GENERIC_CAUSE)
    return GENERIC_CAUSE
