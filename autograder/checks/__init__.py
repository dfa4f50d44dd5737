"""The checks that notebook tests call, one property a call.

Each check returns ``None`` when the answer is right and otherwise raises :class:`CheckFailure`,
an ``AssertionError`` whose message says what was expected, what the answer gave, and the likely
cause. Messages are written once, here, and pinned by the kit's tests.

A check reads the answer only through :mod:`autograder.checks.observe`, so the same definition
runs in two places: in the student's kernel at home, on the objects themselves, and in the judge
under grading, on observations the judge asks the kernel for (``autograder.judge``).

The package is part of the student kit: it runs in the student's kernel and in the judge. Its
modules may import NumPy, Keras (inside functions), Matplotlib, and the kit's top-level modules
(:mod:`autograder.messages`, :mod:`autograder.wire`, :mod:`autograder.specs`,
:mod:`autograder.keras_compare`, :mod:`autograder.weights`, :mod:`autograder.training_guard`,
:mod:`autograder.data`); never :mod:`autograder.judge`, :mod:`autograder.batch`,
:mod:`autograder.serve` or :mod:`autograder.authoring`, which the kit does not ship.
"""

from autograder.checks.arrays import as_array, between, close, equal, floating, part_of, shape
from autograder.checks.failure import CheckFailure
from autograder.checks.figures import shows_images
from autograder.checks.layers import (
    conv2d,
    conv2d_applied,
    conv2d_output,
    global_pool,
    global_pool_applied,
    global_pool_output,
    pool2d,
    pool2d_applied,
    pool2d_output,
)
from autograder.checks.models import (
    compiled_for_mnist,
    layers_match,
    model_output,
    parameter_count,
    reported_accuracy,
    trained,
)
from autograder.checks.residual import (
    residual_unit_layers,
    residual_unit_output,
    residual_unit_skip,
    resnet34,
    resnet34_output,
    resnet34_parameters,
)
from autograder.messages import failure_message

__all__ = [
    "CheckFailure",
    "as_array",
    "between",
    "close",
    "compiled_for_mnist",
    "conv2d",
    "conv2d_applied",
    "conv2d_output",
    "equal",
    "failure_message",
    "floating",
    "global_pool",
    "global_pool_applied",
    "global_pool_output",
    "layers_match",
    "model_output",
    "parameter_count",
    "part_of",
    "pool2d",
    "pool2d_applied",
    "pool2d_output",
    "reported_accuracy",
    "residual_unit_layers",
    "residual_unit_output",
    "residual_unit_skip",
    "resnet34",
    "resnet34_output",
    "resnet34_parameters",
    "shape",
    "shows_images",
    "trained",
]
