"""Sample submissions: realistic mistakes and correct answers written differently, made from the
reference solutions, and the sample class built from them.

:mod:`.variants` (one submission as edits of the solution), :mod:`.catalogue` (the mistakes and
alternatives; the expected wording comes from :mod:`autograder.specs`), :mod:`.sample_class`
(the class as nbgrader's ``submitted/``) and :mod:`.run` (``cnnkit sample-class``, graded by
:mod:`autograder.batch.grade`). It may import the course modules of :mod:`autograder.authoring`,
the student kit's specs and :mod:`autograder.batch`; never :mod:`autograder.serve`.
"""
