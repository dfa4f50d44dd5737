"""The catalogue of the kit's checks for the README: one line and a call each, from the checks
themselves (their docstrings and signatures), so that it cannot drift from the code.

``python -m autograder.authoring.check_list`` prints it; a test compares it with the README.
"""

from __future__ import annotations

import inspect
import re

from autograder import checks

#: Names of ``checks`` that are not checks a test calls.
NOT_CHECKS = frozenset({"CheckFailure", "failure_message", "as_array"})


def _first_sentence(doc: str) -> str:
    """The docstring's first sentence, its reStructuredText roles as Markdown code."""
    text = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    end = text.find(". ")
    text = text if end < 0 else text[:end + 1]
    text = re.sub(r":\w+:`~?([\w.]+)`", lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    return text.replace("``", "`")


def _call(name: str, function: object) -> str:
    parts = []
    for parameter in inspect.signature(function).parameters.values():  # type: ignore[arg-type]
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind is parameter.KEYWORD_ONLY:
            parts.append(f"{parameter.name}=...")
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            parts.append(parameter.name)
    return f"checks.{name}({', '.join(parts)})"


def markdown() -> str:
    """The catalogue as a Markdown table."""
    rows = ["| check | what it asserts |", "|---|---|"]
    for name in sorted(set(checks.__all__) - NOT_CHECKS):
        function = getattr(checks, name)
        summary = _first_sentence(function.__doc__ or "").replace("|", "\\|")
        rows.append(f"| `{_call(name, function)}` | {summary} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
