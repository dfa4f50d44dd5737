"""The judge's line to the student's kernel: one request, one observation.

A request is a shell message of the kit's own type (:data:`autograder.kernel_answers.REQUEST`),
answered by the handler :func:`autograder.kernel_answers.install` registered before the notebook's
first cell: no code is executed for it, so nothing of it passes through the notebook's namespace
or input history. The answer is the ``display_data`` message the handler publishes on IOPub, its arrays as
raw buffers. The judge reads nothing else from the kernel:
outputs the student's code prints meanwhile are dropped, and an answer that is missing, late,
malformed or too large is a :class:`ChannelError`, never a pass.

A test cell's names become plain values or proxies (:mod:`autograder.judge.proxy`), which ask
through :meth:`Channel.ask_from_thread`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from autograder import wire
from autograder.kernel_answers import MIME, REQUEST

#: The code that installs the request handler in a fresh kernel, before any cell of the notebook.
INSTALL = "__import__('autograder.kernel_answers', fromlist=['install']).install()"

#: The most bytes one answer may carry (ResNet-34's weights are about 85 MB).
MAX_ANSWER_BYTES = 512 * 2**20


class ChannelError(RuntimeError):
    """The kernel gave no usable answer; ``dead`` when it is gone."""

    def __init__(self, message: str, *, dead: bool = False) -> None:
        super().__init__(message)
        self.dead = dead


class Channel:
    """Requests to one kernel through nbclient's kernel client.

    ``alive`` is a coroutine function telling whether the kernel still runs; ``timeout`` the
    seconds one answer may take; ``loop`` the event loop the client's sockets belong to, for
    :meth:`ask_from_thread`.
    """

    def __init__(self, client: Any, *, alive: Callable[[], Awaitable[bool]], timeout: float,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.alive = alive
        self.timeout = timeout
        self.loop = loop
        self.requests = 0
        self.seconds = 0.0

    async def ask(self, target: dict, op: str, args: dict) -> Any:
        """Send one request; the decoded observation (an :class:`~observe.ErrorView` when the
        student's object raised)."""
        data, buffers = wire.encode(args)
        nonce = secrets.token_hex(8)
        request = {"nonce": nonce, "op": op, "target": target, "args": data,
                   "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]}
        message = self.client.session.msg(REQUEST, request)
        start = time.monotonic()
        self.client.shell_channel.send(message)
        msg_id = message["header"]["msg_id"]
        try:
            return await self._answer(msg_id, nonce, op)
        finally:
            self.requests += 1
            self.seconds += time.monotonic() - start

    async def _answer(self, msg_id: str, nonce: str, op: str) -> Any:
        deadline = time.monotonic() + self.timeout
        answer: Any = None
        error = ""
        while True:
            if time.monotonic() > deadline:
                raise ChannelError(f"no answer within {self.timeout:g} s")
            try:
                msg = await self.client.iopub_channel.get_msg(timeout=1)
            except Exception:  # queue.Empty from the client: nothing yet
                if not await self.alive():
                    raise ChannelError("the kernel died", dead=True) from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg.get("msg_type"), msg.get("content", {})
            if kind == "display_data" and answer is None:
                payload = (content.get("data") or {}).get(MIME)
                if isinstance(payload, dict) and payload.get("nonce") == nonce:
                    answer = self._decode(payload.get("result"), msg.get("buffers") or [])
            elif kind == "error":
                error = f"{content.get('ename', '')}: {content.get('evalue', '')}"
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        if answer is None:
            raise ChannelError(f"the kernel did not answer the request for {op}"
                               + (f" ({error})" if error else ""))
        return answer

    @staticmethod
    def _decode(result: Any, buffers: list) -> Any:
        size = sum(len(b) for b in buffers)
        if size > MAX_ANSWER_BYTES:
            raise ChannelError(f"the answer carried {size:,} bytes, more than {MAX_ANSWER_BYTES:,}")
        try:
            return wire.decode(result, buffers)
        except wire.WireError as exc:
            raise ChannelError(f"the answer was malformed: {exc}") from None

    def ask_from_thread(self, target: dict, op: str, args: dict) -> Any:
        """:meth:`ask` from a thread other than the event loop's (where test code runs)."""
        future = asyncio.run_coroutine_threadsafe(self.ask(target, op, args), self.loop)
        return future.result()
