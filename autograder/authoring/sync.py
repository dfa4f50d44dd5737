"""Prove that the committed ``release/`` and ``solutions/`` are what ``source/`` generates."""

from __future__ import annotations

import filecmp
from pathlib import Path

from autograder.authoring import build

GENERATED = ("release", "solutions")


def compare_generated(repo: Path, scratch: Path) -> list[str]:
    """Regenerate ``release/`` and ``solutions/`` from ``repo``'s ``source/`` in ``scratch`` and
    list every file that differs from, or is missing in, the repository's copies."""
    course = build.make_course(repo, scratch / "course")
    build.generate(course)
    differences = []
    for folder in GENERATED:
        fresh_root, committed_root = course / folder, repo / folder
        fresh = {p.relative_to(fresh_root) for p in fresh_root.rglob("*") if p.is_file()}
        committed = {p.relative_to(committed_root) for p in committed_root.rglob("*") if p.is_file()}
        for path in sorted(fresh - committed):
            differences.append(f"{folder}/{path}: generated but not committed")
        for path in sorted(committed - fresh):
            differences.append(f"{folder}/{path}: committed but not generated from source/")
        for path in sorted(fresh & committed):
            if not filecmp.cmp(fresh_root / path, committed_root / path, shallow=False):
                differences.append(f"{folder}/{path}: differs from what source/ generates")
    return differences
