"""The README's catalogue of checks is generated from the checks themselves and kept in step."""

from __future__ import annotations

from pathlib import Path

from autograder import checks
from autograder.authoring import check_list


def _block(readme: str) -> str:
    start, end = "<!-- checks:start -->\n", "<!-- checks:end -->"
    return readme[readme.index(start) + len(start):readme.index(end)]


def test_the_readme_lists_every_check_as_the_code_says(repo: Path) -> None:
    assert _block((repo / "README.md").read_text(encoding="utf-8")) == check_list.markdown(), (
        "README.md's catalogue of checks is stale: paste `python -m autograder.authoring.check_list` "
        "between its checks:start and checks:end markers.")


def test_every_check_has_a_line() -> None:
    table = check_list.markdown()
    for name in set(checks.__all__) - check_list.NOT_CHECKS:
        assert f"`checks.{name}(" in table
    assert "``" not in table and ":func:" not in table
