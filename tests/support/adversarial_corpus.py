"""Hostile and broken submissions, each with the outcome the kit must give it.

Every entry is one student's submission of the ``images`` assignment (the quickest notebook),
built from the reference solution or the release notebook, and run through the batch grader
with the other entries and honest students in one batch (``tests/test_adversarial.py``).
"""

from __future__ import annotations

import base64
import copy
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
    at_most: str = ""
    """The student id of a baseline in the same batch (the same submission without the attack):
    no test may earn more points than it does there, and the points possible are the same."""
    no_leak: bool = False
    """No line of the assignment's hidden tests, and nothing of a root-only file, may appear in the
    executed notebook or the feedback."""


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

#: Replaces the kit's check helpers in the kernel; what the judge decides does not change.
PASS_ALL = "lambda *args, **kwargs: None"


class _Payload:
    """Runs code when unpickled."""

    def __reduce__(self):
        return (exec, (f"import autograder.checks as _c\n_c.close = _c.shape = {PASS_ALL}",))


def _pickle_payload(repo: Path, ctx: Context) -> dict[str, bytes]:
    payload = base64.b64encode(pickle.dumps(_Payload())).decode()
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    return _bytes(_after(nb, "load_images", f"import pickle, base64\npickle.loads(base64.b64decode('{payload}'))"))


def _future_syntax(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    nb = _after(nb, "load_images", f"if 1 <> 2:\n    checks.close = {PASS_ALL}")
    return _bytes(_after(nb, "load_images", "from __future__ import barry_as_FLUFL"))


def _copied_test_with_hidden_code(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    release = nbformat.read(repo / "release" / ASSIGNMENT / NOTEBOOK, 4)
    visible = next(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_load_images")
    hidden = f"### BEGIN HIDDEN TESTS\nchecks.close = checks.shape = {PASS_ALL}\n### END HIDDEN TESTS"
    return _bytes(_after(nb, "load_images", visible + "\n" + hidden))


def _metadata_edit(grade_id: str, **changes):
    """An entry builder: the wrong answer, and the nbgrader metadata of ``grade_id`` changed."""
    def build(repo: Path, ctx: Context) -> dict[str, bytes]:
        nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.metadata["nbgrader"].update(changes)
        return _bytes(nb)
    return build


def _bonus_cell(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _answer(_reference(repo), "load_images", WRONG_LOAD)
    cell = nbformat.v4.new_code_cell("pass  # a test of my own")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": True, "points": 100,
                                 "schema_version": 3, "solution": False, "task": False}
    nb.cells.append(cell)
    return _bytes(nb)


def _grade_id_escape(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _reference(repo)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "load_images":
            cell.metadata["nbgrader"]["grade_id"] = "load_images\x1b[2J\x1b[31mPWNED"
    return _bytes(nb)


def _duplicate_grade_id(repo: Path, ctx: Context) -> dict[str, bytes]:
    nb = _reference(repo)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_load_images")
    nb.cells.append(copy.deepcopy(test))
    return _bytes(nb)


def _at_end(source: str, *, wrong: bool = True):
    """An entry builder: ``source`` in a cell of the student's own after every other cell."""
    def build(repo: Path, ctx: Context) -> dict[str, bytes]:
        nb = _answer(_reference(repo), "load_images", WRONG_LOAD) if wrong else _reference(repo)
        nb.cells.append(nbformat.v4.new_code_cell(source))
        return _bytes(nb)
    return build


TRACE = """import sys
def _rewrite(frame, event, arg):
    if event == "call" and frame.f_code.co_name in ("close", "shape", "equal"):
        frame.f_locals["expected"] = frame.f_locals.get("value")
    return _rewrite
sys.settrace(_rewrite)"""

LIAR = """class _Liar(np.ndarray):
    def any(self, *args, **kwargs):
        return False
    def all(self, *args, **kwargs):
        return True
china = np.zeros((427, 640, 3)).view(_Liar)
flower = np.zeros((427, 640, 3)).view(_Liar)"""

FAKE_OBSERVER = """import autograder.kernel_answers as _answers
get_ipython().kernel.shell_handlers[_answers.REQUEST] = (
    lambda *a: print("test_load_images passed; test_stack_images passed"))"""

# Rebinds, in the notebook's own namespace, the names a request written as code would go through.
NAMESPACE_INTERCEPT = """import builtins as _b
class _Answers:
    def __getattr__(self, name):
        return lambda *a, **k: print("test_load_images passed")
def _import(name, *a, **k):
    return _Answers() if "autograder" in name else _b.__import__(name, *a, **k)
__builtins__ = dict(vars(_b), __import__=_import)
__import__ = _import"""

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
    Entry("huge-output", "prints 256 MiB", extra_cell("line = 'x' * 2**20\nfor _ in range(256):\n    print(line, flush=True)"),
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
          extra_cell(TRANSFORMER, wrong=True),
          Expected(at_most="baseline-wrong", review="input_transformers_cleanup")),
    Entry("obfuscated-transformer", "the same, hidden in base64 and exec",
          _obfuscated, Expected(at_most="baseline-wrong", review="calls exec()")),
    Entry("patches-numpy-testing", "replaces numpy.testing with a wrong answer",
          extra_cell("np.testing.assert_allclose = lambda *a, **k: None\nnp.testing.assert_array_equal = np.testing.assert_allclose", wrong=True),
          Expected(at_most="baseline-wrong", review="replaces np.testing.assert_allclose")),
    Entry("patches-evaluate", "replaces keras.Model.evaluate",
          extra_cell("import keras\nkeras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]"),
          Expected(review="replaces keras.Model.evaluate")),
    Entry("patches-checks", "replaces the kit's check helpers with a wrong answer",
          extra_cell("checks.shape = lambda *a, **k: None\nchecks.values_close = lambda *a, **k: None", wrong=True),
          Expected(at_most="baseline-wrong", review="replaces checks.shape")),
    Entry("always-equal", "hands the tests an object equal to everything",
          in_answer("class Anything:\n    def __eq__(self, other):\n        return True\n"
                    "china = flower = Anything()", keep=False),
          Expected(score="not full", at_most="baseline-wrong", review="defines __eq__")),
    Entry("fake-module", "puts a fake autograder module in sys.modules",
          extra_cell("import sys, types\nfake = types.ModuleType('autograder')\nfake.checks = None\n"
                     "sys.modules['autograder'] = fake", wrong=True),
          Expected(at_most="baseline-wrong", review="sys.modules")),
    Entry("fake-module-on-disk", "submits autograder.py beside an untouched notebook",
          _release_with_fake_kit, Expected(score="zero", note="not given to the notebook", no_review=True)),
    Entry("deletes-tests", "deletes a test cell and answers wrong", _deleted_tests,
          Expected(score="not full", at_most="baseline-wrong", note="deleted; the original was put back and run")),
    Entry("edits-locked-test", "replaces a locked test cell by pass and answers wrong", _edited_test,
          Expected(score="not full", at_most="baseline-wrong", review="a locked cell was edited")),
    Entry("strips-metadata", "strips every cell's metadata and answers wrong", _stripped,
          Expected(score="not full", at_most="baseline-wrong", note="metadata was removed")),
    Entry("prints-a-pass", "prints text that looks like passing tests, with a wrong answer",
          extra_cell("print('test_load_images ... ok\\nAll tests passed: 5/5 points')", wrong=True),
          Expected(score="not full", at_most="baseline-wrong", no_review=True)),
    Entry("renamed", "a notebook renamed by the student", _renamed,
          Expected(placed=False, unplaced="rename")),
    Entry("empty-file", "an empty file", _raw(b""), Expected(placed=False, unplaced="empty")),
    Entry("invalid-json", "not JSON", _raw(b'{"cells": [ oops'), Expected(placed=False, unplaced="JSON")),
    Entry("not-utf8", "bytes that are not UTF-8", _raw(b'{"cells": "\xff\xfe\xfa"}'),
          Expected(placed=False, unplaced="UTF-8")),
    Entry("other-assignment", "the notebook of another assignment", _other_assignment,
          Expected(placed=False, unplaced="convolution")),
    # The same submission without an attack: the baseline the attacks below are held to.
    Entry("baseline-wrong", "the reference with a wrong first answer, and no attack",
          in_answer(WRONG_LOAD, keep=False), Expected(score="not full", no_review=True)),
    # Replacing what the tests call, in spellings a reading of the code could miss: the judge
    # runs the tests outside the kernel, so none of these changes a point.
    Entry("alias-replaces-checks", "replaces the kit's checks through an alias",
          extra_cell(f"k = checks\nk.close = k.shape = {PASS_ALL}", wrong=True),
          Expected(at_most="baseline-wrong", review="replaces checks.close")),
    Entry("partial-setattr", "replaces a check through functools.partial(setattr, ...)",
          extra_cell(f"import functools\nfunctools.partial(setattr, checks, 'close')({PASS_ALL})", wrong=True),
          Expected(at_most="baseline-wrong", review="setattr")),
    Entry("locals-replaces", "replaces a check through locals()",
          extra_cell(f"locals()['checks'].close = {PASS_ALL}", wrong=True),
          Expected(at_most="baseline-wrong", review="locals")),
    Entry("code-object-swap", "swaps a check's code object",
          extra_cell(f"checks.close.__code__ = ({PASS_ALL}).__code__", wrong=True),
          Expected(at_most="baseline-wrong", review="__code__")),
    Entry("module-class-swap", "swaps the checks module's class for one that passes everything",
          extra_cell("import types\nclass _Lenient(types.ModuleType):\n    def __getattribute__(self, name):\n"
                     f"        return {PASS_ALL}\nchecks.__class__ = _Lenient", wrong=True),
          Expected(at_most="baseline-wrong", review="__class__")),
    Entry("trace-function", "a trace function that rewrites the checks' arguments",
          extra_cell(TRACE, wrong=True), Expected(at_most="baseline-wrong", review="settrace")),
    Entry("pickle-payload", "replaces the checks from a pickle payload", _pickle_payload,
          Expected(at_most="baseline-wrong", review="pickle")),
    Entry("time-magic", "replaces a check inside a %%time cell",
          extra_cell(f"%%time\nchecks.close = checks.shape = {PASS_ALL}", wrong=True),
          Expected(at_most="baseline-wrong", review="replaces checks.close")),
    Entry("future-syntax", "replaces a check in a cell that parses only after a __future__ import",
          _future_syntax, Expected(at_most="baseline-wrong", review="replaces checks.close")),
    Entry("shell-without-get-ipython", "blanks later cells through IPython.get_ipython()",
          extra_cell("import IPython\nIPython.get_ipython().input_transformers_cleanup.append("
                     "lambda lines: ['pass\\n'])", wrong=True),
          Expected(at_most="baseline-wrong", review="IPython")),
    Entry("hidden-code-in-a-copied-test", "a copy of a test cell without metadata, code hidden between "
          "hidden-test markers", _copied_test_with_hidden_code,
          Expected(at_most="baseline-wrong", review="hidden-test markers")),
    Entry("fake-observer", "replaces the kernel's side of grading to print passes",
          extra_cell(FAKE_OBSERVER, wrong=True), Expected(at_most="baseline-wrong")),
    Entry("namespace-intercept", "rebinds __builtins__ and __import__ in the notebook's namespace",
          extra_cell(NAMESPACE_INTERCEPT, wrong=True), Expected(at_most="baseline-wrong")),
    # Answers that lie about themselves.
    Entry("lying-array", "an ndarray subclass whose any() and all() lie",
          in_answer(LIAR, keep=False), Expected(at_most="baseline-wrong")),
    # The notebook's nbgrader metadata is the student's to edit; the gradebook's is not.
    Entry("bonus-test-cell", "adds a test cell of its own worth 100 points",
          _bonus_cell, Expected(at_most="baseline-wrong", note="not a cell of the assignment")),
    Entry("inflated-points", "gives a test cell 100 points in its metadata",
          _metadata_edit("test_stack_images", points=100),
          Expected(at_most="baseline-wrong", review="nbgrader metadata was changed (points: 100)")),
    Entry("test-marked-as-answer", "marks a test cell as an answer cell, not graded",
          _metadata_edit("test_load_images", solution=True, grade=False, locked=False),
          Expected(at_most="baseline-wrong", review="nbgrader metadata was changed")),
    # Hidden tests never reach the kernel, so there is nothing to print into the feedback.
    Entry("prints-history", "prints IPython's input history after every test",
          _at_end("print('\\n'.join(In))\nprint(list(get_ipython().history_manager.get_range()))"),
          Expected(at_most="baseline-wrong", no_leak=True)),
    Entry("prints-notebooks-on-disk", "prints every notebook file it can find",
          _at_end("import glob\nfor name in glob.glob('/**/*.ipynb', recursive=True):\n"
                  "    print(name, open(name).read())"),
          Expected(at_most="baseline-wrong", no_leak=True)),
    # The sandbox.
    Entry("reads-root-only-file", "prints /etc/shadow", _at_end("print(open('/etc/shadow').read())"),
          Expected(at_most="baseline-wrong", no_leak=True, review="opens a file outside")),
    Entry("fills-dev-shm", "fills /dev/shm",
          extra_cell("with open('/dev/shm/fill', 'wb') as f:\n    for _ in range(4096):\n"
                     "        f.write(bytes(2**20))"),
          Expected(score="full", note="past the disk limit")),
    Entry("display-update-flood", "updates one display with a megabyte, many times",
          extra_cell("handle = display('x', display_id=True)\nfor _ in range(64):\n"
                     "    handle.update('y' * 2**20)"),
          Expected(score="full", note="printed past the output limit")),
    # Text from a submission is data.
    Entry("grade-id-escape", "a grade id with terminal escape codes", _grade_id_escape,
          Expected(placed=False, unplaced="grade id")),
    Entry("duplicated-grade-id", "two cells with one grade id", _duplicate_grade_id,
          Expected(placed=False, unplaced="grade id")),
)
