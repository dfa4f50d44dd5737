"""The kernel's side of grading: answer the judge's requests for observations.

Under grading, the judge (a trusted process outside the sandbox) never sends test code to the
student's kernel. For each test it sends small requests, each one call of :func:`serve`: "the
array ``X``", "``conv`` applied to this input", "the weights of ``model``". This module answers
with the same ``live_*`` functions that checks use at home (:mod:`autograder.checks.observe`),
and publishes the answer on the kernel's IOPub channel as one ``display_data`` message whose
arrays travel as raw buffers (:mod:`autograder.wire`).

Nothing here is trusted: the student's code runs in this kernel first and may replace this module.
That changes what the kernel reports, never how the judge decides.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

from autograder import wire
from autograder.checks import observe

#: The MIME type of an answer.
MIME = "application/vnd.cnnkit.observation+json"

#: Objects made for the judge (``construct``), by handle id.
HANDLES: dict[str, Any] = {}


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
    "figure": lambda target: observe.live_figure(target),
    "training": lambda target: observe.live_training(target),
    "mnist_predictions": lambda target: observe.live_mnist_predictions(target),
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
    except Exception as exc:  # what the student's object raised, said as data
        text = str(exc).strip()
        return observe.ErrorView(type(exc).__name__, text.splitlines()[0] if text else "")


def serve(encoded: str) -> None:
    """Answer one request (base64 of its JSON) and publish the answer on IOPub."""
    from IPython import get_ipython

    request = json.loads(base64.b64decode(encoded))
    shell = get_ipython()
    result = answer(request, shell.user_ns)
    try:
        data, buffers = wire.encode(result)
    except wire.WireError as exc:
        data, buffers = wire.encode(observe.ErrorView("TypeError", str(exc)))
    kernel = shell.kernel
    content = {"data": {MIME: {"nonce": request.get("nonce", ""), "result": data}},
               "metadata": {}, "transient": {}}
    kernel.session.send(kernel.iopub_socket, "display_data", content,
                        parent=kernel.get_parent("shell"), buffers=buffers)
