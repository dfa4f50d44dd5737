"""Turn instructor cells into clean reference answers: the solution markers go, the code stays."""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


def strip_marker_lines(source: str, begin: str, end: str) -> str:
    """``source`` without the lines that hold ``begin`` or ``end``.

    >>> strip_marker_lines("### BEGIN SOLUTION\\nu = 7\\n### END SOLUTION", "BEGIN SOLUTION", "END SOLUTION")
    'u = 7'
    """
    return "\n".join(line for line in source.split("\n") if begin not in line and end not in line)


class StripSolutionMarkers(NbGraderPreprocessor):
    """Remove the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines from solution cells.

    ``nbgrader generate_solution`` keeps them; with this preprocessor in
    ``GenerateSolution.preprocessors`` (and ``ClearHiddenTests`` after it) the ``solutions/``
    notebooks read like a student's finished work.
    """

    begin_solution_delimeter = Unicode(
        "BEGIN SOLUTION", help="The text of the line that opens a solution region.").tag(config=True)
    end_solution_delimeter = Unicode(
        "END SOLUTION", help="The text of the line that closes a solution region.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        if utils.is_solution(cell):
            cell.source = strip_marker_lines(cell.source, self.begin_solution_delimeter,
                                             self.end_solution_delimeter)
        return cell, resources
