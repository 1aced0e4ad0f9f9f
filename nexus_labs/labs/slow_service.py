"""A slow HTTP service on loopback, so the async lab makes real network calls.

It is a minimal HTTP/1.1 server on `asyncio.start_server`, running in a background thread with
its own event loop: blocking the notebook's loop (the lab's classic bug) never blocks the
service, so what it measures is what the client really did. Endpoints:

- ``GET /wait?ms=50&id=7&group=demo``: waits `ms` milliseconds, answers ``{"id": 7, ...}``.
- ``GET /flaky?key=k&fail=3&ms=0``: answers 503 to the first `fail` requests for `key`, then 200.
- ``GET /fail?ms=0``: answers 500 after `ms` milliseconds.

For every group it counts requests in flight, keeps the observed MAXIMUM concurrency and each
request's start/end time (``time.perf_counter()``, the same clock the notebook reads), which is
what the lab's timeline chart and the concurrency-limit checks use.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass(frozen=True)
class CallRecord:
    """One request as the server saw it."""

    group: str
    id: str
    path: str
    start: float  # time.perf_counter() when the request was parsed
    end: float  # ... when the response was written
    status: int


@dataclass
class GroupStats:
    in_flight: int = 0
    max_in_flight: int = 0
    records: list[CallRecord] = field(default_factory=list)


class SlowService:
    """The lab's slow HTTP service. `start()` it, read `url(...)`, `stop()` it."""

    def __init__(self) -> None:
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._groups: dict[str, GroupStats] = defaultdict(GroupStats)
        self._flaky_seen: dict[str, int] = defaultdict(int)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SlowService:
        """Listen on a free loopback port in a background thread; returns self."""
        if self.running:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=512)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as error:  # report to the starting thread, then give up
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            self._server.close()
            # Idle keep-alive connections are tasks waiting on a read: end them, or the
            # listener's wait_closed() (3.12+) would wait for clients that never hang up.
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=serve, name="nexus-slow-service", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        atexit.register(self.stop)
        return self

    async def _shutdown(self) -> None:
        pending = asyncio.all_tasks() - {asyncio.current_task()}
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.wait_for(self._server.wait_closed(), 5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """Close the listener and end the thread (idempotent)."""
        if self._loop is not None and self.running:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None
        atexit.unregister(self.stop)

    def url(self, path: str = "/wait", **params: object) -> str:
        """``url("/wait", ms=50, id=3)`` -> ``http://127.0.0.1:PORT/wait?ms=50&id=3``."""
        query = urlencode(params)
        return f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else "")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what the server observed ----------------------------------------------------------
    def reset(self, group: str | None = None) -> None:
        """Forget the records (of one group, or all)."""
        with self._lock:
            if group is None:
                self._groups.clear()
                self._flaky_seen.clear()
            else:
                self._groups.pop(group, None)
                for key in [k for k in self._flaky_seen if k.startswith(group)]:
                    del self._flaky_seen[key]

    def max_concurrency(self, group: str = "default") -> int:
        """The largest number of requests of `group` the server had in flight at once."""
        with self._lock:
            return self._groups[group].max_in_flight if group in self._groups else 0

    def in_flight(self, group: str = "default") -> int:
        with self._lock:
            return self._groups[group].in_flight if group in self._groups else 0

    def records(self, group: str = "default") -> list[CallRecord]:
        """Every finished request of `group`, in order of arrival."""
        with self._lock:
            stats = self._groups.get(group)
            return sorted(stats.records, key=lambda r: r.start) if stats else []

    def attempts(self, key: str) -> int:
        """How many requests /flaky has seen for `key`."""
        with self._lock:
            return self._flaky_seen.get(key, 0)

    # -- the HTTP side (runs in the service thread) ----------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # HTTP/1.1 keep-alive: serve requests until the client closes
                request_line = await reader.readline()
                if not request_line:
                    break
                keep_alive = True
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "connection" and "close" in value.lower():
                        keep_alive = False
                parts = request_line.decode("latin-1").split()
                target = parts[1] if len(parts) > 1 else "/"
                status, body = await self._respond(target)
                payload = json.dumps(body).encode()
                reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error",
                          503: "Service Unavailable"}.get(status, "OK")
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n"
                    f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away (a cancelled or timed-out call): nothing to answer
        except asyncio.CancelledError:
            pass  # stop() ends idle keep-alive connections; nothing is left to answer
        finally:
            writer.close()

    async def _respond(self, target: str) -> tuple[int, dict]:
        split = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        group = query.get("group", "default")
        call_id = query.get("id", "")
        delay = float(query.get("ms", "0")) / 1000
        start = time.perf_counter()
        with self._lock:
            stats = self._groups[group]
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        status, body = 200, {"id": call_id, "ms": delay * 1000}
        try:
            if split.path == "/flaky":
                key = group + ":" + query.get("key", "")
                with self._lock:
                    self._flaky_seen[key] += 1
                    attempt = self._flaky_seen[key]
                body["attempt"] = attempt
                if attempt <= int(query.get("fail", "0")):
                    status = 503
            elif split.path == "/fail":
                status = 500
            elif split.path != "/wait":
                status = 404
            if delay:
                await asyncio.sleep(delay)
        finally:
            with self._lock:
                stats.in_flight -= 1
                stats.records.append(
                    CallRecord(group, call_id, split.path, start, time.perf_counter(), status)
                )
        return status, body


_service: SlowService | None = None


def slow_service() -> SlowService:
    """The kernel's slow service, started on first use (the exercises share it)."""
    global _service
    if _service is None or not _service.running:
        _service = SlowService().start()
    return _service


def slow_service_running() -> bool:
    """True while the kernel's slow service is listening."""
    return _service is not None and _service.running


def stop_slow_service() -> None:
    global _service
    if _service is not None:
        _service.stop()
        _service = None
