"""The intake of the batch grader: which notebook is whose, for which assignment, before grading.

Three sources, one result (:class:`Intake`):

- :func:`from_submitted` reads nbgrader's ``submitted/<student>/<assignment>/<assignment>.ipynb``;
- :func:`from_exchange` runs ``nbgrader collect --update`` for each assignment, then reads
  ``submitted/`` (both in :mod:`.submitted`);
- :func:`from_zip` reads an LMS bulk download (Canvas or Moodle, named as :mod:`.lms` reads them)
  and writes each student's latest notebook into ``submitted/`` (:mod:`.lms_zip`).

Every notebook is checked before it is accepted, and its assignment told by its cells, the same
way whatever its source (:mod:`.notebook`). A file that fails goes to :attr:`Intake.unplaced` with
the reason and the fix; a single bad file never stops the intake. :class:`IntakeError` is for
input that is unusable as a whole. :func:`show` prints the plan (:mod:`.plan`).

It may import nbformat, nbgrader's commands (:mod:`autograder.authoring.nbgrader_run`), the
course (:mod:`autograder.authoring.course`) and :mod:`autograder.errors`; nothing of the rest of
:mod:`autograder.batch`, which it feeds, nor of :mod:`autograder.judge` or :mod:`autograder.serve`.
"""

from autograder.batch.intake.lms_zip import TIMESTAMP_FORMAT, from_zip
from autograder.batch.intake.notebook import MAX_GRADE_ID, MAX_NOTEBOOK_BYTES
from autograder.batch.intake.plan import show
from autograder.batch.intake.result import Intake, IntakeError
from autograder.batch.intake.submitted import from_exchange, from_submitted

__all__ = ["MAX_GRADE_ID", "MAX_NOTEBOOK_BYTES", "TIMESTAMP_FORMAT", "Intake", "IntakeError",
           "from_exchange", "from_submitted", "from_zip", "show"]
