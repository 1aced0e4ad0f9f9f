"""The exercise engine's own tests: every feedback case a learner can meet."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import ClassVar

import nbformat
import pandas as pd
import pytest

from nexus_labs import ____
from nexus_labs.config import load_settings
from nexus_labs.exercises import checks
from nexus_labs.exercises.core import Exercise, Incorrect, ValueExercise, bind, evaluate
from nexus_labs.exercises.feedback import Hint, Outcome, Solution, status_of_text
from nexus_labs.exercises.progress import ProgressStore, progress_path
from nexus_labs.exercises.testing import answer_from_code, outcome_of

# --- throwaway exercises -------------------------------------------------------------------


class NormalForm(ValueExercise):
    id = "q1"
    title = "Which normal form?"
    answer_name = "answer_nf"
    expected = "2NF"
    normalize = staticmethod(lambda value: str(value).strip().upper())
    hints = ("Look at the key.", "customer_email depends on part of the key.")
    solution = 'answer_nf = "2NF"'
    wrong_answers: ClassVar[dict[str, str]] = {"1NF": "every value is already atomic"}


class RowCount(ValueExercise):
    id = "q2"
    title = "How many rows?"
    answer_name = "answer_count"
    expected = 42
    solution = "answer_count = 42"


class Square(Exercise):
    id = "q3"
    title = "Write square(x)"
    answer_name = "square"
    timeout = 0.5
    solution = "def square(x):\n    return x * x\n"

    def check(self, answer, lab):
        result = self.call(answer, 7)
        checks.expect_type(result, int, "square(7)")
        if result != 49:
            raise Incorrect(f"square(7) returned {result}, expected 49.")


class TopCustomers(Exercise):
    id = "q4"
    title = "Return the customers table"
    answer_name = "top_customers"

    def check(self, answer, lab):
        expected = pd.DataFrame({"customer_id": [1, 2, 3], "total": [30, 20, 10]})
        checks.same_rows(self.call(answer), expected)


class BrokenChecker(Exercise):
    id = "q5"
    title = "A checker with a bug"
    answer_name = "anything"

    def check(self, answer, lab):
        return {}["missing"]


def code_answer(code: str, name: str = "square"):
    return answer_from_code(code, name)


# --- outcomes ------------------------------------------------------------------------------


def test_placeholder_is_not_attempted():
    outcome = outcome_of(NormalForm, ____, None)
    assert outcome.status == "not_attempted"
    assert "answer_nf" in outcome.message


def test_untouched_stub_is_not_attempted():
    stub = code_answer("def square(x):\n    result = x\n    return ____\n")
    outcome = outcome_of(Square, stub, None)
    assert outcome.status == "not_attempted"


def test_text_and_containers_with_placeholder_are_not_attempted():
    assert outcome_of(NormalForm, "SELECT ____ FROM t", None).status == "not_attempted"
    assert outcome_of(NormalForm, [1, ____], None).status == "not_attempted"


def test_correct_value_and_normalized_alternative():
    assert outcome_of(NormalForm, "2NF", None).status == "correct"
    assert outcome_of(NormalForm, " 2nf ", None).status == "correct"


def test_incorrect_value_with_specific_reason():
    outcome = outcome_of(NormalForm, "1nf", None)
    assert outcome.status == "incorrect"
    assert "already atomic" in outcome.message
    generic = outcome_of(NormalForm, "BCNF", None)
    assert generic.status == "incorrect" and "q1.hint()" in generic.message


def test_wrong_type_gets_a_type_message():
    outcome = outcome_of(RowCount, "42", None)
    assert outcome.status == "incorrect"
    assert "should be a number" in outcome.message and "str" in outcome.message
    assert outcome_of(RowCount, 42.0, None).status == "correct"


def test_correct_function():
    assert outcome_of(Square, code_answer("def square(x):\n    return x ** 2\n"), None).passed


def test_learner_exception_shows_learner_line():
    broken = code_answer("def square(x):\n    values = {}\n    return values[x] * x\n")
    outcome = outcome_of(Square, broken, None)
    assert outcome.status == "incorrect"
    assert "raised KeyError: 7" in outcome.message
    assert "line 3 in your cell" in outcome.detail
    assert "return values[x] * x" in outcome.detail
    assert "learner_code.py" not in outcome.text()  # not the engine's traceback


def test_learner_exception_deep_in_library_points_at_learner_line():
    broken = code_answer("import json\ndef square(x):\n    return json.loads('{bad')\n")
    outcome = outcome_of(Square, broken, None)
    assert "JSONDecodeError" in outcome.message
    assert "line 3 in your cell" in outcome.detail and "json.loads" in outcome.detail


def test_none_returned_asks_about_return():
    outcome = outcome_of(Square, code_answer("def square(x):\n    x * x\n"), None)
    assert outcome.status == "incorrect"
    assert "did you forget `return`" in outcome.message.lower()


def test_wrong_return_type():
    outcome = outcome_of(Square, code_answer("def square(x):\n    return str(x * x)\n"), None)
    assert outcome.status == "incorrect"
    assert "should be int" in outcome.message and "str" in outcome.message


def test_not_a_function():
    outcome = outcome_of(Square, 49, None)
    assert outcome.status == "incorrect" and "should be a function" in outcome.message


def test_dataframe_wrong_columns():
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "sum": [30, 20, 10]})
    outcome = outcome_of(TopCustomers, lambda: frame, None)
    assert outcome.status == "incorrect"
    assert "missing column(s) total" in outcome.message
    assert "extra column(s) sum" in outcome.message


def test_dataframe_wrong_rows():
    frame = pd.DataFrame({"total": [30, 20, 99], "customer_id": [1, 2, 3]})
    outcome = outcome_of(TopCustomers, lambda: frame, None)
    assert outcome.status == "incorrect"
    assert "Missing 1 row(s): (3, 10)" in outcome.message
    assert "Unexpected 1 row(s): (3, 99)" in outcome.message


def test_dataframe_rows_in_another_order_pass():
    frame = pd.DataFrame({"total": [10, 30, 20], "customer_id": [3, 1, 2]})
    assert outcome_of(TopCustomers, lambda: frame, None).passed


@pytest.mark.parametrize("body", ["while True:\n        pass", "time.sleep(60)"])
def test_hanging_function_is_stopped_on_main_thread(body):
    hang = code_answer(f"import time\ndef square(x):\n    {body}\n")
    start = time.perf_counter()
    outcome = outcome_of(Square, hang, None)
    assert time.perf_counter() - start < 5
    assert outcome.status == "incorrect"
    assert "time limit" in outcome.message


def test_hanging_function_swallowing_exceptions_is_still_stopped():
    hang = code_answer(
        "def square(x):\n    while True:\n        try:\n            pass\n"
        "        except Exception:\n            pass\n"
    )
    assert "time limit" in outcome_of(Square, hang, None).message


def test_hanging_function_is_stopped_off_the_main_thread():
    hang = code_answer("def square(x):\n    while True:\n        pass\n")
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("o", outcome_of(Square, hang, None)))
    worker.start()
    worker.join(10)
    assert "time limit" in box["o"].message


def test_async_function_is_awaited_and_hang_stopped():
    good = code_answer("import asyncio\nasync def square(x):\n    await asyncio.sleep(0)\n"
                       "    return x * x\n")
    assert outcome_of(Square, good, None).passed
    hang = code_answer("import asyncio\nasync def square(x):\n    await asyncio.sleep(60)\n")
    assert "time limit" in outcome_of(Square, hang, None).message


def test_exception_in_checker_is_a_checker_fault():
    outcome = outcome_of(BrokenChecker, 1, None)
    assert outcome.status == "checker_fault"
    assert "not in your answer" in outcome.message
    assert outcome.text().startswith("Checker fault")


# --- the bound view: check / hint / solution and progress ------------------------------------


@pytest.fixture()
def fake_lab(tmp_path):
    settings = load_settings(env={"NEXUS_HOME": str(tmp_path)})
    return SimpleNamespace(slug="enginetest", settings=settings)


def events(lab):
    return ProgressStore(progress_path(lab.settings)).events()


def test_check_reads_the_answer_from_the_caller_namespace(fake_lab, capsys):
    q1 = bind(NormalForm, fake_lab)
    assert (q1.id, q1.title) == ("q1", "Which normal form?")
    globals().pop("answer_nf", None)
    assert q1.check() is None
    assert capsys.readouterr().out.startswith("Not attempted (q1): answer_nf is not defined")
    globals()["answer_nf"] = "2nf"
    try:
        q1.check()
    finally:
        del globals()["answer_nf"]
    assert capsys.readouterr().out.startswith("Correct (q1)")
    q1.check("3NF")
    assert capsys.readouterr().out.startswith("Incorrect (q1)")
    assert [e[4] for e in events(fake_lab)] == ["not_attempted", "correct", "incorrect"]


def test_hints_and_solution_are_shown_and_recorded(fake_lab, capsys):
    q1 = bind(NormalForm, fake_lab)
    q1.hint()
    assert capsys.readouterr().out.startswith("Hint 1/2 (q1): Look at the key.")
    q1.hint()
    second = capsys.readouterr().out
    assert second.startswith("Hint 2/2 (q1)") and "q1.solution()" in second
    q1.hint(1)
    q1.hint(9)
    assert "hints 1 to 2 only" in capsys.readouterr().out.splitlines()[-1]
    q1.solution()
    assert 'answer_nf = "2NF"' in capsys.readouterr().out
    recorded = [(e[3], e[5]) for e in events(fake_lab)]
    assert recorded == [("hint", 1), ("hint", 2), ("hint", 1), ("solution", None)]
    summary = ProgressStore(progress_path(fake_lab.settings)).summary()[("enginetest", "q1")]
    assert (summary.hints_used, summary.solution_viewed, summary.status) == (2, True, "attempted")


# --- rendering -------------------------------------------------------------------------------


def test_text_rendering_starts_with_exactly_one_label():
    for status, label in [("correct", "Correct"), ("incorrect", "Incorrect"),
                          ("not_attempted", "Not attempted"), ("checker_fault", "Checker fault")]:
        text = Outcome(status, "why <b>", "q7", detail="line 2: x").text()
        assert text.startswith(f"{label} (q7): why <b>")
        assert text.endswith("\n    line 2: x")
        assert status_of_text(text) == status
        assert repr(Outcome(status, "m", "q7")) == f"{label} (q7): m"


def test_html_rendering_is_escaped_and_colour_coded():
    html = Outcome("incorrect", "a < b", "q2", detail="x = {}['k']")._repr_html_()
    assert "nexus-incorrect" in html and "Incorrect (q2)" in html
    assert "a &lt; b" in html and "<pre" in html and "&#x27;k&#x27;" in html
    assert "nexus-hint" in Hint("q1", 1, 2, "look")._repr_html_()
    solution_html = Solution("q1", "def f():\n    return 1\n")._repr_html_()
    assert "nexus-solution" in solution_html and "return" in solution_html


def test_evaluate_never_raises_for_odd_answers():
    class Weird:
        def __eq__(self, other):
            raise RuntimeError("no comparing me")

    outcome = evaluate(NormalForm(), Weird(), None)
    assert outcome.status in ("incorrect", "checker_fault")


# --- inside a real kernel --------------------------------------------------------------------

KERNEL_CELLS = [
    """from types import SimpleNamespace
import time
from nexus_labs import ____
from nexus_labs.config import load_settings
from nexus_labs.exercises.core import Exercise, ValueExercise, bind

class Answer(ValueExercise):
    id = "q1"; title = "t"; answer_name = "answer_q1"; expected = 42

class Slow(Exercise):
    id = "q2"; title = "t"; answer_name = "slow"; timeout = 0.5
    def check(self, answer, lab):
        self.call(answer)

lab = SimpleNamespace(slug="kerneltest", settings=load_settings())
q1, q2 = bind(Answer, lab), bind(Slow, lab)""",
    "answer_q1 = ____",
    "q1.check()",
    "answer_q1 = 42",
    "q1.check()",
    "def slow():\n    time.sleep(60)",
    "q2.check()",
    "def slow():\n    while True:\n        try:\n            time.sleep(60)\n"
    "        except:\n            continue",
    "q2.check()",
]


@pytest.mark.slow
def test_check_in_a_kernel_displays_html_and_stops_hangs(tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in KERNEL_CELLS]
    env = {**__import__("os").environ, "NEXUS_HOME": str(tmp_path)}
    NotebookClient(notebook, timeout=60, kernel_name="python3").execute(env=env)
    outputs = {i: cell.outputs for i, cell in enumerate(notebook.cells)}
    texts = {}
    for index in (2, 4, 6, 8):
        (output,) = outputs[index]
        assert output.output_type == "display_data"
        assert "text/html" in output.data
        texts[index] = output.data["text/plain"]
    assert texts[2].startswith("Not attempted (q1)")
    assert texts[4].startswith("Correct (q1)")
    assert texts[6].startswith("Incorrect (q2)") and "time limit" in texts[6]
    assert texts[8].startswith("Incorrect (q2)") and "time limit" in texts[8]  # bare except


def test_outcome_reads_the_caller_namespace(fake_lab):
    globals()["answer_count"] = 42
    try:
        assert bind(RowCount, fake_lab).outcome().status == "correct"
    finally:
        del globals()["answer_count"]


# --- the time limit's edges: swallowed timeouts, the notebook's own alarm, exit() -------------

SWALLOWING_RETRY_LOOP = """
import sys, time
from nexus_labs.exercises.core import Exercise
from nexus_labs.exercises.testing import answer_from_code, outcome_of

class Fetch(Exercise):
    id = "q1"; answer_name = "fetch"; timeout = 0.5
    def check(self, answer, lab):
        self.call(answer)

retry = answer_from_code(
    "import time\\ndef fetch():\\n    while True:\\n        try:\\n"
    "            return time.sleep(60)\\n        except:  # a bare except in a retry loop\\n"
    "            continue\\n", "fetch")
trace_before = sys.gettrace()
print(outcome_of(Fetch, retry, None).text().splitlines()[0])
print("trace restored:", sys.gettrace() is trace_before)
"""


def test_learner_code_swallowing_the_timeout_with_bare_except_is_still_stopped():
    # In a subprocess: before the fix this hung for ever, which must not hang the suite.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SWALLOWING_RETRY_LOOP], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first, restored = done.stdout.splitlines()
    assert first.startswith("Incorrect (q1)") and "time limit" in first
    assert restored == "trace restored: True"


def test_time_limit_restores_the_notebooks_alarm_handler_and_leaves_no_alarm():
    import signal

    def notebook_handler(signum, frame):
        raise AssertionError("the notebook's handler must not fire during a check")

    previous = signal.signal(signal.SIGALRM, notebook_handler)
    try:
        assert outcome_of(Square, code_answer("def square(x):\n    return x * x\n"), None).passed
        hang = code_answer("def square(x):\n    while True:\n        pass\n")
        assert "time limit" in outcome_of(Square, hang, None).message
        assert signal.getsignal(signal.SIGALRM) is notebook_handler
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_the_notebooks_pending_alarm_is_left_alone():
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        hang = code_answer("def square(x):\n    while True:\n        pass\n")
        assert "time limit" in outcome_of(Square, hang, None).message  # via a worker thread
        remaining, _interval = signal.getitimer(signal.ITIMER_REAL)
        assert 20 < remaining <= 30 and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_alarm_handler_not_set_from_python_does_not_break_the_check(monkeypatch):
    import signal

    real_signal = signal.signal
    calls = []

    def signal_returning_none(signum, handler):
        calls.append(handler)
        real_signal(signum, handler)
        # what signal.signal returns when the previous handler was installed from C
        return None if len(calls) == 1 else signal.SIG_DFL

    previous = signal.getsignal(signal.SIGALRM)
    monkeypatch.setattr(signal, "signal", signal_returning_none)
    try:
        assert outcome_of(Square, code_answer("def square(x):\n    return x * x\n"), None).passed
        assert calls[-1] is signal.SIG_DFL
    finally:
        real_signal(signal.SIGALRM, previous)


def test_learner_calling_exit_is_feedback_not_the_end_of_the_cell():
    outcome = outcome_of(Square, code_answer("import sys\ndef square(x):\n    sys.exit(1)\n"),
                         None)
    assert outcome.status == "incorrect"
    assert "raised SystemExit" in outcome.message
    assert "sys.exit(1)" in outcome.detail


def test_learner_text_is_escaped_in_html_feedback():
    attack = "<script>alert(1)</script>"
    outcome = outcome_of(NormalForm, attack, None)
    assert outcome.status == "incorrect" and attack in outcome.text()
    assert "<script>" not in outcome._repr_html_()
    raising = code_answer(f"def square(x):\n    raise ValueError({attack!r})\n")
    page = outcome_of(Square, raising, None)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_check_records_progress_from_another_thread(fake_lab, recwarn):
    q1 = bind(NormalForm, fake_lab)
    q1.outcome("2NF")
    worker = threading.Thread(target=lambda: q1.outcome("1NF"))
    worker.start()
    worker.join(30)
    assert [e[4] for e in events(fake_lab)] == ["correct", "incorrect"]
    assert not [w for w in recwarn if "Progress not recorded" in str(w.message)]


def test_nested_calls_keep_both_time_limits():
    import signal

    from nexus_labs.exercises.learner_code import call_learner

    hang = code_answer("def inner():\n    while True:\n        pass\n", "inner")
    seen = {}

    def outer():  # e.g. a checker-made callback that runs more learner code
        try:
            call_learner(hang, timeout=0.3)
        except Incorrect as error:
            seen["inner"] = error.reason
        return call_learner(lambda: 6 * 7, timeout=1)

    handler = signal.getsignal(signal.SIGALRM)
    assert call_learner(outer, timeout=5) == 42
    assert "inner did not finish within the 0.3 s time limit" in seen["inner"]
    assert signal.getsignal(signal.SIGALRM) is handler
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_hint_with_a_non_number_is_feedback_not_a_traceback(fake_lab, capsys):
    q1 = bind(NormalForm, fake_lab)
    q1.hint("2")
    q1.hint(1.5)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("hints 1 to 2 only" in line for line in lines)
    assert events(fake_lab) == []
