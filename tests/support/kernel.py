"""A real IPython kernel for the judge's tests, driven from a background event loop.

The judge talks to kernels through nbclient's asynchronous client inside an event loop and runs
test code in a worker thread; :class:`LiveKernel` sets up the same arrangement: a loop in a
thread, a kernel, its client, and a :class:`~autograder.judge.channel.Channel` to it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from autograder.judge.channel import INSTALL, Channel


class LiveKernel:
    """A started kernel; :meth:`run` executes code in it, :attr:`channel` asks it as the judge."""

    def __init__(self, timeout: float = 120) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.manager = AsyncKernelManager(kernel_name="python3")
        self._call(self._start())
        self.run(INSTALL, store_history=False)  # as the judge does before the notebook's first cell
        self.channel = Channel(self.client, alive=self.client.is_alive, timeout=timeout, loop=self.loop)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=300)

    async def _start(self) -> None:
        await self.manager.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
        self.client = self.manager.client()
        self.client.start_channels()
        await self.client.wait_for_ready(timeout=120)

    async def _run(self, code: str, store_history: bool = True) -> list[dict]:
        msg_id = self.client.execute(code, store_history=store_history)
        outputs = []
        while True:
            msg = await self.client.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return outputs
            if msg["msg_type"] in ("stream", "error", "execute_result", "display_data"):
                outputs.append(msg["content"])

    def run(self, code: str, store_history: bool = True) -> list[dict]:
        """Execute ``code`` as a notebook cell would; its output messages' contents."""
        return self._call(self._run(code, store_history))

    def text(self, code: str) -> str:
        """What ``code`` printed (stdout) or returned, as text."""
        parts = []
        for content in self.run(code):
            if "text" in content:
                parts.append(content["text"])
            elif "data" in content:
                parts.append(content["data"].get("text/plain", ""))
            elif "ename" in content:
                parts.append(f"{content['ename']}: {content['evalue']}")
        return "".join(parts)

    def close(self) -> None:
        """Shut the kernel down and stop the loop."""
        async def stop() -> None:
            self.client.stop_channels()
            await self.manager.shutdown_kernel(now=True)
        try:
            self._call(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
