"""`grade_folder`: learners' notebooks through the same checks; bad files never stop the run."""

from __future__ import annotations

import csv

import nbformat
import pytest

from nexus_labs.exercises.grade import GradeRow, grade_folder, learner_notebooks
from nexus_labs.exercises.welcome import OrderCount, OrdersPerStatus, Remember

SETUP = """from nexus_labs import open_lab, ____, data
lab = open_lab("welcome", quiet=True)
q1, q2, q3 = lab.exercises
_ = data.install_marketplace(lab.sql.engine)
import pandas as pd"""


def learner_notebook(answers: list[str], delete_checks: bool = False) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(SETUP)]
    for number, answer in enumerate(answers, start=1):
        cell = nbformat.v4.new_code_cell(answer)
        cell.metadata["tags"] = [f"exercise:q{number}"]
        cells.append(cell)
        if not delete_checks:
            cells.append(nbformat.v4.new_code_cell(f"q{number}.check()"))
    notebook.cells = cells
    return notebook


@pytest.fixture()
def classroom(tmp_path):
    folder = tmp_path / "submissions"
    (folder / "alice").mkdir(parents=True)
    (folder / "bob").mkdir()
    (folder / "carol").mkdir()
    nbformat.write(
        learner_notebook([OrderCount.solution, OrdersPerStatus.solution, Remember.solution]),
        folder / "alice" / "00_welcome.ipynb",
    )
    bob = learner_notebook([
        'answer_q1 = pd.read_sql("select count(*) from order_items", lab.sql.engine).iloc[0, 0]',
        "answer_q2 = ____",
        "def remember(r, key, value):\n    return r.set(key, value)",
    ], delete_checks=True)  # bob deleted his check cells: the grader still checks
    nbformat.write(bob, folder / "bob" / "00_welcome.ipynb")
    (folder / "carol" / "00_welcome.ipynb").write_text('{"cells": [ {"source": "trunc')
    (folder / "dave.ipynb").write_text("{}")
    return folder


def test_learner_notebooks_layout(classroom):
    found = [(learner, path.name) for learner, path in learner_notebooks(classroom)]
    assert found == [("alice", "00_welcome.ipynb"), ("bob", "00_welcome.ipynb"),
                     ("carol", "00_welcome.ipynb"), ("dave", "dave.ipynb")]


@pytest.mark.slow
def test_grade_folder_with_a_corrupted_notebook(classroom, tmp_path, capsys):
    csv_path = tmp_path / "grades.csv"
    rows = grade_folder(classroom, csv_path)
    by_key = {(row.learner, row.exercise): row.outcome for row in rows}
    assert by_key[("alice", "q1")] == "correct"
    assert by_key[("alice", "q2")] == "correct"
    assert by_key[("alice", "q3")] == "correct"
    assert by_key[("bob", "q1")] == "incorrect"
    assert by_key[("bob", "q2")] == "not attempted"
    assert by_key[("bob", "q3")] == "incorrect"
    assert by_key[("carol", "")].startswith("unreadable: ")
    assert by_key[("dave", "")].startswith("unreadable: ")
    assert all(isinstance(row, GradeRow) and row.lab for row in rows)
    with open(csv_path, newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0] == ["learner", "lab", "exercise", "outcome"]
    assert [tuple(line) for line in written[1:]] == [tuple(row) for row in rows]
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["learner", "lab", "exercise", "outcome"]
    assert "unreadable" in printed


@pytest.mark.slow
def test_untrusted_notebooks_are_time_limited_isolated_and_cleaned_up(tmp_path, monkeypatch):
    import tempfile
    import time

    from nexus_labs.exercises.grade import grade_notebook

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = tmp_path / "submissions"
    folder.mkdir()
    hanging = learner_notebook([OrderCount.solution])
    hanging.cells.insert(1, nbformat.v4.new_code_cell(
        "import time\nopen('written-by-learner.txt', 'w').write('x')\n"
        "for _ in range(600):\n    time.sleep(1)"))
    nbformat.write(hanging, folder / "hang.ipynb")
    start = time.monotonic()
    rows = grade_notebook("erin", folder / "hang.ipynb", timeout=600, notebook_timeout=20)
    assert time.monotonic() - start < 120  # the whole notebook's limit, not 600 s per cell
    assert [(row.exercise, row.outcome.split(":")[0]) for row in rows] == [
        ("q1", "error"), ("q2", "error"), ("q3", "error")]
    assert "CellTimeoutError" in rows[0].outcome
    assert not (folder / "written-by-learner.txt").exists()  # it ran in its throwaway home
    assert list(scratch.iterdir()) == []  # and that home is gone


@pytest.mark.slow
def test_notebook_whose_setup_failed_is_an_error_not_not_attempted(tmp_path):
    from nexus_labs.exercises.grade import grade_notebook

    notebook = learner_notebook([OrderCount.solution])
    notebook.cells[0].source = 'raise RuntimeError("broken setup")\n' + SETUP
    nbformat.write(notebook, tmp_path / "00_welcome.ipynb")
    rows = grade_notebook("fred", tmp_path / "00_welcome.ipynb", timeout=60)
    assert {row.exercise for row in rows} == {"q1", "q2", "q3"}
    assert all(row.outcome.startswith("error: RuntimeError: the notebook never opened its lab")
               for row in rows), rows
