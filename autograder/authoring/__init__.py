"""What an instructor uses to author the course: the assignments, building ``release/`` and
``solutions/`` with nbgrader, the kit's nbgrader preprocessors, the sample class, and the
student distribution.

- :mod:`.course` (the course folder and its assignments), :mod:`.course_checks` (the course's own
  checks), :mod:`.scaffold` (``cnnkit new``), :mod:`.sync`, :mod:`.check_list`;
- :mod:`.build` and :mod:`.nbgrader_run` (``release/`` and ``solutions/`` by nbgrader's
  commands), :mod:`.preprocessors` (the kit's nbgrader preprocessors);
- :mod:`.student_kit` (what students receive); :mod:`.samples` (the sample class) and
  :mod:`.self_check` (``cnnkit check``), which grade with the batch grader.

Its modules may import the student kit and nbgrader; :mod:`.samples` and :mod:`.self_check` also
:mod:`autograder.batch`, which itself imports the course modules here. Never
:mod:`autograder.serve` or :mod:`autograder.cli`.
"""
