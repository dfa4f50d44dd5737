"""The trusted side of grading: it runs no student code.

It drives the student's kernel, asks it for observations, and decides each test's points from
them with the same check definitions students run at home; it measures trained models on labels
the kernel never holds, in reference architectures the student kit does not carry.

- :mod:`.execute`: nbgrader's ``Execute`` with the judge (:mod:`.guarded_execute` below it:
  output limit, dead kernel, progress); :mod:`.gradebook_cells`, the gradebook's cells and metadata.
- :mod:`.verdict` and :mod:`.namespace`: one test cell run in the judge; :mod:`.proxy` and
  :mod:`.keras_names`, the student's objects and the library stand-ins a test cell meets;
  :mod:`.channel`, the requests to the kernel (answered by :mod:`autograder.kernel_answers`).
- :mod:`.gate`: the accuracy gate (:class:`~.gate.Gate`), measured in its own process,
  :mod:`.measure` (``python -I -m autograder.judge.measure``); :mod:`.reference`, the reference
  models; :mod:`.withheld`, the kernel's copy of MNIST without the test labels.

It may import the student kit, nbgrader and nbclient, the course's own checks
(:mod:`autograder.authoring.course_checks`) and the plain reading of notebook cells
(:mod:`autograder.batch.review.cells`); never the rest of :mod:`autograder.batch`,
:mod:`autograder.serve` or :mod:`autograder.cli`. Nothing of the student kit imports it.
"""
