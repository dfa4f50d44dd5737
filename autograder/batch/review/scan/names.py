"""What a notebook's names stand for, followed across its cells: the names the tests use
(:func:`protected_names`) and the aliases the student binds to them (``k = checks``)."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field

from autograder.batch.review.scan.parsing import transformed
from autograder.batch.review.scan.syntax import imports

#: Python's builtins, by name.
BUILTINS = frozenset(dir(builtins)) - {"__name__", "__doc__"}

#: Libraries whose attributes a student's code has no business replacing.
_LIBRARIES = frozenset({"np", "numpy", "tf", "tensorflow", "keras", "plt", "matplotlib", "checks",
                        "autograder", "sklearn", "layers", "models", "os", "sys", "builtins"})

#: Import paths that name the same object (the left one is written as the right one).
_SAME = (("tensorflow.keras", "keras"), ("IPython.core.getipython.get_ipython", "get_ipython"),
         ("IPython.get_ipython", "get_ipython"), ("posix", "os"), ("nt", "os"))


def protected_names(locked_sources: Iterable[str]) -> dict[str, str | None]:
    """Names the locked cells (tests, given code) import or define at their top level, with
    what they import (None for a definition), and the builtins they use (``builtins.print``)."""
    names: dict[str, str | None] = {}
    used: set[str] = set()
    for source in locked_sources:
        try:
            tree = ast.parse(transformed(source))
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update(imports(node))
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names[node.name] = None
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    for name in sorted(used - set(names)):
        if name in BUILTINS:
            names[name] = f"builtins.{name}"
    return names


def same(path: str) -> str:
    """``path`` with the spellings of :data:`_SAME` (and ``builtins.``) made one."""
    for written, meant in _SAME:
        if path == written or path.startswith(written + "."):
            path = meant + path[len(written):]
    return path.removeprefix("builtins.")


@dataclass
class Names:
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
    def start(cls, protected: dict[str, str | None]) -> Names:
        """Names before the student's first cell: those of :func:`protected_names`."""
        canonical: dict[str, str] = {}
        for name, path in protected.items():
            if path:
                canonical.setdefault(same(path), name)
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
        path = same(path)
        parts = path.split(".")
        for end in range(len(parts), 0, -1):
            name = self.canonical.get(".".join(parts[:end]))
            if name is not None:
                return ".".join([name, *parts[end:]])
        return path

    def top_module(self, name: str) -> str:
        """The top-level module behind ``name``, the first name of a reference (``pd`` ->
        ``pandas``)."""
        name = self.aliases.get(name, name).split(".")[0]
        return same(self.protected.get(name) or name).split(".")[0]

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
        if path.startswith("builtins.") or path in BUILTINS or "(" in path:
            return False
        last = path.rsplit(".", 1)[-1]
        return "." not in path or path.startswith("autograder.") or last[:1].isupper()
