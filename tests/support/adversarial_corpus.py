"""Hostile and broken submissions, each with the outcome the kit must give it.

Every entry is one student's submission of the ``images`` assignment (the quickest notebook),
built from the reference solution or the release notebook, and run through the batch grader
with the other entries and honest students in one batch (``tests/test_adversarial.py``).
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

ASSIGNMENT = "images"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

#: A wrong answer to the first exercise: right shapes, wrong values (the test must fail).
WRONG_LOAD = 'china = np.zeros((427, 640, 3))\nflower = np.zeros((427, 640, 3))'


@dataclass(frozen=True)
class Context:
    """What an attack may aim at: real paths of the grader's machine."""

    course: Path
    """The course folder (``source/``, ``gradebook.db``, ``submitted/``)."""
    canary: Path
    """A file of the grader's that no submission may touch."""
    port: int
    """A TCP port on the grader's loopback where a server counts connections."""


@dataclass(frozen=True)
class Expected:
    """The outcome an entry must get."""

    placed: bool = True
    """False: the intake refuses the file, with ``unplaced`` in its reason."""
    unplaced: str = ""
    """A piece of the intake's reason (when not placed)."""
    score: str | None = None
    """``"full"``, ``"not full"`` or ``"zero"`` (None: any)."""
    failed: bool | None = False
    """True: the run fails (with ``reason`` in its reason); None: either."""
    reason: str = ""
    """A piece of the failure's reason."""
    review: str = ""
    """A piece of one review reason ("" with ``no_review``: none at all)."""
    no_review: bool = False
    """The submission must not be flagged."""
    note: str = ""
    """A regular expression one note must match."""


@dataclass(frozen=True)
class Entry:
    """One hostile or broken submission."""

    name: str
    """The student id it is submitted under."""
    what: str
    """What it does, in a few words."""
    build: Callable[[Path, Context], dict[str, bytes]] = field(repr=False)
    """``(repo, context) -> files of its submission folder``."""
    expected: Expected = Expected()


def _reference(repo: Path) -> nbformat.NotebookNode:
    return nbformat.read(repo / "solutions" / ASSIGNMENT / NOTEBOOK, 4)


def _bytes(nb: nbformat.NotebookNode) -> dict[str, bytes]:
    return {NOTEBOOK: nbformat.writes(nb).encode("utf-8")}


def _answer(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def _after(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    """A new cell of the student's own right after ``grade_id``."""
    nb = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


def extra_cell(source: str, *, wrong: bool = False, where: str = "load_images"):
    """An entry builder: the reference (or a wrong first answer) plus one cell of ``source``,
    formatted with the context (``{course}``, ``{canary}``, ``{port}``)."""
    def build(repo: Path, ctx: Context) -> dict[str, bytes]:
        nb = _reference(repo)
        if wrong:
            nb = _answer(nb, "load_images", WRONG_LOAD)
        text = source.format(course=ctx.course, canary=ctx.canary, port=ctx.port)
        return _bytes(_after(nb, where, text))
    return build


def in_answer(source: str, *, keep: bool = True):
    """An entry builder: ``source`` put at the top of the first answer (or replacing it)."""
    def build(repo: Path, ctx: Context) -> dict[str, bytes]:
        nb = _reference(repo)
        answer = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "load_images")
        text = source.format(course=ctx.course, canary=ctx.canary, port=ctx.port)
        return _bytes(_answer(nb, "load_images", text + ("\n" + answer if keep else "")))
    return build


def _raw(data: bytes, name: str = NOTEBOOK):
    return lambda repo, ctx: {name: data}


def _release_with_fake_kit(repo: Path, ctx: Context) -> dict[str, bytes]:
    fake = ("class _Pass:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\n"
            "checks = _Pass()\n")
    nb = nbformat.read(repo / "release" / ASSIGNMENT / NOTEBOOK, 4)
    return {NOTEBOOK: nbformat.writes(nb).encode(), "autograder.py": fake.encode(),
            "autograder/__init__.py": fake.encode()}


def _edited_test(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    return _bytes(_answer(nb, "test_load_images", "pass  # nothing to see here"))


def _deleted_tests(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_load_images"]
    return _bytes(nb)


def _stripped(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return _bytes(nb)


def _other_assignment(repo: Path, ctx: Context) -> dict[str, bytes]:
    return {NOTEBOOK: (repo / "solutions" / "convolution" / "convolution.ipynb").read_bytes()}


def _renamed(repo: Path, ctx: Context) -> dict[str, bytes]:
    return {"my_images_final.ipynb": nbformat.writes(_reference(repo)).encode()}


def _obfuscated(repo: Path, ctx: Context) -> dict[str, bytes]:
    hidden = "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"
    payload = base64.b64encode(hidden.encode()).decode()
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    return _bytes(_after(nb, "load_images", f"import base64\nexec(base64.b64decode('{payload}'))"))


TRANSFORMER = "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"

ENTRIES: tuple[Entry, ...] = (
    Entry("infinite-loop", "an infinite loop at the top of an answer",
          in_answer("while True:\n    pass"), Expected(score="not full", note="ran longer than the per-cell limit")),
    Entry("unstoppable-loop", "a loop that swallows the interrupt",
          in_answer("import time\nwhile True:\n    try:\n        time.sleep(0.5)\n    except KeyboardInterrupt:\n        pass"),
          Expected(score="zero", note="ran longer than the per-cell limit")),
    Entry("memory-bomb", "allocates 20 GiB at once",
          extra_cell("hog = bytearray(20 * 2**30)"), Expected(score="full", note="ran out of memory")),
    Entry("memory-creep", "grows a list until memory runs out",
          extra_cell("hog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))"),
          Expected(note="ran out of memory|killed the kernel")),
    Entry("fork-bomb", "forks without end",
          extra_cell("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
          Expected(failed=None, review="calls os.fork()")),
    Entry("sys-exit", "calls sys.exit()", extra_cell("import sys\nsys.exit(3)"),
          Expected(score="full", review="calls sys.exit()")),
    Entry("os-exit", "calls os._exit()", extra_cell("import os\nos._exit(0)"),
          Expected(score="zero", review="calls os._exit()", note="killed the kernel")),
    Entry("kill-kernel", "kills its own kernel", extra_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
          Expected(score="zero", review="calls os.kill()", note="killed the kernel")),
    Entry("huge-output", "prints a gigabyte", extra_cell("line = 'x' * 2**20\nfor _ in range(1024):\n    print(line, flush=True)"),
          Expected(score="full", note="printed past the output limit", no_review=True)),
    Entry("huge-file", "writes a file of several GB",
          extra_cell("block = bytes(2**20)\nwith open('big.bin', 'wb') as f:\n    for _ in range(4096):\n        f.write(block)"),
          Expected(score="full", note="past the disk limit", no_review=True)),
    Entry("reads-hidden-tests", "reads the hidden tests from source/",
          extra_cell("print(open('{course}/source/images/images.ipynb').read())"),
          Expected(score="full", review="opens a file outside its own folder")),
    Entry("reads-classmate", "reads another student's notebook",
          extra_cell("print(open('{course}/submitted/reference/images/images.ipynb').read())"),
          Expected(score="full", review="opens a file outside its own folder")),
    Entry("writes-gradebook", "appends to the gradebook and deletes a file of the grader's",
          extra_cell("import os\nopen('{course}/gradebook.db', 'ab').write(b'owned')\nos.remove('{canary}')"),
          Expected(score="full", review="opens a file outside its own folder")),
    Entry("network", "opens a connection to the grader's loopback",
          extra_cell("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'hi')"),
          Expected(score="full", review="imports socket")),
    Entry("input-transformer", "blanks every later cell, tests included, with a wrong answer",
          extra_cell(TRANSFORMER, wrong=True), Expected(review="input_transformers_cleanup")),
    Entry("obfuscated-transformer", "the same, hidden in base64 and exec",
          _obfuscated, Expected(review="calls exec()")),
    Entry("patches-numpy-testing", "replaces numpy.testing with a wrong answer",
          extra_cell("np.testing.assert_allclose = lambda *a, **k: None\nnp.testing.assert_array_equal = np.testing.assert_allclose", wrong=True),
          Expected(review="replaces np.testing.assert_allclose")),
    Entry("patches-evaluate", "replaces keras.Model.evaluate",
          extra_cell("import keras\nkeras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]"),
          Expected(review="replaces keras.Model.evaluate")),
    Entry("patches-checks", "replaces the kit's check helpers with a wrong answer",
          extra_cell("checks.shape = lambda *a, **k: None\nchecks.values_close = lambda *a, **k: None", wrong=True),
          Expected(review="replaces checks.shape")),
    Entry("always-equal", "hands the tests an object equal to everything",
          in_answer("class Anything:\n    def __eq__(self, other):\n        return True\n"
                    "china = flower = Anything()", keep=False),
          Expected(score="not full", review="defines __eq__")),
    Entry("fake-module", "puts a fake autograder module in sys.modules",
          extra_cell("import sys, types\nfake = types.ModuleType('autograder')\nfake.checks = None\n"
                     "sys.modules['autograder'] = fake", wrong=True),
          Expected(review="sys.modules")),
    Entry("fake-module-on-disk", "submits autograder.py beside an untouched notebook",
          _release_with_fake_kit, Expected(score="zero", note="not given to the notebook", no_review=True)),
    Entry("deletes-tests", "deletes a test cell and answers wrong", _deleted_tests,
          Expected(score="not full", note="deleted; the original was put back and run")),
    Entry("edits-locked-test", "replaces a locked test cell by pass and answers wrong", _edited_test,
          Expected(score="not full", review="a locked cell was edited")),
    Entry("strips-metadata", "strips every cell's metadata and answers wrong", _stripped,
          Expected(score="not full", note="metadata was removed")),
    Entry("prints-a-pass", "prints text that looks like passing tests, with a wrong answer",
          extra_cell("print('test_load_images ... ok\\nAll tests passed: 5/5 points')", wrong=True),
          Expected(score="not full", no_review=True)),
    Entry("renamed", "a notebook renamed by the student", _renamed,
          Expected(placed=False, unplaced="rename")),
    Entry("empty-file", "an empty file", _raw(b""), Expected(placed=False, unplaced="empty")),
    Entry("invalid-json", "not JSON", _raw(b'{"cells": [ oops'), Expected(placed=False, unplaced="JSON")),
    Entry("not-utf8", "bytes that are not UTF-8", _raw(b'{"cells": "\xff\xfe\xfa"}'),
          Expected(placed=False, unplaced="UTF-8")),
    Entry("other-assignment", "the notebook of another assignment", _other_assignment,
          Expected(placed=False, unplaced="convolution")),
)
