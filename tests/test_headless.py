"""The headless client survives a missed wake-up on the shell channel."""

from __future__ import annotations

import asyncio
from queue import Empty

import nbformat

from nexus_labs import headless


class _LostWakeupChannel:
    """A reply that is only seen by a poll started after it arrived (like a missed wake-up)."""

    def __init__(self) -> None:
        self.polls = 0

    async def get_msg(self, timeout=None):
        self.polls += 1
        if self.polls == 1:  # the first, long poll is never woken
            await asyncio.sleep(min(timeout or 0, 0.05))
            raise Empty
        return {"parent_header": {"msg_id": "x"}}


def test_shell_channel_is_polled_again_before_the_cell_timeout(monkeypatch):
    monkeypatch.setattr(headless, "POLL_SLICE_SECONDS", 0.05)
    channel = _LostWakeupChannel()
    headless._poll_in_slices(channel)
    reply = asyncio.run(channel.get_msg(timeout=600))
    assert reply["parent_header"]["msg_id"] == "x" and channel.polls == 2


def test_timeout_is_still_honoured(monkeypatch):
    monkeypatch.setattr(headless, "POLL_SLICE_SECONDS", 0.05)

    class Silent:
        async def get_msg(self, timeout=None):
            await asyncio.sleep(timeout or 0)
            raise Empty

    channel = Silent()
    headless._poll_in_slices(channel)
    try:
        asyncio.run(channel.get_msg(timeout=0.2))
    except Empty:
        return
    raise AssertionError("a silent channel must still time out")


def test_runs_a_widget_notebook():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import ipywidgets as w\nw.IntSlider(3)"),
        nbformat.v4.new_code_cell("print('after the widget')"),
    ])
    headless.HeadlessClient(notebook, timeout=60, kernel_name="python3").execute()
    assert notebook.cells[1].outputs[0]["text"] == "after the widget\n"
