"""Test cells written as nbgrader instructors write them give the same points in the student's
kernel and in the judge: the idiom matrix.

Each idiom is one test cell of plain Python on the student's values. Each is run for a correct,
a wrong and an undefined answer, once in the kernel (what ``nbgrader validate`` does) and once in
the judge (what grading does); the two must agree, and the correct answer alone must pass.
"""

from __future__ import annotations

import pytest
from support.kernel import LiveKernel

from autograder.judge.verdict import TEST_ERROR, run_test

NAMES = ("u", "flag", "x", "normalize", "conv", "out", "head", "values", "Unit", "maybe", "tagged")

ANSWERS = {
    "correct": """
u = 7
flag = True
maybe = 0.5
x = np.linspace(0, 1, 12).reshape(3, 4)
def normalize(a):
    return (a - a.min()) / (a.max() - a.min())
conv = keras.layers.Conv2D(2, 7, padding="same", activation="relu")
out = conv(np.ones((1, 9, 9, 3), "float32"))
head = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
values = [1.0, 2.0]
class Unit(keras.layers.Layer):
    pass
class Tagged:
    label, request, handle = "cat", 3, "h"
tagged = Tagged()
""",
    "wrong": """
u = 3
flag = False
maybe = None
x = np.linspace(-1, 1, 6).reshape(2, 3)
def normalize(a):
    return a
conv = keras.layers.MaxPooling2D(7)
out = np.zeros((1, 9, 9, 2), "float32")
head = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5), keras.layers.Dense(4),
                        keras.layers.Dense(3)])
values = [1.0, 2.5]
class Unit:
    pass
class Tagged:
    label, request, handle = "dog", 4, "g"
tagged = Tagged()
""",
    "undefined": "\n".join(f"globals().pop({name!r}, None)" for name in NAMES),
}

IDIOMS = {
    "equality": "assert u == 7",
    "inequality": "assert u != 3",
    "negation": "assert not (u < 7)",
    "is None": "assert maybe is not None",
    "truthiness": "assert flag",
    "float()": "assert float(u) == 7.0",
    "shape": "assert x.shape == (3, 4)",
    "np.allclose": "assert np.allclose(x, np.linspace(0, 1, 12).reshape(3, 4))",
    "np.testing": "np.testing.assert_allclose(x[0], [0, 1 / 11, 2 / 11, 3 / 11])",
    "comparison": "assert (x >= 0).all()",
    "function call": "np.testing.assert_allclose(normalize(np.array([2.0, 4.0, 6.0])), [0, 0.5, 1])",
    "layer attribute": "assert conv.kernel_size == (7, 7)",
    "model len(layers)": "assert len(head.layers) == 2",
    "model layer item": "assert head.layers[0].units == 8",
    "iterating layers": "assert [layer.units for layer in head.layers] == [8, 3]",
    "isinstance": "assert isinstance(conv, keras.layers.Conv2D)",
    "type name": "assert type(conv).__name__ == 'Conv2D'",
    "issubclass": "assert issubclass(Unit, keras.layers.Layer)",
    "layer call": "assert np.allclose(conv(np.ones((1, 9, 9, 3), 'float32')), out)",
    "check on an attribute": "checks.equal('conv.kernel_size', conv.kernel_size, (7, 7))",
    "check on a list of values": "checks.equal('values', [values[0], values[1]], [1.0, 2.0])",
    "check on an array of values": "checks.close('values', np.array(values), [1.0, 2.0])",
    "string": "assert str(u) == '7' and f'{u}' == '7'",
    "read, then assigned": "u = u + 0\nassert u == 7",
    "attributes named like the judge's":
        "assert (tagged.label, tagged.request, tagged.handle) == ('cat', 3, 'h')",
}


@pytest.fixture(scope="module")
def kernel():
    live = LiveKernel(timeout=60)
    live.run("import numpy as np\nimport keras\nfrom autograder import checks")
    yield live
    live.close()


def in_kernel(kernel: LiveKernel, source: str) -> bool:
    """Whether the test cell passes run in the kernel, as ``nbgrader validate`` runs it."""
    return not any("ename" in content for content in kernel.run(source))


def in_judge(kernel: LiveKernel, namespace: dict, source: str) -> tuple[bool, list]:
    outputs = run_test(source, "<test>", namespace, kernel.channel).outputs
    return not outputs, outputs


@pytest.fixture(scope="module")
def matrix(kernel, namespace):
    """{(idiom, answer): (passes in the kernel, passes in the judge, the judge's outputs)}."""
    found = {}
    for answer, setup in ANSWERS.items():
        assert not any("ename" in c for c in kernel.run(setup)), f"the {answer} answer does not run"
        for idiom, source in IDIOMS.items():
            found[idiom, answer] = (in_kernel(kernel, source), *in_judge(kernel, namespace, source))
    return found


@pytest.mark.parametrize("idiom", IDIOMS)
def test_each_idiom_gives_the_same_verdict_in_the_kernel_and_in_the_judge(matrix, idiom) -> None:
    for answer in ANSWERS:
        kernel_passes, judge_passes, outputs = matrix[idiom, answer]
        assert kernel_passes == (answer == "correct"), f"{idiom}, {answer}: the kernel's verdict"
        assert judge_passes == kernel_passes, f"{idiom}, {answer}: judge {outputs}"


def test_an_undefined_name_fails_as_a_name_error(matrix) -> None:
    _, _, outputs = matrix["equality", "undefined"]
    assert (outputs[0]["ename"], outputs[0]["evalue"]) == ("NameError", "name 'u' is not defined")


def test_what_a_proxy_cannot_answer_is_the_tests_error(kernel, namespace) -> None:
    kernel.run(ANSWERS["correct"])
    passes, outputs = in_judge(kernel, namespace, "conv.filters = 3")
    assert not passes and outputs[0]["ename"] == TEST_ERROR
    assert "an error of the test, not of your answer" in outputs[0]["evalue"]
    passes, outputs = in_judge(kernel, namespace, "keras.layers.Dense(3)")
    assert not passes and outputs[0]["ename"] == TEST_ERROR
    assert outputs[0]["evalue"].startswith("keras.layers.Dense(...): a test judged outside the kernel")
    passes, outputs = in_judge(kernel, namespace, "normalize(object())")
    assert not passes and outputs[0]["ename"] == TEST_ERROR
    assert "the test sends a object to the student's object" in outputs[0]["evalue"]


def test_a_student_value_that_lies_about_equality_is_compared_as_data(kernel, namespace) -> None:
    # An int subclass whose == always says yes is not plain data: it stays in the kernel, where
    # it says yes; the strong form is a check, which reads its value.
    kernel.run("class Yes(int):\n    def __eq__(self, other): return True\n    __hash__ = int.__hash__\n"
               "u = Yes(3)")
    passes, outputs = in_judge(kernel, namespace, "checks.equal('u', u, 7)")
    assert not passes and outputs[0]["ename"] == "CheckFailure"


def test_the_students_error_is_raised_as_the_kernel_raised_it(kernel, namespace) -> None:
    kernel.run("def broken(a):\n    raise ValueError('no negative sizes')")
    passes, outputs = in_judge(kernel, namespace, "broken(np.ones(2))")
    assert not passes
    assert (outputs[0]["ename"], outputs[0]["evalue"]) == ("ValueError", "no negative sizes")
    passes, _ = in_judge(kernel, namespace, "assert not hasattr(broken, 'nothing_here')")
    assert passes
