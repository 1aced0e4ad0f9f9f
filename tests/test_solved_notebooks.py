"""Solved mode: with every reference solution pasted in, each notebook runs clean and every check
says Correct; the shipped notebook's committed outputs say Not attempted everywhere."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from nexus_labs.exercises.solved import (
    check_outcomes,
    exercise_cells,
    exercise_classes,
    lab_slug_of,
    run_solved,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebooks_with_exercises() -> list[Path]:
    return [path for path in sorted(NOTEBOOKS.glob("*.ipynb"))
            if exercise_cells(nbformat.read(path, as_version=4))]


LABS = pytest.mark.parametrize("path", notebooks_with_exercises(), ids=lambda path: path.stem)


@LABS
def test_shipped_notebook_checks_say_not_attempted(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = set(exercise_cells(notebook).values())
    # every exercise of the lab has its answer cell, so solved mode checks each one
    assert tagged == set(exercise_classes(lab_slug_of(notebook, path)))
    outcomes = check_outcomes(notebook)
    assert {result.exercise for result in outcomes} == tagged, "each answer cell has a check"
    not_attempted = [(r.exercise, r.text.splitlines()[0] if r.text else "no output")
                     for r in outcomes if r.status != "not_attempted"]
    assert not_attempted == []


@pytest.mark.slow
@LABS
def test_solved_notebook_runs_clean_and_every_check_is_correct(path):
    run = run_solved(path)
    assert run.errors == []
    assert run.checks, "the notebook has check cells"
    wrong = [(r.exercise, r.text or "no outcome shown") for r in run.checks
             if r.status != "correct"]
    assert wrong == []


@pytest.mark.parametrize("tags", [["exercise: q1"], ["Exercise:q1"], ["exercise-q1"],
                                  ["exercise:q1", "exercise:q2"]])
def test_malformed_exercise_tags_are_rejected_not_ignored(tags):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("answer_q1 = ____")
    cell.metadata["tags"] = ["nbval-ignore-output", *tags]
    notebook.cells = [nbformat.v4.new_code_cell('lab = open_lab("welcome")'), cell]
    with pytest.raises(ValueError, match="cell 1"):
        exercise_cells(notebook)


def test_well_formed_tags_are_found():
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("answer_q12 = ____")
    cell.metadata["tags"] = ["exercise:q12", "nbval-ignore-output"]
    notebook.cells = [nbformat.v4.new_code_cell("x = 1"), cell]
    assert exercise_cells(notebook) == {1: "q12"}
