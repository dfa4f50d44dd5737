"""The docstring examples of the service's modules hold (sizes, escapes, ids, throttles...)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("admission", "deadlines", "policy", "queue", "ratelimit", "settings", "stats", "worker",
           "exchange", "web.views")


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_hold(name):
    module = importlib.import_module(f"autograder.serve.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, name
