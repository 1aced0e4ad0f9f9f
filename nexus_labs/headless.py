"""Executing notebooks headless (nbclient) without the occasional lost-reply hang.

Under load, a cell that creates widgets sometimes never sees its execute_reply: the kernel is
idle, the reply is in the socket, but the asyncio poll waiting for it is never woken, and the
run stalls for the whole cell timeout (nbclient issue #312). Polling the shell channel in
short slices re-checks the socket each time, so a missed wake-up costs a second, not minutes.
Every headless run in the project (run, solved mode, grading, building, benchmarks) uses this.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_core.utils import ensure_async
from nbclient import NotebookClient

POLL_SLICE_SECONDS = 1.0


def _poll_in_slices(channel: Any) -> None:
    original = channel.get_msg

    async def get_msg(timeout: float | None = None, **kwargs: Any) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = POLL_SLICE_SECONDS
            if deadline is not None:
                remaining = min(remaining, max(0.0, deadline - time.monotonic()))
            try:
                return await ensure_async(original(timeout=remaining, **kwargs))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg


class HeadlessClient(NotebookClient):
    """nbclient's NotebookClient with the shell channel polled in short slices."""

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        _poll_in_slices(client.shell_channel)
        return client
