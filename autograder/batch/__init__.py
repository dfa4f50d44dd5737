"""Batch autograding of a class: intake, jobs, executors, the gradebook writer, exports.

The path of one submission::

    intake -> job -> executor -> runner -> record -> exports

:mod:`~autograder.batch.intake` finds the submissions (nbgrader's ``submitted/``, the exchange, an
LMS zip); :mod:`~autograder.batch.jobs` turns each into a job whose key says whether it was graded
before; :mod:`~autograder.batch.executors` runs jobs on local processes or a Dask cluster, each
through :mod:`~autograder.batch.runner` (nbgrader's autograde in a private course folder);
:mod:`~autograder.batch.record` is the only writer of the gradebook; :mod:`~autograder.batch.export`
and :mod:`~autograder.batch.class_report` write the CSV and the class report.

The package may import the student kit's top-level modules (budgets, data, settings, errors),
the judge (:mod:`autograder.judge`, which the runner's nbgrader runs) and the course modules of
:mod:`autograder.authoring`; never :mod:`autograder.serve` or :mod:`autograder.cli`, which are
built on it.
"""
