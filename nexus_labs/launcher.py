"""Start JupyterLab in the learner's workspace, with the same Python as this command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def jupyter_command(
    home: Path,
    port: int | None = None,
    ip: str = "127.0.0.1",
    token: str | None = None,
    open_browser: bool = True,
) -> list[str]:
    """The `python -m jupyterlab ...` command line serving `home`."""
    # sys.executable, not a `jupyter` found on PATH: the kernels must see this nexus_labs.
    command = [
        sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={home}", f"--ip={ip}",
        # The labs work offline: no news feed or update check reaching out to the internet.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if port is not None:
        command.append(f"--port={port}")
    if token is not None:
        # IdentityProvider.token is jupyter_server 2's name for ServerApp.token.
        command.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI often run as root, which JupyterLab refuses without this flag.
        command.append("--allow-root")
    return command


def launch_jupyter(home: Path, **options) -> int:
    """Run JupyterLab in `home` until it stops; NEXUS_HOME tells its kernels where they are.

    On POSIX the process becomes JupyterLab (exec), so Ctrl-C and signals reach it directly
    and no parent is left waiting; elsewhere it runs as a child and its exit code is returned.
    """
    command = jupyter_command(home, **options)
    env = dict(os.environ, NEXUS_HOME=str(home.resolve()))
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.chdir(home)
        os.execve(sys.executable, command, env)
    try:
        return subprocess.call(command, cwd=home, env=env)
    except KeyboardInterrupt:
        return 130
