"""The accuracy gate: points for a trained model only when it reaches the budget's minimum test
accuracy, measured by the judge on labels the student's kernel never holds.

Only the judge runs it. The budget comes from the grader (``JudgedExecute.budget``), never from
the kernel's environment; the weights are taken from the kernel as plain arrays (an observation)
and measured in a fresh process (``python -I -m autograder.judge.measure``) that builds the
assignment's reference architecture and reads the grader's own MNIST files. Under ``cnnkit
grade`` the kernel's copy of ``test.csv.gz`` holds placeholder labels, so no route of training
on the test labels exists in the kernel; the training record the kit's ``fit`` wrapper kept
there is still read, as an observation that can only cost points.

The measuring process passes over the images once per set of weights and returns all that
grading needs from them (:class:`Measurement`): the gate's figures, and the class ``evaluate``
predicts for each test image, against which the ``test_accuracy`` a notebook reports is checked
on the labels the kernel had (:meth:`Gate.reported_figures`), so the kernel never runs the model
over the test set for a test. The :class:`Gate` keeps each measurement for the rest of the
notebook, whichever of the two tests comes first.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import budget as budgets
from autograder import weights
from autograder.checks import models, numeric, observe
from autograder.checks.failure import CheckFailure
from autograder.checks.observe import TrainingView
from autograder.judge import withheld
from autograder.messages import Problem

#: Seconds the measuring process may take.
GATE_TIMEOUT = 900

GENERIC_CAUSE = ("Check the data (pixels / 255, labels in the same order as the images), the "
                 "activations (relu inside, softmax on the last layer), and that fit trains on "
                 "X_train[:TRAINING.train_images] for TRAINING.epochs epochs.")

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
        return changed_after_training(name, "its last fit")
    return None


def changed_after_training(name: str, since: str) -> Problem:
    """The failure of weights that are not those ``name`` had after ``since``."""
    return (f"weights of {name} after {since}", "unchanged", "other weights",
            "Do not load, edit or train the weights after the training cell: the grader "
            "measures the model as that cell left it.")


class GateError(RuntimeError):
    """The measuring process failed; the message says how."""


#: Images the measuring process classifies: the MNIST test set and the tutorial's validation set.
TEST_IMAGES, VALID_IMAGES = 10_000, 5_000


def _digits(text: Any, count: int, allowed: str) -> np.ndarray:
    """A string of ``count`` digits from ``allowed``, one per image, as an int array."""
    if not isinstance(text, str) or len(text) != count or text.strip(allowed):
        raise GateError(f"the measuring process printed {count:,} digits per image set, got "
                        f"{len(text) if isinstance(text, str) else type(text).__name__}")
    return np.frombuffer(text.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")


@dataclass(frozen=True)
class Measurement:
    """What one run of the measuring process found for one set of trained weights, in one pass
    over the grader's test and validation images (:mod:`autograder.judge.measure`)."""

    model_kind: str
    """The reference architecture the weights were measured in (``mnist_cnn``, ``resnet34``)."""
    mode: str
    """How the gate measures under the budget (``inference`` or ``batch_statistics``)."""
    mismatch: str = ""
    """The first misfit of the weights in that architecture; empty when they fit (and only then
    do the figures below mean anything)."""
    test_accuracy: float = float("nan")
    """In :attr:`mode`, on the real labels of the 10,000 test images: the gate's figure."""
    valid_accuracy: float = float("nan")
    """In :attr:`mode`, on the 5,000 validation images."""
    inference_test_accuracy: float = float("nan")
    """As ``evaluate`` measures (batch normalisation's moving statistics), on the real labels."""
    test_classes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    """As ``evaluate`` predicts: the most probable class of each test image, shape (10000,)."""
    valid_hits: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)
    """As ``evaluate`` predicts: whether each validation image is classified right, (5000,)."""
    digest: str = ""
    """The measured weights (:func:`autograder.weights.leaves_digest`), computed by the judge."""

    @classmethod
    def from_result(cls, result: Any, model_kind: str, mode: str) -> Measurement:
        """The measurement from the process's JSON line; :class:`GateError` if it is malformed."""
        if not isinstance(result, dict):
            raise GateError("the measuring process printed no result")
        if "mismatch" in result:
            return cls(model_kind, mode, mismatch=str(result["mismatch"]))
        try:
            test, valid, inference = (float(result[key]) for key in (
                "test_accuracy", "valid_accuracy", "inference_test_accuracy"))
        except (KeyError, TypeError, ValueError):
            raise GateError("the measuring process printed no accuracy") from None
        return cls(model_kind, mode, test_accuracy=test, valid_accuracy=valid,
                   inference_test_accuracy=inference,
                   test_classes=_digits(result.get("test_classes"), TEST_IMAGES, "0123456789"),
                   valid_hits=_digits(result.get("valid_hits"), VALID_IMAGES, "01").astype(bool))

    def accuracy_on(self, labels: np.ndarray) -> float:
        """The accuracy ``evaluate`` measures on the test images against ``labels``."""
        return float(np.mean(self.test_classes == np.asarray(labels).reshape(-1)))

    def valid_accuracy_of_first(self, count: int) -> float:
        """The accuracy ``evaluate`` (or ``fit``'s ``val_accuracy``) measures on the first
        ``count`` validation images."""
        return float(np.mean(self.valid_hits[:max(1, min(count, len(self.valid_hits)))]))


def measure(leaves: list, model_kind: str, mode: str, truth: Path) -> Measurement:
    """Measure ``leaves`` in the reference ``model_kind`` on the MNIST files in ``truth``."""
    with tempfile.TemporaryDirectory(prefix="cnnkit-gate-") as folder:
        path = Path(folder) / "weights.npz"
        weights.save_leaves(leaves, path)
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("PYTHON", "CNNKIT_"))}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        try:
            process = subprocess.run(
                [sys.executable, "-I", "-m", "autograder.judge.measure", model_kind, str(path), mode,
                 "--data", str(truth)], capture_output=True, text=True, timeout=GATE_TIMEOUT,
                env=env, cwd=folder, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            raise GateError(f"the measurement took longer than {GATE_TIMEOUT} s") from None
    lines = [line for line in process.stdout.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        tail = (process.stderr.strip().splitlines() or ["no output"])[-1]
        raise GateError(f"the measuring process exited with status {process.returncode}: {tail}")
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise GateError("the measuring process printed no result") from None
    return Measurement.from_result(result, model_kind, mode)


#: The reference architectures by the weights they hold, to tell which one a model is.
LAYOUTS = {"mnist_cnn": numeric.mnist_cnn_layout, "resnet34": numeric.resnet34_layout}

ARCHITECTURE_CAUSE = ("The grader measures your trained weights in the assignment's architecture: "
                      "build the network exactly as the assignment asks.")


def model_kind_of(leaves: list) -> str | None:
    """The reference architecture whose weights ``leaves`` fit, or None."""
    found = [leaf.signature() for leaf in leaves]
    for kind, layout in LAYOUTS.items():
        if found == [want.signature() for want in layout()]:
            return kind
    return None


@dataclass
class Gate:
    """``checks.accuracy_gate`` in the judge, bound to the grader's budget and MNIST folder.

    It keeps what the measuring process found for each set of trained weights for the rest of the
    notebook, so that one pass serves the gate and the check of the reported ``test_accuracy``
    (:meth:`reported_figures`), whichever test comes first.
    """

    budget: budgets.Budget
    """The budget the grader chose."""
    truth: Path
    """The grader's MNIST folder, with the real test labels."""
    _measured: dict[tuple[str, str, str], Measurement] = field(default_factory=dict)
    _trained: dict[str, str] = field(default_factory=dict)
    """The weights each model had when the course's training test (``checks.trained``) first
    passed, by name: the judge's own reading at the end of the training cell ("" when the kernel
    reported no record or no digest then, which no weights the gate measures can match)."""

    def trained_check(self) -> Callable[..., None]:
        """``checks.trained`` as the judge runs it: the check, then the model's weights as they
        are right after the training cell are kept, for :meth:`__call__` to compare with the
        weights it measures. They are kept whatever the record says (no fit, no digest): a
        kernel that hides them there cannot escape the comparison."""
        def trained(model: Any, *, name: str, min_steps: int = 1) -> None:
            record = models.trained(model, name=name, min_steps=min_steps)
            self._trained.setdefault(name, record.digest if record is not None else "")

        return trained

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
        after_training = self._trained.get(name)
        if after_training is not None and record is not None and record.digest != after_training:
            raise CheckFailure(*changed_after_training(name, "the training cell"))
        if training.min_test_accuracy is None:
            return
        found = self.measurement(model, name=name, model_kind=model_kind)
        # The judge's own digest of what it measures decides, whatever the kernel's record says.
        if after_training is not None and found.digest != after_training:
            raise CheckFailure(*changed_after_training(name, "the training cell"))
        self._judge(name, training, found, _cause(record, training))

    def measurement(self, model: Any, *, name: str, model_kind: str | None = None) -> Measurement:
        """What the measuring process finds for ``model``'s weights as they are now, measured
        once per set of weights; ``model_kind`` (default: the architecture the weights fit)
        names the reference architecture. ``name`` names the model in failures."""
        try:
            leaves = observe.leaves(name, model)
        except observe.ObservedError as exc:
            raise CheckFailure(f"weights of {name}", "the trained weights", f"{exc.kind}: {exc.message}",
                               "Build the network exactly as the assignment asks.") from None
        kind = model_kind or model_kind_of(leaves)
        if kind is None:
            first = leaves[0].signature() if leaves else "no weights"
            raise CheckFailure(f"weights of {name}", "those of the tutorial's MNIST CNN or ResNet-34",
                               f"{len(leaves)} weight layer(s), beginning with {first}", ARCHITECTURE_CAUSE)
        mode = self.budget.training(kind).accuracy_mode
        key = (weights.leaves_digest(leaves), kind, mode)
        if key not in self._measured:
            try:
                self._measured[key] = dataclasses.replace(measure(leaves, kind, mode, self.truth),
                                                          digest=key[0])
            except GateError as exc:
                raise CheckFailure(f"accuracy of {name}", "a measurement by the grader",
                                   f"none: {exc}", "Tell your instructor: the grader failed, "
                                   "not your notebook.") from None
        return self._measured[key]

    def reported_figures(self, model: Any, *, name: str, labels: Any) -> list[tuple[str, float]]:
        """The accuracy of ``model``'s trained weights, as ``evaluate`` measures it, on each data
        set a number reported as ``name`` could have been measured on: first the one it must come
        from (the 10,000 test images against ``labels``, the labels of the test file the kernel
        read), then those it must not (the real test labels where the kernel had placeholders,
        the validation images). The training set is not measured (55,000 more images); a
        training accuracy is refused by the tolerance of :func:`checks.reported_accuracy`."""
        model_name = f"the model behind {name}"
        found = self.measurement(model, name=model_name)
        if found.mismatch:
            raise CheckFailure(f"architecture of {model_name}", "the tutorial's layers, with their weights",
                               found.mismatch, ARCHITECTURE_CAUSE)
        labels = np.asarray(labels).reshape(-1)
        if labels.shape != found.test_classes.shape:
            raise CheckFailure(f"labels {name} is measured against", f"{TEST_IMAGES:,} test labels",
                               f"an array of shape {labels.shape}", "Pass the labels of the test file.")
        placeholders = withheld.are_placeholders(labels)
        kept = " (placeholders: under grading the kernel holds no test labels)" if placeholders else ""
        right = (f"the 10,000 test images, against the labels of the test file this notebook "
                 f"read{kept}, your trained weights measured by the grader in the assignment's "
                 f"architecture")
        figures = [(right, found.accuracy_on(labels))]
        if placeholders:
            real = "the test images against their real labels, which this notebook's test file does not hold"
            figures.append((real, found.inference_test_accuracy))
        shown = self.budget.training(found.model_kind).valid_images
        figures.append((f"the first {shown:,} validation images (fit's val_accuracy)",
                        found.valid_accuracy_of_first(shown)))
        if shown < VALID_IMAGES:
            figures.append((f"the {VALID_IMAGES:,} validation images",
                            found.valid_accuracy_of_first(VALID_IMAGES)))
        return figures

    def reported_accuracy_check(self, kernel_labels: Callable[[], np.ndarray]) -> Callable[..., None]:
        """``checks.reported_accuracy`` as the judge runs it: against the figures of
        :meth:`reported_figures`, ``labels`` defaulting to ``kernel_labels()`` (those of the test
        file the kernel read)."""
        def figures(model: Any, *, name: str, labels: Any = None) -> list[tuple[str, float]]:
            return self.reported_figures(model, name=name,
                                         labels=kernel_labels() if labels is None else labels)

        return functools.partial(models.reported_accuracy, measured=figures)

    def _judge(self, name: str, training: budgets.Training, result: Measurement,
               cause: str) -> None:
        if result.mismatch:
            raise CheckFailure(f"architecture of {name}", "the tutorial's layers, with their weights",
                               result.mismatch, "Build the network exactly as the assignment asks.")
        test, valid = result.test_accuracy, result.valid_accuracy
        mode = "" if training.accuracy_mode == "inference" else ", batch statistics"
        if training.min_test_accuracy is not None and test < training.min_test_accuracy:
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
