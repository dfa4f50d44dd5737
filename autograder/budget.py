"""Grading budgets: how much training the module's two models get, chosen by the grader.

A budget is picked by name from :data:`BUDGETS` through the ``CNNKIT_BUDGET`` environment variable,
which the grader sets and the kernel inherits; a student's code reads it and never chooses it::

    from autograder import budget
    TRAINING = budget.training("mnist_cnn")
    model_cnn_mnist.fit(X_train[:TRAINING.train_images], y_train[:TRAINING.train_images],
                        epochs=TRAINING.epochs, batch_size=TRAINING.batch_size, ...)

Without ``CNNKIT_BUDGET``, a notebook run by nbgrader (``autograde`` or ``validate``) gets the
``cpu`` budget and any other run the ``tutorial`` budget, which trains exactly as the tutorial does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from autograder import settings, training_guard
from autograder.errors import BadInput
from autograder.messages import Problem

#: The environment variable that names the budget in force.
BUDGET_ENV = settings.BUDGET.name

#: The models that train, by the assignment that trains them.
MODELS = ("mnist_cnn", "resnet34")

#: A batch size down to this fraction of the budget's is accepted (more, smaller steps).
MIN_BATCH_FRACTION = 0.25


@dataclass(frozen=True)
class Training:
    """How one model trains under a budget."""

    epochs: int
    """Passes over the training images."""
    batch_size: int
    """Images per training step."""
    train_images: int
    """How many of the 55,000 training images to train on (the first ones)."""
    valid_images: int
    """How many of the 5,000 validation images to validate on after each epoch."""
    evaluate_batch_size: int
    """Batch size for ``evaluate`` on the test set (the tutorial's 1 is slow but allowed)."""
    min_test_accuracy: float | None = None
    """The accuracy gate: the least test accuracy that earns the points (``None``: no gate)."""
    accuracy_mode: str = "inference"
    """How the gate measures accuracy: ``"inference"`` (as ``evaluate`` does) or
    ``"batch_statistics"`` (batch normalisation on each batch's own statistics)."""

    def describe(self) -> str:
        """One line for the notebook: what this budget trains."""
        text = (f"{self.epochs} epoch(s) over {self.train_images:,} training images at batch size "
                f"{self.batch_size}, validating on {self.valid_images:,} images")
        if self.min_test_accuracy is not None:
            mode = "" if self.accuracy_mode == "inference" else ", batch statistics"
            text += f"; the grade needs a test accuracy of at least {self.min_test_accuracy:.2%}{mode}"
        return text

    @property
    def smallest_batch(self) -> int:
        """The smallest batch size a fit may use (:data:`MIN_BATCH_FRACTION` of :attr:`batch_size`)."""
        return max(1, int(self.batch_size * MIN_BATCH_FRACTION))

    def limits(self, budget: str) -> str:
        """The limits of this training under the budget named ``budget``, in one sentence, for
        error messages."""
        return (f"the '{budget}' budget allows at most {self.epochs} epoch(s) over "
                f"{self.train_images:,} training images, a batch size of at least "
                f"{self.smallest_batch}, and {self.valid_images:,} validation images")

    def refusal(self, budget: str, record: training_guard.ModelRecord, *, epochs: int,
                samples: int | None, batch_size: int, valid_samples: int | None) -> Problem | None:
        """Why a fit exceeds this training under the budget named ``budget``, counting the earlier
        fits of the same model (``record``); ``None`` if it fits."""
        cause = (f"{self.limits(budget)}. Train with epochs=TRAINING.epochs and "
                 "batch_size=TRAINING.batch_size on X_train[:TRAINING.train_images], validating on "
                 "X_valid[:TRAINING.valid_images].")
        earlier = " plus earlier fits" if record.fits else ""
        if samples is None and record.fits_epochs + epochs > self.epochs:
            return ("fit", f"at most {self.epochs} epoch(s) under the '{budget}' budget",
                    f"{record.fits_epochs + epochs}{earlier}", cause)
        if samples is not None:
            seen = record.samples_seen + epochs * samples
            allowed = self.epochs * self.train_images
            if seen > allowed:
                return ("fit", f"at most {allowed:,} training images in all (epochs x images) under "
                               f"the '{budget}' budget", f"{seen:,} (epochs={epochs} over {samples:,} "
                                                         f"images{earlier})", cause)
        if batch_size < self.smallest_batch:
            return ("fit", f"batch_size of at least {self.smallest_batch} under the '{budget}' budget",
                    str(batch_size), cause)
        if valid_samples is not None and valid_samples > self.valid_images:
            return ("fit", f"at most {self.valid_images:,} validation images under the '{budget}' "
                           "budget", f"{valid_samples:,}", cause)
        return None


@dataclass(frozen=True)
class Budget:
    """A named grading budget: one :class:`Training` per model."""

    name: str
    """The name the grader sets in ``CNNKIT_BUDGET``."""
    purpose: str
    """Which machine and which use it is meant for, in one sentence."""
    mnist_cnn: Training
    """Training of the MNIST CNN (assignment ``mnist_cnn``)."""
    resnet34: Training
    """Training of ResNet-34 (assignment ``resnet34``)."""

    def training(self, model: str) -> Training:
        """The :class:`Training` of ``model`` (one of :data:`MODELS`)."""
        if model not in MODELS:
            raise ValueError(f"model: expected one of {', '.join(MODELS)}, got {model!r}.")
        return getattr(self, model)


# Accuracy gates. Each threshold sits below the worst of five seeded runs of the reference
# solution on the machine kind it is meant for, by a margin of several times the spread between
# seeds, and far above what the broken models reach (benchmarks/train_budgets.py prints the
# figures; the README keeps the measured table).
#
# CPU (2-core x86-64, TensorFlow 2.21): the CNN reached 0.9818-0.9856 (median 0.9842) in one
# epoch at batch 64; shuffled labels gave 0.11, no softmax 0.13, 500 training images 0.66, and no
# ReLU 0.93 once its weights run in the assignment's architecture. 0.975 keeps 0.7 points of
# margin below the worst correct run and 4 points above the best broken one.
CPU_CNN_MIN = 0.975
# ResNet-34 after 79 steps: inference-mode accuracy is 0.11 (moving statistics not settled), so
# the gate normalises each batch by its own statistics: 0.9045-0.9559 (median 0.9522). 0.80 leaves
# 10 points below the worst correct run; a network that learned nothing stays near 0.10.
CPU_RESNET_MIN = 0.80
# GPU (NVIDIA H200, Keras 3.15 on the JAX backend, the tutorial's 10 epochs at batch 32): the CNN
# reached 0.9911-0.9921 (median 0.9915), ResNet-34 0.9868-0.9937 (median 0.9902). The gates keep
# 0.6 and 0.7 points of margin below the worst run.
GPU_CNN_MIN = 0.985
GPU_RESNET_MIN = 0.98

BUDGETS: dict[str, Budget] = {
    budget.name: budget
    for budget in (
        Budget(
            name="tutorial",
            purpose="A student with time to spare: trains exactly as the tutorial does "
                    "(about 20 minutes for the CNN and over an hour for ResNet-34 on a 2-core CPU).",
            mnist_cnn=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                               evaluate_batch_size=1, min_test_accuracy=GPU_CNN_MIN),
            resnet34=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                              evaluate_batch_size=1, min_test_accuracy=GPU_RESNET_MIN),
        ),
        Budget(
            name="gpu",
            purpose="A grading machine with a GPU: the tutorial's training, evaluated in larger "
                    "batches.",
            mnist_cnn=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                               evaluate_batch_size=1_000, min_test_accuracy=GPU_CNN_MIN),
            resnet34=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                              evaluate_batch_size=1_000, min_test_accuracy=GPU_RESNET_MIN),
        ),
        Budget(
            name="cpu",
            purpose="A CPU-only grading machine (2 cores): one epoch of the CNN at batch size 64, "
                    "79 steps of ResNet-34.",
            mnist_cnn=Training(epochs=1, batch_size=64, train_images=55_000, valid_images=5_000,
                               evaluate_batch_size=1_000, min_test_accuracy=CPU_CNN_MIN),
            resnet34=Training(epochs=1, batch_size=128, train_images=10_000, valid_images=1_000,
                              evaluate_batch_size=1_000, min_test_accuracy=CPU_RESNET_MIN,
                              accuracy_mode="batch_statistics"),
        ),
        Budget(
            name="smoke",
            purpose="The kit's own tests: a few steps each, enough to show that training runs; "
                    "no accuracy gate.",
            mnist_cnn=Training(epochs=1, batch_size=128, train_images=2_000, valid_images=500,
                               evaluate_batch_size=1_000),
            resnet34=Training(epochs=1, batch_size=64, train_images=256, valid_images=128,
                              evaluate_batch_size=1_000),
        ),
    )
}


#: The most a model's test accuracy may exceed its accuracy on the 5,000 validation images, which
#: it never trains on either; more means it has seen the test set.
MAX_TEST_OVER_VALID = 0.02


class BudgetError(BadInput):
    """The budget named in the environment does not exist."""


def current_name() -> str:
    """The name of the budget in force: ``$CNNKIT_BUDGET``, else ``cpu`` under nbgrader, else
    ``tutorial``."""
    name = settings.BUDGET.get()
    if name:
        return name
    if os.environ.get("NBGRADER_EXECUTION") or os.environ.get("NBGRADER_VALIDATING"):
        return "cpu"
    return "tutorial"


def current() -> Budget:
    """The :class:`Budget` in force."""
    name = current_name()
    if name not in BUDGETS:
        raise BudgetError(f"{BUDGET_ENV}: expected one of {', '.join(BUDGETS)}, got {name!r}. "
                          f"Unset it, or set it to one of those names.")
    return BUDGETS[name]


def training(model: str) -> Training:
    """The :class:`Training` of ``model`` under the budget in force.

    It also holds every ``fit`` of this kernel to that training (``autograder.training_guard``),
    so that a notebook that asks for more fails at once with the limit, not by a timeout.
    """
    budget = current()
    result = budget.training(model)
    training_guard.install(result, budget.name)
    return result
