"""Set up everything and open the labs, or run the whole test suite. Standard library only.

    python3 bootstrap.py start [nexus-labs start options]   # JupyterLab on the embedded engines
    python3 bootstrap.py test                               # lint, unit tests, notebooks, servers

Creates .venv next to this file on first use and (re)installs the package with its dev extras
whenever pyproject.toml or setup.py changed since the last install.
"""

from __future__ import annotations

import glob
import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".nexus-install-stamp"
INSTALL_INPUTS = ("pyproject.toml", "setup.py")
SERVICES_ENV = {
    "NEXUS_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "NEXUS_REDIS_URL": "redis://127.0.0.1:6379/0",
    "NEXUS_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "NEXUS_NAMESPACE": "nexusci",
}
SERVICE_PORTS = {"PostgreSQL": 5432, "Redis": 6379}


def venv_executable(name: str) -> Path:
    """A program inside .venv (bin/ on POSIX, Scripts\\ with .exe on Windows)."""
    if os.name == "nt":
        return VENV / "Scripts" / f"{name}.exe"
    return VENV / "bin" / name


def _say(text: str) -> None:
    print(f"bootstrap: {text}", flush=True)


def _install_digest() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        path = ROOT / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()


def ensure_environment() -> Path:
    """.venv exists and has the current package and dev tools installed; returns its python."""
    if sys.version_info < (3, 10):  # noqa: UP036 - this script may be run by an older python3
        sys.exit(f"bootstrap: Python 3.10 or newer is needed; this is {sys.version.split()[0]}.")
    python = venv_executable("python")
    if not python.exists():
        _say(f"creating {VENV}")
        try:
            venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            sys.exit(f"bootstrap: could not create {VENV} ({error}). On Debian/Ubuntu install "
                     "the venv module first: sudo apt install python3-venv")
    digest = _install_digest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        _say("installing nexus-labs and its dependencies into .venv (first run takes minutes)")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        try:
            subprocess.run([*pip, "--quiet", "--upgrade", "pip"], check=True)
            subprocess.run([*pip, "--quiet", "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
        except subprocess.CalledProcessError as error:
            sys.exit(f"bootstrap: installing into {VENV} failed (exit code {error.returncode}); "
                     "the pip output above says why. Fix it and run this command again.")
        # Written only after a complete install, so a failed one is retried next time.
        STAMP.write_text(digest + "\n")
    return python


def _reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _embedded_env() -> dict[str, str]:
    """This environment without any NEXUS_* server URL: what a new learner has.

    NEXUS_HOME points at the test workspace tests/conftest.py uses too: nbval's kernels start
    in notebooks/ and would otherwise create a workspace there, which the wheel would ship.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEXUS_")}
    env["NEXUS_HOME"] = str(ROOT / ".nexus-test-home")
    return env


def _notebooks() -> list[str]:
    return sorted(glob.glob(str(ROOT / "notebooks" / "*.ipynb")))


def test_plan(python: Path) -> int:
    """Lint, unit tests and strict notebooks on embedded engines, then again on real servers."""
    pytest = [str(python), "-m", "pytest", "-rs"]  # -rs: every skip says why
    # A cell that runs 5 minutes is broken, not slow: fail it instead of waiting nbval's 2000 s.
    nbval_timeout = "--nbval-cell-timeout=300"
    embedded = _embedded_env()
    services = dict(embedded, **SERVICES_ENV)
    notebooks = _notebooks()
    steps: list[tuple[str, list[str] | None, dict[str, str], str]] = [
        ("ruff check", [str(python), "-m", "ruff", "check", "."], embedded, ""),
        ("unit tests, embedded engines", [*pytest, "tests"], embedded, ""),
        (
            "notebooks, strict nbval, embedded engines",
            [*pytest, "--nbval", "--nbval-current-env", nbval_timeout, "--nbval-sanitize-with",
             "tests/nbval_sanitize.cfg", *notebooks],
            embedded,
            "" if notebooks else "no notebooks found in notebooks/",
        ),
    ]
    down = [name for name, port in SERVICE_PORTS.items() if not _reachable(port)]
    if down and os.environ.get("CI"):
        problem = (f"{' and '.join(down)} not reachable on 127.0.0.1 (required when CI is set; "
                   "start the servers, e.g. docker compose up -d)")
        steps.append(("real servers", None, services, problem))
    elif down:
        print(f"\nSkipping the real-server run: {' and '.join(down)} not reachable on 127.0.0.1 "
              "(start them with docker compose up -d to include it).", flush=True)
    else:
        steps += [
            ("unit tests, real servers", [*pytest, "tests"], services, ""),
            (
                "notebooks, lax nbval, real servers",
                [*pytest, "--nbval-lax", "--nbval-current-env", nbval_timeout, *notebooks],
                services,
                "" if notebooks else "no notebooks found in notebooks/",
            ),
        ]
    results = []
    for number, (title, command, env, problem) in enumerate(steps, 1):
        print(f"\n===== step {number}/{len(steps)}: {title} =====", flush=True)
        if problem:
            print(f"FAILED: {problem}", flush=True)
            results.append((title, False))
            continue
        code = subprocess.run(command, cwd=ROOT, env=env).returncode
        # pytest's 5 means it collected nothing: a step that tests nothing has not passed.
        results.append((title, code == 0))
        if code:
            print(f"FAILED: {title} (exit code {code})", flush=True)
    print("\n===== summary =====")
    for title, passed in results:
        print(f"  {'passed' if passed else 'FAILED'}  {title}")
    failed = sum(not passed for _, passed in results)
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def start(python: Path, arguments: list[str]) -> int:
    command = [str(venv_executable("nexus-labs")), "start", *arguments]
    sys.stdout.flush()
    if os.name == "posix":
        os.execv(command[0], command)  # JupyterLab takes over this terminal and its Ctrl-C
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("start", "test"):
        print("usage: python3 bootstrap.py start [options] | python3 bootstrap.py test",
              file=sys.stderr)
        return 2
    python = ensure_environment()
    if argv[0] == "start":
        return start(python, argv[1:])
    return test_plan(python)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
