"""Lab 05's teaching code: the slow service's counting and timeline, the Django server, the
slow-callback detector, the async database engine, and that no server outlives its owner."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import time

import httpx
import pytest
import sqlalchemy as sa

from nexus_labs.labs import async_io as aio
from nexus_labs.labs.async_django import DjangoServer, load_test
from nexus_labs.labs.slow_service import SlowService


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture()
def service():
    running = SlowService().start()
    yield running
    running.stop()


async def _gather(service, n, ms, group):
    async with httpx.AsyncClient() as client:
        return await asyncio.gather(
            *(client.get(service.url("/wait", ms=ms, id=i, group=group)) for i in range(n)))


def test_service_counts_max_concurrency_per_group(service):
    asyncio.run(_gather(service, 6, 150, "together"))
    with httpx.Client() as client:
        for i in range(3):
            client.get(service.url("/wait", ms=10, id=i, group="one-by-one"))
    assert service.max_concurrency("together") == 6
    assert service.max_concurrency("one-by-one") == 1
    assert service.max_concurrency("never-used") == 0
    assert service.in_flight("together") == 0


def test_service_records_a_timeline(service):
    t0 = time.perf_counter()
    responses = asyncio.run(_gather(service, 4, 100, "timeline"))
    t1 = time.perf_counter()
    assert [r.json()["id"] for r in responses] == ["0", "1", "2", "3"]
    records = service.records("timeline")
    assert sorted(r.id for r in records) == ["0", "1", "2", "3"]
    for record in records:
        assert t0 <= record.start < record.end <= t1  # same clock as the caller's perf_counter
        assert record.end - record.start >= 0.09
        assert record.status == 200 and record.path == "/wait"
    # concurrent: every call started before the first one ended
    assert max(r.start for r in records) < min(r.end for r in records)


def test_flaky_and_fail_endpoints(service):
    with httpx.Client() as client:
        statuses = [client.get(service.url("/flaky", key="k", fail=2, group="g")).status_code
                    for _ in range(4)]
        assert client.get(service.url("/fail")).status_code == 500
        assert client.get(service.url("/nope")).status_code == 404
    assert statuses == [503, 503, 200, 200]
    assert service.attempts("g:k") == 4
    service.reset("g")
    assert service.attempts("g:k") == 0


def test_no_listener_after_stop():
    service = SlowService().start()
    port = service.port
    assert listening(port)
    service.stop()
    assert not listening(port)
    service.stop()  # idempotent


def test_measure_and_plot_timeline(service):
    async def batch(group):
        async with httpx.AsyncClient() as client:
            return await asyncio.gather(*(client.get(service.url("/wait", ms=300, id=i,
                                                                 group=group)) for i in range(5)))

    run = asyncio.run(aio.measure(service, "a label with spaces + symbols", batch))
    assert len(run.records) == 5 and run.max_concurrency == 5
    assert run.wall >= 0.05
    import matplotlib

    matplotlib.use("Agg")
    figure = aio.plot_timeline([run])
    bars = [c for c in figure.axes[0].collections if c.__class__.__name__ == "PolyCollection"]
    assert len(bars) == 5


def test_capture_slow_callbacks_sees_a_blocking_step():
    async def nap():
        time.sleep(0.06)

    async def scenario():
        with aio.capture_slow_callbacks(0.03) as slow:
            await asyncio.gather(nap(), nap())
        loop = asyncio.get_running_loop()
        return slow, loop.get_debug()

    slow, debug_after = asyncio.run(scenario())
    assert len([line for line in slow if "nap()" in line]) == 2
    assert debug_after is False  # restored


def test_hash_chain_is_deterministic():
    assert aio.hash_chain(1000) == aio.hash_chain(1000)
    assert aio.hash_chain(1000) != aio.hash_chain(1001)


def test_django_views_and_load_test(service):
    server = DjangoServer(service.base_url).start()
    try:
        server.wait_ready()
        results = asyncio.run(_django_load(server))
        assert [r.requests for r in results] == [3, 3]
        assert service.max_concurrency("t-async") == 2  # the async view's calls overlap
        assert service.max_concurrency("t-sync") == 1
        assert all(len(r.latency.samples) == 3 for r in results)
    finally:
        server.stop()
    assert not listening(server.port)
    assert server.process.returncode is not None


async def _django_load(server):
    return [await load_test(server.url(f"/{view}/?ms=30&group=t-{view}"), 1, 3, view)
            for view in ("async", "sync")]


CHILD = textwrap.dedent("""
    import os, sys
    from nexus_labs.labs import async_io as aio
    service = aio.start_service()
    django = aio.start_django()
    django.wait_ready()
    print(service.port, django.port, django.process.pid, flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), 9)  # no atexit: the Django child must notice on its own
""")


def _wait_closed(port: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not listening(port):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_no_listener_left_after_the_process_ends(how):
    child = subprocess.run([sys.executable, "-c", CHILD, how], capture_output=True, text=True,
                           timeout=60)
    service_port, django_port, django_pid = map(int, child.stdout.split())
    assert _wait_closed(service_port)
    assert _wait_closed(django_port), "the Django server outlived its parent"
    assert _wait_gone(django_pid)


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    """True once `pid` no longer runs (gone, or a zombie waiting for init to reap it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.1)
    return False


def test_stop_servers_stops_everything():
    service = aio.start_service()
    django = aio.start_django()
    stopped = aio.stop_servers()
    assert set(stopped) <= {"slow service", "Django (uvicorn) server"}
    assert not service.running and not django.running
    assert not listening(service.port)


def test_async_engine_reads_the_lab_database(open_test_lab):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from nexus_labs import data
    from nexus_labs.labs.async_db import Customer, Order, async_engine, async_url

    lab = open_test_lab("async_io")
    data.install_marketplace(lab.sql.engine, tables=["orders"])
    url = async_url(lab)
    assert url.drivername == ("sqlite+aiosqlite" if lab.sql.kind == "sqlite"
                              else "postgresql+psycopg_async")

    async def scenario():
        engine = async_engine(lab)
        session_factory = async_sessionmaker(engine, expire_on_commit=False)
        try:
            async with session_factory() as session:
                customers = await session.scalar(sa.select(sa.func.count()).select_from(Customer))
                orders = await session.scalar(sa.select(sa.func.count()).select_from(Order))
            return customers, orders
        finally:
            await engine.dispose()

    customers, orders = asyncio.run(scenario())
    with lab.sql.engine.connect() as connection:
        assert customers == connection.execute(sa.text("select count(*) from customers")).scalar()
        assert orders == connection.execute(sa.text("select count(*) from orders")).scalar()


def test_async_redis_uses_the_lab_backend(open_test_lab):
    from nexus_labs.labs.async_db import async_redis

    lab = open_test_lab("async_io")
    client, note = async_redis(lab)
    key = lab.redis.key("test", "async")

    async def scenario():
        try:
            await client.set(key, "42", ex=60)
            return await client.get(key)
        finally:
            await client.delete(key)
            await client.aclose()

    assert asyncio.run(scenario()) == "42"
    assert bool(note) == (lab.redis.kind == "emulated")
