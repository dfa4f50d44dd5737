"""Flags of notebooks that are the same work (``autograder.batch.review.similar``)."""

import json

from autograder.batch.review import similar

GIVEN = "import numpy as np\nX = np.zeros((3, 28, 28))\n"


def notebook(*sources: str, outputs: str = "") -> bytes:
    cells = [{"cell_type": "code", "source": s, "metadata": {}, "execution_count": 1,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": outputs}]}
             for s in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


OWN = "\n".join(f"# step {i}: scale the batch by its own peak value {i}\n"
                f"part_{i} = X[{i}] / max(X[{i}].max(), {i + 1}.5)" for i in range(8))


def test_a_copy_run_again_and_reformatted_is_flagged_and_the_tutorial_is_not():
    given = similar.given_grams([notebook(GIVEN)])
    released = similar.fingerprint(notebook(GIVEN)).sha256
    prints = {
        "ann": similar.fingerprint(notebook(GIVEN, OWN, outputs="1"), given),
        "bob": similar.fingerprint(notebook(GIVEN, OWN.replace(" = ", "=") + "\nprint(1)",
                                            outputs="2"), given),
        "cat": similar.fingerprint(notebook(GIVEN, "Y = X / 255.0"), given),
        "dan": similar.fingerprint(notebook(GIVEN), given),
        "eve": similar.fingerprint(notebook(GIVEN), given),
    }
    found = similar.matches(prints, {k: k for k in prints}, similar.fingerprint(notebook(GIVEN)).sha256)
    assert [m.other for m in found["ann"]] == ["bob"] and not found["ann"][0].identical
    assert [m.other for m in found["bob"]] == ["ann"]
    assert not found["cat"] and not found["dan"] and not found["eve"]  # released, untouched
    assert released == prints["dan"].sha256
    text = similar.flag(found["bob"], {k: k for k in prints})
    assert text.startswith("similar to other students' work: nearly the same code and text as ann (")
    assert text.endswith("Compare the notebooks before the grade counts.")


def test_byte_identical_notebooks_are_flagged_and_one_students_own_are_not_compared():
    data = notebook(GIVEN, OWN)
    prints = {1: similar.fingerprint(data), 2: similar.fingerprint(data), 3: similar.fingerprint(data)}
    found = similar.matches(prints, {1: "ann", 2: "ann", 3: "bob"}, only=3)
    assert [(m.other, m.identical) for m in found[3]] == [(1, True), (2, True)]
    assert similar.flag(found[3], {1: "#1 (ann)", 2: "#2 (ann)"}).startswith(
        "similar to other students' work: byte for byte the same notebook as #1 (ann), #2 (ann)")


def test_a_batch_flags_the_students_whose_work_is_the_same_and_keeps_other_flags(tmp_path):
    from autograder.batch.grade import with_similar
    from autograder.batch.outcome import Outcome, Submission

    release = tmp_path / "release" / "pooling" / "pooling.ipynb"
    release.parent.mkdir(parents=True)
    release.write_bytes(notebook(GIVEN))
    work = {"ann": notebook(GIVEN, OWN), "bob": notebook(GIVEN, OWN.replace(" = ", "=")),
            "cat": notebook(GIVEN, "Y = X / 255.0"), "dan": notebook(GIVEN)}
    submissions = []
    for student, data in work.items():
        path = tmp_path / "submitted" / student / "pooling" / "pooling.ipynb"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        submissions.append(Submission(student, "pooling", path, str(path)))
    outcomes = [Outcome.graded(s, "pooling", (), review=("a flag found in the run",) * (s == "bob"))
                for s in work] + [Outcome("eve", "pooling", "failed", reason="no notebook")]
    flagged = {o.student: o.review for o in with_similar(tmp_path, submissions, outcomes)}
    assert flagged["ann"] == ("similar to other students' work: nearly the same code and text as "
                              "bob (100% of its own material). Compare the notebooks before the "
                              "grade counts.",)
    assert flagged["bob"][0] == "a flag found in the run" and "as ann (" in flagged["bob"][1]
    assert flagged["cat"] == flagged["dan"] == flagged["eve"] == ()
