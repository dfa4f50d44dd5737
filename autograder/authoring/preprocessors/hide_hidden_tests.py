"""Keep hidden tests out of the feedback students receive, but keep every failure's message.

An autograded notebook holds the hidden tests (nbgrader restores them from the gradebook), and an
exception's traceback quotes the lines around the failing call. For test cells this preprocessor
replaces each hidden region by one comment line and cuts each error down to its last line,
``<ExceptionName>: <message>``, which is where the kit's checks put the whole explanation.
"""

from __future__ import annotations

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

HIDDEN_PLACEHOLDER = "# (hidden tests ran here)"


def hide_regions(source: str, begin: str, end: str, placeholder: str = HIDDEN_PLACEHOLDER) -> str:
    """``source`` with each region from a ``begin`` line to an ``end`` line replaced by
    ``placeholder``. An unclosed region hides everything after its ``begin`` line.

    >>> hide_regions("a\\n### BEGIN HIDDEN TESTS\\nb\\n### END HIDDEN TESTS\\nc",
    ...              "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
    'a\\n# (hidden tests ran here)\\nc'
    """
    kept: list[str] = []
    hidden = False
    for line in source.split("\n"):
        if begin in line:
            hidden = True
            kept.append(placeholder)
        elif end in line and hidden:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept)


class HideHiddenTests(NbGraderPreprocessor):
    """For feedback: hide hidden test code and shorten test cells' tracebacks to their message."""

    begin_test_delimeter = Unicode(
        "BEGIN HIDDEN TESTS", help="The text of the line that opens a hidden-tests region.").tag(config=True)
    end_test_delimeter = Unicode(
        "END HIDDEN TESTS", help="The text of the line that closes a hidden-tests region.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        cell.source = hide_regions(cell.source, self.begin_test_delimeter, self.end_test_delimeter)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
