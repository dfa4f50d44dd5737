"""The accuracy gates under the CPU budget, through nbgrader: the references pass, each mistake
and each cheat earns nothing from the gate, and the message says the accuracy and the threshold.

Every submission here trains a model for real (two to fifteen minutes each on two shared cores),
so the README's test command grades one of each kind: the CNN reference, the small-data mistake
(whose message gives the accuracy and the threshold), and the cheats that go for the gate's own
inputs: training on the test set through a tf.data.Dataset or a callback, the budget from
the kernel's environment, a data folder of its own, a training record forged after training by
hand. The rest carry the ``matrix`` marker and run
with ``scripts/test.sh -m matrix``: the ResNet-34 reference, four more seeds of the CNN (with the
reference, the five of five that must pass), another sensible setting, the other mistakes and
cheats (training on the test set through plain fit among them). Only the submissions whose tests
are selected are graded."""

import html
import io
import re

import nbformat
import pytest
from rich.console import Console

from autograder.authoring.samples.catalogue import CHEATS, GATE_ALTERNATIVES, GATE_MISTAKES
from autograder.authoring.samples.run import grade
from autograder.authoring.samples.sample_class import SampleSubmission
from autograder.budget import BUDGETS

pytestmark = pytest.mark.slow


#: What the README's test command grades; every other variant is ``matrix``.
EVERY_RUN = {"500-images", "dataset-on-test", "callback-on-test", "budget-from-environment",
             "fake-data-folder", "forged-record"}


def _params(variants):
    return [pytest.param(v, id=v.slug, marks=() if v.slug in EVERY_RUN else pytest.mark.matrix)
            for v in variants]


@pytest.fixture(scope="module")
def gated(repo, tmp_path_factory, request):
    def reference(assignment_id):
        return nbformat.read(repo / "solutions" / assignment_id / f"{assignment_id}.ipynb", 4)

    selected = [item for item in request.session.items if item.module is request.module]
    wanted = {item.callspec.params.get("assignment_id") for item in selected if hasattr(item, "callspec")}
    chosen = {id(item.callspec.params.get("variant")) for item in selected if hasattr(item, "callspec")}
    items = [SampleSubmission("reference", a, reference(a), None, True)
             for a in ("mnist_cnn", "resnet34") if a in wanted]
    items += [SampleSubmission(f"{kind}-{v.slug}", v.assignment, v.apply(reference(v.assignment)), v, good)
              for kind, variants, good in (("mistake", GATE_MISTAKES, False), ("cheat", CHEATS, False),
                                           ("alternative", GATE_ALTERNATIVES, True))
              for v in variants if id(v) in chosen]
    workdir = tmp_path_factory.mktemp("gate") / "course"
    assignments = tuple(sorted({item.assignment for item in items}))
    graded = grade(repo, workdir, budget="cpu", assignments=assignments, items=items,
                   jobs=2, console=Console(file=io.StringIO(), width=120))
    return workdir, {(g.submission.student, g.submission.assignment): g for g in graded}


def feedback_of(workdir, graded_item):
    sub = graded_item.submission
    path = workdir / "feedback" / sub.student / sub.assignment / f"{sub.assignment}.html"
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("assignment_id", ["mnist_cnn", pytest.param("resnet34", marks=pytest.mark.matrix)])
def test_the_references_pass_the_cpu_gate(gated, assignment_id):
    _, results = gated
    item = results[("reference", assignment_id)]
    assert item.result.by_test()["test_accuracy"].score > 0
    assert item.result.passed_all, item.result.tests


@pytest.mark.parametrize("variant", _params(GATE_ALTERNATIVES))
def test_other_sensible_training_settings_pass(gated, variant):
    _, results = gated
    item = results[(f"alternative-{variant.slug}", variant.assignment)]
    assert item.result.passed_all, item.result.tests


@pytest.mark.parametrize("variant", _params(GATE_MISTAKES))
def test_each_mistake_fails_the_gate_with_accuracy_and_threshold(gated, variant):
    workdir, results = gated
    item = results[(f"mistake-{variant.slug}", "mnist_cnn")]
    assert item.result.by_test()["test_accuracy"].score == 0
    text = feedback_of(workdir, item)
    threshold = BUDGETS["cpu"].mnist_cnn.min_test_accuracy
    assert re.search(r"accuracy of model_cnn_mnist on the 10,000 MNIST test images \(your trained weights in "
                     rf"the assignment's architecture\): expected at least {threshold:.4f} under the 'cpu' "
                     r"budget, got 0\.\d{4}\.", text), text[-3000:]
    assert variant.says in text


@pytest.mark.parametrize("variant", _params(CHEATS))
def test_each_cheat_earns_nothing_from_the_gate(gated, variant):
    workdir, results = gated
    item = results[(f"cheat-{variant.slug}", "mnist_cnn")]
    for grade_id in variant.loses:
        assert item.result.by_test()[grade_id].score == 0, grade_id
    assert variant.says in feedback_of(workdir, item)
