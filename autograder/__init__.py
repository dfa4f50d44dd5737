"""The CNN course kit: checks that notebook tests call, grading budgets, data, and grading tools.

Notebooks import the pieces they need::

    from autograder import checks, data, budget

Importing the package quietens the two kinds of noise that TensorFlow and Keras write to stderr
(nbgrader scores a test cell that wrote to stderr as failed): TensorFlow's C++ log lines and the
Keras warning about ``input_shape`` on a layer, which the tutorial's code triggers on purpose.
"""

from autograder._quiet import quieten

__version__ = "0.1.0"

quieten()

__all__ = ["__version__"]
