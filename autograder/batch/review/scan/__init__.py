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

The modules, in the order a cell meets them:

- :mod:`.notebook`: the entry points; which cells are the student's, read in order.
- :mod:`.parsing`: a cell parsed as the kernel parses it; :mod:`.unparsed`: the cells it could not.
- :mod:`.reader`, :mod:`.aliases`, :mod:`.imports`, :mod:`.bindings`, :mod:`.shell` and
  :mod:`.visitor`: the reading of one cell's tree, a concern each, put together in
  :class:`.visitor.Finder`; :mod:`.magics`: the code a magic runs.
- :mod:`.names`: what names stand for across cells; :mod:`.syntax`: small readings of the tree.
- :mod:`.reasons`: what is reported, with its wording; :mod:`.data`: data that could hold
  trained weights, and its limits.
"""

from autograder.batch.review.scan.data import (
    CELL_COMMENTS_LIMIT,
    CELL_NUMBERS_LIMIT,
    CELL_SOURCE_LIMIT,
    CELL_STRINGS_LIMIT,
    LITERAL_LIMIT,
    NOTEBOOK_LITERALS_LIMIT,
    NOTEBOOK_PAYLOAD_LIMIT,
    PAYLOAD_DETAIL,
)
from autograder.batch.review.scan.magics import ALLOWED_MAGICS, MAX_MAGIC_DEPTH
from autograder.batch.review.scan.names import protected_names
from autograder.batch.review.scan.notebook import (
    Scan,
    scan_cell,
    scan_notebook,
    scan_submission,
)
from autograder.batch.review.scan.reasons import (
    INTERNAL_ATTRIBUTES,
    REPLACED_INTERNALS,
    REPORTED_CALLS,
    REPORTED_DUNDERS,
    REPORTED_MODULES,
    REPORTED_OS,
    REPORTED_PATHS,
    REPORTED_REFERENCES,
    UNPICKLING_DUNDERS,
)
from autograder.batch.review.scan.unparsed import Unparsed, unreadable_cells_that_ran

__all__ = [
    "ALLOWED_MAGICS", "CELL_COMMENTS_LIMIT", "CELL_NUMBERS_LIMIT", "CELL_SOURCE_LIMIT",
    "CELL_STRINGS_LIMIT", "INTERNAL_ATTRIBUTES", "LITERAL_LIMIT", "MAX_MAGIC_DEPTH",
    "NOTEBOOK_LITERALS_LIMIT", "NOTEBOOK_PAYLOAD_LIMIT", "PAYLOAD_DETAIL", "REPLACED_INTERNALS",
    "REPORTED_CALLS", "REPORTED_DUNDERS", "REPORTED_MODULES", "REPORTED_OS", "REPORTED_PATHS",
    "REPORTED_REFERENCES", "UNPICKLING_DUNDERS", "Scan", "Unparsed", "protected_names",
    "scan_cell", "scan_notebook", "scan_submission", "unreadable_cells_that_ran",
]
