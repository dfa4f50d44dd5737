"""The CNN course kit: checks that notebook tests call, grading budgets, data, and grading tools.

Notebooks import the pieces they need::

    from autograder import checks, data, budget

Importing the package quietens the two kinds of noise that TensorFlow and Keras write to stderr
(nbgrader scores a test cell that wrote to stderr as failed): TensorFlow's C++ log lines and the
Keras warning about ``input_shape`` on a layer, which the tutorial's code triggers on purpose.

The package is in layers; each imports only the layers above it in this list:

- **the student kit**: the modules at the top level and :mod:`autograder.checks` (the checks and
  their one message shape, :mod:`~autograder.messages`; budgets and the training guard; data;
  the expected models, :mod:`~autograder.specs`; weights; the kernel's answers to the judge,
  :mod:`~autograder.kernel_answers`; the wire format; settings). They run in the student's
  kernel, at home and under grading, and :mod:`autograder.authoring.student_kit` ships exactly
  them: they import NumPy, Keras (inside functions) and each other, never a subpackage but
  :mod:`autograder.checks`.
- :mod:`autograder.authoring`'s course modules: the course folder, its own checks, nbgrader's
  commands, the build and the student kit.
- :mod:`autograder.judge`: the trusted side of grading, which runs no student code.
- :mod:`autograder.batch`: grading a class, ``cnnkit grade``; then the sample class and the self
  check of :mod:`autograder.authoring`, which grade with it.
- :mod:`autograder.serve`: grading at submission time, ``cnnkit serve``.
- :mod:`autograder.cli`: the ``cnnkit`` command line, over all of them.
"""

from autograder._quiet import quieten

__version__ = "0.1.0"

quieten()

__all__ = ["__version__"]
