"""nbgrader preprocessors of the kit, each one transform of a notebook, registered in
``nbgrader_config.py``.

They run in ``nbgrader generate_assignment``; they may import nbgrader and nbformat, nothing else
of the kit.
"""

from autograder.authoring.preprocessors.hide_hidden_tests import HideHiddenTests
from autograder.authoring.preprocessors.strip_solution_markers import StripSolutionMarkers

__all__ = ["HideHiddenTests", "StripSolutionMarkers"]
