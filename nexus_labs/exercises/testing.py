"""Helpers for checker tests: run an exercise on an answer, or build an answer from code.

    from nexus_labs.exercises.testing import outcome_of, answer_from_code
    answer = answer_from_code(MyExercise.solution, MyExercise.answer_name, {"lab": lab})
    assert outcome_of(MyExercise, answer, lab).status == "correct"
"""

from __future__ import annotations

import itertools
import linecache
from typing import Any

from nexus_labs.exercises.core import Exercise, evaluate
from nexus_labs.exercises.feedback import Outcome
from nexus_labs.exercises.placeholder import ____

_cell_numbers = itertools.count(1)


def outcome_of(exercise_cls: type[Exercise], answer: Any, lab: Any) -> Outcome:
    """The Outcome `exercise_cls` gives `answer` on `lab` (nothing is recorded in progress)."""
    return evaluate(exercise_cls(), answer, lab)


def answer_from_code(code: str, name: str, namespace: dict | None = None) -> Any:
    """Execute `code` like a notebook cell and return the object it binds to `name`.

    The code runs in `namespace` (a fresh one holding `____` by default) under a cell-like file
    name registered with linecache, so errors in it show the learner's line as in a notebook.
    """
    namespace = {} if namespace is None else namespace
    namespace.setdefault("____", ____)
    filename = f"<learner-cell-{next(_cell_numbers)}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    exec(compile(code, filename, "exec", dont_inherit=True), namespace)
    if name not in namespace:
        raise KeyError(f"the code does not define {name!r}")
    return namespace[name]
