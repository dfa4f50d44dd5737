"""The one reading of a cell (:class:`Reader`): parsed as the kernel parses it (IPython's
transformations, the ``__future__`` features of earlier cells), in one pass over its tree, into
the code its magics run and the strings it hands ``exec`` and kin; and what the notebook's names
stand for from cell to cell (:class:`Names`)."""

from __future__ import annotations
import __future__

import ast
import builtins
import re
from dataclasses import dataclass, field

from IPython.core.inputtransformer2 import TransformerManager
from IPython.utils.text import DollarFormatter

from autograder.batch.review import cells
from autograder.batch.review.scan.data import Data
from autograder.batch.review.scan.reasons import (
    ALLOWED_MAGICS, CODE_CALLS, DEFINED, LIBRARIES, MARKERS, REACHES, REPLACED, SAME, SHELL, module_reason,
    reason,
)

#: The deepest nesting of code read inside code (``%%time`` around ``exec('...')`` around ...).
MAX_DEPTH = 8
#: Nodes that open a scope: what they bind is not the notebook's.
_BUILTINS = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def same(path: str) -> str:
    """``path`` with the spellings of :data:`SAME` (and ``builtins.``) made one."""
    for written, meant in SAME:
        if path == written or path.startswith(written + "."):
            path = meant + path[len(written):]
    return path.removeprefix("builtins.")


def bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(name bound, what it is bound to) for each name an import binds."""
    if isinstance(node, ast.Import):
        return [(a.asname, a.name) if a.asname else (a.name.split(".")[0],) * 2 for a in node.names]
    return [(a.asname or a.name, f"{node.module or ''}.{a.name}") for a in node.names]


@dataclass
class Names:
    """What the notebook's names stand for, as far as the scan can tell, from cell to cell."""

    protected: dict[str, str | None]
    """Names the locked cells bind at their top level (with what they import) and the builtins
    they use."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Names the student bound to a library object: name -> its import path."""
    plain: set[str] = field(default_factory=set)
    """Names the student bound at the top level to values of their own."""
    future: int = 0
    """``__future__`` compiler flags turned on by the cells read so far."""

    @classmethod
    def of(cls, locked_sources: list[str]) -> Names:
        """Names before the student's first cell, read from the locked cells."""
        names: dict[str, str | None] = {}
        used: set[str] = set()
        for source in locked_sources:
            try:
                tree = ast.parse(TransformerManager().transform_cell(source))
            except Exception:  # noqa: BLE001 - a locked cell the scan cannot read names nothing
                continue
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names.update(bindings(node))
                elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names[node.name] = None
            used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        return cls({**{n: f"builtins.{n}" for n in used if n in _BUILTINS}, **names})

    def path(self, name: str) -> str:
        """The import path ``name`` stands for (itself if none)."""
        if name in self.aliases:
            return self.aliases[name]
        return name if name in self.plain else self.protected.get(name) or name

    def is_library(self, name: str) -> bool:
        """Whether ``name`` stands for a library object (a module, the kit, an alias of one)."""
        return name in self.aliases or (name not in self.plain and (name in self.protected or name in LIBRARIES))

    def canon(self, path: str) -> str:
        """``path`` as the tests name it (``numpy.testing`` -> ``np.testing``)."""
        path = same(path)
        found = [(same(imported), name) for name, imported in self.protected.items() if imported
                 and (path == same(imported) or path.startswith(same(imported) + "."))]
        imported, name = max(found, key=lambda f: len(f[0]), default=("", ""))
        return name + path[len(imported):] if name else path


class Reader(ast.NodeVisitor):
    """Reads one cell, and the code it runs, for findings, sharing :class:`Names` with the cells
    before it."""

    def __init__(self, names: Names, source: str) -> None:
        self.names = names
        self.found: set[tuple[int, str]] = {(line, MARKERS) for line in cells.hidden_test_lines(source)}
        self.error: SyntaxError | None = None
        self.data = Data(cells.data_size(source))
        self.offset = self.depth = self.scopes = 0
        self.cell_magic = False
        self.skip: set[int] = set()  # nodes reported already, and a magic's text
        self.called: set[int] = set()  # the functions of calls
        self.owners: set[int] = set()  # the owners of called public attributes (``checks`` in checks.close())
        self.read(source, 0)

    def report(self, node: ast.AST | int, text: str) -> None:
        self.found.add(((node if isinstance(node, int) else getattr(node, "lineno", 1)) + self.offset, text))

    def read(self, source: str, offset: int, *, quiet: bool = False) -> None:
        """Read ``source`` as IPython runs it, its line 1 being line ``offset + 1`` of the cell
        (``quiet``: what does not parse is not kept as unreadable)."""
        lines = source.splitlines()
        lead = next((i for i, line in enumerate(lines) if line.strip()), 0)
        try:
            try:
                python = TransformerManager().transform_cell(source)
            except (SyntaxError, ValueError):
                raise
            except Exception as error:  # noqa: BLE001 - IPython's transformers gave up on the text
                raise SyntaxError(f"IPython could not read it ({type(error).__name__}: {error})") from error
            tree = compile(python, "<cell>", "exec", ast.PyCF_ONLY_AST | self.names.future, dont_inherit=True)
            self.names.future |= _future_flags(tree)
            self.data.comments_of(python)
            saved = self.offset, self.cell_magic
            self.offset, self.cell_magic = offset + lead, source.lstrip().startswith("%%")
            try:
                self.visit(tree)
            finally:
                self.offset, self.cell_magic = saved
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if not quiet and self.error is None:
                self.error = _syntax_error(error, offset + lead)
                self.data.unread = True

    def nested(self, code: str, line: int, *, quiet: bool = False) -> None:
        """Read code the cell runs (a magic's, a string's), its first line being ``line + 1``."""
        if self.depth >= MAX_DEPTH:
            self.report(line + 1, f"nests code in code more than {MAX_DEPTH} deep; the scan did not read further")
            return
        self.depth += 1
        self.read(code, self.offset + line, quiet=quiet)
        self.depth -= 1

    def path(self, node: ast.AST) -> str:
        """The import path a reference names, aliases followed ("" if it is not a reference)."""
        if isinstance(node, ast.Name):
            return self.names.path(node.id)
        if isinstance(node, ast.Attribute):
            return f"{base}.{node.attr}" if (base := self.path(node.value)) else ""
        if isinstance(node, ast.Call) and not node.args and self.path(node.func) == "get_ipython":
            return "get_ipython()"
        if isinstance(node, ast.Call) and self.path(node.func) == "getattr" and len(node.args) == 2 \
                and isinstance(name := _text(node.args[1]), str):
            return f"{base}.{name}" if (base := self.path(node.args[0])) else f"getattr(...).{name}"
        return ""

    def reached(self, node: ast.AST, path: str) -> None:
        """Report reaching ``path`` (what ``node`` names; "" if unknown) if reaching it is reported."""
        if id(node) in self.skip:
            return
        found = reason(same(path)) if path else REACHES.get(f".{getattr(node, 'attr', '')}")
        if found is not None:
            path = self.names.canon(path) if path else _dotted(node)
            said = f", which {found}" if found else ""
            self.report(node, f"calls {path}(){said}" if id(node) in self.called else f"reaches {path}{said}")

    def generic_visit(self, node: ast.AST) -> None:
        self.scopes += isinstance(node, _SCOPES)
        super().generic_visit(node)
        self.scopes -= isinstance(node, _SCOPES)

    # ---- imports and bindings

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
        if module == "__future__":
            return
        modules = [module] if module else [alias.name for alias in node.names]
        for imported in modules:
            if imported.split(".")[0] == "autograder":
                self.report(node, f"imports from the kit's package ({imported}) in its own code")
        for imported in modules + [path for _, path in bindings(node) if module]:
            if found := module_reason(imported):
                self.report(node, f"imports {found[0]}, which {found[1]}")
        for bound, path in bindings(node):
            if bound == "*":  # what of it is reported is reported where it is used
                self.names.aliases.update({key[1:]: f"{module}.{key[1:]}" for key in REACHES if key[0] == "."})
                self.names.aliases.update({key.rpartition(".")[2]: key for key in REACHES
                                           if key.rpartition(".")[0] == same(module)})
                continue
            if (found := reason(same(path))) is not None:
                self.report(node, f"imports {self.names.canon(path)}{f', which {found}' if found else ''}")
            protected = self.names.protected.get(bound, "")
            if bound in self.names.protected and same(protected or "") != same(path):
                self.report(node, f"rebinds {bound!r}, a name the tests use, to {path}")
            if not self.scopes:
                self.names.aliases[bound] = path
                self.names.plain.discard(bound)

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            self.bound(node, node.id, deleting=isinstance(node.ctx, ast.Del))
            return
        path = self.names.path(node.id)
        if path.split(".")[0] == "autograder" and not (id(node) in self.called or id(node) in self.owners
                                                       or id(node) in self.skip):
            self.report(node, f"uses the kit's {self.names.canon(path)} other than by calling one of its functions")
        self.reached(node, path)

    def bound(self, node: ast.AST, name: str, *, deleting: bool = False) -> None:
        """``name`` bound (or deleted) at ``node``: report a name the tests (or the kernel's own
        code) look up, and forget what it stood for."""
        if self.scopes:
            return
        if name in self.names.protected or (len(name) > 4 and name[:2] == name[-2:] == "__"):
            whose = "the tests use" if name in self.names.protected else "the kernel's own code looks up"
            self.report(node, f"{'deletes' if deleting else 'rebinds'} {name!r}, a name {whose}")
        self.names.aliases.pop(name, None)
        self.names.plain.add(name)

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        self.generic_visit(node)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = self.path(node.value) if node.value is not None else ""
        root = _root(node.value) if node.value is not None else None
        if value and not self.scopes and (value == "get_ipython()" or (root and self.names.is_library(root))):
            for target in targets:
                if isinstance(target, ast.Name):
                    self.names.aliases[target.id] = value
                    self.names.plain.discard(target.id)
        for target in targets:
            if isinstance(target, ast.Name) and target.id in DEFINED and self.scopes:
                self.defines(target, target.id)

    visit_AnnAssign = visit_Assign  # type: ignore[assignment]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.defines(node, node.name)
        self.bound(node, node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def defines(self, node: ast.AST, name: str | None) -> None:
        if name in DEFINED:
            self.report(node, f"defines {name}, which {DEFINED[name]}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load):
            self.reached(node, self.path(node))
        else:
            self.replaced(node, deleting=isinstance(node.ctx, ast.Del))
        self.generic_visit(node)

    def replaced(self, target: ast.Attribute, *, deleting: bool) -> None:
        """Report an attribute replaced (or deleted): an internal of any object, a method that
        lets an object lie, or a part of a library the tests use."""
        written, root = _dotted(target), _root(target)
        path = self.names.canon(self.path(target)) or written
        note = f" (written {written})" if path != written else ""
        if target.attr in REPLACED and not deleting:
            self.report(target, f"replaces {path}, {REPLACED[target.attr]}{note}")
        elif target.attr in DEFINED:
            self.defines(target, target.attr)
        elif root and self.names.is_library(root) and not same(self.path(target)).startswith("pandas.options."):
            self.report(target, f"{'deletes' if deleting else 'replaces'} {path}, part of a library the tests use{note}")
        else:
            return
        node: ast.AST = target.value
        while isinstance(node, ast.Attribute):
            node = node.value
        self.skip.add(id(node))

    # ---- calls, magics and data

    def visit_Call(self, node: ast.Call) -> None:
        func, name = node.func, self.path(node.func)
        self.called.add(id(func))
        if isinstance(func, ast.Attribute) and not func.attr.startswith("_"):
            self.owners.add(id(func.value))
        if isinstance(func, ast.Attribute) and self.path(func.value) == "get_ipython()":
            self.shell_call(node, func)
        if same(name) == "getattr" and len(node.args) >= 2:
            self.skip.add(id(func))
            if isinstance(_text(node.args[1]), str):
                self.reached(node, self.path(node))
            else:
                self.report(node, "reads an attribute by a computed name")
        if same(name) in ("open", "io.open") and node.args and _outside(node.args[0]):
            self.report(node, "opens a file outside its own folder")
        if same(name) in CODE_CALLS:
            for argument in node.args:
                if isinstance(code := _text(argument), str):
                    self.nested(code, argument.lineno - 1, quiet=True)
        for keyword in node.keywords:
            value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
            if keyword.arg == "allow_pickle" and value is not False:
                self.report(node, "loads with allow_pickle, which can run code hidden in the data")
            elif keyword.arg == "safe_mode" and value is not True:
                self.report(node, "turns off Keras's safe_mode, which lets a saved model run its own code")
        if isinstance(func, (ast.Name, ast.Attribute)) and _dotted(func).rpartition(".")[2] == "read_pickle":
            self.report(node, "calls read_pickle(), which can run code hidden in the data")
        self.generic_visit(node)

    def shell_call(self, node: ast.Call, func: ast.Attribute) -> None:
        """A method of IPython's shell called: a magic (read the code it runs) or a shell command."""
        magic = func.attr in ("run_line_magic", "run_cell_magic")
        if not magic and func.attr not in ("system", "getoutput"):
            return
        if isinstance(func.value, ast.Call):
            self.skip.add(id(func.value.func))  # get_ipython(): said once, by what it is used for
        if not magic:
            self.report(node, f"{SHELL}: a shell command (!)")
            return
        cell = func.attr == "run_cell_magic"
        texts = [_text(argument) for argument in node.args]
        label = ("%%" if cell else "%") + (texts[0] if texts and isinstance(texts[0], str) else "?")
        if len(texts) != 2 + cell or not all(isinstance(t, str) for t in texts) or node.keywords:
            self.report(node, f"{SHELL}: {label} with arguments built at run time")
            return
        name, line, body = texts[0], texts[1], texts[2] if cell else None
        self.skip.update(id(argument) for argument in node.args)
        start = node.lineno - 1
        if name not in ("time", "timeit", "prun", "debug"):  # IPython expands {expression} in the others
            try:
                for _, expression, spec, _ in DollarFormatter().parse(line):
                    if expression is not None:
                        self.nested(f"{expression}:{spec}" if spec else expression, start, quiet=True)
            except (ValueError, IndexError):
                pass
        if not _allowed(name, line):
            self.report(node, f"{SHELL}: {label}")
            self.data.string(node.lineno + self.offset, len(line) + len(body or ""), f"the text of {label}")
            return
        if body is not None and name in ("time", "timeit", "prun", "capture"):
            # A %%magic line is the cell's first; its body starts on the next line.
            self.nested(body, node.lineno if self.cell_magic and node.lineno == 1 else start)
        if name in ("time", "timeit", "prun", "config"):
            # The statement is what the magic's options leave of its line: every tail is read.
            for match in re.finditer(r"(?<!\S)\S", line):
                self.nested(line[match.start():], start, quiet=True)

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self.skip:
            return
        width = (node.end_col_offset or 0) - node.col_offset if node.end_lineno == node.lineno else 8
        self.data.constant(node.lineno + self.offset, node.value, width)
        text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        if isinstance(text, str) and "autograder" in text.lower():
            shown = text if len(text) <= 40 else text[:37] + "..."
            self.report(node, f"names the kit's package in a string ({shown!r})")

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            self.defines(node, _text(key))
        self.generic_visit(node)


def _allowed(name: str, line: str) -> bool:
    """Whether the magic ``name`` with ``line`` may be used without review."""
    if name == "matplotlib":
        return re.fullmatch(r"[\w\s-]*", line) is not None
    if name == "config":
        return re.match(r"\s*InlineBackend\.\w+\s*=", line) is not None
    return name in ALLOWED_MAGICS


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _root(node: ast.AST) -> str | None:
    """The name a reference starts from (``k`` of ``k.close``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    """A reference as a report writes it, ``x[]`` for an item, cut to about 40 characters."""
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Subscript):
        return f"{_dotted(node.value)}[]"
    written = ast.unparse(node)
    return written if len(written) <= 40 else written[:37] + "..."


def _outside(argument: ast.AST) -> bool:
    """Whether ``open(argument)`` may open a file outside the notebook's folder."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value.startswith(("/", "~")) or ".." in argument.value
    return not isinstance(argument, ast.Constant)


def _future_flags(tree: ast.Module) -> int:
    """The compiler flags of the ``from __future__`` imports at the top level of a cell: IPython
    compiles each top-level statement on its own, so each such import turns its feature on."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
    return flags


def _syntax_error(error: Exception, offset: int) -> SyntaxError:
    """``error``, raised while parsing text whose line 1 is the cell's line ``offset + 1``, as a
    SyntaxError whose line is the cell's."""
    if isinstance(error, SyntaxError):
        return SyntaxError(error.msg, (error.filename, (error.lineno or 1) + offset, error.offset, error.text))
    if isinstance(error, (RecursionError, MemoryError)):
        return SyntaxError("nested too deeply for the scan to read", ("<cell>", offset + 1, 0, ""))
    return SyntaxError(str(error), ("<cell>", offset + 1, 0, ""))  # null bytes: a ValueError
