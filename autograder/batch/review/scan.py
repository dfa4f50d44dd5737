"""Read a submission's own code, before it runs, for what could change a grade but its merit.

Code in the student's kernel runs before the tests in the same kernel, so it can replace what
the tests use: IPython's input transformers, ``sys.modules``, numpy's or Keras's functions, the
kit's checks, builtins; or hand the tests an object whose ``__eq__`` always says yes. The
sandbox cannot stop that: it happens inside the kernel. So every cell the student wrote (every
code cell that is not one of the assignment's locked cells) is parsed, after IPython's own
syntax transformations, and each construct that can do it is reported with the cell and line.
A submission with a report is flagged for manual review; its points stand until a person looks.

The list leans to reporting: code built at run time (``exec``, ``eval``, ``getattr`` with a
computed name) is reported because it could hide any of the rest.
"""

from __future__ import annotations

import ast
from typing import Iterable

from IPython.core.inputtransformer2 import TransformerManager

from autograder.batch.review import cells
from autograder.batch.review.cells import visible

#: Magics a notebook may use without review (``%matplotlib inline`` and timing).
ALLOWED_MAGICS = frozenset({"matplotlib", "time", "timeit", "precision", "pprint", "who", "whos"})

#: Modules whose import alone is reported: each can reach past the kernel's Python objects.
REPORTED_MODULES = {
    "ctypes": "loads C code into the kernel", "subprocess": "starts other programs",
    "socket": "opens network connections", "signal": "handles signals",
    "importlib": "imports modules by computed names", "builtins": "reaches Python's builtins",
    "multiprocessing": "starts processes", "urllib": "opens network connections",
    "requests": "opens network connections", "http": "opens network connections",
    "gc": "reaches other objects through the garbage collector",
    "IPython": "reaches the IPython shell that runs the tests",
}

#: Calls that are reported wherever they appear.
REPORTED_CALLS = {
    "exec": "runs code built at run time", "eval": "runs code built at run time",
    "compile": "compiles code built at run time", "__import__": "imports a module by name",
    "globals": "reaches the kernel's global names", "vars": "reaches an object's namespace",
    "setattr": "replaces an attribute by name", "delattr": "deletes an attribute by name",
    "exit": "stops the kernel", "quit": "stops the kernel",
}

#: Attribute calls reported on these modules.
REPORTED_OS = {"_exit", "kill", "killpg", "fork", "forkpty", "system", "popen", "execv", "execve",
               "execvp", "execl", "spawnv", "setsid", "remove", "unlink", "rmdir", "removedirs"}

#: Methods whose definition lets an object lie to a comparison or a type check.
REPORTED_DUNDERS = {"__eq__", "__ne__", "__bool__", "__len__", "__array__", "__array_ufunc__",
                    "__array_function__", "__getattribute__", "__getattr__", "__instancecheck__",
                    "__subclasscheck__", "__class__", "__float__", "__index__", "__hash__"}


def _python(source: str) -> str:
    """The cell as plain Python, after IPython's magics and shell escapes are turned into calls."""
    return TransformerManager().transform_cell(source)


class _Finder(ast.NodeVisitor):
    """Collects (line, reason) for one cell."""

    def __init__(self, protected: dict[str, str | None], modules: set[str]) -> None:
        self.found: list[tuple[int, str]] = []
        self.protected = protected
        self.modules = modules

    def report(self, node: ast.AST, reason: str) -> None:
        self.found.append((getattr(node, "lineno", 0), reason))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            self._imported(node, alias.name if alias.asname else bound, bound)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            self._imported(node, f"{module}.{alias.name}", alias.asname or alias.name)
        if module.split(".")[0] == "autograder":
            self.report(node, f"imports from the kit's package ({module}) in its own code")
        self.generic_visit(node)

    def _imported(self, node: ast.AST, name: str, bound: str) -> None:
        top = name.split(".")[0]
        self.modules.add(bound)
        reason = REPORTED_MODULES.get(top)
        if reason:
            self.report(node, f"imports {top}, which {reason}")
        if bound in self.protected and self.protected[bound] != name:
            self.report(node, f"rebinds {bound!r}, a name the tests use, to {name}")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            reason = REPORTED_CALLS.get(func.id)
            if func.id == "get_ipython":
                self.report(node, "uses the IPython shell that runs the tests: get_ipython()")
            elif func.id == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                self.report(node, "reads an attribute by a computed name")
            elif func.id == "open" and node.args and self._outside(node.args[0]):
                self.report(node, "opens a file outside its own folder")
            elif reason:
                self.report(node, f"calls {func.id}(), which {reason}")
        elif isinstance(func, ast.Attribute):
            owner = _dotted(func.value)
            if owner == "sys" and func.attr in ("exit", "settrace", "setprofile", "addaudithook"):
                self.report(node, f"calls sys.{func.attr}()")
            elif owner == "os" and func.attr in REPORTED_OS:
                self.report(node, f"calls os.{func.attr}()")
            elif owner.startswith("get_ipython()"):
                magic = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                if func.attr in ("run_line_magic", "run_cell_magic") and magic in ALLOWED_MAGICS:
                    return None
                what = f"%{magic}" if func.attr.startswith("run_") and magic else _dotted(func)
                if func.attr == "system":
                    what = "a shell command (!)"
                self.report(node, f"uses the IPython shell that runs the tests: {what}")
                return None
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = _dotted(node)
        if dotted.startswith("sys.modules"):
            self.report(node, "reaches sys.modules")
        if node.attr in ("__builtins__", "__globals__", "__code__", "__subclasses__", "__dict__",
                         "f_globals", "f_locals", "f_back"):
            self.report(node, f"reaches {node.attr}, an interpreter internal")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.report(node, "reaches __builtins__")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assigned(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._assigned(node.target)
        self.generic_visit(node)

    def _assigned(self, target: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._assigned(element)
        elif isinstance(target, ast.Attribute):
            root = _root(target)
            if root in self.modules or root in self.protected or root in _LIBRARIES:
                self.report(target, f"replaces {_dotted(target)}, part of a library the tests use")
        elif isinstance(target, ast.Subscript) and _dotted(target.value) in ("sys.modules", "__builtins__"):
            self.report(target, f"changes {_dotted(target.value)}")
        elif isinstance(target, ast.Name) and target.id in self.protected:
            self.report(target, f"rebinds {target.id!r}, a name the tests use")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in REPORTED_DUNDERS:
            self.report(node, f"defines {node.name}, which can make a comparison or a type check lie")
        elif node.name in self.protected:
            self.report(node, f"rebinds {node.name!r}, a name the tests use")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.name in self.protected:
            self.report(node, f"rebinds {node.name!r}, a name the tests use")
        self.generic_visit(node)

    @staticmethod
    def _outside(arg: ast.AST) -> bool:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value.startswith(("/", "~")) or ".." in arg.value
        return not isinstance(arg, ast.Constant)


#: Libraries whose attributes a student's code has no business replacing.
_LIBRARIES = frozenset({"np", "numpy", "tf", "tensorflow", "keras", "plt", "matplotlib", "checks",
                        "autograder", "sklearn", "layers", "models", "os", "sys", "builtins"})


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[]"
    return "?"


def _root(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else ""


def protected_names(locked_sources: Iterable[str]) -> dict[str, str | None]:
    """Names the locked cells (tests, given code) import or define at their top level, with
    what they import (None for a definition)."""
    names: dict[str, str | None] = {}
    for source in locked_sources:
        try:
            tree = ast.parse(_python(source))
        except SyntaxError:
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
    return names


def scan_cell(source: str, protected: dict[str, str | None] | None = None) -> list[tuple[int, str]]:
    """(line, reason) for each construct in one cell that could change a grade by other means
    than its merit; a cell that does not parse is not reported (it fails on its own)."""
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return []
    finder = _Finder(protected or {}, set())
    finder.visit(tree)
    return sorted(set(finder.found))


def scan_notebook(nb: dict, locked: dict[str, str]) -> list[str]:
    """Reports for a submitted notebook: one line per finding in the student's own cells.

    ``locked`` maps the assignment's locked cells' grade ids to their source; cells with those
    ids are the assignment's own and are not scanned (nbgrader restores them anyway).
    """
    protected = protected_names(locked.values())
    originals = {visible(source) for source in locked.values()}
    reports = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        grade_id = cells.grade_id(cell)
        if grade_id in locked:
            continue
        source = cells.source(cell)
        if visible(source) in originals:
            continue  # a locked cell without its metadata: nbgrader restores and runs it
        where = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
        for line, reason in scan_cell(source, protected):
            reports.append(f"{where}, line {line}: {reason}")
    return reports
