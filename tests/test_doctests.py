"""The docstring examples of the kit's modules hold (sizes, escapes, ids, throttles, messages...):
every module of ``autograder`` whose source has one is imported and its examples run."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import autograder

PACKAGE = Path(autograder.__file__).parent


def modules_with_examples() -> list[str]:
    """The dotted names of the package's modules whose source holds a ``>>>`` example."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>> " in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = modules_with_examples()


def test_the_service_modules_examples_are_among_them():
    service = {"deadlines", "policy", "queue", "ratelimit", "settings", "stats", "worker",
               "exchange", "web.views"}
    assert {f"autograder.serve.{name}" for name in service} <= set(MODULES)
    assert len(MODULES) >= 15


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_hold(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, name
