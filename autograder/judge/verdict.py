"""Run one test cell in the judge and turn what it raised into the cell's outputs.

The test cell's code (restored from the gradebook, hidden tests included) runs here, in the
judge, never in the student's kernel. Its names resolve in a fixed namespace: the checks (the
kit's and the course's), NumPy, the kit's specs, the data the kernel was given
(:class:`~autograder.judge.namespace.KernelData`), the sample images and stand-ins for
``keras``/``tf``/``layers``; every other name it reads is a variable of the student's kernel,
looked up there before the cell runs (:func:`autograder.judge.proxy.resolve`): plain data as the
value itself, other objects as proxies, a name never defined left undefined. The outputs are
what nbgrader grades: none when the test passed, one error when it failed.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode

from autograder.checks import observe
from autograder.checks.failure import CheckFailure
from autograder.judge import proxy
from autograder.judge.channel import Channel, ChannelError
from autograder.judge.guarded_execute import error_output

#: The error name a test cell gets when the kernel gave no usable answer.
NO_ANSWER = "NoAnswer"

#: The error name of a test that cannot be judged outside the kernel: the test's error (the
#: batch grader notes it apart from the students' failures, ``autograder.batch.review.problems``).
TEST_ERROR = "TestCellError"


@dataclass
class Verdict:
    """How one test cell went."""

    outputs: list[NotebookNode]
    """The cell's outputs: empty when it passed, one error otherwise."""
    kernel_died: bool = False
    """True when the kernel died while the judge was asking it."""


def kernel_names(tree: ast.Module, known: dict[str, Any]) -> list[str]:
    """The names the cell reads before it assigns them (``u = u + 1`` reads the student's ``u``;
    ``t = f(); t.shape`` does not), that it does not define by ``def``, ``class``, ``import``, an
    argument or a comprehension's variable, and that are neither in ``known`` nor builtins: the
    student's variables. Statements are taken in order; within one, every read counts."""
    found: list[str] = []
    assigned: set[str] = set()
    for statement in tree.body:
        loaded: list[str] = []
        defined: set[str] = set()
        stored: set[str] = set()
        scoped: set[str] = set()
        for node in ast.walk(statement):
            if isinstance(node, ast.Name):
                (loaded.append(node.id) if isinstance(node.ctx, ast.Load) else stored.add(node.id))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.arg):
                defined.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                defined.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.comprehension):  # its own scope: not assigned after it
                scoped.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
        found += [name for name in loaded
                  if name not in defined and name not in scoped and name not in assigned]
        assigned |= (stored - scoped) | defined
    return [name for name in dict.fromkeys(found)
            if name not in known and not hasattr(builtins, name)]


def run_test(source: str, label: str, namespace: dict[str, Any], channel: Channel) -> Verdict:
    """Run the test cell ``source`` with ``namespace`` plus the kernel's names; its verdict."""
    try:
        tree = ast.parse(source, filename=label)
    except SyntaxError as exc:
        return Verdict([error_output("SyntaxError", f"the test cell does not parse: {exc}")])
    scope = dict(namespace)
    judging = observe.JUDGING.set(True)
    try:
        for name in kernel_names(tree, namespace):
            defined, found = proxy.resolve(channel, name)
            if defined:
                scope[name] = found
        exec(compile(tree, label, "exec"), scope)  # the instructor's test code, not the student's
    except proxy.TestCellError as exc:
        return Verdict([error_output(TEST_ERROR, f"{exc} (This is an error of the test, not of "
                                                 f"your answer: tell your instructor.)")])
    except CheckFailure as exc:
        return Verdict([error_output(type(exc).__name__, str(exc))])
    except ChannelError as exc:
        what = ("the notebook's kernel died while the grader was reading your answers"
                if exc.dead else f"the grader could not read your answers from the notebook: {exc}")
        return Verdict([error_output(NO_ANSWER, what + ".")], kernel_died=exc.dead)
    except observe.KitObservationError as exc:
        return Verdict([error_output(TEST_ERROR, f"{exc}. This is an error of the grading kit, not "
                                                 f"of your answer: tell your instructor.")])
    except observe.ObservedError as exc:
        return Verdict([error_output(exc.kind, exc.message)])
    except Exception as exc:  # NameError for a missing variable, an instructor's mistake
        return Verdict([error_output(type(exc).__name__, str(exc))])
    finally:
        observe.JUDGING.reset(judging)
    return Verdict([])
