"""The kit's fit wrapper installed under a tiny budget, for tests that train small models in
process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from autograder import training_guard
from autograder.budget import Training

#: A budget small enough to train in a test: 64 images, one epoch.
SMALL = Training(epochs=1, batch_size=32, train_images=64, valid_images=16, evaluate_batch_size=64)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """``keras.Model.fit`` held to :data:`SMALL` (the budget named ``tiny``) inside the block."""
    training_guard.install(SMALL, "tiny")
    try:
        yield
    finally:
        training_guard.uninstall()
