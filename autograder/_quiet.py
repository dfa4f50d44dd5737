"""Keep TensorFlow and Keras from writing harmless noise to stderr.

nbgrader gives 0 points to a test cell with any stderr output, so a correct answer must not lose its
points to a warning. The grader's configuration also drops stderr from test cells
(``IgnorePattern`` in ``nbgrader_config.py``); this is the student-side half, so that a student's own
``nbgrader validate`` sees the same clean cells.
"""

import os
import warnings

#: Warnings that the tutorial's own code raises and that say nothing about a student's answer.
HARMLESS_WARNINGS: tuple[str, ...] = (
    # Keras 3 on ``Conv2D(..., input_shape=...)``, exactly as the tutorial writes it.
    r"Do not pass an `input_shape`/`input_dim` argument to a layer",
)


def quieten() -> None:
    """Silence TensorFlow's C++ logging and the harmless Keras warnings listed above.

    Safe to call more than once. TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` when it is first
    imported, so this must run before ``import tensorflow`` to silence the start-up lines; an
    explicit value set by the user is kept.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for message in HARMLESS_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
