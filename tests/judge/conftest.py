"""Fixtures of the judge's tests: the judge's namespace for test cells."""

from __future__ import annotations

import pytest

from autograder import budget, data
from autograder.judge.gate import Gate
from autograder.judge.namespace import KernelData, judge_namespace


@pytest.fixture(scope="module")
def namespace():
    """The names a test cell finds in the judge, on the smoke budget and the kit's MNIST files."""
    truth = data.find_mnist_dir()
    return judge_namespace(gate=Gate(budget.BUDGETS["smoke"], truth), kernel_data=KernelData(truth))
