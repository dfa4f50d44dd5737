"""The one reading of a cell (:class:`Reader`), as the kernel parses it (IPython's transformations,
the ``__future__`` features of earlier cells), over its tree and the code its magics run and the
strings it hands ``exec`` and kin; and what the notebook's names stand for (:class:`Names`)."""

from __future__ import annotations
import __future__

import ast
import builtins
import re

from IPython.core.inputtransformer2 import TransformerManager

from autograder.batch.review import cells
from autograder.batch.review.scan import reasons
from autograder.batch.review.scan.data import Data

#: The deepest nesting of code read inside code (``%%time`` around ``exec('...')`` around ...).
MAX_DEPTH = 8
#: The names the kernel's own code looks up in the notebook's namespace before the builtins.
_KERNEL_NAMES = frozenset(["__builtins__",
                           *(name for name in dir(builtins) if name[:2] == name[-2:] == "__")])
#: Nodes that open a scope: what is bound in them is not the notebook's.
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def same(path: str) -> str:
    """``path`` with the spellings of :data:`reasons.SAME` (and ``builtins.``) made one."""
    for written, meant in reasons.SAME:
        path = meant + path[len(written):] if (path + ".").startswith(written + ".") else path
    return path.removeprefix("builtins.")


def _bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(name bound, import path it is bound to) for each name an import binds."""
    if isinstance(node, ast.Import):
        return [(a.asname, a.name) if a.asname else (a.name.split(".")[0],) * 2 for a in node.names]
    return [(a.asname or a.name, f"{node.module or ''}.{a.name}") for a in node.names]


class Names:
    """What the notebook's names stand for, as far as the scan can tell, from cell to cell."""

    def __init__(self, locked_sources: list[str]) -> None:
        self.protected: dict[str, str | None] = {}  # the locked cells' top-level names -> import path
        for source in locked_sources:
            try:
                tree = ast.parse(TransformerManager().transform_cell(source))
            except Exception:
                continue
            for node in tree.body:
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    self.protected.update(_bindings(node))
                elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    self.protected[node.name] = None
        self.aliases: dict[str, str] = {}  # names the student bound to a library object -> its path
        self.plain: set[str] = set()  # names the student bound at the top level to values of their own
        self.future = 0  # the __future__ compiler flags turned on so far

    def path(self, name: str) -> str:
        """The import path ``name`` stands for (itself if none)."""
        return self.aliases.get(name) or (name if name in self.plain else self.protected.get(name) or name)

    def bind(self, name: str, path: str = "") -> None:
        """``name`` now stands for the library object ``path``, or for a value of the student's."""
        self.aliases.pop(name, None)
        self.plain.discard(name)
        if path:
            self.aliases[name] = path
        else:
            self.plain.add(name)

    def is_library(self, name: str | None) -> bool:
        """Whether ``name`` stands for a library object (a module, the kit, an alias of one)."""
        return name in self.aliases or (name not in self.plain and name in self.protected)

    def canon(self, path: str) -> str:
        """``path`` as the tests name it (``numpy.testing`` -> ``np.testing``)."""
        path = same(path)
        for name, imported in sorted(self.protected.items(), key=lambda item: -len(item[1] or "")):
            if imported and (path + ".").startswith(same(imported) + "."):
                return name + path[len(same(imported)):]
        return path


class Reader(ast.NodeVisitor):
    """Reads one cell of the student's, and the code it runs, into :attr:`found` ((line, reason)
    pairs) and :attr:`data`; :attr:`error` says why it could not be parsed, if it could not."""

    def __init__(self, names: Names, source: str) -> None:
        self.names, self.data = names, Data()
        self.error: SyntaxError | None = None
        self.found = {(line, reasons.MARKERS) for line in cells.hidden_test_lines(source)}
        self.offset = self.depth = self.scopes = 0
        self.cell_magic = False
        self.skip: set[int] = set()  # nodes said already, and a magic's text
        self.called: set[int] = set()  # the functions of calls
        self.owners: set[int] = set()  # the owners of called public attributes (checks of checks.close())
        self.read(source, 0)

    def report(self, node: ast.AST | int, text: str) -> None:
        self.found.add(((node if isinstance(node, int) else getattr(node, "lineno", 1)) + self.offset, text))

    def read(self, source: str, offset: int, *, quiet: bool = False) -> None:
        """Read ``source`` as IPython runs it, its line 1 being the cell's line ``offset + 1``
        (``quiet``: what does not parse is not kept as the cell's error)."""
        lead = next((i for i, line in enumerate(source.splitlines()) if line.strip()), 0)
        saved = self.offset, self.cell_magic, self.scopes
        try:
            try:
                python = TransformerManager().transform_cell(source)
            except Exception as error:  # IPython's transformers gave up on the text
                raise error if isinstance(error, (SyntaxError, ValueError)) else SyntaxError(
                    f"IPython could not read it ({type(error).__name__}: {error})") from error
            tree = compile(python, "<cell>", "exec", ast.PyCF_ONLY_AST | self.names.future, dont_inherit=True)
            for node in tree.body:  # IPython compiles each statement alone: each turns its feature on
                if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                    for alias in node.names:
                        feature = getattr(__future__, alias.name, None)
                        self.names.future |= getattr(feature, "compiler_flag", 0)
            self.data.comments_of(python)
            self.offset, self.cell_magic = offset + lead, source.lstrip().startswith("%%")
            self.visit(tree)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            if not quiet and self.error is None:
                deep = isinstance(error, (RecursionError, MemoryError))
                message = ("nested too deeply for the scan to read" if deep
                           else getattr(error, "msg", str(error)))
                line = offset + lead + (getattr(error, "lineno", 0) or 1)
                self.error = SyntaxError(message, ("<cell>", line, 0, ""))
        finally:
            self.offset, self.cell_magic, self.scopes = saved

    def nested(self, code: str, line: int, *, quiet: bool = False, at: int | None = None) -> None:
        """Read code the cell runs (a magic's, a string's), its first line being line ``line + 1``
        (``at``: every finding in it is on that line)."""
        if self.depth >= MAX_DEPTH:
            return self.report(line + 1, f"nests code in code more than {MAX_DEPTH} deep; not read further")
        before, self.depth = set(self.found), self.depth + 1
        self.read(code, self.offset + line, quiet=quiet)
        self.depth -= 1
        if at is not None:
            self.found = before | {(at + self.offset, found) for _, found in self.found - before}

    def path(self, node: ast.AST) -> str:
        """The import path a reference names, aliases followed ("" if it is not a reference)."""
        if isinstance(node, ast.Name):
            return self.names.path(node.id)
        if isinstance(node, ast.Attribute):
            return f"{base}.{node.attr}" if (base := self.path(node.value)) else ""
        if not isinstance(node, ast.Call):
            return ""
        if (func := same(self.path(node.func))) == "get_ipython" and not node.args:
            return "get_ipython()"
        if func == "getattr" and len(node.args) in (2, 3) and isinstance(name := _text(node.args[1]), str):
            return f"{self.path(node.args[0]) or 'getattr(...)'}.{name}"
        return ""

    def reached(self, node: ast.AST, path: str) -> None:
        """Report reaching what ``node`` names (``path``, "" if unknown) if that is reported; what
        it is reached through is then said by this report alone."""
        found = reasons.reason(same(path)) if path else reasons.REACHES.get(f".{getattr(node, 'attr', '')}")
        if found is None or id(node) in self.skip:
            return
        shown, said = self.names.canon(path) if path else _dotted(node), f", which {found}" if found else ""
        self.report(node, f"calls {shown}(){said}" if id(node) in self.called else f"reaches {shown}{said}")
        while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
            self.skip.add(id(node))

    def generic_visit(self, node: ast.AST) -> None:
        self.scopes += isinstance(node, _SCOPES)
        super().generic_visit(node)
        self.scopes -= isinstance(node, _SCOPES)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        module = (node.module or "") if isinstance(node, ast.ImportFrom) else ""
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [module] if module else []
        if module == "__future__":
            return
        for imported in modules:
            if imported.split(".")[0] == "autograder":
                self.report(node, f"imports from the kit's package ({imported}) in its own code")
        for imported in modules + [path for _, path in _bindings(node) if module]:
            if risky := reasons.module_reason(imported):
                self.report(node, f"imports {risky[0]}, which {risky[1]}")
        for bound, path in _bindings(node):
            if bound == "*":  # the names of what is reported then stand for it
                self.names.aliases.update({key[1:]: module + key for key in reasons.REACHES if key[0] == "."})
                self.names.aliases.update({key.rpartition(".")[2]: key for key in reasons.REACHES
                                           if key.rpartition(".")[0] == same(module)})
            elif (found := reasons.reason(same(path))) is not None:
                self.report(node, f"imports {self.names.canon(path)}{f', which {found}' if found else ''}")
            if bound != "*":
                self.bound(node, bound, path)

    visit_ImportFrom = visit_Import

    def bound(self, node: ast.AST, name: str, path: str = "") -> None:
        """``name`` bound at the top level (to the library object ``path``, if it is one): report
        a name the kernel's own code looks up (``__import__``); keep what the name stands for."""
        if self.scopes:
            return
        self.visit_Global(ast.Global(names=[name], lineno=getattr(node, "lineno", 1)))
        self.names.bind(name, path)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:  # a builtin's dunder, or the module's own (``__builtins__``, ``__spec__``)
            if name in _KERNEL_NAMES:
                self.report(node, f"rebinds {name!r}, a name the kernel's own code looks up")

    def visit_Name(self, node: ast.Name) -> None:
        if not isinstance(node.ctx, ast.Load):
            return self.bound(node, node.id)
        path = self.names.path(node.id)
        said = id(node) in self.called or id(node) in self.owners or id(node) in self.skip
        if path.split(".")[0] == "autograder" and not said:
            self.report(node, f"uses the kit's {self.names.canon(path)} other than by calling its functions")
        self.reached(node, path)

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        self.generic_visit(node)
        value = self.path(node.value) if node.value is not None else ""
        root = _root(node.value) if node.value is not None else None
        for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
            if isinstance(target, ast.Name) and self.scopes:
                self.defines(target, target.id)  # __eq__ = ... in a class
            elif isinstance(target, ast.Name) and (value == "get_ipython()" or (
                    value and self.names.is_library(root))):
                self.names.bind(target.id, value)  # k = checks: k stands for checks

    visit_AnnAssign = visit_Assign

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.defines(node, node.name)
        self.bound(node, node.name)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def defines(self, node: ast.AST, name: str | None) -> None:
        if name in reasons.DEFINED:
            self.report(node, f"defines {name}, which {reasons.DEFINED[name]}")

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            self.defines(node, _text(key))  # type('Fake', (), {'__eq__': ...})
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load):
            self.reached(node, self.path(node))
        else:
            self.replaced(node, deleting=isinstance(node.ctx, ast.Del))
        self.generic_visit(node)

    def replaced(self, target: ast.Attribute, *, deleting: bool) -> None:
        """Report an attribute replaced (or deleted): an internal of any object, a method that
        lets an object lie, or a part of a library the tests use."""
        written, path = _dotted(target), same(self.path(target))
        shown = self.names.canon(path) if path else written
        note = f" (written {written})" if shown != written else ""
        if target.attr in reasons.REPLACED and not deleting:
            self.report(target, f"replaces {shown}, {reasons.REPLACED[target.attr]}{note}")
        elif target.attr in reasons.DEFINED:
            self.defines(target, target.attr)
        elif self.names.is_library(_root(target)) and not path.startswith("pandas.options."):
            verb = "deletes" if deleting else "replaces"
            self.report(target, f"{verb} {shown}, part of a library the tests use{note}")
        else:
            return
        self.skip.add(id(_root_node(target)))

    def visit_Call(self, node: ast.Call) -> None:
        func, name = node.func, same(self.path(node.func))
        self.called.add(id(func))
        if isinstance(func, ast.Attribute) and not func.attr.startswith("_"):
            self.owners.add(id(func.value))
        if isinstance(func, ast.Attribute) and self.path(func.value) == "get_ipython()":
            self.shell_call(node, func)
        if name == "getattr" and len(node.args) >= 2:
            self.skip.add(id(func))
            if isinstance(_text(node.args[1]), str):
                self.reached(node, self.path(node))
            else:
                self.report(node, "reads an attribute by a computed name")
        if name in ("open", "io.open") and node.args and _outside(node.args[0]):
            self.report(node, "opens a file outside its own folder")
        for argument in node.args if name in reasons.CODE_CALLS else ():
            if isinstance(code := _text(argument), str):
                one_line = argument.end_lineno == argument.lineno
                self.nested(code, argument.lineno - 1, quiet=True, at=argument.lineno if one_line else None)
        for keyword in node.keywords:
            value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
            if keyword.arg == "allow_pickle" and value is not False:
                self.report(node, "loads with allow_pickle, which can run code hidden in the data")
            elif keyword.arg == "safe_mode" and value is not True:
                self.report(node, "turns off Keras's safe_mode, which lets a saved model run its own code")
        self.generic_visit(node)

    def shell_call(self, node: ast.Call, func: ast.Attribute) -> None:
        """A magic (read the code it runs unless it is reported) or a shell command: how IPython
        runs ``%magic``, ``%%magic`` and ``!command``."""
        cell, texts = func.attr == "run_cell_magic", [_text(argument) for argument in node.args]
        if func.attr not in ("run_line_magic", "run_cell_magic", "system", "getoutput"):
            return
        self.skip.add(id(_root_node(func)))  # get_ipython(): said once, by what it is used for
        name = texts[0] if texts else None
        label = ("%%" if cell else "%") + (name or "")
        if func.attr in ("system", "getoutput"):
            return self.report(node, f"{reasons.SHELL}: a shell command (!)")
        if len(texts) != 2 + cell or None in texts or node.keywords:
            return self.report(node, f"{reasons.SHELL}: {label} with arguments built at run time")
        line, body = texts[1] or "", texts[2] if cell else None
        self.skip.update(id(argument) for argument in node.args)
        timed = name in ("time", "timeit", "prun")  # IPython expands {expression} and $name in the others
        if name not in reasons.ALLOWED_MAGICS or (not timed and re.search(r"[{$]", line)) or (
                name == "matplotlib" and not re.fullmatch(r"[\w\s-]*", line)) or (
                name == "config" and not re.match(r"\s*InlineBackend\.\w+\s*=", line)):
            self.report(node, f"{reasons.SHELL}: {label}")
            size = len(line) + len(body or "")
            return self.data.string(node.lineno + self.offset, size, f"the text of {label}")
        if body is not None and (timed or name == "capture"):
            # A %%magic line is the cell's first; its body starts on the next line.
            self.nested(body, node.lineno if self.cell_magic and node.lineno == 1 else node.lineno - 1)
        for match in re.finditer(r"(?<!\S)\S", line) if timed or name == "config" else ():
            self.nested(line[match.start():], node.lineno - 1, quiet=True)  # what its options leave of it

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self.skip:
            return
        width = (node.end_col_offset or 0) - node.col_offset if node.end_lineno == node.lineno else 8
        self.data.constant(node.lineno + self.offset, node.value, width)
        text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        if isinstance(text, str) and (named := reasons.NAMED.search(text)):
            what = "the kit's package" if named.group().lower() == "autograder" else named.group()
            quoted = text if len(text) <= 40 else text[:37] + "..."
            self.report(node, f"names {what} in a string ({quoted!r})")


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _root_node(node: ast.AST) -> ast.AST:
    """What a reference starts from (``k`` of ``k.close``, ``get_ipython`` of ``get_ipython().x``)."""
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


def _root(node: ast.AST) -> str | None:
    """The name a reference starts from through attributes only (``k`` of ``k.close``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    """A reference as a report writes it, ``x[]`` for an item, cut to about 40 characters."""
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return _dotted(node.value) + (f".{node.attr}" if isinstance(node, ast.Attribute) else "[]")
    written = ast.unparse(node)
    return written if len(written) <= 40 else written[:37] + "..."


def _outside(argument: ast.AST) -> bool:
    """Whether ``open(argument)`` may open a file outside the notebook's folder."""
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value.startswith(("/", "~")) or ".." in argument.value
    return not isinstance(argument, ast.Constant)
