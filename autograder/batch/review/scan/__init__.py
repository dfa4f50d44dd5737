"""Read a submission's own code, before it runs, for what could change a grade but its merit.

Grades are decided by a judge outside the student's kernel, so this scan is not the defence: it
is a hint for a person. What it reads is what the kernel will run: the notebook as nbgrader reads
it (an older format version upgraded), the student's code cells (not the assignment's locked
cells, whose source nbgrader puts back), each after IPython's transformations, with the
``__future__`` features of earlier cells, and into the code its magics run and the strings it
hands ``exec``, ``eval``, ``compile`` or the shell's ``run_cell``.

It reads each cell once, for the facilities themselves rather than their spellings: an import of
the kit's package (``autograder``) or a string naming it, the kit's modules used other than by
calling their functions, lookups by dotted name (``importlib``, ``__import__``, ``pkgutil``,
``pydoc``, ``operator.attrgetter``), ``sys.modules``, the garbage collector, frames, trace
functions, builtins and the names the kernel's own code looks up rebound, IPython's shell,
``ctypes``, pickles; a library's attributes replaced; methods that let an object lie; files
outside the working folder; and data in which trained weights could hide (:mod:`.data`). A cell
the scan cannot parse is returned apart (:attr:`Scan.unparsed`): :func:`unreadable_cells_that_ran`
flags it if the kernel ran it anyway.

- :mod:`.notebook`: the entry points; which cells are read, in order.
- :mod:`.reader`: the reading of one cell; :mod:`.reasons`: what is reported, with its wording.
- :mod:`.data`: data that could hold trained weights; :mod:`.unparsed`: the cells not read.
"""

from autograder.batch.review.scan.data import (
    CELL_NUMBERS_LIMIT, LITERAL_LIMIT, NOTEBOOK_LITERALS_LIMIT, NOTEBOOK_PAYLOAD_LIMIT,
)
from autograder.batch.review.scan.notebook import Scan, as_run, scan_cell, scan_submission
from autograder.batch.review.scan.unparsed import Unparsed, unreadable_cells_that_ran

__all__ = ["CELL_NUMBERS_LIMIT", "LITERAL_LIMIT", "NOTEBOOK_LITERALS_LIMIT", "NOTEBOOK_PAYLOAD_LIMIT",
           "Scan", "Unparsed", "as_run", "scan_cell", "scan_submission", "unreadable_cells_that_ran"]
