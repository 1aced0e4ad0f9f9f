"""Instructor view: run a folder of learners' notebooks through the same checks.

    FOLDER/alice/04_caching.ipynb   -> learner "alice"
    FOLDER/bob_04_caching.ipynb     -> learner "bob_04_caching" (a notebook straight in FOLDER)

Each notebook runs in its own kernel and its own throwaway NEXUS_HOME, with a last cell that
checks every exercise against the final state of the learner's answers; the outcomes are read
back from that run's progress store. A notebook that cannot be read or run gives a row saying
why and the run goes on.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import NamedTuple

import nbformat

from nexus_labs.exercises.progress import ProgressStore
from nexus_labs.exercises.solved import execute, exercise_classes, lab_slug_of

# Appended to every learner notebook: a learner who deleted a check cell is still graded.
GRADING_CELL = """# added by `nexus-labs grade`: check every exercise on the final answers
from nexus_labs.session import Lab as _GradedLab
_graded_labs = [v for v in list(globals().values()) if isinstance(v, _GradedLab)]
if not _graded_labs:
    raise RuntimeError("the notebook never opened its lab (did its setup cell fail?)")
for _graded_exercise in _graded_labs[-1].exercises:
    _graded_exercise.check()"""


class GradeRow(NamedTuple):
    learner: str
    lab: str
    exercise: str
    outcome: str  # correct, incorrect, not attempted, checker fault, unreadable: ..., error: ...


def learner_notebooks(folder: Path) -> list[tuple[str, Path]]:
    """(learner, notebook) pairs: sub-folder name per learner, or the file stem at top level."""
    found = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            for notebook in sorted(entry.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in notebook.parts:
                    found.append((entry.name, notebook))
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry))
    return found


def grade_notebook(learner: str, path: Path, timeout: int = 120,
                   notebook_timeout: float = 600) -> list[GradeRow]:
    """Rows for one notebook; never raises.

    The notebook is untrusted code: it runs in a throwaway NEXUS_HOME that is also its working
    directory (so it cannot write next to the submissions), within `timeout` seconds per cell
    and `notebook_timeout` for the whole notebook; the temporary home is removed afterwards.
    """
    try:
        notebook = nbformat.read(path, as_version=4)
        slug = lab_slug_of(notebook, path)
        exercise_ids = list(exercise_classes(slug))
    except Exception as error:
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        return [GradeRow(learner, path.stem, "", f"unreadable: {reason}")]
    notebook.cells.append(nbformat.v4.new_code_cell(GRADING_CELL))
    failure = None
    with tempfile.TemporaryDirectory(prefix="nexus-grade-", ignore_cleanup_errors=True) as home:
        try:
            execute(notebook, Path(home), cwd=Path(home), timeout=timeout,
                    notebook_timeout=notebook_timeout)
        except Exception as error:  # a cell timeout or a dead kernel: keep what was checked
            failure = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:120]}"
        if failure is None:
            failure = _grading_cell_error(notebook.cells[-1])
        store_path = Path(home) / ".nexus" / "progress.sqlite"
        last = {}
        if store_path.exists():
            store = ProgressStore(store_path)
            for _at, _lab, exercise, kind, outcome, _hint in store.events(lab=slug):
                if kind == "check":
                    last[exercise] = outcome.replace("_", " ")
            store.close()
    missing = f"error: {failure}" if failure else "not attempted"
    return [GradeRow(learner, slug, exercise, last.get(exercise, missing))
            for exercise in exercise_ids]


def _grading_cell_error(cell: nbformat.NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:200]
    return None


def format_table(rows: list[GradeRow]) -> str:
    header = ("learner", "lab", "exercise", "outcome")
    table = [header, *(tuple(row) for row in rows)]
    widths = [max(len(str(line[i])) for line in table) for i in range(4)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def grade_folder(folder: Path | str, csv_path: Path | str, timeout: int = 120,
                 notebook_timeout: float = 600) -> list[GradeRow]:
    """Grade every learner notebook under `folder`, write `csv_path`, print the table.

    Args:
        folder: one sub-folder per learner (or notebooks directly inside).
        csv_path: where to write learner,lab,exercise,outcome.
        timeout: seconds allowed per cell.
        notebook_timeout: seconds allowed per notebook (all its cells together).
    """
    rows: list[GradeRow] = []
    for learner, path in learner_notebooks(Path(folder)):
        rows.extend(grade_notebook(learner, path, timeout, notebook_timeout))
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["learner", "lab", "exercise", "outcome"])
        writer.writerows(tuple(row) for row in rows)
    print(format_table(rows))
    return rows
