"""The course's autograde pipeline, split between the worker that runs a notebook and the
coordinator that records it.

The pipeline is declared once, in the course's ``nbgrader_config.py``
(``Autograde.autograde_preprocessors``), and plain ``nbgrader autograde`` runs it whole.
``cnnkit grade`` runs it in two places: a worker runs every step but the ones that write grades
(:func:`worker_steps`), and the coordinator runs those (:func:`recorded_steps`) on the executed
notebook, against the real gradebook (:class:`autograder.batch.record.Recorder`). The steps that
write grades read the notebook and change nothing in it, so the executed notebook carries all
they need, and grades are written once.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
from traitlets.config import Config
from traitlets.utils.importstring import import_item

#: The autograde steps that write grades into the gradebook (the coordinator's).
GRADE_WRITERS = (SaveAutoGrades, AssignLatePenalties)


def declared(config: Config) -> list[Any]:
    """The course's ``Autograde.autograde_preprocessors``: nbgrader's default where it declares
    none."""
    value = (config.get("Autograde") or {}).get("autograde_preprocessors")
    if isinstance(value, (list, tuple)):
        return list(value)
    from nbgrader.converters.autograde import Autograde

    return list(Autograde.class_traits()["autograde_preprocessors"].default())


def step_class(step: Any) -> type:
    """The preprocessor class of a pipeline step, which nbconvert takes as a class, an instance
    or an import name."""
    if isinstance(step, str):
        return import_item(step)
    return step if isinstance(step, type) else type(step)


def writes_grades(step: Any) -> bool:
    """Whether ``step`` writes grades into the gradebook (one of :data:`GRADE_WRITERS`)."""
    return issubclass(step_class(step), GRADE_WRITERS)


def worker_steps(config: Config) -> list[Any]:
    """The course's pipeline without the steps that write grades, for a worker's run. A
    pipeline that does not judge the tests outside the kernel (no
    :class:`~autograder.judge.execute.JudgedExecute`) stops the run with :class:`SystemExit`: a
    configuration file's exception would only be logged by nbgrader, which would then grade with
    its defaults."""
    from autograder.judge.execute import JudgedExecute

    steps = declared(config)
    if not any(issubclass(step_class(step), JudgedExecute) for step in steps):
        names = ", ".join(step_class(step).__name__ for step in steps)
        raise SystemExit(f"Autograde.autograde_preprocessors: expected JudgedExecute among the "
                         f"course's steps, got [{names}]. Put JudgedExecute in place of Execute "
                         f"in the course's nbgrader_config.py (see the kit's own).")
    return [step for step in steps if not writes_grades(step)]


def recorded_steps(config: Config) -> list[type]:
    """The course's steps that write grades, in its order, as the coordinator runs them."""
    return [step_class(step) for step in declared(config) if writes_grades(step)]
