"""The catalogue of sample submissions fits the committed notebooks."""

import nbformat
import pytest

from autograder.authoring.course import ASSIGNMENT_IDS, assignment
from autograder.authoring.samples.catalogue import ALTERNATIVES, MISTAKES, TAMPERED, variants_of
from autograder.authoring.samples.variants import Edit, Variant, VariantError


def solution(repo, assignment_id):
    return nbformat.read(repo / "solutions" / assignment_id / assignment(assignment_id).notebook, 4)


def grade_ids(notebook, *, tests_only=False):
    ids = set()
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") and (meta.get("grade") or not tests_only):
            ids.add(meta["grade_id"])
    return ids


@pytest.mark.parametrize("assignment_id", ASSIGNMENT_IDS)
def test_every_assignment_has_four_mistakes_and_a_correct_alternative(assignment_id):
    assert len([v for v in MISTAKES if v.assignment == assignment_id]) >= 4
    assert any(v.correct for v in ALTERNATIVES if v.assignment == assignment_id)


@pytest.mark.parametrize("variant", MISTAKES + ALTERNATIVES + TAMPERED,
                         ids=lambda v: f"{v.assignment}-{v.slug}")
def test_each_variant_applies_and_aims_at_real_tests(repo, variant):
    reference = solution(repo, variant.assignment)
    edited = variant.apply(reference)
    assert set(variant.loses) <= grade_ids(reference, tests_only=True)
    changed = [a.source for a, b in zip(edited.cells, reference.cells) if a.source != b.source]
    assert changed or variant.drop_cells or variant.strip_metadata
    assert (variant.says != "") == (not variant.correct)


def test_slugs_are_unique_within_an_assignment():
    for assignment_id in ASSIGNMENT_IDS:
        slugs = [v.slug for v in variants_of(assignment_id)]
        assert len(slugs) == len(set(slugs))


def test_an_out_of_date_edit_is_reported(repo):
    stale = Variant("images", "stale", "edits text that is not there", (Edit("load_images", "/ 256", "/ 1"),),
                    ("test_load_images",), "x")
    with pytest.raises(VariantError, match="images/stale: expected '/ 256' in cell 'load_images'"):
        stale.apply(solution(repo, "images"))
