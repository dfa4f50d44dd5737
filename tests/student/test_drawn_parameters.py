"""The weights a behaviour check draws, set on objects in the student's kernel.

``InKernel`` stands for a name of the student's kernel: every request goes through the wire
(:mod:`autograder.wire`) and the kernel's operations (:data:`autograder.kernel_answers.OPERATIONS`), as
under grading, without starting a kernel. Being remote, its probes and parameters are drawn from
fresh entropy, as under grading.
"""

from __future__ import annotations

import base64
from typing import Any

import keras
import numpy as np
import pytest

from autograder import checks, kernel_answers, wire
from autograder.checks import CheckFailure, observe

CONV = dict(filters=5, kernel_size=7, strides=1, padding="same", activation="relu")


class InKernel(observe.Remote):
    """``namespace[name]`` as the judge sees it in the student's kernel."""

    def __init__(self, namespace: dict, target: dict, label: str) -> None:
        self.namespace, self.target, self._cnnkit_label = namespace, target, label

    def _cnnkit_request(self, op: str, **args: Any) -> Any:
        data, buffers = wire.encode(args)
        request = {"op": op, "target": self.target, "args": data,
                   "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]}
        data, buffers = wire.encode(self.answer(request))
        found = wire.decode(data, [bytes(b) for b in buffers])
        if isinstance(found, observe.ErrorView):
            raise observe.ObservedError(found.kind, found.message)
        return found

    def answer(self, request: dict) -> Any:
        return kernel_answers.answer(request, self.namespace)

    def _cnnkit_handle(self, handle_id: str) -> InKernel:
        return type(self)(self.namespace, {"handle": handle_id}, f"{self._cnnkit_label}(...)")


def in_kernel(value: Any, cls: type = InKernel) -> InKernel:
    return cls({"value": value}, {"name": "value"}, "value")


def conv_output(conv: Any) -> None:
    checks.conv2d_output(conv, (2, 12, 14, 3), **CONV)


def test_the_operations_are_registered():
    assert {"set_weights", "restore_weights"} <= set(kernel_answers.OPERATIONS)


def test_a_conv_in_the_kernel_is_judged_on_weights_drawn_fresh_and_gets_its_own_back():
    conv = keras.layers.Conv2D(**CONV, kernel_initializer="zeros")
    conv.build((None, None, None, 3))
    conv_output(in_kernel(conv))
    assert not np.any(np.asarray(conv.kernel))


def test_set_weights_sets_leaves_in_canonical_order_and_restore_gives_them_back():
    conv = keras.layers.Conv2D(2, 3)
    conv.build((None, None, None, 1))
    own = np.asarray(conv.kernel).copy()
    remote = in_kernel(conv)
    kernel = np.full((3, 3, 1, 2), 0.5, np.float32)
    held = observe.set_weights("conv", remote, [{"kernel": kernel, "gamma": np.ones(2)}], keep=True)
    assert [leaf.kind for leaf in held] == ["Conv2D"] and set(held[0].values) == {"kernel", "bias"}
    np.testing.assert_array_equal(held[0].values["kernel"], kernel)
    assert observe.unset(held, [{"kernel": kernel}]) is None
    assert observe.unset(held, [{"gamma": np.ones(2)}]) == (0, "gamma", "no such variable")
    assert observe.unset(held, [{"gamma": np.ones(2)}], optional=("gamma",)) is None
    assert observe.restore_weights("conv", remote) is True
    np.testing.assert_array_equal(np.asarray(conv.kernel), own)
    assert observe.restore_weights("conv", remote) is False  # nothing kept any more


class IgnoresAssignment(InKernel):
    """A replaced kernel side: it sets nothing, and reports the weights as they were."""

    def answer(self, request: dict) -> Any:
        if request.get("op") == "set_weights":
            return observe.live_set_weights(self.namespace["value"], [])
        return super().answer(request)


class ReportsWithoutSetting(InKernel):
    """A replaced kernel side: it sets nothing, and reports the values it was sent."""

    def answer(self, request: dict) -> Any:
        if request.get("op") == "set_weights":
            buffers = [base64.b64decode(b) for b in request["buffers"]]
            sent = wire.decode(request["args"], buffers)["arrays"]
            return [observe.HeldWeights("Conv2D", dict(leaf)) for leaf in sent]
        return super().answer(request)


def test_a_kernel_that_ignores_the_assignment_fails():
    conv = keras.layers.Conv2D(**CONV)
    with pytest.raises(CheckFailure, match=r"^the kernel of conv read back after the check set it: "
                                           r"expected the values the check set, got other values "
                                           r"\(\d+ of 735 differ\)\. The check sets the weights of the "
                                           r"object to values it draws and reads them back"):
        checks.conv2d_output(in_kernel(conv, IgnoresAssignment), (2, 12, 14, 3), name="conv", **CONV)


def test_a_kernel_that_reports_the_weights_it_was_sent_but_keeps_its_own_fails():
    conv = keras.layers.Conv2D(**CONV, kernel_initializer="zeros", bias_initializer="zeros")
    with pytest.raises(CheckFailure, match="Its output did not change when the check set other weights"):
        conv_output(in_kernel(conv, ReportsWithoutSetting))


def test_a_residual_unit_in_the_kernel_is_judged_on_weights_drawn_fresh():
    from autograder.judge import reference

    cls = in_kernel(reference.residual_unit_class())
    for strides in (1, 2):
        checks.residual_unit_skip(cls, strides=strides)
        checks.residual_unit_output(cls, strides=strides)


def test_a_model_in_the_kernel_is_judged_on_weights_drawn_fresh_and_gets_its_own_back():
    from autograder import specs
    from autograder.judge import reference

    model = reference.mnist_cnn()
    before = [np.array(w) for w in model.get_weights()]
    checks.model_output(in_kernel(model), specs.MNIST_CNN)
    for own, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(own, now)
