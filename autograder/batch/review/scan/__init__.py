"""Read a submission's own code, before it runs, for what could change a grade but its merit.

Grades are decided by a judge outside the student's kernel, so this scan is not the defence but a
hint for a person. It reads what the kernel will run: the notebook as nbgrader reads it (an older
format version upgraded), the student's code cells (not the assignment's locked cells, whose
source nbgrader puts back), each after IPython's transformations, with the ``__future__`` features
of earlier cells, and into the code its magics run and the strings it hands ``exec`` and kin.

One pass over each cell flags the facilities themselves rather than their spellings: the kit's
package imported, named in a string or used other than by calling its functions; lookups by
dotted name; ``sys.modules``; the garbage collector; frames and trace functions; builtins and the
names the kernel's own code looks up; IPython's shell; ``ctypes``; pickles; a library's attributes
replaced; methods that let an object lie; files outside the working folder; and data that could
hold trained weights. A cell it cannot parse is returned apart, for :func:`unreadable_cells_that_ran`.

:mod:`.notebook` holds the entry points, :mod:`.reader` the reading of a cell, :mod:`.reasons`
what is reported and its wording, :mod:`.data` the data limits, :mod:`.unparsed` the cells not read.
It may import IPython's transformations, nbformat, :mod:`autograder.batch.review.cells` and the
error names of :mod:`autograder.judge.guarded_execute`; nothing else of the kit.
"""

from autograder.batch.review.scan.data import (
    CELL_DATA_LIMIT,
    CELL_NUMBERS_LIMIT,
    LITERAL_LIMIT,
    NOTEBOOK_LITERALS_LIMIT,
    NOTEBOOK_PAYLOAD_LIMIT,
)
from autograder.batch.review.scan.notebook import Scan, as_run, scan_cell, scan_submission
from autograder.batch.review.scan.unparsed import Unparsed, unreadable_cells_that_ran

__all__ = ["CELL_DATA_LIMIT", "CELL_NUMBERS_LIMIT", "LITERAL_LIMIT", "NOTEBOOK_LITERALS_LIMIT",
           "NOTEBOOK_PAYLOAD_LIMIT", "Scan", "Unparsed", "as_run", "scan_cell", "scan_submission",
           "unreadable_cells_that_ran"]
