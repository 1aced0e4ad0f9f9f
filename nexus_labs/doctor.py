"""`nexus-labs doctor`: which engines the labs will really use, their versions, and what is wrong.

Each backend is opened the way a lab opens it (lab name "doctor"), exercised once, and cleaned
up: its own SQLite file or PostgreSQL schema is dropped and its Redis prefix emptied.
"""

from __future__ import annotations

import contextlib
import platform
import socket
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from nexus_labs._version import __version__
from nexus_labs.backends import BackendUnavailable
from nexus_labs.config import Settings, load_settings, redact_url

DOCTOR_LAB = "doctor"
BROKER_PORTS = {"amqp": 5672, "amqps": 5671, "pyamqp": 5672, "redis": 6379, "rediss": 6379}


@dataclass(frozen=True)
class Check:
    name: str
    detail: str
    ok: bool | None  # None: nothing configured to check (not a failure)


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok is not False for check in self.checks)

    def text(self) -> str:
        marks = {True: "ok  ", False: "FAIL", None: "-   "}
        width = max(len(check.name) for check in self.checks)
        lines = ["Nexus Labs doctor"]
        for check in self.checks:
            lines.append(f"  {marks[check.ok]} {check.name:<{width}}  {check.detail}")
        verdict = "Everything configured is reachable." if self.ok else "Some checks failed."
        lines.append(verdict)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:  # a notebook cell shows the table
        printer.text(self.text())


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _environment_checks(settings: Settings) -> list[Check]:
    checks = [Check("Python", f"{platform.python_version()} ({sys.executable})", True)]
    for label, package in (("JupyterLab", "jupyterlab"), ("ipywidgets", "ipywidgets")):
        version = _package_version(package)
        detail = version or f"not installed: pip install {package}"
        checks.append(Check(label, detail, version is not None))
    location = Path(__file__).resolve().parent
    checks.append(Check("nexus_labs", f"{__version__} ({location})", True))
    checks.append(Check("Workspace", str(settings.home), True))
    return checks


def _failure(error: Exception) -> str:
    if isinstance(error, BackendUnavailable):
        return str(error)
    return f"{type(error).__name__}: {error}"


def check_sql(settings: Settings) -> Check:
    """Open the doctor's own database, ask its version, then drop it."""
    from nexus_labs.backends.sql import connect_sql

    try:
        backend = connect_sql(DOCTOR_LAB, settings)
    except Exception as error:
        return Check("SQL", _failure(error), False)
    try:
        version = backend.version()
        return Check("SQL", f"{backend.describe()} · {version}", True)
    except Exception as error:
        return Check("SQL", f"{backend.describe()}: {_failure(error)}", False)
    finally:
        with contextlib.suppress(Exception):  # a server gone mid-check is already reported
            backend.drop()


def check_redis(settings: Settings) -> Check:
    """Open Redis the way a lab does, write and read one key under the doctor prefix, clean up."""
    from nexus_labs.backends.redis import connect_redis
    from nexus_labs.backends.redis_server import find_redis_server

    try:
        backend = connect_redis(DOCTOR_LAB, settings)
    except Exception as error:
        return Check("Redis", _failure(error), False)
    try:
        key = backend.key("probe")
        backend.client.set(key, "ok", px=10_000)
        if backend.client.get(key) != "ok":
            return Check("Redis", f"{backend.describe()}: a key written was not read back", False)
        detail = backend.describe()
        if backend.kind == "embedded":
            detail += f" (binary {find_redis_server()})"
        return Check("Redis", f"{detail} · {backend.version()}", True)
    except Exception as error:
        return Check("Redis", f"{backend.describe()}: {_failure(error)}", False)
    finally:
        with contextlib.suppress(Exception):  # a failure is already in the report
            backend.cleanup()


def check_broker(settings: Settings, timeout: float = 3.0) -> Check:
    """A TCP connection to the broker's host and port: enough to say it is there."""
    if not settings.broker_url:
        return Check("Broker", "not configured (used by later labs; set NEXUS_BROKER_URL)", None)
    shown = redact_url(settings.broker_url)
    parts = urlsplit(settings.broker_url)
    try:
        port = parts.port or BROKER_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        return Check("Broker", f"NEXUS_BROKER_URL={shown} has no host and port", False)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as error:
        return Check(
            "Broker",
            f"Cannot reach the broker at NEXUS_BROKER_URL={shown} ({error}). Start it "
            "(see README, 'docker compose up -d'), fix the URL, or unset NEXUS_BROKER_URL.",
            False,
        )
    return Check("Broker", f"{shown} · TCP port {port} reachable", True)


def diagnose(settings: Settings | None = None) -> DoctorReport:
    """Every check, in the order the report prints them."""
    settings = load_settings() if settings is None else settings
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    checks = _environment_checks(settings)
    checks += [check_sql(settings), check_redis(settings), check_broker(settings)]
    return DoctorReport(checks)
