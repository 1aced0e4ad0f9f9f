"""The `nexus-labs` command: exit codes, one-line errors, doctor, list, reset, run and start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_process import free_port, start_and_wait, stop_process_tree

from nexus_labs import cli
from nexus_labs.labs import catalog

ROOT = Path(__file__).resolve().parents[1]
URL_VARS = ("NEXUS_DATABASE_URL", "NEXUS_REDIS_URL", "NEXUS_BROKER_URL")


def nexus_labs(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "nexus_labs", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=120,
    )


def write_notebook(path: Path, *sources: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.extend(nbformat.v4.new_code_cell(source) for source in sources)
    notebook.metadata["nexus_labs"] = {"version": "0.1.0"}
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty workspace; setenv so that `--home` changing NEXUS_HOME is undone afterwards."""
    workspace = tmp_path / "ws"
    monkeypatch.setenv("NEXUS_HOME", str(workspace))
    return workspace


@pytest.fixture
def two_labs(tmp_path, monkeypatch) -> Path:
    """Packaged notebooks for the first two catalogue labs: one that works, one that fails."""
    folder = tmp_path / "packaged"
    folder.mkdir()
    write_notebook(folder / catalog.LABS[0].notebook, "x = 6 * 7", "assert x == 42")
    write_notebook(folder / catalog.LABS[1].notebook, "y = 1", "1 / 0", "never = True")
    monkeypatch.setattr("nexus_labs.resources.notebooks_dir", lambda: folder)
    monkeypatch.setattr("nexus_labs.workspace.notebooks_dir", lambda: folder)
    return folder


def test_python_dash_m_help_lists_the_commands():
    result = nexus_labs("--help")
    assert result.returncode == 0
    for command in ("start", "list", "doctor", "progress", "reset", "run", "grade"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "args",
    [["frobnicate"], [], ["start", "--port", "eighty"], ["start", "--port", "99999"],
     ["start", "--port", "-1"], ["reset"], ["list", "--colour"]],
)
def test_bad_arguments_give_one_line_and_exit_2(args):
    result = nexus_labs(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nexus-labs: ")
    assert "Traceback" not in result.stderr


def test_unknown_lab_exits_2_and_lists_the_known_labs(two_labs, home, capsys):
    assert cli.main(["reset", "no_such_lab"]) == 2
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1
    assert "no_such_lab" in message
    assert f"known labs: {catalog.LABS[0].slug}, {catalog.LABS[1].slug}" in message
    assert cli.main(["run", catalog.LABS[0].slug, "nope"]) == 2


def test_lab_in_catalogue_but_not_shipped_exits_2(two_labs, home, capsys):
    assert cli.main(["reset", catalog.LABS[-1].slug]) == 2
    assert "not shipped" in capsys.readouterr().err


def test_list_shows_minutes_and_workspace_status(two_labs, home, capsys):
    first = catalog.LABS[0]
    assert cli.main(["list"]) == 0
    output = capsys.readouterr().out
    assert f"{first.minutes} min" in output and first.title in output
    assert output.count("not copied") == 2
    assert cli.main(["reset", first.slug]) == 0
    capsys.readouterr()
    cli.main(["list", "--home", str(home)])
    row = next(line for line in capsys.readouterr().out.splitlines() if first.slug in line)
    assert re.search(r"\bcopied\b", row) and "not copied" not in row


def test_reset_prints_where_the_backup_is(two_labs, home, capsys):
    lab = catalog.LABS[0]
    assert cli.main(["reset", lab.slug]) == 0  # nothing to back up yet
    (home / lab.notebook).write_text("my work")
    assert cli.main(["reset", lab.notebook[:2]]) == 0
    output = capsys.readouterr().out
    backup = Path(re.search(r"is kept as (\S+)", output)[1])
    assert backup.read_text() == "my work"


def _without_urls() -> dict:
    return {k: v for k, v in os.environ.items() if k not in URL_VARS}


def test_doctor_on_embedded_defaults_names_sqlite_and_a_real_or_emulated_redis(tmp_path):
    result = nexus_labs("doctor", "--home", str(tmp_path / "ws"), env=_without_urls())
    assert result.returncode == 0, result.stdout + result.stderr
    for fragment in ("Python", "JupyterLab", "ipywidgets", "nexus_labs", "SQLite file"):
        assert fragment in result.stdout
    assert re.search(r"embedded real Redis .*binary .*· Redis \d|emulated Redis", result.stdout)
    assert "not configured" in result.stdout  # the broker
    assert not list((tmp_path / "ws" / ".nexus" / "db").glob("doctor*")), "doctor left its db"


def test_doctor_names_an_unreachable_server_and_exits_1(tmp_path):
    env = dict(_without_urls(), NEXUS_REDIS_URL="redis://:secret@127.0.0.1:1/0")
    result = nexus_labs("doctor", "--home", str(tmp_path / "ws"), env=env)
    assert result.returncode == 1
    assert "redis://:***@127.0.0.1:1/0" in result.stdout and "secret" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.services
@pytest.mark.skipif(
    not (os.environ.get("NEXUS_DATABASE_URL") and os.environ.get("NEXUS_REDIS_URL")),
    reason="needs NEXUS_DATABASE_URL and NEXUS_REDIS_URL (the services run)",
)
def test_doctor_on_real_servers_names_postgresql_and_redis_with_versions(tmp_path):
    result = nexus_labs("doctor", "--home", str(tmp_path / "ws"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"SQL .*PostgreSQL postgresql\S*://.* · PostgreSQL \d+", result.stdout)
    assert re.search(r"Redis .*real Redis at redis\S*://.* · Redis \d+\.\d+", result.stdout)


@pytest.mark.slow
def test_run_executes_in_memory_and_reports_each_lab(two_labs, home, capsys):
    first, second = catalog.LABS[0], catalog.LABS[1]
    assert cli.main(["run"]) == 1
    output = capsys.readouterr()
    lines = output.out.splitlines() + output.err.splitlines()
    assert any(first.notebook in line and " ok " in line for line in lines), lines
    failed = next(line for line in lines if second.notebook in line)
    assert "failed: ZeroDivisionError: division by zero" in failed
    assert re.search(r"\(\d+\.\d s\)", failed)
    # Outputs stay in memory: the learner's file has no outputs written into it.
    notebook = nbformat.read(home / second.notebook, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells)
    assert cli.main(["run", first.slug]) == 0


@pytest.mark.slow
def test_start_serves_jupyterlab_in_the_workspace(tmp_path):
    port, token = free_port(), "cli-test-token"
    home = tmp_path / "ws"
    process, status = start_and_wait(
        [sys.executable, "-m", "nexus_labs", "start", "--no-browser", "--port", str(port),
         "--token", token, "--home", str(home)],
        port=port, token=token, cwd=tmp_path, env=_without_urls(),
    )
    try:
        assert "started" in status, status
        assert (home / ".nexus-workspace").is_file()
        shipped = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert shipped <= {p.name for p in home.glob("*.ipynb")}
    finally:
        stop_process_tree(process)
    assert process.returncode is not None


def test_list_counts_done_exercises_from_the_progress_store(two_labs, home, capsys):
    from nexus_labs.config import load_settings
    from nexus_labs.exercises import progress

    first = catalog.LABS[0]
    exercises = progress.exercises_by_lab().get(first.slug)
    if not exercises:
        pytest.skip(f"lab {first.slug} has no exercises yet")
    progress.record_safely(load_settings(), first.slug, exercises[0][0], "check", "correct")
    assert cli.main(["list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if first.slug in line)
    assert f"done 1/{len(exercises)}" in row


def test_jupyter_command_uses_this_python_and_passes_the_options(tmp_path):
    from nexus_labs.launcher import jupyter_command

    command = jupyter_command(tmp_path, port=8899, ip="0.0.0.0", token="T", open_browser=False)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    for option in (f"--ServerApp.root_dir={tmp_path}", "--ip=0.0.0.0", "--port=8899",
                   "--IdentityProvider.token=T", "--no-browser"):
        assert option in command


def test_a_bad_setting_is_one_paragraph_and_exit_1(tmp_path):
    env = dict(_without_urls(), NEXUS_NAMESPACE="Not Valid!")
    result = nexus_labs("list", "--home", str(tmp_path / "ws"), env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("nexus-labs: NEXUS_NAMESPACE=")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_grade_checks_its_folder_argument(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    csv_path = tmp_path / "grades.csv"
    assert cli.main(["grade", str(tmp_path / "empty"), "--csv", str(csv_path)]) == 1
    assert "no learner notebooks" in capsys.readouterr().err


def test_a_bare_assert_is_reported_with_its_line():
    from nexus_labs.runner import _first_error_line

    class FakeCellError(Exception):
        ename, evalue = "AssertionError", ""
        traceback = ("\x1b[0;31mAssertionError\x1b[0m  Traceback\nCell In[3], line 2\n"
                     "      1 speedup = 2\n\x1b[0;32m----> 2\x1b[0m assert speedup > 5\n")

    assert _first_error_line(FakeCellError()) == "AssertionError at: assert speedup > 5"


@pytest.mark.parametrize("command", [["reset", "00"], ["doctor"]])
def test_a_workspace_path_that_is_a_file_is_one_line_and_exit_1(tmp_path, command):
    not_a_folder = tmp_path / "ws"
    not_a_folder.write_text("a file")
    result = nexus_labs(*command, "--home", str(not_a_folder), env=_without_urls())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("nexus-labs: ") and str(not_a_folder) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_doctor_reports_a_server_lost_mid_check_instead_of_crashing(tmp_path, monkeypatch):
    from nexus_labs import doctor
    from nexus_labs.config import load_settings

    class LostServer:
        def describe(self):
            return "PostgreSQL postgresql://db/x (schema nexus_doctor)"

        def version(self):
            raise ConnectionError("server closed the connection")

        def drop(self):
            raise ConnectionError("server closed the connection")

    monkeypatch.setattr("nexus_labs.backends.sql.connect_sql", lambda lab, settings: LostServer())
    check = doctor.check_sql(load_settings(env={"NEXUS_HOME": str(tmp_path)}))
    assert check.ok is False and "server closed the connection" in check.detail
