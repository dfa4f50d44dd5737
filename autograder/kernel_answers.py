"""The kernel's side of grading: answer the judge's requests for observations.

Under grading, the judge (a trusted process outside the sandbox) never sends test code to the
student's kernel. For each test it sends small requests: "the array ``X``", "``conv`` applied
to this input", "the weights of ``model``", "attribute ``kernel_size`` of the object under handle
``o3``" (:mod:`autograder.plain`). This module answers with the same ``live_*`` functions that
checks use at home (:mod:`autograder.checks.observe`), and publishes the answer on the kernel's
IOPub channel as one ``display_data`` message whose arrays travel as raw buffers
(:mod:`autograder.wire`).

**How requests arrive.** Not as code: :func:`install` runs once, before the first cell of the
notebook, and registers a handler for the kernel message type :data:`REQUEST` on the kernel's
shell channel; the judge sends each request as such a message. Nothing of it is looked up in the
notebook's namespace, so no name the student's code assigns (``__builtins__``, ``__import__``,
``get_ipython``) reaches it.

Nothing here is trusted: the student's code runs in this kernel and may still replace this module
or the kernel's handlers. That changes what the kernel reports, never how the judge decides.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from autograder import plain, wire
from autograder.checks import observe

#: The MIME type of an answer.
MIME = "application/vnd.cnnkit.observation+json"

#: The kernel message type of a request.
REQUEST = "cnnkit_observation_request"

#: Objects kept for the judge (``construct``, and values answered as views), by handle id.
HANDLES: dict[str, Any] = plain.KEPT


def _target(spec: dict, namespace: dict) -> Any:
    if "handle" in spec:
        if spec["handle"] not in HANDLES:
            raise NameError(f"no object under handle {spec['handle']!r}")
        return HANDLES[spec["handle"]]
    name = spec.get("name", "")
    if name not in namespace:
        raise NameError(f"name {name!r} is not defined")
    return namespace[name]


def _construct(cls: Any, *, args: tuple = (), kwargs: dict | None = None) -> observe.Handle:
    made = observe.live_construct(cls, *args, **(kwargs or {}))
    handle = f"h{len(HANDLES) + 1}"
    HANDLES[handle] = made
    return observe.Handle(handle)


#: The requests the judge may make, by name: each takes the target object and keyword arguments.
OPERATIONS: dict[str, Callable[..., Any]] = {
    "array": lambda target, max_bytes=None, rows=None, stats=False: observe.live_array(
        target, values=max_bytes != 0, max_bytes=max_bytes, rows=rows, stats=stats),
    "value": lambda target: observe.live_value(target),
    "layer": lambda target, weights=False: observe.live_layer(target, weights=weights),
    "model": lambda target, input_shape: observe.live_model(target, input_shape=tuple(input_shape)),
    "call": lambda target, x, kwargs=None: observe.live_call(target, x, **(kwargs or {})),
    "construct": _construct,
    "assign": lambda target, leaf, variable, data: observe.live_assign(target, leaf, variable, data),
    "leaves": lambda target: observe.live_leaves(target),
    "set_weights": lambda target, arrays, keep=False: observe.live_set_weights(target, arrays, keep=keep),
    "restore_weights": lambda target: observe.live_restore_weights(target),
    "figure": lambda target: observe.live_figure(target),
    "training": lambda target: observe.live_training(target),
    "mnist_predictions": lambda target: observe.live_mnist_predictions(target),
    **plain.OPERATIONS,
}


def answer(request: dict, namespace: dict) -> Any:
    """The observation ``request`` asks for, or an :class:`~observe.ErrorView`."""
    try:
        target = _target(request["target"], namespace)
    except NameError as exc:
        return observe.ErrorView("NameError", str(exc))
    buffers = [base64.b64decode(b) for b in request.get("buffers", [])]
    args = wire.decode(request.get("args", {}), buffers)
    operation = OPERATIONS.get(request.get("op", ""))
    if operation is None:
        return observe.ErrorView("ValueError", f"unknown request {request.get('op')!r}")
    try:
        return operation(target, **args)
    except observe.ObservedError as exc:
        return observe.ErrorView(exc.kind, exc.message)
    except Exception as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else ""
        if request.get("op") in plain.OPERATIONS:  # a test's own use of the object: its error
            return observe.ErrorView(type(exc).__name__, first)
        # The observations wrap what the student's object raises (ObservedError above); anything
        # else escaping them is the kit's own failure, never the student's mistake.
        return observe.ErrorView(observe.KIT_ERROR, f"the kit could not observe it ({type(exc).__name__}"
                                                    + (f": {first}" if first else "") + ")")


def _publish(kernel: Any, nonce: str, result: Any) -> None:
    try:
        data, buffers = wire.encode(result)
    except wire.WireError as exc:
        data, buffers = wire.encode(observe.ErrorView("TypeError", str(exc)))
    content = {"data": {MIME: {"nonce": nonce, "result": data}}, "metadata": {}, "transient": {}}
    kernel.session.send(kernel.iopub_socket, "display_data", content,
                        parent=kernel.get_parent("shell"), buffers=buffers)


def install() -> None:
    """Register the request handler on this kernel (run once, before any cell of the notebook).

    The handler and what it calls are bound here, so later assignments in the notebook's
    namespace do not reach them."""
    from IPython import get_ipython

    shell = get_ipython()
    kernel = shell.kernel
    answer_request, publish, namespace = answer, _publish, shell.user_ns

    def handle(stream: Any, ident: Any, message: dict) -> None:
        request = message.get("content") or {}
        if not isinstance(request, dict):
            request = {}
        publish(kernel, str(request.get("nonce", "")), answer_request(request, namespace))

    kernel.shell_handlers[REQUEST] = handle
