"""The judge runs test cells outside the kernel, from observations the kernel cannot turn into a
pass: a real IPython kernel answers, the judge decides."""

from __future__ import annotations

import ast

import numpy as np
import pytest
from support.kernel import LiveKernel

from autograder.judge.verdict import NO_ANSWER, kernel_names, run_test


@pytest.fixture(scope="module")
def kernel():
    live = LiveKernel(timeout=60)
    live.run("import numpy as np")
    yield live
    live.close()


def judge(kernel: LiveKernel, namespace: dict, source: str) -> list:
    return run_test(source, "<test>", namespace, kernel.channel).outputs


def test_the_names_of_the_students_variables_are_found() -> None:
    tree = ast.parse("_t = data.mnist_table('x')\nchecks.close('X', X, _t[:, 1:] / 255)\n"
                     "checks.equal('u', u, len([1]))")
    known = {"checks": 1, "data": 1, "np": 1}
    assert kernel_names(tree, known) == ["X", "u"]
    # Read before it is assigned: the student's; a comprehension's variable is its own.
    tree = ast.parse("u = u + 1\nn = [v for v in range(3)]\nassert v == n[0]")
    assert kernel_names(tree, {}) == ["u", "v"]


def test_a_right_answer_passes_and_a_wrong_one_fails_with_the_checks_message(kernel, namespace) -> None:
    kernel.run("X = np.arange(6.0).reshape(2, 3)")
    assert judge(kernel, namespace, "checks.close('X', X, np.arange(6.0).reshape(2, 3))") == []
    outputs = judge(kernel, namespace, "checks.close('X', X, np.ones((2, 3)), cause='Add one.')")
    assert outputs[0]["ename"] == "CheckFailure"
    assert outputs[0]["evalue"] == "X[0, 0]: expected 1, got 0 (5 of 6 values differ). Add one."


def test_a_missing_variable_fails_as_it_would_in_the_kernel(kernel, namespace) -> None:
    outputs = judge(kernel, namespace, "checks.shape('nothing_here', nothing_here, (2,))")
    assert (outputs[0]["ename"], outputs[0]["evalue"]) == ("NameError", "name 'nothing_here' is not defined")


def test_test_code_and_the_judges_requests_never_enter_the_kernels_history(kernel, namespace) -> None:
    kernel.run("u = 7")
    assert judge(kernel, namespace, "# SECRET-HIDDEN-TEST-42\nchecks.equal('u', u, 7)") == []
    # The probe builds its words so that its own source, the last input, cannot match.
    history = kernel.text("print(sum(('SEC' + 'RET') in h or ('obs' + 'erver') in h for h in In[:-1]))")
    assert history.strip() == "0"


def test_an_array_that_lies_about_itself_is_read_as_plain_numbers(kernel, namespace) -> None:
    kernel.run("class Liar(np.ndarray):\n"
               "    def any(self, *a, **k): return False\n"
               "    def all(self, *a, **k): return True\n"
               "    def __eq__(self, other): return np.ones(self.shape, bool).view(Liar)\n"
               "wrong = np.zeros((3, 4)).view(Liar)")
    outputs = judge(kernel, namespace, "checks.close('wrong', wrong, np.ones((3, 4)))")
    assert outputs and "expected 1, got 0" in outputs[0]["evalue"]
    outputs = judge(kernel, namespace, "checks.equal('wrong', wrong, np.ones((3, 4)))")
    assert outputs and outputs[0]["ename"] == "CheckFailure"


def test_a_kernel_that_will_not_answer_fails_the_test(kernel, namespace) -> None:
    kernel.run("_handlers = get_ipython().kernel.shell_handlers\n"
               "_real = _handlers['cnnkit_observation_request']\n"
               "_handlers['cnnkit_observation_request'] = lambda *a: print('All tests passed')")
    try:
        outputs = judge(kernel, namespace, "checks.equal('u', u, 7)")
    finally:
        kernel.run("_handlers['cnnkit_observation_request'] = _real")
    assert outputs[0]["ename"] == NO_ANSWER
    assert "did not answer" in outputs[0]["evalue"]
    assert judge(kernel, namespace, "checks.equal('u', u, 7)") == []


def test_names_the_notebook_rebinds_do_not_reach_the_judges_requests(kernel, namespace) -> None:
    # The requests are shell messages of their own type, not code run in the notebook's
    # namespace: rebinding __import__, __builtins__ or get_ipython there intercepts nothing.
    kernel.run("import builtins as _b\n"
               "_fake = type('Fake', (), {'install': lambda: None, 'answer': lambda *a: 8})\n"
               "__builtins__ = {'__import__': lambda *a, **k: _fake}\n"
               "get_ipython = lambda: None\n"
               "u = 7")
    try:
        assert judge(kernel, namespace, "checks.equal('u', u, 7)") == []
        outputs = judge(kernel, namespace, "checks.equal('u', u, 8)")
        assert outputs[0]["ename"] == "CheckFailure"
    finally:
        kernel.run("__builtins__ = _b\ndel get_ipython")


def test_behaviour_is_probed_with_inputs_the_kernel_cannot_know(kernel, namespace) -> None:
    # A "layer" that replays the output of the probe drawn at home (seed 1234) passes there...
    from autograder.checks import numeric, observe
    from autograder.checks.layers import PROBE_SEED

    x = observe.draw((2, 9, 11, 4), fresh=False, seed=PROBE_SEED)
    replay = numeric.max_pool2d(x, 2)
    np.save("/tmp/cnnkit-replay.npy", replay)
    kernel.run("class Replay:\n    pool_size = (2, 2)\n    strides = (2, 2)\n    padding = 'valid'\n"
               "    def __call__(self, x, **kw):\n        return np.load('/tmp/cnnkit-replay.npy')\n"
               "pool_max = Replay()")
    home = {"pool_max": _Replay(replay)}
    from autograder import checks
    checks.pool2d_output(home["pool_max"], (2, 9, 11, 4), name="pool_max", kind="max", pool_size=2)
    # ... but the judge draws a fresh input.
    outputs = judge(kernel, namespace, "checks.pool2d_output(pool_max, (2, 9, 11, 4), name='pool_max', "
                                       "kind='max', pool_size=2)")
    assert outputs and outputs[0]["ename"] == "CheckFailure"
    assert "pool_max(x) for x of shape (2, 9, 11, 4)" in outputs[0]["evalue"]


class _Replay:
    def __init__(self, output: np.ndarray) -> None:
        self.output = output

    def __call__(self, x, **kwargs):
        return self.output


def test_a_test_reads_the_students_values_as_they_are(kernel, namespace) -> None:
    assert judge(kernel, namespace, "assert X.shape == (2, 3)\nchecks.equal('shape', X.shape, (2, 3))") == []


@pytest.mark.parametrize("reader, test", [
    ("live_layer", "checks.global_pool(layer, name='layer')"),
    # A check that turns what the student's object raises into its own failure must not turn the
    # kit's error into one.
    ("live_call", "checks.pool2d_output(layer, (2, 8, 8, 3), name='layer', kind='max', pool_size=2)"),
])
def test_a_failure_of_the_kits_own_observation_is_the_kits_not_the_students(kernel, namespace, reader,
                                                                            test) -> None:
    # An observation that breaks inside the kit (here: one of the kit's readers, replaced in the
    # kernel by one that fails) is reported as the kit's error, never scored as the student's.
    kernel.run(f"import autograder.checks.observe as _o\n_real = _o.{reader}\n"
               f"def _broken(*a, **k):\n    raise TypeError('unexpected form')\n_o.{reader} = _broken\n"
               "class Layer:\n    pool_size = (2, 2)\n    strides = (2, 2)\n    padding = 'valid'\n"
               "    def __call__(self, x, **kw):\n        return x[:, ::2, ::2, :]\nlayer = Layer()")
    try:
        outputs = judge(kernel, namespace, test)
    finally:
        kernel.run(f"_o.{reader} = _real")
    assert outputs[0]["ename"] == "TestCellError"
    assert outputs[0]["evalue"] == ("the kit could not observe it (TypeError: unexpected form). This is "
                                    "an error of the grading kit, not of your answer: tell your instructor.")
