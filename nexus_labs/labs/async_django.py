"""Sync vs async Django views, served by a real ASGI server (uvicorn) on loopback.

Django settings are process-wide and the notebook kernel may already hold another lab's, so the
server runs in a child process with its own minimal settings (no database: the views only call
the slow service). The parent binds the listening socket and hands its file descriptor to the
child, so there is no race for the port, and the child exits on its own when the parent dies.

- ``/sync/?ms=..&group=..``:  a plain ``def`` view making two slow-service calls one after the other
  (httpx.Client). Under ASGI Django runs it in a worker thread (sync_to_async).
- ``/async/?ms=..&group=..``: an ``async def`` view making the same two calls concurrently
  (httpx.AsyncClient + asyncio.gather) on the server's event loop.
- ``/ping/``: readiness.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import httpx

from nexus_labs.measure import Timing

SERVICE_URL_ENV = "NEXUS_ASYNC_LAB_SERVICE"


class DjangoServer:
    """The lab's uvicorn + Django child process. `start()`, `url(path)`, `stop()`."""

    def __init__(self, service_base_url: str) -> None:
        self.service_base_url = service_base_url
        self.port: int | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> DjangoServer:
        """Launch the child; returns at once (call `wait_ready()` before the first request)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        self.port = listener.getsockname()[1]
        env = dict(os.environ, **{SERVICE_URL_ENV: self.service_base_url})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nexus_labs.labs.async_django", str(listener.fileno()),
             str(os.getpid())],
            pass_fds=(listener.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
            # Its own session: "interrupt kernel" (SIGINT to the kernel's group) must not kill
            # it; stop(), atexit and its parent watchdog end it.
            start_new_session=True,
        )
        listener.close()  # the child owns the listening socket now
        atexit.register(self.stop)
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 30) -> float:
        """Block until /ping/ answers; returns how long that took."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Django server exited with code {self.process.returncode}")
            try:
                if httpx.get(self.url("/ping/"), timeout=1).status_code == 200:
                    return time.perf_counter() - start
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError("the Django server did not answer /ping/ in time")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Terminate the child and wait for it (idempotent)."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        atexit.unregister(self.stop)


@dataclass(frozen=True)
class LoadResult:
    """What a concurrent client measured against one URL."""

    view: str
    concurrency: int
    requests: int
    wall: float
    latency: Timing
    max_threads: int  # the most threads the server process had while answering

    @property
    def rps(self) -> float:
        return self.requests / self.wall

    def row(self) -> dict:
        return {"view": self.view, "concurrency": self.concurrency, "requests": self.requests,
                "req/s": round(self.rps, 1), "p50 ms": round(self.latency.p50 * 1e3, 1),
                "p95 ms": round(self.latency.p95 * 1e3, 1),
                "server threads": self.max_threads}


async def load_test(url: str, concurrency: int, requests: int, view: str = "",
                    warm_up: bool = True) -> LoadResult:
    """`requests` GETs of `url` from `concurrency` workers sharing one pooled async client
    (after one untimed request when `warm_up`: a server's first call is slower)."""
    latencies: list[float] = []
    threads: list[int] = [0]
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            for _ in remaining:  # a shared iterator: each request is taken by one worker
                start = time.perf_counter()
                response = await client.get(url)
                response.raise_for_status()
                threads.append(response.json().get("threads", 0))
                latencies.append(time.perf_counter() - start)

        if warm_up:
            (await client.get(url)).raise_for_status()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return LoadResult(view, concurrency, requests, wall,
                      Timing(f"{view} c={concurrency}", tuple(latencies), "uvicorn + Django"),
                      max(threads))


# ---- the child process ------------------------------------------------------------------------


def _views():
    from django.http import JsonResponse

    base = os.environ[SERVICE_URL_ENV]
    sync_client = httpx.Client(timeout=30)
    async_clients: dict[int, httpx.AsyncClient] = {}  # one per event loop (uvicorn has one)

    def sync_view(request):
        started = time.perf_counter()
        ms, group = request.GET.get("ms", "50"), request.GET.get("group", "django-sync")
        first = sync_client.get(f"{base}/wait?ms={ms}&group={group}&id=a").json()
        second = sync_client.get(f"{base}/wait?ms={ms}&group={group}&id=b").json()
        return JsonResponse({"view": "sync", "calls": [first["id"], second["id"]],
                             "threads": threading.active_count(),
                             "view_ms": (time.perf_counter() - started) * 1e3})

    async def async_view(request):
        started = time.perf_counter()
        ms, group = request.GET.get("ms", "50"), request.GET.get("group", "django-async")
        loop_id = id(asyncio.get_running_loop())
        client = async_clients.get(loop_id) or async_clients.setdefault(
            loop_id, httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=None))
        )
        first, second = await asyncio.gather(
            client.get(f"{base}/wait?ms={ms}&group={group}&id=a"),
            client.get(f"{base}/wait?ms={ms}&group={group}&id=b"),
        )
        return JsonResponse({"view": "async", "calls": [first.json()["id"], second.json()["id"]],
                             "threads": threading.active_count(),
                             "view_ms": (time.perf_counter() - started) * 1e3})

    def ping(request):
        return JsonResponse({"ok": True})

    return sync_view, async_view, ping


urlpatterns: list = []


def _exit_with_parent(parent_pid: int) -> None:
    # A kernel killed without running atexit must not leave this server listening.
    while True:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(0.5)


def _serve(fd: int, parent_pid: int) -> None:
    import django
    import uvicorn
    from django.conf import settings
    from django.urls import path

    settings.configure(
        DEBUG=False, SECRET_KEY="nexus-labs-async-lab", ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__, INSTALLED_APPS=[], MIDDLEWARE=[], DATABASES={},
    )
    django.setup()
    # Django connects close_old_connections (a sync receiver) to request_started/finished. From
    # an async view each call crosses the sync/async boundary: a thread hop per request. This
    # app has no database, so the receivers have nothing to do; unhooking them keeps the async
    # view on the event loop only (the lab measures that boundary's cost separately).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    sync_view, async_view, ping = _views()
    urlpatterns.extend([path("sync/", sync_view), path("async/", async_view),
                        path("ping/", ping)])
    from django.core.asgi import get_asgi_application

    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    # Not uvicorn's fd= option: it wraps the descriptor as AF_UNIX, and asyncio then skips
    # TCP_NODELAY, which adds a 40 ms delayed-ACK stall to every response.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, fileno=fd)
    config = uvicorn.Config(get_asgi_application(), log_level="warning", lifespan="off",
                            loop="asyncio", http="h11", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
