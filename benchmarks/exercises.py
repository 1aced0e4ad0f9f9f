"""How long `qN.check()` takes, per exercise, measured in the real notebooks.

    python benchmarks/exercises.py             # every notebook with exercise cells
    python benchmarks/exercises.py 00_welcome  # one lab

Each notebook's solved copy runs in a kernel (throwaway NEXUS_HOME, so the answers and the lab
state are exactly what a learner who solved it has); then a last cell times every bound
exercise's full `check()` (reading the answer, checking, rendering, recording progress).
Prints p50/p95 per exercise and its kind: "value" (the answer is a value), "sql" (a SQL
statement the check runs on the real engine) or "code" (a function run through a scenario).
Target: < 200 ms for value exercises.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nexus_labs.exercises.solved import execute, exercise_cells, solved_copy  # noqa: E402
from nexus_labs.measure import Timing, format_seconds  # noqa: E402

TARGET_SECONDS = 0.200
TIMING_CELL = """
import json as _json, time as _time
from IPython.utils.capture import capture_output as _capture
import re as _re
_timings = {}
for _q in lab.exercises:
    _samples = []
    while len(_samples) < 30 and (len(_samples) < 3 or sum(_samples) < 5):
        with _capture():
            _start = _time.perf_counter()
            _q.check()
            _samples.append(_time.perf_counter() - _start)
    _answer = _q._read_answer(globals())
    _is_sql = isinstance(_answer, str) and _re.match(
        r"\\s*(select|with|create|insert|update|delete)\\b", _answer, _re.IGNORECASE)
    _kind = "code" if callable(_answer) else "sql" if _is_sql else "value"
    _timings[_q.id] = {"samples": _samples, "kind": _kind}
print("NEXUS-BENCH " + _json.dumps(_timings))
"""


def time_notebook(path: Path) -> dict:
    notebook = solved_copy(path)
    notebook.cells.append(nbformat.v4.new_code_cell(TIMING_CELL))
    with tempfile.TemporaryDirectory(prefix="nexus-bench-", ignore_cleanup_errors=True) as home:
        execute(notebook, Path(home), cwd=path.parent, allow_errors=False)
    for output in notebook.cells[-1].outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith("NEXUS-BENCH "):
                return json.loads(line.removeprefix("NEXUS-BENCH "))
    raise RuntimeError(f"{path.name}: the timing cell printed nothing")


def engine_overhead(runs: int = 200) -> Timing:
    """check() of a trivial value exercise: reading, comparing, rendering, recording."""
    import contextlib
    import io
    from types import SimpleNamespace

    from nexus_labs.config import load_settings
    from nexus_labs.exercises.core import ValueExercise, bind

    class Trivial(ValueExercise):
        id = "q1"
        title = "trivial"
        answer_name = "answer_q1"
        expected = 42

    samples = []
    with tempfile.TemporaryDirectory(prefix="nexus-bench-") as home:
        lab = SimpleNamespace(slug="benchmark", settings=load_settings(env={"NEXUS_HOME": home}))
        exercise = bind(Trivial, lab)
        for _ in range(runs):
            with contextlib.redirect_stdout(io.StringIO()):
                start = time.perf_counter()
                exercise.check(42)
                samples.append(time.perf_counter() - start)
    return Timing("engine overhead (trivial value exercise, progress recorded)", tuple(samples))


def main(names: list[str]) -> int:
    print(engine_overhead().summary() + "\n")
    paths = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb"))
             if exercise_cells(nbformat.read(p, as_version=4))
             and (not names or any(p.stem.startswith(n) for n in names))]
    print(f"{'lab':<24} {'exercise':<8} {'kind':<6} {'p50':>10} {'p95':>10} {'runs':>5}  target")
    slow_values = failed = 0
    for path in paths:
        try:
            results = time_notebook(path)
        except Exception as error:
            print(f"{path.stem:<24} failed: {type(error).__name__}: {error}".splitlines()[0])
            failed += 1
            continue
        for exercise, result in results.items():
            timing = Timing(exercise, tuple(result["samples"]))
            verdict = ""
            if result["kind"] == "value":
                verdict = "ok" if timing.p95 < TARGET_SECONDS else "SLOW (> 200 ms)"
                slow_values += timing.p95 >= TARGET_SECONDS
            print(f"{path.stem:<24} {exercise:<8} {result['kind']:<6} "
                  f"{format_seconds(timing.p50):>10} {format_seconds(timing.p95):>10} "
                  f"{len(timing.samples):>5}  {verdict}")
    print(f"\nvalue exercises over the 200 ms target (p95): {slow_values}")
    if failed:
        print(f"notebooks that could not be timed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
