"""The `nexus-labs` command: a thin argparse front; the work lives in the modules it calls.

Exit codes: 0 success, 1 something the user can fix outside the command (a server down, a lab
failing), 2 a bad command line. Errors print one paragraph, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from nexus_labs._version import __version__
from nexus_labs.backends import BackendUnavailable
from nexus_labs.config import ConfigError, Settings, load_settings

PROGRAM = "nexus-labs"


class UsageError(Exception):
    """A bad command line (exit 2), e.g. a lab name that does not exist."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line instead of argparse's usage wall.
        self.exit(2, f"{PROGRAM}: {message} (see {PROGRAM} --help)\n")


def _port(text: str) -> int:
    # Checked here, not by JupyterLab later: a bad port is a bad command line (exit 2).
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    home = _Parser(add_help=False)
    home.add_argument("--home", help="workspace folder (default: NEXUS_HOME or ./nexus-workspace)")
    parser = _Parser(
        prog=PROGRAM,
        description="Interactive JupyterLab labs for backend engineering.",
        epilog="Settings come from NEXUS_DATABASE_URL, NEXUS_REDIS_URL, NEXUS_BROKER_URL, "
        "NEXUS_HOME (see README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    start = commands.add_parser(
        "start", parents=[home], help="copy the labs into the workspace and open JupyterLab"
    )
    start.add_argument("--no-browser", action="store_true", help="do not open a browser")
    start.add_argument("--port", type=_port, help="port for JupyterLab (default: its own choice)")
    start.add_argument("--ip", default="127.0.0.1", help="address to listen on")
    start.add_argument("--token", help="JupyterLab access token (default: a random one)")
    commands.add_parser("list", parents=[home], help="labs, workspace status and progress")
    commands.add_parser("doctor", parents=[home], help="check Python, Jupyter and the backends")
    commands.add_parser("progress", parents=[home], help="exercise progress per lab")
    reset = commands.add_parser(
        "reset", parents=[home], help="back up your copy of a lab and restore the original"
    )
    reset.add_argument("lab", help="lab name or number, e.g. caching or 04")
    run = commands.add_parser("run", parents=[home], help="execute labs headless")
    run.add_argument("labs", nargs="*", metavar="LAB", help="labs to run (default: all)")
    grade = commands.add_parser("grade", help="grade a folder of submitted notebooks")
    grade.add_argument("folder", type=Path, help="folder of learners' notebooks")
    grade.add_argument("--csv", type=Path, default=Path("grades.csv"),
                       help="where to write the grades (default: ./grades.csv)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    if getattr(args, "home", None):
        # Through the environment so that kernels started from here see the same workspace.
        os.environ["NEXUS_HOME"] = str(Path(args.home).expanduser().resolve())
    return load_settings()


def _installed_lab(name: str):
    from nexus_labs.labs.catalog import find_lab, installed_labs

    installed = installed_labs()
    known = ", ".join(lab.slug for lab in installed) or "none"
    try:
        lab = find_lab(name)
    except KeyError:
        raise UsageError(f"no lab called {name!r}; known labs: {known}") from None
    if lab not in installed:
        raise UsageError(f"lab {lab.slug!r} is not shipped in this version; known labs: {known}")
    return lab


def cmd_start(args: argparse.Namespace) -> int:
    from nexus_labs.launcher import launch_jupyter
    from nexus_labs.workspace import Workspace

    settings = _settings(args)
    workspace = Workspace(settings)
    copied, notices = workspace.prepare()
    print(f"Workspace: {settings.home}")
    if copied:
        print(f"Copied {len(copied)} notebook(s): {', '.join(copied)}")
    for notice in notices:
        print(notice)
    return launch_jupyter(
        settings.home, port=args.port, ip=args.ip, token=args.token,
        open_browser=not args.no_browser,
    )


def _progress_counts(settings: Settings) -> dict[str, tuple[int, int]]:
    """{slug: (done, total)} from the progress store; {} when it cannot be read."""
    try:
        from nexus_labs.exercises import progress
    except ImportError:
        return {}
    try:
        if progress.progress_path(settings).exists():
            rows = progress.progress_rows(settings)
        else:  # a fresh workspace: nothing done yet, and no store to create just for `list`
            rows = [
                progress.ExerciseProgress(lab, exercise, "not started", 0, 0, False, None)
                for lab, exercises in progress.exercises_by_lab().items()
                for exercise, _title in exercises
            ]
    except Exception:  # progress is a nicety here; `nexus-labs progress` reports the problem
        return {}
    counts: dict[str, tuple[int, int]] = {}
    for row in rows:
        done, total = counts.get(row.lab, (0, 0))
        counts[row.lab] = (done + (row.status == "done"), total + 1)
    return counts


def cmd_list(args: argparse.Namespace) -> int:
    from nexus_labs.labs.catalog import installed_labs
    from nexus_labs.workspace import Workspace

    settings = _settings(args)
    workspace = Workspace(settings)
    counts = _progress_counts(settings)
    rows = []
    for lab in installed_labs():
        done, total = counts.get(lab.slug, (None, None))
        progress = f"done {done}/{total}" if total else "-"
        state = workspace.status(lab.notebook).state
        rows.append((lab.notebook[:2], lab.slug, f"{lab.minutes} min", state, progress, lab.title))
    if not rows:
        print("No labs are shipped in this installation.")
        return 1
    header = ("#", "lab", "time", "workspace", "progress", "title")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [f"{value:<{width}}" for value, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]))
    print(f"Workspace: {settings.home}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from nexus_labs.doctor import diagnose

    report = diagnose(_settings(args))
    print(report.text())
    return 0 if report.ok else 1


def cmd_progress(args: argparse.Namespace) -> int:
    from nexus_labs.exercises.progress import progress_table_text

    print(progress_table_text(_settings(args)))
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from nexus_labs.workspace import Workspace

    lab = _installed_lab(args.lab)
    workspace = Workspace(_settings(args))
    backup = workspace.reset(lab.notebook)
    if backup is not None:
        print(f"Your previous {lab.notebook} is kept as {backup}")
    print(f"Restored the original {workspace.home / lab.notebook}")
    print("If it is open in JupyterLab, close its tab without saving and open it again.")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from nexus_labs.labs.catalog import installed_labs
    from nexus_labs.runner import run_notebooks
    from nexus_labs.workspace import Workspace

    labs = [_installed_lab(name) for name in args.labs] or list(installed_labs())
    settings = _settings(args)
    workspace = Workspace(settings)
    workspace.prepare()
    results = run_notebooks([workspace.home / lab.notebook for lab in labs], home=settings.home)
    failed = sum(not result.ok for result in results)
    print(f"{len(results) - failed} ok, {failed} failed")
    return 1 if failed else 0


def cmd_grade(args: argparse.Namespace) -> int:
    from nexus_labs.exercises.grade import grade_folder

    if not args.folder.is_dir():
        raise UsageError(f"{args.folder} is not a folder")
    rows = grade_folder(args.folder, csv_path=args.csv)
    if not rows:
        print(f"{PROGRAM}: no learner notebooks with exercises found in {args.folder}",
              file=sys.stderr)
        return 1
    print(f"Grades written to {args.csv.resolve()}")
    return 0


COMMANDS = {
    "start": cmd_start,
    "list": cmd_list,
    "doctor": cmd_doctor,
    "progress": cmd_progress,
    "reset": cmd_reset,
    "run": cmd_run,
    "grade": cmd_grade,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"choose a command: {', '.join(COMMANDS)}")
    try:
        return COMMANDS[args.command](args)
    except UsageError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 2
    # OSError: a workspace path that is a file, not writable, on a full disk... the learner can
    # fix it from the message; a traceback would only hide it.
    except (BackendUnavailable, ConfigError, OSError) as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
