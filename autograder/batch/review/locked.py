"""The assignment's locked cells in a submitted notebook: which were edited, stripped of their
metadata or deleted, and whose nbgrader metadata was changed, as flags and notes for a person.
Putting them right is the course's ``SettleMetadata`` (:mod:`autograder.judge.gradebook_cells`), which
plain ``nbgrader autograde`` runs too."""

from __future__ import annotations

from collections.abc import Mapping

from autograder.batch.review import cells
from autograder.batch.review.cells import visible


def locked_problems(nb: Mapping, locked: dict[str, str]) -> tuple[list[str], list[str]]:
    """Flags and notes about the assignment's locked cells in the submitted notebook."""
    flags, notes = [], []
    seen = {cells.grade_id(c): cells.source(c) for c in nb.get("cells", []) if cells.grade_id(c)}
    sources = {visible(cells.source(c)) for c in nb.get("cells", [])
               if not c.get("metadata", {}).get("nbgrader")}
    stripped: list[str] = []
    deleted: list[str] = []
    for grade_id, source in locked.items():
        if grade_id not in seen:
            (stripped if visible(source) and visible(source) in sources else deleted).append(grade_id)
        elif visible(seen[grade_id]) != visible(source):
            flags.append(f"cell {grade_id}: a locked cell was edited; the original was put back and run.")
    if stripped:
        notes.append(f"cell{'s' if len(stripped) > 1 else ''} {', '.join(stripped)}: the nbgrader "
                     f"metadata was removed; the original{'s were' if len(stripped) > 1 else ' was'} "
                     f"put back and run.")
    if deleted:
        notes.append(f"cell{'s' if len(deleted) > 1 else ''} {', '.join(deleted)}: "
                     f"{'they were' if len(deleted) > 1 else 'it was'} deleted; the original"
                     f"{'s were' if len(deleted) > 1 else ' was'} put back and run.")
    return flags, notes


#: The nbgrader metadata that decides how a cell is graded.
GRADING_KEYS = ("grade", "solution", "locked", "points")


def metadata_changes(nb: Mapping, layout: tuple[dict, ...]) -> tuple[list[str], list[str]]:
    """Flags for cells of the assignment whose grading metadata (test or answer, locked, points)
    the submission changed, and notes for nbgrader cells the assignment does not have. The
    gradebook's metadata is used either way (:class:`autograder.judge.gradebook_cells.SettleMetadata`)."""
    expected = {spec["name"]: _metadata(spec) for spec in layout}
    types = {spec["name"]: spec["cell_type"] for spec in layout}
    flags, notes = [], []
    for cell in cells.of(nb):
        meta = cell.get("metadata", {}).get("nbgrader")
        grade_id = cells.grade_id(cell)
        if not isinstance(meta, dict) or grade_id is None:
            continue
        if grade_id not in expected:
            notes.append(f"cell {grade_id}: not a cell of the assignment; it ran as the student's "
                         f"own code and earns nothing.")
            continue
        if cell.get("cell_type") != types[grade_id]:
            notes.append(f"cell {grade_id}: its type was changed from {types[grade_id]} to "
                         f"{cell.get('cell_type')}; it was put back from the gradebook and run.")
        changed = [f"{key}: {meta.get(key)!r}" for key in GRADING_KEYS
                   if key in meta and meta.get(key) != expected[grade_id].get(key)
                   and not (key == "points" and _same_number(meta.get(key), expected[grade_id].get(key)))]
        if changed:
            flags.append(f"cell {grade_id}: its nbgrader metadata was changed ({', '.join(changed)}); "
                         f"the gradebook's was used.")
    return flags, notes


def _same_number(a: object, b: object) -> bool:
    try:
        return float(a) == float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _metadata(cell: dict) -> dict:
    return {"grade": cell["grade"], "grade_id": cell["name"], "locked": cell["locked"],
            "schema_version": 3, "solution": cell["solution"], "task": False,
            **({"points": cell["points"]} if cell["grade"] else {})}
