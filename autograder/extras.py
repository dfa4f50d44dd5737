"""The kit's optional parts, and the one message that says how to install a missing one.

An instructor's kit grades a class with ``pip install -e .``; three parts come as extras of the
package (``pyproject.toml``), each imported only by the code that needs it:

* ``[serve]``: the web service, ``cnnkit serve`` (Starlette, uvicorn, python-multipart);
* ``[dask]``: grading on the workers of a Dask scheduler, ``--scheduler`` (``distributed``);
* ``[postgres]``: a PostgreSQL gradebook or queue, ``--db-url postgresql+psycopg://...``
  (psycopg).

>>> print(missing("cnnkit serve", "starlette", "serve"))  # doctest: +NORMALIZE_WHITESPACE
cnnkit serve: expected the 'starlette' package, got an import error.
Install the kit with `pip install -e '.[serve]'`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from autograder.errors import BadInput

EXTRAS = {
    "serve": ("starlette", "uvicorn", "python_multipart"),
    "dask": ("distributed",),
    "postgres": ("psycopg",),
}
"""Each extra of the package, by the modules that its code imports."""


class MissingExtra(BadInput, ImportError):
    """A part of the kit that was not installed: the user fixes it by installing its extra. An
    :class:`ImportError` too, for code that catches the import's own error."""


def missing(what: str, package: str, extra: str) -> MissingExtra:
    """The error that says ``what`` needs ``package``, which the extra ``extra`` installs."""
    return MissingExtra(f"{what}: expected the {package!r} package, got an import error. Install "
                        f"the kit with `pip install -e '.[{extra}]'`.")


def require(module: str, *, what: str, extra: str) -> ModuleType:
    """``module`` imported, or a :class:`MissingExtra` saying which extra installs it.

    >>> require("json", what="a test", extra="serve").__name__
    'json'
    >>> try:
    ...     require("no_such_module_here", what="a test", extra="dask")
    ... except MissingExtra as error:
    ...     print(error)  # doctest: +NORMALIZE_WHITESPACE
    a test: expected the 'no_such_module_here' package, got an
    import error. Install the kit with `pip install -e '.[dask]'`.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise missing(what, module, extra) from error


def database_driver(db_url: str, *, what: str) -> None:
    """Check that the driver of ``db_url`` is installed where an extra of the kit brings it
    (psycopg, for ``postgresql+psycopg://``); other URLs (SQLite) need nothing more here.

    >>> database_driver("sqlite:///gradebook.db", what="--db-url")
    """
    if db_url.split(":", 1)[0].lower() == "postgresql+psycopg":
        require("psycopg", what=f"{what} postgresql+psycopg://...", extra="postgres")
