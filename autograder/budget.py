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

#: The environment variable that names the budget in force.
BUDGET_ENV = "CNNKIT_BUDGET"

#: The models that train, by the assignment that trains them.
MODELS = ("mnist_cnn", "resnet34")


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

    def describe(self) -> str:
        """One line for the notebook: what this budget trains."""
        return (f"{self.epochs} epoch(s) over {self.train_images:,} training images at batch size "
                f"{self.batch_size}, validating on {self.valid_images:,} images")


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


BUDGETS: dict[str, Budget] = {
    budget.name: budget
    for budget in (
        Budget(
            name="tutorial",
            purpose="A student with time to spare: trains exactly as the tutorial does "
                    "(about 20 minutes for the CNN and over an hour for ResNet-34 on a 2-core CPU).",
            mnist_cnn=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                               evaluate_batch_size=1),
            resnet34=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                              evaluate_batch_size=1),
        ),
        Budget(
            name="gpu",
            purpose="A grading machine with a GPU: the tutorial's training, evaluated in larger "
                    "batches.",
            mnist_cnn=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                               evaluate_batch_size=1_000),
            resnet34=Training(epochs=10, batch_size=32, train_images=55_000, valid_images=5_000,
                              evaluate_batch_size=1_000),
        ),
        Budget(
            name="cpu",
            purpose="A CPU-only grading machine (2 cores): one epoch of the CNN, a short run of "
                    "ResNet-34.",
            mnist_cnn=Training(epochs=1, batch_size=128, train_images=55_000, valid_images=5_000,
                               evaluate_batch_size=1_000),
            resnet34=Training(epochs=1, batch_size=128, train_images=5_000, valid_images=1_000,
                              evaluate_batch_size=1_000),
        ),
        Budget(
            name="smoke",
            purpose="The kit's own tests: a few steps each, enough to show that training runs.",
            mnist_cnn=Training(epochs=1, batch_size=128, train_images=2_000, valid_images=500,
                               evaluate_batch_size=1_000),
            resnet34=Training(epochs=1, batch_size=64, train_images=256, valid_images=128,
                              evaluate_batch_size=1_000),
        ),
    )
}


class BudgetError(ValueError):
    """The budget named in the environment does not exist."""


def current_name() -> str:
    """The name of the budget in force: ``$CNNKIT_BUDGET``, else ``cpu`` under nbgrader, else
    ``tutorial``."""
    name = os.environ.get(BUDGET_ENV, "").strip()
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
    """The :class:`Training` of ``model`` under the budget in force."""
    return current().training(model)
