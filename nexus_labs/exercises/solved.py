"""Solved mode: a notebook with every exercise cell replaced by its reference solution.

Exercise answer cells carry the tag `exercise:qN`. The lab comes from the setup cell's
`open_lab("slug", ...)` call (or the notebook's file name via the catalogue). The solved copy is
executed with nbclient in a throwaway NEXUS_HOME and the outcome of each `qN.check()` cell is
read back from its outputs, where the plain text starts with the status label.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from nexus_labs.exercises.feedback import status_of_text
from nexus_labs.labs.catalog import find_lab

EXERCISE_TAG = re.compile(r"^exercise:(q\d+)$")
OPEN_LAB = re.compile(r"""open_lab\(\s*["']([\w.-]+)["']""")
CHECK_CALL = re.compile(r"\b(\w+)\.check\(")


@dataclass(frozen=True)
class CheckResult:
    exercise: str
    status: str | None  # None: the cell printed no outcome (it failed or did not run)
    text: str


@dataclass
class NotebookRun:
    notebook: NotebookNode
    checks: list[CheckResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "cell N (first line): Exc: message"


def exercise_cells(notebook: NotebookNode) -> dict[int, str]:
    """Index of each answer cell -> the exercise id named by its `exercise:qN` tag."""
    found = {}
    for index, cell in enumerate(notebook.cells):
        for tag in cell.get("metadata", {}).get("tags", []):
            match = EXERCISE_TAG.match(tag)
            # A near-miss ("exercise: q1", "Exercise:q1") would silently leave the learner's
            # stub in the solved copy; two tags on one cell would paste only one solution.
            if match is None and tag.lower().lstrip().startswith("exercise"):
                raise ValueError(f"cell {index}: tag {tag!r} should read exercise:qN (e.g. "
                                 "exercise:q1)")
            if match and index in found:
                raise ValueError(f"cell {index} is tagged for both {found[index]} and "
                                 f"{match.group(1)}: one exercise per answer cell")
            if match:
                found[index] = match.group(1)
    return found


def lab_slug_of(notebook: NotebookNode, path: Path | None = None) -> str:
    """The lab a notebook opens: its `open_lab("slug")` call, else its file name."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and (match := OPEN_LAB.search(cell.source)):
            return find_lab(match.group(1)).slug
    if path is None:
        raise KeyError("the notebook has no open_lab(...) call and no file name to go by")
    return find_lab(Path(path).stem).slug


def exercise_classes(slug: str) -> dict[str, type]:
    """Exercise id -> class, from nexus_labs.exercises.<slug>."""
    module = importlib.import_module(f"nexus_labs.exercises.{slug}")
    return {cls.id: cls for cls in module.EXERCISES}


def solved_copy(path: Path) -> NotebookNode:
    """The notebook at `path` with each tagged answer cell holding its exercise's solution."""
    notebook = nbformat.read(path, as_version=4)
    classes = exercise_classes(lab_slug_of(notebook, path))
    for index, exercise_id in exercise_cells(notebook).items():
        if exercise_id not in classes:
            raise KeyError(f"{Path(path).name}: cell {index} is tagged exercise:{exercise_id}, "
                           f"but the lab has no exercise {exercise_id}")
        notebook.cells[index].source = classes[exercise_id].solution.strip("\n")
    return notebook


def check_outcomes(notebook: NotebookNode) -> list[CheckResult]:
    """The outcome shown by every `qN.check()` cell, read from its outputs."""
    results = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        ids = CHECK_CALL.findall(_active_code(cell.source))
        if not ids:
            continue
        texts = [text for text in map(_output_text, cell.get("outputs", []))
                 if status_of_text(text)]
        for position, exercise_id in enumerate(ids):
            text = texts[position] if position < len(texts) else ""
            results.append(CheckResult(exercise_id, status_of_text(text) if text else None, text))
    return results


def _active_code(source: str) -> str:
    # `# q1.hint()` lines are suggestions to the learner, not calls
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def _output_text(output: NotebookNode) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def cell_errors(notebook: NotebookNode) -> list[str]:
    errors = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first_line = next((line for line in cell.source.splitlines() if line), "")
                errors.append(f"cell {index} ({first_line[:60]}): "
                              f"{output.get('ename')}: {output.get('evalue')}")
    return errors


def execute(notebook: NotebookNode, home: Path, cwd: Path, timeout: int = 600,
            allow_errors: bool = True, notebook_timeout: float | None = None) -> NotebookNode:
    """Run `notebook` in a fresh kernel whose NEXUS_HOME is `home` (other NEXUS_* kept).

    Args:
        timeout: seconds allowed per cell.
        allow_errors: go on after a cell raises (its error is kept in its outputs).
        notebook_timeout: seconds allowed for all the cells together; the cell running when
            it runs out is stopped like a cell past `timeout` (CellTimeoutError).
    """
    from nexus_labs.headless import HeadlessClient

    env = {**os.environ, "NEXUS_HOME": str(home)}
    client = HeadlessClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )
    if notebook_timeout is not None:
        deadline = time.monotonic() + notebook_timeout

        def cell_timeout(_cell: NotebookNode) -> int:
            # nbclient reads this when each cell starts: the cell gets what is left, at least 1 s
            return max(1, min(timeout, math.ceil(deadline - time.monotonic())))

        client.timeout_func = cell_timeout
    client.execute(env=env)
    return notebook


def run_solved(path: Path, home: Path | None = None, timeout: int = 600) -> NotebookRun:
    """Execute the solved copy of the notebook at `path`; collect check outcomes and errors."""
    path = Path(path)
    notebook = solved_copy(path)
    with tempfile.TemporaryDirectory(prefix="nexus-solved-", ignore_cleanup_errors=True) as scratch:
        execute(notebook, Path(home or scratch), cwd=path.parent, timeout=timeout)
    return NotebookRun(notebook, check_outcomes(notebook), cell_errors(notebook))
