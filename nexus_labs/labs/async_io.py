"""Lab 05 (asynchronous I/O): the servers it starts, timing runs, the timeline chart, the
slow-callback detector, memory tracing and the CPU-bound work for the process pool.

The lesson's own code (the coroutines, gather, semaphores, queues) stays in the notebook; this
module holds what would distract there.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import re
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from nexus_labs.labs.async_django import DjangoServer
from nexus_labs.labs.slow_service import (
    CallRecord,
    SlowService,
    slow_service,
    slow_service_running,
    stop_slow_service,
)

_django: DjangoServer | None = None
_groups = itertools.count(1)


def start_service() -> SlowService:
    """The slow service (a thread of this kernel), started once; stops at exit."""
    return slow_service()


def start_django() -> DjangoServer:
    """Launch the Django server (a child process) calling the slow service; returns at once.

    It boots in the background (a second or two of CPU, so not during a timing-sensitive
    section); call `wait_ready()` before the first request. Stops with `stop_servers()` and at
    exit, and by itself if this kernel dies.
    """
    global _django
    if _django is None or not _django.running:
        _django = DjangoServer(slow_service().base_url).start()
    return _django


def stop_servers() -> list[str]:
    """Stop every server this lab started; returns what was stopped."""
    global _django
    stopped = []
    if _django is not None:
        if _django.running:
            stopped.append("Django (uvicorn) server")
        _django.stop()
        _django = None
    if slow_service_running():
        stopped.append("slow service")
    stop_slow_service()
    return stopped


@dataclass
class Run:
    """One measured batch of calls: wall time, results and what the server saw."""

    label: str
    wall: float
    results: Any
    t0: float
    records: list[CallRecord] = field(default_factory=list)
    max_concurrency: int = 0

    def __repr__(self) -> str:
        return (f"{self.label}: {self.wall * 1e3:.0f} ms wall, {len(self.records)} calls, "
                f"server saw at most {self.max_concurrency} at once")


def _group_for(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + f"-{next(_groups)}"


async def measure(service: SlowService, label: str,
                  batch: Callable[[str], Awaitable[Any]]) -> Run:
    """Await `batch(group)` and return its Run; `group` tags its calls on the service."""
    group = _group_for(label)
    t0 = time.perf_counter()
    results = await batch(group)
    wall = time.perf_counter() - t0
    return Run(label, wall, results, t0, service.records(group), service.max_concurrency(group))


def measure_sync(service: SlowService, label: str, batch: Callable[[str], Any]) -> Run:
    """`measure` for a plain function."""
    group = _group_for(label)
    t0 = time.perf_counter()
    results = batch(group)
    wall = time.perf_counter() - t0
    return Run(label, wall, results, t0, service.records(group), service.max_concurrency(group))


def plot_timeline(runs: list[Run], title: str = "One bar per call, as the server saw it"):
    """A broken_barh chart per run: each call's start..end on the server, over wall time."""
    import matplotlib.pyplot as plt

    height = max(len(run.records) for run in runs)
    fig, axes = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 2.8), sharey=True)
    axes = [axes] if len(runs) == 1 else list(axes)
    longest = max(run.wall for run in runs) * 1e3
    for ax, run in zip(axes, runs, strict=True):
        for row, record in enumerate(run.records):
            ax.broken_barh([((record.start - run.t0) * 1e3, (record.end - record.start) * 1e3)],
                           (row, 0.8), color="tab:red" if record.status >= 500 else "tab:blue")
        ax.set_title(f"{run.label}\n{run.wall * 1e3:.0f} ms, max {run.max_concurrency} at once",
                     fontsize=9)
        ax.set_xlim(0, longest * 1.05)
        ax.set_xlabel("ms since start")
    axes[0].set_ylim(0, height)
    axes[0].set_ylabel("call")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def capture_slow_callbacks(threshold: float) -> Iterator[list[str]]:
    """Turn on the running loop's debug mode and collect asyncio's "Executing ... took"
    warnings: each one is a step of a task that held the loop longer than `threshold` s."""
    loop = asyncio.get_running_loop()
    logger = logging.getLogger("asyncio")
    handler = _Collect()
    previous = (loop.get_debug(), loop.slow_callback_duration, logger.propagate)
    logger.addHandler(handler)
    logger.propagate = False  # keep the warnings in our list, not on the notebook's stderr
    loop.set_debug(True)
    loop.slow_callback_duration = threshold
    slow: list[str] = []
    try:
        yield slow
    finally:
        loop.set_debug(previous[0])
        loop.slow_callback_duration = previous[1]
        logger.propagate = previous[2]
        logger.removeHandler(handler)
        slow.extend(m for m in handler.messages if m.startswith("Executing") and " took " in m)


@dataclass(frozen=True)
class Traced:
    label: str
    wall: float
    peak_bytes: int
    result: Any = None


async def traced(label: str, work: Awaitable[Any]) -> Traced:
    """Await `work` under tracemalloc; returns its wall time and peak traced memory."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        result = await work
        wall = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return Traced(label, wall, peak, result)


def hash_chain(rounds: int) -> str:
    """CPU-bound work: `rounds` chained SHA-256 of 32 bytes (too small to release the GIL)."""
    digest = b"nexus"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:12]


def hash_chain_with_cpu(rounds: int) -> tuple[str, float]:
    """`hash_chain` plus the CPU seconds its process really got for it: on a shared machine
    this says whether the worker had a core to itself or waited for one."""
    started = time.process_time()
    digest = hash_chain(rounds)
    return digest, time.process_time() - started
