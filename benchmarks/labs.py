"""How long each lab takes to run headless, next to the cost of just starting a kernel.

    python benchmarks/labs.py                  # every notebook in notebooks/
    python benchmarks/labs.py --labs 00 caching --repeat 5

Each notebook runs --repeat times (default 3), each time in a fresh kernel, in memory (the
file is not rewritten). The "empty" row is a one-cell notebook: the kernel start floor that
every lab pays. The engines are whatever the NEXUS_* variables select (embedded by default).
Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import sysconfig
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nexus_labs.config import redact_url  # noqa: E402
from nexus_labs.runner import execute_notebook  # noqa: E402


def folder_size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # a file removed while we walk
                total += (Path(folder) / name).lstat().st_size
    return total


def empty_notebook(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("pass"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    path = folder / "empty.ipynb"
    nbformat.write(notebook, path)
    return path


def measure(path: Path, home: Path, repeat: int) -> tuple[list[float], str]:
    seconds, error = [], ""
    for _ in range(repeat):
        result = execute_notebook(path, home=home)
        seconds.append(result.seconds)
        if not result.ok:
            error = result.error
    return seconds, error


def _target_seconds(path: Path) -> float:
    """The lab's own Run All target (its issue's figure), 10 s unless it says otherwise."""
    from nexus_labs.labs.catalog import LABS

    return next((lab.run_all_seconds for lab in LABS if lab.notebook == path.name), 10.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labs", nargs="*", default=[], help="notebook name fragments to run")
    parser.add_argument("--repeat", type=int, default=3, help="executions per notebook")
    parser.add_argument("--home", type=Path, help="workspace (default: NEXUS_HOME or a temp dir)")
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.labs:
        notebooks = [n for n in notebooks if any(part in n.name for part in args.labs)]
    home = args.home or Path(
        os.environ.get("NEXUS_HOME") or tempfile.mkdtemp(prefix="nexus-bench-")
    )
    engines = [f"{k}={redact_url(v)}" for k, v in os.environ.items() if k.endswith("_URL")
               and k.startswith("NEXUS_")]
    print(f"workspace {home}; engines: {', '.join(engines) or 'embedded defaults'}")
    print(f"{args.repeat} runs each, fresh kernel per run; seconds\n")
    header = f"{'notebook':<32} {'median':>7} {'min':>7} {'max':>7} {'minus floor':>11}  note"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as scratch:
        floor_runs, _ = measure(empty_notebook(Path(scratch)), home, args.repeat)
    floor = statistics.median(floor_runs)
    print(f"{'(empty notebook: kernel floor)':<32} {floor:>7.2f} {min(floor_runs):>7.2f} "
          f"{max(floor_runs):>7.2f} {'':>11}")
    for path in notebooks:
        runs, error = measure(path, home, args.repeat)
        median = statistics.median(runs)
        if error:
            note = f"FAILED: {error}"
        else:
            target = _target_seconds(path)
            note = f"target {target:.0f} s" + ("" if median < target else ": OVER")
        print(f"{path.name:<32} {median:>7.2f} {min(runs):>7.2f} {max(runs):>7.2f} "
              f"{median - floor:>11.2f}  {note}", flush=True)
    site = Path(sysconfig.get_paths()["purelib"])
    print(f"\ninstalled environment: {folder_size(site) / 2**20:.0f} MiB in {site}"
          f" ({folder_size(Path(sys.prefix)) / 2**20:.0f} MiB for all of {sys.prefix})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
