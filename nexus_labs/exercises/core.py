"""Declaring exercises and the object a notebook calls (`q1.check()`, `q1.hint()`, ...).

An exercise is a class that says what the learner fills in, how it is checked, its hints and
its reference solution. `bind(ExerciseClass, lab)` makes the notebook-facing view; there is no
global registry, the lab's setup cell does the binding.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from nexus_labs.exercises import progress
from nexus_labs.exercises.feedback import Hint, Incorrect, NotAttempted, Outcome, Solution, show
from nexus_labs.exercises.learner_code import (
    call_learner,
    current_user_namespace,
    references_placeholder,
)
from nexus_labs.exercises.placeholder import is_placeholder

__all__ = ["Exercise", "Incorrect", "ValueExercise", "bind", "evaluate"]

_MISSING = object()


class _Undefined:
    """The answer variable does not exist yet (its cell was not run)."""

    def __repr__(self) -> str:
        return "<not defined>"


_UNDEFINED = _Undefined()


class Exercise:
    """Base class of every exercise. Subclasses set the class attributes and `check`.

    Attributes:
        id: "q1", unique within its lab; the notebook binds it to a variable of that name.
        title: one line saying what to do.
        answer_name: the variable or function the learner defines in the answer cell.
        hints: progressive hints, most general first.
        solution: the reference answer as code; solved mode pastes it into the answer cell.
        timeout: seconds learner code may run per `self.call` before it is stopped.
        wrong_answers: known-wrong answers -> a fragment of the intended message (tests use it).
    """

    id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    answer_name: ClassVar[str] = ""
    hints: ClassVar[tuple[str, ...]] = ()
    solution: ClassVar[str] = ""
    timeout: ClassVar[float] = 5.0
    wrong_answers: ClassVar[Mapping[Any, str]] = {}

    def check(self, answer: Any, lab: Any) -> str | None:
        """Raise Incorrect("why") when `answer` is wrong; return (optionally a message) when
        right. Use `self.call` to run learner functions. Any other exception is reported as a
        checker fault, never blamed on the learner."""
        raise NotImplementedError

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run the learner's function with the time limit; raise / None / hang become feedback.

        `async def` functions are awaited in a private event loop and their result returned.
        """
        return call_learner(fn, args, kwargs, timeout=self.timeout, name=self.answer_name or None)

    def call_allowing_none(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Like `call`, for learner functions that legitimately return None (only side effects)."""
        return call_learner(fn, args, kwargs, timeout=self.timeout, allow_none=True,
                            name=self.answer_name or None)

    def is_attempted(self, answer: Any) -> bool:
        """False for the placeholder, an untouched stub (its code still reads `____`), text
        containing ____ and containers holding the placeholder."""
        return not _contains_placeholder(answer)


def _contains_placeholder(value: Any, depth: int = 0) -> bool:
    if is_placeholder(value):
        return True
    if depth > 3:
        return False
    if isinstance(value, str):
        return "____" in value
    code = getattr(value, "__code__", None)
    if code is not None:
        return references_placeholder(code)
    if isinstance(value, Mapping):
        return any(_contains_placeholder(v, depth + 1) for v in (*value.keys(), *value.values()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_contains_placeholder(v, depth + 1) for v in value)
    return False


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool (True or False)"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str):
        return "str (text in quotes)"
    return type(value).__name__


def _same_kind(answer: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(answer, bool):
        return isinstance(answer, bool) and isinstance(expected, bool)
    if isinstance(expected, numbers.Number):
        return isinstance(answer, numbers.Number)
    if isinstance(expected, (list, tuple)):
        return isinstance(answer, (list, tuple))
    if isinstance(expected, (set, frozenset)):
        return isinstance(answer, (set, frozenset, list, tuple))
    return isinstance(answer, type(expected))


class ValueExercise(Exercise):
    """The learner assigns a value; it must equal `expected` (after `normalize`, if given).

    Floats compare with relative tolerance `tolerance`. A wrong answer found (normalized) in
    `wrong_answers` gets that entry's message as its reason, so the common mistakes named in
    the lab get a specific explanation.
    """

    expected: ClassVar[Any] = None
    normalize: ClassVar[Callable[[Any], Any] | None] = None
    tolerance: ClassVar[float] = 1e-6

    def _normalized(self, value: Any) -> Any:
        # getattr_static: `normalize` may be a staticmethod, a plain lambda or a builtin like
        # str.upper, none of which should be bound to the instance.
        normalize = inspect.getattr_static(type(self), "normalize")
        if isinstance(normalize, staticmethod):
            normalize = normalize.__func__
        return value if normalize is None else normalize(value)

    def check(self, answer: Any, lab: Any) -> None:
        name = self.answer_name or "your answer"
        try:
            got = self._normalized(answer)
        except Exception:
            raise Incorrect(
                f"{name} should be a {_type_name(self.expected)}, "
                f"but it is {type(answer).__name__}: {answer!r}"
            ) from None
        want = self._normalized(self.expected)
        if not _same_kind(got, want):
            raise Incorrect(
                f"{name} should be a {_type_name(want)}, but it is "
                f"{_type_name(answer)}: {answer!r}"
            )
        if self._equal(got, want):
            return
        for wrong, message in self.wrong_answers.items():
            try:
                matches = self._equal(got, self._normalized(wrong))
            except Exception:
                matches = False
            if matches:
                raise Incorrect(message)
        raise Incorrect(f"{answer!r} is not the answer. Try {self.id}.hint().")

    def _equal(self, got: Any, want: Any) -> bool:
        if (isinstance(want, float) or isinstance(got, float)) and isinstance(
            got, numbers.Real) and isinstance(want, numbers.Real):
            return math.isclose(got, want, rel_tol=self.tolerance, abs_tol=self.tolerance)
        if isinstance(want, (set, frozenset)) and isinstance(got, (list, tuple)):
            return set(got) == want
        return bool(got == want)


def evaluate(exercise: Exercise, answer: Any, lab: Any) -> Outcome:
    """Check `answer` and return the Outcome; never raises."""
    try:
        if answer is _UNDEFINED:
            return Outcome(
                "not_attempted",
                f"{exercise.answer_name} is not defined yet: run the answer cell above first.",
                exercise.id,
            )
        if not exercise.is_attempted(answer):
            return Outcome("not_attempted", _not_attempted_message(exercise), exercise.id)
        message = exercise.check(answer, lab)
    except NotAttempted as reason:
        return Outcome("not_attempted", str(reason), exercise.id)
    except Incorrect as wrong:
        return Outcome("incorrect", wrong.reason, exercise.id, wrong.detail)
    except Exception as error:
        return Outcome(
            "checker_fault",
            f"the checker itself failed with {type(error).__name__}: {error}. This is a bug in "
            "Nexus Labs, not in your answer; please report it.",
            exercise.id,
        )
    return Outcome("correct", message or "well done.", exercise.id)


def _not_attempted_message(exercise: Exercise) -> str:
    name = exercise.answer_name or "the answer"
    return f"replace ____ in {name} with your answer, then run {exercise.id}.check() again."


class BoundExercise:
    """What the notebook calls: `q1.check()`, `q1.hint()`, `q1.hint(2)`, `q1.solution()`."""

    def __init__(self, exercise: Exercise, lab: Any) -> None:
        self.exercise = exercise
        self.lab = lab
        self._hints_seen = 0

    @property
    def id(self) -> str:
        return self.exercise.id

    @property
    def title(self) -> str:
        return self.exercise.title

    def _lab_slug(self) -> str:
        return getattr(self.lab, "slug", None) or "unknown"

    def _record(self, kind: str, outcome: str | None = None, hint: int | None = None) -> None:
        settings = getattr(self.lab, "settings", None)
        if settings is not None:
            progress.record_safely(settings, self._lab_slug(), self.id, kind, outcome, hint)

    def outcome(self, answer: Any = _MISSING) -> Outcome:
        """The Outcome for `answer` (default: the learner's variable), recorded in progress."""
        if answer is _MISSING:
            answer = self._read_answer(current_user_namespace(depth=2))
        result = evaluate(self.exercise, answer, self.lab)
        self._record("check", result.status)
        return result

    def check(self, answer: Any = _MISSING) -> None:
        """Check your answer and show the result (reads `answer_name` unless given a value)."""
        if answer is _MISSING:
            answer = self._read_answer(current_user_namespace(depth=2))
        show(self.outcome(answer))

    def _read_answer(self, namespace: Mapping[str, Any]) -> Any:
        name = self.exercise.answer_name
        if name and name in namespace:
            return namespace[name]
        return _UNDEFINED

    def hint(self, n: int | None = None) -> None:
        """Show the next hint, or hint number `n` (1-based)."""
        hints = self.exercise.hints
        if not hints:
            show(Hint(self.id, 0, 0, "this exercise has no hints; try "
                      f"{self.id}.solution() if you are stuck."))
            return
        if n is None:
            n = min(self._hints_seen + 1, len(hints))
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(hints):
            show(Hint(self.id, n, len(hints), f"there are hints 1 to {len(hints)} only."))
            return
        self._hints_seen = max(self._hints_seen, n)
        note = ""
        if n == len(hints):
            note = f"That was the last hint; {self.id}.solution() shows the answer."
        show(Hint(self.id, n, len(hints), hints[n - 1], note))
        self._record("hint", hint=n)

    def solution(self) -> None:
        """Show the reference solution (recorded in your progress)."""
        show(Solution(self.id, self.exercise.solution))
        self._record("solution")

    def __repr__(self) -> str:
        return f"{self.id}: {self.title}"


def bind(exercise_cls: type[Exercise], lab: Any) -> BoundExercise:
    """The notebook-facing view of one exercise for one opened lab."""
    return BoundExercise(exercise_cls(), lab)
