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
    assert tagged <= set(exercise_classes(lab_slug_of(notebook, path)))
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
