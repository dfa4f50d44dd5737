"""What every ``cnnkit`` command shares: how it is added, the one option that chooses the course
folder it acts on (``--course``) and how that folder is found."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from autograder.authoring import course as courses
from autograder.errors import BadInput
from autograder.settings import add_options, setting


@dataclass(frozen=True)
class CourseOption:
    """The option that chooses the course, the same in every command."""

    course: Path | None = setting(None, "The course folder, with nbgrader_config.py and source/ "
                                        "(default: this folder).")


def add_command(sub: argparse._SubParsersAction, name: str,
                run: Callable[[argparse.Namespace, Console], int], help: str,
                description: str | None = None, *, course: bool = True) -> argparse.ArgumentParser:
    """Add the command ``name`` to ``sub``: ``run`` runs it, ``help`` is its line in ``cnnkit
    --help``; it takes ``--course`` unless ``course`` is False."""
    command = sub.add_parser(name, help=help, description=description)
    command.set_defaults(run=run)
    if course:
        add_options(command, CourseOption)
    return command


def course_folder(path: Path | None) -> Path:
    """The course folder: ``--course``, else this folder; it must hold ``nbgrader_config.py``.
    It becomes the course of this process (:func:`autograder.authoring.course.use`)."""
    where = (path or Path.cwd()).resolve()
    if not (where / "nbgrader_config.py").is_file():
        raise BadInput(f"{'--course' if path else 'course'}: expected a course folder with "
                       f"nbgrader_config.py, got {where}. Run from the course folder or pass --course.")
    return courses.use(where).root
