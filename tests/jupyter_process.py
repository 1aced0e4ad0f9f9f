"""Start a `nexus-labs start` process in a test, wait for JupyterLab's /api/status, stop it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_and_wait(
    command: list[str], port: int, token: str, cwd: Path, env: dict, timeout: float = 90
) -> tuple[subprocess.Popen, dict]:
    """Run `command` (its own process group) until /api/status answers; return its JSON."""
    log = open(cwd / f"jupyter-{port}.log", "w+b")  # noqa: SIM115 - kept open for the process
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=(os.name == "posix"),
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"}
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return process, json.loads(response.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_process_tree(process)
    log.seek(0)
    raise AssertionError(
        f"JupyterLab did not answer /api/status (exit {process.returncode}):\n"
        + log.read().decode(errors="replace")[-3000:]
    )


def stop_process_tree(process: subprocess.Popen) -> None:
    """SIGTERM the process group (JupyterLab and any kernel), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    if os.name == "posix":
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()
