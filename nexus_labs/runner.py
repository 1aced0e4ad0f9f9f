"""`nexus-labs run`: execute lab notebooks headless, in memory, and say which ones work.

The learner's copy is read but never written: outputs stay in memory, so running a lab from
the command line cannot clobber an answer the learner typed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CELL_TIMEOUT = 600


@dataclass(frozen=True)
class RunResult:
    name: str
    ok: bool
    seconds: float
    error: str = ""  # the first line of the failure, when not ok

    def line(self) -> str:
        verdict = "ok" if self.ok else f"failed: {self.error}"
        return f"{self.name:<32} {verdict}  ({self.seconds:.1f} s)"


@contextmanager
def _environment(home: Path | None) -> Iterator[None]:
    # Kernels inherit this process's environment: NEXUS_HOME makes them use the workspace.
    if home is None:
        yield
        return
    previous = os.environ.get("NEXUS_HOME")
    os.environ["NEXUS_HOME"] = str(home.resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("NEXUS_HOME", None)
        else:
            os.environ["NEXUS_HOME"] = previous


def _failing_line(traceback: str) -> str:
    """The source line IPython marks with ----> in the last frame of a traceback."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", traceback)
    marked = [line for line in plain.splitlines() if line.lstrip().startswith("---->")]
    return re.sub(r"^\s*---->\s*\d*\s*", "", marked[-1]).strip() if marked else ""


def _first_error_line(error: BaseException) -> str:
    ename = getattr(error, "ename", None)
    if ename:  # nbclient's CellExecutionError carries the kernel-side exception
        evalue = str(getattr(error, "evalue", "")).strip().splitlines()
        if evalue:
            return f"{ename}: {evalue[0]}"
        # A bare `assert` has no message: the failing line says which claim did not hold.
        line = _failing_line(str(getattr(error, "traceback", "")))
        return f"{ename} at: {line}" if line else ename
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def execute_notebook(
    path: Path, home: Path | None = None, timeout: int = DEFAULT_CELL_TIMEOUT
) -> RunResult:
    """Run every cell of `path` in a fresh kernel, in memory; the file is left untouched."""
    import nbformat

    from nexus_labs.headless import HeadlessClient

    started = time.perf_counter()
    try:
        notebook = nbformat.read(path, as_version=4)
        client = HeadlessClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        with _environment(home):
            client.execute()
    except Exception as error:
        return RunResult(path.name, False, time.perf_counter() - started, _first_error_line(error))
    return RunResult(path.name, True, time.perf_counter() - started)


def run_notebooks(paths: list[Path], home: Path | None = None) -> list[RunResult]:
    """Execute each notebook with a progress bar, printing one line per notebook."""
    from tqdm import tqdm

    results = []
    with tqdm(paths, unit="lab", leave=False) as bar:
        for path in bar:
            bar.set_description(path.stem)
            result = execute_notebook(path, home=home)
            results.append(result)
            bar.write(result.line())
    return results
