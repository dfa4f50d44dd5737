"""Read a submission's own code, before it runs, for what could change a grade but its merit.

Grades are decided by a judge outside the student's kernel, so this scan is not the defence: it
is a hint for a person. Code in the student's kernel can still try to replace what the notebook's
own test cells use (IPython's input transformers, ``sys.modules``, numpy's or Keras's functions,
the kit's checks, builtins), hand them an object whose ``__eq__`` always says yes, or bring
trained weights in as data. Every code cell that the kernel will run as the student wrote it is
read the way the kernel reads it: after IPython's syntax transformations, with the ``__future__``
features earlier cells turned on, and into the code that magics such as ``%%time`` run. Each
construct that can do one of those things is reported with its cell and line; aliases
(``k = checks``, ``from sys import settrace``) are followed within and across cells.

The list leans to reporting: code built at run time (``exec``, ``eval``, ``getattr`` with a
computed name) is reported because it could hide any of the rest. A cell the scan cannot parse
is returned apart (:attr:`Scan.unparsed`); :func:`unreadable_cells_that_ran` flags those that
the kernel nonetheless ran.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import io
import re
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from IPython.core import magic_arguments
from IPython.core.inputtransformer2 import TransformerManager
from IPython.utils.text import DollarFormatter

from autograder.batch.review import cells
from autograder.batch.review.cells import visible

#: Magics a notebook may use without review: plotting, display settings and timing (``matplotlib``
#: with a backend's name only, ``config`` for ``InlineBackend`` only). The code ``time``,
#: ``timeit``, ``prun`` and ``capture`` run, and each ``{expression}`` IPython evaluates in a
#: magic's line, is read like the rest of the cell; any other magic is reported.
ALLOWED_MAGICS = frozenset({"matplotlib", "time", "timeit", "prun", "capture", "precision",
                            "pprint", "who", "whos", "pinfo", "pinfo2", "psearch", "config"})

#: Magics that IPython runs without expanding ``{expression}`` in their line first.
_NOT_EXPANDED = frozenset({"time", "timeit", "prun", "debug"})

#: The deepest nesting of magics read (``%%time`` around ``%%capture`` around ...).
MAX_MAGIC_DEPTH = 8

#: Modules whose import alone is reported: each can reach past the kernel's Python objects.
REPORTED_MODULES = {
    "ctypes": "loads C code into the kernel", "subprocess": "starts other programs",
    "socket": "opens network connections", "signal": "handles signals",
    "importlib": "imports modules by computed names", "builtins": "reaches Python's builtins",
    "multiprocessing": "starts processes", "urllib": "opens network connections",
    "requests": "opens network connections", "http": "opens network connections",
    "gc": "reaches other objects through the garbage collector",
    "IPython": "reaches the IPython shell that runs the tests",
    "ipykernel": "reaches the kernel that runs the tests",
    "__main__": "reaches the kernel's global names",
    "pickle": "can run code hidden in the data it loads", "dill": "can run code hidden in the data it loads",
    "cloudpickle": "can run code hidden in the data it loads",
    "joblib": "can run code hidden in the data it loads",
    "shelve": "stores pickles, able to run code hidden in the data",
    "marshal": "loads compiled code", "copyreg": "changes how objects are pickled and unpickled",
    "runpy": "runs other Python files", "code": "runs code built at run time",
    "codeop": "compiles code built at run time", "pdb": "sets a trace function on the tests",
    "bdb": "sets a trace function on the tests", "trace": "sets a trace function on the tests",
    "zipimport": "imports modules by computed names", "pkgutil": "imports modules by computed names",
}

#: Builtins reported wherever they are called.
REPORTED_CALLS = {
    "exec": "runs code built at run time", "eval": "runs code built at run time",
    "compile": "compiles code built at run time", "__import__": "imports a module by name",
    "globals": "reaches the kernel's global names", "locals": "reaches the names of the running code",
    "vars": "reaches an object's namespace",
    "setattr": "replaces an attribute by name", "delattr": "deletes an attribute by name",
    "exit": "stops the kernel", "quit": "stops the kernel",
}

#: Builtins reported where they are used without being called (handed to ``functools.partial``,
#: a decorator, ``map``): they do the same there.
REPORTED_REFERENCES = frozenset(REPORTED_CALLS) - {"exit", "quit"}

#: Attributes of modules reported wherever they are reached, called or not, under any alias.
REPORTED_PATHS = {
    "sys.settrace": "sets a trace function, able to see and change every line the tests run",
    "sys.setprofile": "sets a profile function, able to see every call the tests make",
    "threading.settrace": "sets a trace function, able to see and change every line the tests run",
    "threading.setprofile": "sets a profile function, able to see every call the tests make",
    "threading.settrace_all_threads": "sets a trace function, able to see and change every line the tests run",
    "threading.setprofile_all_threads": "sets a profile function, able to see every call the tests make",
    "sys.monitoring": "watches every line the tests run",
    "sys.addaudithook": "sees every sensitive operation the tests make",
    "sys._getframe": "reaches the frames of running code and their variables",
    "sys._current_frames": "reaches the frames of running code and their variables",
    "inspect.currentframe": "reaches the frames of running code and their variables",
    "inspect.stack": "reaches the frames of running code and their variables",
    "inspect.getouterframes": "reaches the frames of running code and their variables",
    "inspect.trace": "reaches the frames of running code and their variables",
    "sys.modules": "holds the modules the tests use",
    "sys.meta_path": "decides what later imports load", "sys.path_hooks": "decides what later imports load",
    "sys.path_importer_cache": "decides what later imports load",
    "sys.exit": "stops the kernel",
    "types.FunctionType": "builds a function from a code object", "types.CodeType": "builds a code object",
    "types.ModuleType": "builds a module at run time",
}

#: Functions of ``os`` reported wherever they are called.
REPORTED_OS = {"_exit", "kill", "killpg", "fork", "forkpty", "system", "popen", "execv", "execve",
               "execvp", "execl", "spawnv", "setsid", "remove", "unlink", "rmdir", "removedirs"}

#: Methods whose definition lets an object lie to a comparison or a type check.
REPORTED_DUNDERS = {"__eq__", "__ne__", "__bool__", "__len__", "__array__", "__array_ufunc__",
                    "__array_function__", "__getattribute__", "__getattr__", "__instancecheck__",
                    "__subclasscheck__", "__class__", "__float__", "__index__", "__hash__"}

#: Methods that run when an object is unpickled.
UNPICKLING_DUNDERS = {"__reduce__", "__reduce_ex__", "__setstate__"}

#: Attributes whose replacement changes what an object is or does, whatever the object.
REPLACED_INTERNALS = {
    "__code__": "the code a function runs", "__class__": "the class an object or a module belongs to",
    "__dict__": "the namespace of an object", "__globals__": "the global names a function sees",
    "__defaults__": "a function's default arguments",
    "__kwdefaults__": "a function's default keyword arguments",
    "__bases__": "the base classes of a class", "cell_contents": "a variable a closure captured",
}

#: Attributes whose mere reading is reported: they lead to other code's objects.
INTERNAL_ATTRIBUTES = {"__builtins__", "__globals__", "__code__", "__subclasses__", "__dict__",
                       "__self__", "__setattr__", "__delattr__", "__closure__", "f_globals",
                       "f_locals", "f_back", "f_builtins", "tb_frame", "gi_frame", "cr_frame",
                       "ag_frame"}

#: Libraries whose attributes a student's code has no business replacing.
_LIBRARIES = frozenset({"np", "numpy", "tf", "tensorflow", "keras", "plt", "matplotlib", "checks",
                        "autograder", "sklearn", "layers", "models", "os", "sys", "builtins"})

#: (module, attribute): a library's settings, which honest notebooks change.
_SETTINGS = frozenset({("pandas", "options")})

#: Ways to reach IPython's shell; calling one gives ``get_ipython()``.
_SHELL_GETTERS = frozenset({"get_ipython", "IPython.core.interactiveshell.InteractiveShell.instance",
                            "IPython.InteractiveShell.instance",
                            "ipykernel.zmqshell.ZMQInteractiveShell.instance"})

#: Import paths that name the same object (the left one is written as the right one).
_SAME = (("tensorflow.keras", "keras"), ("IPython.core.getipython.get_ipython", "get_ipython"),
         ("IPython.get_ipython", "get_ipython"), ("posix", "os"), ("nt", "os"))

#: Calls that return what they are given (or part of it): an alias can pass through them.
_PASSING_CALLS = frozenset({"list", "tuple", "set", "frozenset", "dict", "iter", "next",
                            "reversed", "sorted", "zip", "enumerate"})

# ---- data carried in a notebook, in bytes (a person reads it for trained weights).

#: One string (or number) literal larger than this is reported.
LITERAL_LIMIT = 16 * 1024
#: String literals of one cell larger than this in all are reported.
CELL_STRINGS_LIMIT = 64 * 1024
#: More numbers than this written as literals in one cell are reported.
CELL_NUMBERS_LIMIT = 2_000
#: Comments of one cell larger than this in all are reported (a cell can read its own source).
CELL_COMMENTS_LIMIT = 16 * 1024
#: A code cell larger than this is reported when nothing above explains it (one that does not
#: parse, larger than :data:`LITERAL_LIMIT`: its literals could not be counted).
CELL_SOURCE_LIMIT = 64 * 1024
#: Literals and comments of all the student's code cells over this, in one notebook (weights
#: spread over cells each under the limits above).
NOTEBOOK_LITERALS_LIMIT = 128 * 1024
#: Non-image outputs, attachments, metadata, raw and markdown text over this, in one notebook.
NOTEBOOK_PAYLOAD_LIMIT = 1024 * 1024
#: When a notebook is over :data:`NOTEBOOK_PAYLOAD_LIMIT`, the cells carrying at least this.
PAYLOAD_DETAIL = 16 * 1024

_WEIGHTS = "trained weights could be hidden in it"

_MARKERS = ("writes hidden-test markers in its own cell (nbgrader removes hidden tests only from "
            "the assignment's own cells, so this code runs)")

_BUILTINS = frozenset(dir(builtins)) - {"__name__", "__doc__"}


@dataclass(frozen=True)
class Unparsed:
    """A code cell of the student's that the scan could not parse, so did not read."""

    cell: int
    """Its index (from 0) in the submitted notebook's cells."""
    grade_id: str | None
    """Its nbgrader grade id, if it has one."""
    source: str
    """Its source, as submitted (to find it again in the executed notebook)."""
    error: SyntaxError
    """Why it did not parse (the line is the cell's)."""

    @property
    def where(self) -> str:
        """``cell N`` or ``cell N (grade id)``, as the scan's other reports name a cell."""
        return _where(self.cell, self.grade_id)


@dataclass(frozen=True)
class Scan:
    """What :func:`scan_submission` found in a submitted notebook."""

    reports: tuple[str, ...]
    """One sentence per finding, each naming its cell (and line): the reasons to flag it."""
    unparsed: tuple[Unparsed, ...]
    """The student's cells the scan could not parse; pass them to
    :func:`unreadable_cells_that_ran` with the executed notebook."""

    @property
    def flagged(self) -> bool:
        """Whether a person should review the submission (before it runs)."""
        return bool(self.reports)


def scan_submission(nb: Mapping, locked: Mapping[str, str]) -> Scan:
    """Read every code cell of a submitted notebook that the kernel will run as the student
    wrote it, in order, and report what could change a grade but its merit.

    ``locked`` maps the assignment's locked cells' grade ids to their source (hidden tests
    included). Cells with those ids are not read: nbgrader puts their source back from the
    gradebook. Neither is a cell without nbgrader metadata whose whole source is the released
    text of a locked cell (nbgrader restores it too); any other text in such a cell, hidden-test
    markers included, is read as the student's own. Aliases and ``__future__`` features carry
    from cell to cell. Large data in the notebook (literals, outputs, attachments) is reported
    as a place trained weights could hide.
    """
    names = _Names.start(protected_names(locked.values()))
    released = {visible(text) for text in locked.values()}
    reports: list[str] = []
    unparsed: list[Unparsed] = []
    literals: dict[str, int] = {}  # where -> bytes of literals and comments
    found = nb.get("cells") if isinstance(nb, Mapping) else None
    for index, cell in enumerate(found if isinstance(found, list) else []):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        grade_id = cells.grade_id(cell)
        source = cells.source(cell)
        if grade_id in locked or (not cells.has_nbgrader_metadata(cell)
                                  and cells.normalised(source) in released):
            continue
        where = _where(index, grade_id)
        finder = _Finder(names)
        finder.read_cell(source)
        reports += [f"{where}, line {line}: {reason}" for line, reason in finder.findings()]
        reports += [reason for _, reason in finder.data.reasons(where)]
        literals[where] = finder.data.total()
        if finder.error is not None:
            unparsed.append(Unparsed(index, grade_id, source, finder.error))
    if sum(literals.values()) > NOTEBOOK_LITERALS_LIMIT:
        carrying = [where for where, size in literals.items() if size >= 1024]
        reports.append(f"carries {_kib(sum(literals.values()))} KiB of data in the literals and "
                       f"comments of {len(carrying)} cells ({', '.join(carrying[:5])}"
                       f"{', ...' if len(carrying) > 5 else ''}); {_WEIGHTS}")
    reports += _payload_reports(nb)
    return Scan(tuple(reports), tuple(unparsed))


def scan_notebook(nb: Mapping, locked: Mapping[str, str]) -> list[str]:
    """Reports for a submitted notebook: one line per finding in the student's own cells
    (:func:`scan_submission` without the cells it could not parse)."""
    return list(scan_submission(nb, locked).reports)


def scan_cell(source: str, protected: Mapping[str, str | None] | None = None) -> list[tuple[int, str]]:
    """(line, reason) for each construct in one cell, read on its own, that could change a
    grade by other means than its merit; a cell that does not parse is not reported (it fails
    on its own: :func:`scan_submission` returns it apart)."""
    finder = _Finder(_Names.start(dict(protected or {})))
    finder.read_cell(source)
    return sorted(set(finder.findings()) | set(finder.data.reasons("this cell")))


def unreadable_cells_that_ran(executed: Mapping, unparsed: Iterable[Unparsed]) -> list[str]:
    """Flags for the cells the scan could not parse but the kernel ran, read from the executed
    notebook (after the run): ``"cell N could not be read by the review scan but ran; a person
    should read it"``.

    A cell is found again by its source. It ran if it has an execution count or an output other
    than "not run"; it failed to parse there too if it has a ``SyntaxError``,
    ``IndentationError`` or ``TabError`` output raised while the cell was compiled (or while a
    magic compiled its body), not one its code raised at run time. A cell not found (nbgrader
    put a locked cell's source back) did not run as written and is not flagged.
    """
    executed_cells = [c for c in executed.get("cells", []) if isinstance(c, Mapping)
                      and c.get("cell_type") == "code"] if isinstance(executed, Mapping) else []
    flags = []
    for item in unparsed:
        text = cells.normalised(item.source)
        if any(cells.normalised(cells.source(c)) == text and _ran(c) and not _failed_to_parse(c)
               for c in executed_cells):
            flags.append(f"{item.where} could not be read by the review scan but ran; a person "
                         f"should read it (the scan's parser said: {item.error.msg}, line "
                         f"{item.error.lineno}).")
    return flags


def protected_names(locked_sources: Iterable[str]) -> dict[str, str | None]:
    """Names the locked cells (tests, given code) import or define at their top level, with
    what they import (None for a definition), and the builtins they use (``builtins.print``)."""
    names: dict[str, str | None] = {}
    used: set[str] = set()
    for source in locked_sources:
        try:
            tree = ast.parse(_transformed(source))
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    names[bound] = alias.name if alias.asname else bound
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module or ''}.{alias.name}"
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names[node.name] = None
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in sorted(used - set(names)):
        if name in _BUILTINS:
            names[name] = f"builtins.{name}"
    return names


def _where(index: int, grade_id: str | None) -> str:
    return f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")


def _ran(cell: Mapping) -> bool:
    """Whether the kernel ran the cell (its outcome aside)."""
    if cell.get("execution_count") is not None:
        return True
    # Imported here: the judge's executor pulls in nbgrader, which the scan itself does not need.
    from autograder.judge.guarded_execute import NOT_RUN
    return any(not (o.get("output_type") == "error" and o.get("ename") == NOT_RUN)
               for o in cell.get("outputs") or [] if isinstance(o, Mapping))


def _failed_to_parse(cell: Mapping) -> bool:
    """Whether the kernel could not compile the cell (or a magic's body in it)."""
    for output in cell.get("outputs") or []:
        if not isinstance(output, Mapping) or output.get("output_type") != "error":
            continue
        if output.get("ename") not in ("SyntaxError", "IndentationError", "TabError"):
            continue
        traceback = "\n".join(str(line) for line in output.get("traceback") or [])
        # Compiling the cell itself leaves no frames; a magic's body fails inside the magic.
        if "most recent call last" not in traceback or "_magic(" in traceback:
            return True
    return False


# ---- the names a notebook binds, followed across its cells


@dataclass
class _Names:
    """What the notebook's names stand for, as far as the scan can tell, across cells."""

    protected: dict[str, str | None]
    """Names the locked cells bind, with what they import."""
    canonical: dict[str, str]
    """Import paths the locked cells bind, and the name the tests use for each."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Names the student bound to a library object (``k = checks``): name -> what it is."""
    holders: dict[str, str] = field(default_factory=dict)
    """Names bound to a container or loop over library objects: name -> one of them."""
    imported: set[str] = field(default_factory=set)
    """Names the student's imports bound."""
    modules: set[str] = field(default_factory=set)
    """Names the student's ``import x`` statements bound (modules for sure)."""
    plain: set[str] = field(default_factory=set)
    """Library-looking names the student bound to ordinary values at the top level."""
    own: set[str] = field(default_factory=set)
    """The student's own functions and classes."""
    future: int = 0
    """``__future__`` compiler flags turned on by the cells read so far."""

    @classmethod
    def start(cls, protected: dict[str, str | None]) -> _Names:
        canonical: dict[str, str] = {}
        for name, path in protected.items():
            if path:
                canonical.setdefault(_same(path), name)
        return cls(protected, canonical)

    def alias(self, name: str, path: str) -> None:
        """``name`` now stands for the library object ``path``."""
        self.aliases[name] = path
        self.holders.pop(name, None)
        self.plain.discard(name)

    def hold(self, name: str, path: str) -> None:
        """``name`` now holds (or may be) the library object ``path``."""
        self.holders[name] = path
        self.aliases.pop(name, None)
        self.plain.discard(name)

    def forget(self, name: str) -> None:
        """``name`` is now an ordinary value of the student's (bound at the top level)."""
        self.aliases.pop(name, None)
        self.holders.pop(name, None)
        self.plain.add(name)

    def canon(self, path: str) -> str:
        """``path`` as the tests name it (``numpy.testing`` -> ``np.testing``)."""
        path = _same(path)
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            name = self.canonical.get(".".join(parts[:end]))
            if name is not None:
                return ".".join([name, *parts[end:]])
        return path

    def is_library(self, name: str) -> bool:
        """Whether ``name`` stands for a library object (a module, the kit, an alias of one)."""
        if name in self.aliases:
            return True
        if name in self.plain or name in self.holders:
            return False
        return name in self.imported or name in self.protected or name in _LIBRARIES

    def is_module_like(self, name: str) -> bool:
        """Whether ``name`` stands for a module or a class of a library (whose attributes a
        function handed it could replace), not a function or a value of one."""
        if not self.is_library(name):
            return False
        if name in self.modules or (name in _LIBRARIES and name not in self.aliases):
            return True
        path = self.aliases.get(name) or self.protected.get(name)
        if path is None:  # defined by the tests' own cells: a class, or a function
            return name[:1].isupper()
        if path.startswith("builtins.") or path in _BUILTINS or "(" in path:
            return False
        last = path.rsplit(".", 1)[-1]
        return "." not in path or path.startswith("autograder.") or last[:1].isupper()


def _same(path: str) -> str:
    """``path`` with the spellings of :data:`_SAME` (and ``builtins.``) made one."""
    for written, meant in _SAME:
        if path == written or path.startswith(written + "."):
            path = meant + path[len(written):]
    return path.removeprefix("builtins.")


# ---- reading one cell


class _Data:
    """Data literals in one cell (its magics' code included), to find trained weights."""

    def __init__(self) -> None:
        self.largest: tuple[int, int, str] = (0, 0, "")  # size, line, what
        self.strings = 0
        self.numbers = 0
        self.number_bytes = 0
        self.first_number = 0
        self.comments = 0
        self.source = 0
        self.unread = False

    def total(self) -> int:
        """Bytes of string and number literals and comments in all."""
        return self.strings + self.number_bytes + self.comments

    def literal(self, line: int, size: int, what: str) -> None:
        if size > self.largest[0]:
            self.largest = (size, line, what)

    def reasons(self, where: str) -> list[tuple[int, str]]:
        """(line, reason) for each kind of data over its limit, naming ``where`` it is."""
        found: list[tuple[int, int, str]] = []  # line, bytes, what
        size, line, what = self.largest
        if size > LITERAL_LIMIT:
            found.append((line, size, f"{what} on line {line}"))
        elif self.strings > CELL_STRINGS_LIMIT:
            found.append((1, self.strings, "string literals"))
        if self.numbers > CELL_NUMBERS_LIMIT:
            what = f"{self.numbers:,} numbers written as literals, from line {self.first_number}"
            found.append((self.first_number, self.number_bytes, what))
        if self.comments > CELL_COMMENTS_LIMIT:
            found.append((1, self.comments, "comments"))
        if not found and self.source > (LITERAL_LIMIT if self.unread else CELL_SOURCE_LIMIT):
            found.append((1, self.source, "text the scan could not parse" if self.unread else "code"))
        return [(line, f"carries {_kib(size)} KiB of data in {where}: {what}; {_WEIGHTS}")
                for line, size, what in found]


def _kib(size: int) -> str:
    return f"{max(1, round(size / 1024)):,}"


class _Finder(ast.NodeVisitor):
    """Reads one cell (and the code its magics run) for findings, sharing :class:`_Names`."""

    def __init__(self, names: _Names) -> None:
        self.names = names
        self.found: list[tuple[int, str]] = []
        self.error: SyntaxError | None = None
        self.data = _Data()
        self.offset = 0
        self.depth = 0
        self.scopes: list[tuple[str, set[str]]] = []  # ("function" or "class", names declared global)
        self.skip: set[int] = set()  # nodes already reported as calls, and magics' text
        self.cell_magic = False  # whether the text being read is a %%magic cell
        self.decorators: set[int] = set()

    def findings(self) -> list[tuple[int, str]]:
        return sorted(set(self.found))

    def report(self, node: ast.AST | int, reason: str) -> None:
        line = node if isinstance(node, int) else getattr(node, "lineno", 1)
        self.found.append((line + self.offset, reason))

    # -- reading text

    def read_cell(self, source: str) -> None:
        """Read a whole cell of the student's."""
        self.data.source = len(source.encode("utf-8", "surrogatepass"))
        for line in cells.hidden_test_lines(source):
            self.found.append((line, _MARKERS))
        self.read(source, 0)

    def read(self, source: str, offset: int, *, futures: bool = True, quiet: bool = False) -> None:
        """Read ``source`` as IPython would run it, its line 1 being line ``offset + 1``."""
        lead = _blank_lead(source)
        try:
            python = _transformed(source)
            flags = ast.PyCF_ONLY_AST | (self.names.future if futures else 0)
            tree = compile(python, "<cell>", "exec", flags=flags, dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if not quiet:
                self.unreadable(error, offset + lead)
            return
        if futures:
            self.names.future |= _future_flags(tree)
        self.data.comments += _comment_bytes(python)
        saved = self.offset, self.cell_magic, len(self.scopes)
        self.offset, self.cell_magic = offset + lead, source.lstrip().startswith("%%")
        try:
            self.visit(tree)
        except RecursionError as error:  # nested deeper than the visitor can follow
            self.unreadable(error, offset + lead)
        finally:
            self.offset, self.cell_magic = saved[:2]
            del self.scopes[saved[2]:]

    def unreadable(self, error: Exception, offset: int) -> None:
        """Keep the first reason the scan could not read part of the cell."""
        if self.error is None:
            self.error = _syntax_error(error, offset)
            self.data.unread = True

    def nested(self, code: str, line: int, *, futures: bool = True, quiet: bool = False) -> None:
        """Read code that a magic runs, its first line being line ``line + 1`` of the text
        being read (``quiet``: what does not parse is not kept as unreadable)."""
        if self.depth >= MAX_MAGIC_DEPTH:
            self.report(line + 1, f"nests magics more than {MAX_MAGIC_DEPTH} deep; the scan did not "
                                  f"read further")
            return
        self.depth += 1
        self.read(code, self.offset + line, futures=futures, quiet=quiet)
        self.depth -= 1

    # -- names and aliases

    def resolve(self, node: ast.AST) -> str:
        """What a reference names, aliases followed (``k.close`` -> ``checks.close``); "" if it
        is not a plain reference."""
        if isinstance(node, ast.Name):
            return self.names.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return self.names.canon(f"{base}.{node.attr}") if base else ""
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            if func in _SHELL_GETTERS and not node.args:
                return "get_ipython()"
            if func == "getattr" and len(node.args) == 2 and _text(node.args[1]) is not None:
                base = self.resolve(node.args[0])
                return self.names.canon(f"{base}.{_text(node.args[1])}") if base else ""
        return ""

    def library_path(self, node: ast.AST) -> str | None:
        """What ``node`` names if it is a library object (its alias value), else None."""
        path = self.resolve(node)
        if not path:
            return None
        if path.startswith("get_ipython()") or path in _SHELL_GETTERS or path in REPORTED_CALLS:
            return path
        root = _chain_root(node)
        return path if root is not None and self.names.is_library(root) else None

    def held_path(self, node: ast.AST) -> str | None:
        """A library object that ``node`` holds (in a list, a tuple, a conditional), if any."""
        for sub in _carriers(node):
            if isinstance(sub, ast.Name) and sub.id in self.names.holders:
                return self.names.holders[sub.id]
            path = self.library_path(sub) if isinstance(sub, (ast.Name, ast.Attribute, ast.Call)) else None
            if path and path not in _BUILTINS:
                return path
        return None

    def module_level(self, name: str) -> bool:
        return not self.scopes or (self.scopes[-1][0] == "function" and name in self.scopes[-1][1])

    def bind(self, target: ast.AST, value: ast.AST | None, *, hold: bool = False,
             local: bool = False) -> None:
        """Record what ``target`` stands for after it is bound to ``value`` (``hold``: to one
        of the things ``value`` holds, as a loop's variable; ``local``: in a comprehension)."""
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts) and not hold \
                and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts)):
            for element, part in zip(target.elts, value.elts):
                self.bind(element, part, local=local)
            return
        alias = None if value is None or hold else self.library_path(value)
        held = None if value is None or alias else self.held_path(value)
        for node in _bound_names(target):
            if alias is not None and isinstance(target, ast.Name):
                self.names.alias(node.id, alias)
            elif alias or held:
                self.names.hold(node.id, alias or held)
            elif not local and self.module_level(node.id):
                # A library's name bound to a value of the student's is no longer the library
                # (only at the top level: a function's local name hides nothing outside it).
                self.names.forget(node.id)

    # -- imports

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self.imported(node, alias.name if alias.asname else bound, bound)
            self.names.modules.add(bound)
            if alias.name.split(".")[0] == "autograder":
                self.report(node, f"imports from the kit's package ({alias.name}) in its own code")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "__future__":
            return
        for alias in node.names:
            if alias.name == "*":
                self.star(node, module)
            else:
                self.imported(node, f"{module}.{alias.name}", alias.asname or alias.name)
        if module.split(".")[0] == "autograder":
            self.report(node, f"imports from the kit's package ({module}) in its own code")

    def imported(self, node: ast.AST, name: str, bound: str) -> None:
        top = name.split(".")[0]
        reason = REPORTED_MODULES.get(top)
        if reason:
            self.report(node, f"imports {top}, which {reason}")
        protected = self.names.protected
        if bound in protected and _same(protected[bound] or "") != _same(name):
            self.report(node, f"rebinds {bound!r}, a name the tests use, to {name}")
        path = self.names.canon(name)
        self.names.imported.add(bound)
        self.names.alias(bound, path)
        if path == bound:  # the tests' own name for it: no alias needed
            del self.names.aliases[bound]
        if path in REPORTED_PATHS:
            self.report(node, f"imports {path}, which {REPORTED_PATHS[path]}")
        elif path.startswith("os.") and path[3:] in REPORTED_OS:
            self.report(node, f"imports {path}")

    def star(self, node: ast.ImportFrom, module: str) -> None:
        top = module.split(".")[0]
        if top in REPORTED_MODULES:
            self.report(node, f"imports {top}, which {REPORTED_MODULES[top]}")
        module = _same(module)
        brought = [p for p in REPORTED_PATHS if p.rpartition(".")[0] == module]
        brought += [f"os.{n}" for n in sorted(REPORTED_OS) if module == "os"]
        for path in brought:
            self.names.alias(path.rpartition(".")[2], path)
        if brought:
            self.report(node, f"imports everything from {module}, {brought[0]} among it")

    # -- definitions and scopes

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.defines(node, node.name)
        self.visit(node.args)
        if node.returns:
            self.visit(node.returns)
        self.scopes.append(("function", set()))
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        for argument, default in [*zip(positional[len(positional) - len(arguments.defaults):],
                                       arguments.defaults),
                                  *zip(arguments.kwonlyargs, arguments.kw_defaults)]:
            if default is not None:  # a parameter whose default is a library object is its alias
                self.bind(ast.Name(id=argument.arg, ctx=ast.Store()), default)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.defines(node, node.name)
        for part in (*node.bases, *node.keywords):
            self.visit(part)
        self.scopes.append(("class", set()))
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    def visit_Global(self, node: ast.Global) -> None:
        if self.scopes:
            self.scopes[-1][1].update(node.names)

    def defines(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, name: str) -> None:
        """A ``def`` or ``class`` of the student's: report its name, bind it, read its decorators."""
        if not self.dunder(node, name) and self.module_level(name) and name in self.names.protected:
            self.report(node, f"rebinds {name!r}, a name the tests use")
        self.names.own.add(name)
        if self.module_level(name):
            self.names.forget(name)
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call):
                self.decorators.add(id(decorator))
            self.visit(decorator)

    def dunder(self, node: ast.AST, name: str | None) -> bool:
        """Report a method defined (by ``def``, assignment or a class's dict) that lets an
        object lie or run code when unpickled; return whether ``name`` is one."""
        if name in REPORTED_DUNDERS:
            self.report(node, f"defines {name}, which can make a comparison or a type check lie")
        elif name in UNPICKLING_DUNDERS:
            self.report(node, f"defines {name}, which runs code when an object is unpickled")
        else:
            return False
        return True

    # -- assignments

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.assigned(target)
            self.bind(target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.assigned(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.assigned(node.target)
        if node.value is not None:
            self.bind(node.target, node.value)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.assigned(node.target)
        self.bind(node.target, node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.assigned(node.target)
        self.bind(node.target, node.iter, hold=True)
        self.generic_visit(node)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.assigned(node.target, local=True)
        self.bind(node.target, node.iter, hold=True, local=True)
        self.generic_visit(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self.assigned(item.optional_vars)
                # with nullcontext(checks) as m: m may be what the call was handed.
                context = item.context_expr
                handed = [a for a in _arguments(context) if isinstance(a, ast.Name)
                          and self.names.is_module_like(a.id)] if isinstance(context, ast.Call) else []
                self.bind(item.optional_vars, handed[0] if handed else context, hold=True)
        self.generic_visit(node)

    visit_AsyncWith = visit_With  # type: ignore[assignment]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.assigned(ast.Name(id=node.name, ctx=ast.Store(), lineno=node.lineno))
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.assigned(target, deleting=True)
        self.generic_visit(node)

    def assigned(self, target: ast.AST, *, local: bool = False, deleting: bool = False) -> None:
        """Report a binding of ``target`` that replaces what the tests use."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.assigned(element, local=local, deleting=deleting)
        elif isinstance(target, ast.Starred):
            self.assigned(target.value, local=local, deleting=deleting)
        elif isinstance(target, ast.Attribute):
            self.attribute_set(target, deleting)
        elif isinstance(target, ast.Subscript):
            owner = self.resolve(target.value)
            if owner in ("sys.modules", "__builtins__") or _dotted(target.value) == "__builtins__":
                self.report(target, f"changes {owner or _dotted(target.value)}")
        elif isinstance(target, ast.Name):
            if self.scopes and self.scopes[-1][0] == "class" and self.dunder(target, target.id):
                pass
            elif not local and self.module_level(target.id) and target.id in self.names.protected:
                verb = "deletes" if deleting else "rebinds"
                self.report(target, f"{verb} {target.id!r}, a name the tests use")

    def attribute_set(self, target: ast.Attribute, deleting: bool) -> None:
        written = _dotted(target)
        resolved = self.library_path(target.value)
        if target.attr in REPLACED_INTERNALS and not deleting:
            path = f"{resolved}.{target.attr}" if resolved else written
            note = f" (written {written})" if path != written else ""
            self.report(target, f"replaces {path}, {REPLACED_INTERNALS[target.attr]}{note}")
            return
        if self.dunder(target, target.attr):
            return
        verb = "deletes" if deleting else "replaces"
        if resolved is not None:
            path = f"{resolved}.{target.attr}"
            if (_module_path(self, target.value), path.split(".")[1]) in _SETTINGS:
                return  # pd.options.display.max_rows = 100
            note = f" (written {written})" if path != written else ""
            self.report(target, f"{verb} {path}, part of a library the tests use{note}")
            return
        via = self.reaching(target.value)
        if via:
            self.report(target, f"{verb} {written}, part of a library the tests use (through {via})")

    def reaching(self, node: ast.AST) -> str | None:
        """How an expression that is not a plain reference reaches a library object."""
        for sub in _carriers(node):
            if isinstance(sub, ast.Name) and sub.id in self.names.holders:
                return f"{sub.id}, which holds {self.names.holders[sub.id]}"
            if isinstance(sub, ast.Name) and self.names.is_library(sub.id):
                return self.resolve(sub)
        return None

    # -- calls and references

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        path = self.resolve(func)
        if isinstance(func, ast.Attribute) and self.resolve(func.value).startswith("get_ipython()"):
            self.shell_call(node, path or _dotted(func))
            return
        if path in _SHELL_GETTERS:
            self.report(node, "uses the IPython shell that runs the tests: get_ipython()")
            self.skip.add(id(func))
        elif path == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.report(node, "reads an attribute by a computed name")
        elif path in ("open", "io.open") and node.args and _outside(node.args[0]):
            self.report(node, "opens a file outside its own folder")
        elif path in REPORTED_CALLS:
            self.report(node, f"calls {path}(), which {REPORTED_CALLS[path]}")
            self.skip.add(id(func))
        elif path in REPORTED_PATHS:
            self.report(node, f"calls {path}(), which {REPORTED_PATHS[path]}")
            self.skip.add(id(func))
        elif path.startswith("os.") and path[3:] in REPORTED_OS:
            self.report(node, f"calls {path}()")
            self.skip.add(id(func))
        self.unsafe_loading(node, path)
        self.handed(node, func)
        self.generic_visit(node)

    def unsafe_loading(self, node: ast.Call, path: str) -> None:
        for keyword in node.keywords:
            value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
            if keyword.arg == "allow_pickle" and value is not False:
                self.report(node, "loads with allow_pickle, which can run code hidden in the data")
            elif keyword.arg == "safe_mode" and value is not True:
                self.report(node, "turns off Keras's safe_mode, which lets a saved model run its own code")
        if path.rpartition(".")[2] == "read_pickle" or (
                isinstance(node.func, ast.Attribute) and node.func.attr == "read_pickle"):
            self.report(node, "calls read_pickle(), which can run code hidden in the data")

    def handed(self, node: ast.Call, func: ast.AST) -> None:
        """Report a module handed to the student's own function or to a decorator."""
        decorator = id(node) in self.decorators
        own = isinstance(func, ast.Name) and func.id in self.names.own
        if not (decorator or own):
            return
        for argument in _arguments(node):
            if isinstance(argument, ast.Name) and self.names.is_module_like(argument.id):
                what = self.resolve(argument)
                to = f"the decorator @{_dotted(func)}()" if decorator else f"its own function {func.id}()"
                self.report(node, f"hands {what} to {to}, which could replace its parts")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.report(node, "reaches __builtins__")
        elif isinstance(node.ctx, ast.Load) and id(node) not in self.skip:
            self.referenced(node, self.resolve(node))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if id(node) not in self.skip:
            path = self.resolve(node)
            if path:
                self.referenced(node, path)
            store = isinstance(node.ctx, (ast.Store, ast.Del))
            if node.attr in INTERNAL_ATTRIBUTES and not (store and node.attr in REPLACED_INTERNALS):
                self.report(node, f"reaches {node.attr}, an interpreter internal")
        self.generic_visit(node)

    def referenced(self, node: ast.AST, path: str) -> None:
        if path in _SHELL_GETTERS:
            self.report(node, f"uses the IPython shell that runs the tests: {path}")
        elif path in REPORTED_REFERENCES:
            self.report(node, f"refers to {path} without calling it; {path}() {REPORTED_CALLS[path]}")
        elif path in REPORTED_PATHS:
            self.report(node, f"reaches {path}, which {REPORTED_PATHS[path]}")
        elif path.startswith("os.") and path[3:] in REPORTED_OS:
            self.report(node, f"refers to {path} without calling it")

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self.skip:
            return
        value, line = node.value, node.lineno + self.offset
        if isinstance(value, (str, bytes)):
            size = len(value) if isinstance(value, bytes) else len(value.encode("utf-8", "surrogatepass"))
            self.data.strings += size
            self.data.literal(line, size, f"a string literal of {_kind(value)}")
        elif isinstance(value, (int, float, complex)) and not isinstance(value, bool):
            width = (node.end_col_offset or 0) - node.col_offset if node.end_lineno == node.lineno else 8
            self.data.numbers += 1
            self.data.number_bytes += width
            self.data.first_number = self.data.first_number or line
            self.data.literal(line, width, "a number literal")

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            if key is not None:
                self.dunder(key, _text(key))
        self.generic_visit(node)

    # -- IPython's shell and magics

    def shell_call(self, node: ast.Call, path: str) -> None:
        method = path.rpartition(".")[2]
        owner = path.rpartition(".")[0]
        if owner == "get_ipython()" and method in ("run_line_magic", "run_cell_magic"):
            self.magic(node, path, cell=method == "run_cell_magic")
            return
        what = "a shell command (!)" if owner == "get_ipython()" and method in ("system", "getoutput") else path
        self.report(node, f"uses the IPython shell that runs the tests: {what}")
        for part in (*node.args, *node.keywords):
            self.visit(part)

    def magic(self, node: ast.Call, path: str, *, cell: bool) -> None:
        texts = [_text(argument) for argument in node.args]
        name = texts[0] if texts else None
        label = ("%%" if cell else "%") + name if name else path
        if len(texts) != (3 if cell else 2) or None in texts or node.keywords:
            self.report(node, f"uses the IPython shell that runs the tests: {label} with arguments "
                              f"built at run time")
            for part in (*node.args, *node.keywords):
                self.visit(part)
            return
        self.skip.update(id(argument) for argument in node.args)
        line, body = texts[1], texts[2] if cell else None
        if name not in _NOT_EXPANDED:
            for expression in _expanded(line):
                self.nested(expression, node.lineno - 1, futures=False, quiet=True)
        if not _allowed(name, line):
            self.report(node, f"uses the IPython shell that runs the tests: {label}")
            for text in (line, body or ""):
                self.data.strings += len(text)
                self.data.literal(node.lineno + self.offset, len(text), f"the text of {label}")
            return
        # A %%magic line is the cell's first; its body starts on the next line. A call written
        # out (get_ipython().run_cell_magic(...)) has its body on its own line.
        body_line = node.lineno if self.cell_magic and node.lineno == 1 else node.lineno - 1
        for code, start, futures in _magic_code(name, line, body, node.lineno - 1, body_line):
            self.nested(code, start, futures=futures)


# ---- helpers


def _transformed(source: str) -> str:
    """The cell as plain Python, after IPython's magics and shell escapes are turned into calls."""
    try:
        return TransformerManager().transform_cell(source)
    except (SyntaxError, ValueError):
        raise
    except Exception as error:  # IPython's transformers gave up on the text
        raise SyntaxError(f"IPython could not read it ({type(error).__name__}: {error})") from error


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        text = ast.unparse(node)
        return text if len(text) <= 40 else f"{_dotted(node.func)}(...)"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[]"
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _chain_root(node: ast.AST) -> str | None:
    """The name a reference starts from (``k`` of ``k.close``, ``c`` of ``getattr(c, 'x')``)."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and node.args:
            node = node.args[0]
        else:
            return None


def _module_path(finder: _Finder, node: ast.AST) -> str:
    """The top-level module behind the first name of a reference (``pd`` -> ``pandas``)."""
    root = _chain_root(node) or ""
    name = finder.names.aliases.get(root, root).split(".")[0]
    return _same(finder.names.protected.get(name) or name).split(".")[0]


def _carriers(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and the expressions in it whose value it may be or hold: the owner of an
    attribute or item, the parts of a container or a condition, the arguments of calls that
    pass them through (``list``, ``getattr``, ``type``); not the insides of other calls or lambdas."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (ast.Attribute, ast.Subscript, ast.Starred, ast.NamedExpr)):
            stack.append(current.value)
        elif isinstance(current, ast.Call):
            name = current.func.id if isinstance(current.func, ast.Name) else None
            if name in _PASSING_CALLS or name in ("getattr", "type", "vars"):
                stack.extend(current.args)
        elif isinstance(current, (ast.List, ast.Tuple, ast.Set)):
            stack.extend(current.elts)
        elif isinstance(current, ast.Dict):
            stack.extend(value for value in current.values if value is not None)
        elif isinstance(current, ast.IfExp):
            stack += [current.body, current.orelse]
        elif isinstance(current, ast.BoolOp):
            stack.extend(current.values)
        elif isinstance(current, ast.BinOp):  # [checks] * 2
            stack += [current.left, current.right]
        elif isinstance(current, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            stack.append(current.value if isinstance(current, ast.DictComp) else current.elt)
            stack.extend(generator.iter for generator in current.generators)


def _arguments(call: ast.Call) -> list[ast.AST]:
    """A call's arguments, positional and keyword, unstarred."""
    found = [*call.args, *(keyword.value for keyword in call.keywords)]
    return [a.value if isinstance(a, ast.Starred) else a for a in found]


def _bound_names(target: ast.AST) -> list[ast.Name]:
    if isinstance(target, ast.Name):
        return [target]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _bound_names(element)]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return []


def _outside(arg: ast.AST) -> bool:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value.startswith(("/", "~")) or ".." in arg.value
    return not isinstance(arg, ast.Constant)


def _kind(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return "bytes"
    sample = re.sub(r"\s", "", value[:4096])
    if sample and re.fullmatch(r"[0-9a-fA-F]+", sample):
        return "hex digits"
    if sample and re.fullmatch(r"[A-Za-z0-9+/=_-]+", sample):
        return "base64-like text"
    if sample and re.fullmatch(r"[-+\d.,eE\[\]()]+", sample):
        return "numbers"
    return "text"


def _blank_lead(source: str) -> int:
    """Blank lines IPython drops from the top of a cell before it parses it."""
    lines = source.splitlines()
    lead = 0
    while lead < len(lines) and not lines[lead].strip():
        lead += 1
    return lead if lead < len(lines) else 0


def _syntax_error(error: Exception, offset: int) -> SyntaxError:
    """``error`` as a SyntaxError whose line is the cell's."""
    if isinstance(error, SyntaxError):
        return SyntaxError(error.msg, (error.filename, (error.lineno or 1) + offset, error.offset,
                                       error.text))
    if isinstance(error, (RecursionError, MemoryError)):
        return SyntaxError("nested too deeply for the scan to read", ("<cell>", offset + 1, 0, ""))
    return SyntaxError(str(error), ("<cell>", offset + 1, 0, ""))  # null bytes: a ValueError


def _future_flags(tree: ast.Module) -> int:
    """The compiler flags of the ``from __future__`` imports at the top level of a cell: IPython
    compiles each top-level statement on its own, so each such import turns its feature on."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def _comment_bytes(python: str) -> int:
    total = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(python).readline):
            if token.type == tokenize.COMMENT:
                total += len(token.string)
    except (tokenize.TokenError, SyntaxError):
        pass
    return total


def _expanded(line: str) -> list[str]:
    """The ``{expression}`` fields IPython evaluates in a magic's line before the magic runs."""
    found = []
    try:
        for _, field_name, spec, _ in DollarFormatter().parse(line):
            if field_name is not None:
                found.append(f"{field_name}:{spec}" if spec else field_name)
    except (ValueError, IndexError):
        pass
    return found


def _allowed(name: str, line: str) -> bool:
    if name == "matplotlib":
        return re.fullmatch(r"[\w\s-]*", line) is not None
    if name == "config":
        return re.match(r"\s*InlineBackend\.\w+\s*=", line) is not None
    return name in ALLOWED_MAGICS


_EXECUTION_MAGICS = None


def _execution_magics():
    """IPython's own ``%time`` / ``%timeit`` / ``%prun``, for their option parsers only."""
    global _EXECUTION_MAGICS
    if _EXECUTION_MAGICS is None:
        from IPython.core.magics.execution import ExecutionMagics
        _EXECUTION_MAGICS = ExecutionMagics(None)
    return _EXECUTION_MAGICS


def _magic_code(name: str, line: str, body: str | None, start: int,
                body_start: int) -> list[tuple[str, int, bool]]:
    """The Python a magic runs: (code, the line before its first line, whether ``__future__``
    features apply), taken from its line as IPython itself does; ``start`` and ``body_start``
    are the lines before the magic's line and its body."""
    from IPython.core.error import UsageError
    try:
        if name == "time":
            from IPython.core.magics.execution import ExecutionMagics
            _, extra = magic_arguments.parse_argstring(ExecutionMagics.time, line, partial=True)
            statement = " ".join(extra)
        elif name == "timeit":
            _, statement = _execution_magics().parse_options(
                line, "n:r:tcp:qov:", posix=False, strict=False, preserve_non_opts=True)
        elif name == "prun":
            _, statement = _execution_magics().parse_options(line, "D:l:rs:T:q", list_all=True, posix=False)
        else:
            statement = line
    except (UsageError, SystemExit, ValueError):
        statement = line
    if name == "config":
        return [(f"cfg.{line.strip()}", start, False)]
    if name == "prun":
        return [(statement + ("\n" + body if body is not None else ""), start, False)]
    if name in ("time", "timeit"):
        return [(statement, start, True)] + ([(body, body_start, True)] if body is not None else [])
    if name == "capture" and body is not None:
        return [(body, body_start, True)]
    return []


def _payload_reports(nb: Mapping) -> list[str]:
    """Reports of the data a notebook carries beside its code (outputs, attachments, metadata,
    raw and markdown text), when there is more than :data:`NOTEBOOK_PAYLOAD_LIMIT` of it."""
    found = nb.get("cells") if isinstance(nb, Mapping) else None
    carried: list[tuple[str, dict[str, int]]] = []
    for index, cell in enumerate(found if isinstance(found, list) else []):
        if isinstance(cell, Mapping):
            kinds = cells.payload(cell)
            if kinds:
                carried.append((_where(index, cells.grade_id(cell)), kinds))
    metadata = nb.get("metadata") if isinstance(nb, Mapping) else None
    if isinstance(metadata, Mapping) and metadata:
        carried.append(("the notebook's metadata", {"metadata": cells.data_size(metadata)}))
    total = sum(sum(kinds.values()) for _, kinds in carried)
    if total <= NOTEBOOK_PAYLOAD_LIMIT:
        return []
    reports = []
    for where, kinds in carried:
        size = sum(kinds.values())
        if size >= PAYLOAD_DETAIL:
            ranked = sorted(kinds.items(), key=lambda item: -item[1])
            largest = [item for item in ranked[:3] if item[1] >= 1024] or ranked[:1]
            what = ", ".join(f"{kind} ({_kib(amount)} KiB)" for kind, amount in largest)
            reports.append(f"carries {_kib(size)} KiB of data in {where}: {what}; {_WEIGHTS}")
    if not reports:
        reports.append(f"carries {_kib(total)} KiB of data in the outputs, attachments and "
                       f"metadata of {len(carried)} cells; {_WEIGHTS}")
    return reports
