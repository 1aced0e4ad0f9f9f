"""Seconds to build the dataset in a database: the 1M-row big table and the marketplace tables.

    .venv/bin/python benchmarks/data.py [--rows 1000000] [--repeat 3]

Always measures SQLite (a throwaway workspace in a temporary folder); also PostgreSQL when
NEXUS_DATABASE_URL is set (a throwaway schema, dropped at the end). "cold" builds from nothing,
"warm" is the second call that finds the data already there. Wall seconds, and this process's
CPU seconds next to them: on a busy machine the wall time grows, the CPU time much less (for
PostgreSQL the server's own work is not in it). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from nexus_labs import data
from nexus_labs.backends.sql import SqlBackend, connect_sql
from nexus_labs.config import load_settings
from nexus_labs.data.generate import big_orders_columns

Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process)


def _timed(action, *args) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    action(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def _backend(home: str, url: str | None, run: int) -> SqlBackend:
    env = {"NEXUS_HOME": home, "NEXUS_NAMESPACE": "databench"}
    if url:
        env["NEXUS_DATABASE_URL"] = url
    return connect_sql(f"run{os.getpid()}_{run}", load_settings(env))


def measure(url: str | None, rows: int, repeat: int) -> dict[str, list[Timing]]:
    """Cold and warm timings per run, each run in a fresh database."""
    figures: dict[str, list[Timing]] = {
        "big cold": [], "big warm": [], "marketplace cold": [], "marketplace warm": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as home:
        for run in range(repeat):
            backend = _backend(home, url, run)
            try:
                for phase in ("cold", "warm"):
                    figures[f"big {phase}"].append(_timed(data.ensure_big_table, backend, rows))
                for phase in ("cold", "warm"):
                    timing = _timed(data.install_marketplace, backend.engine)
                    figures[f"marketplace {phase}"].append(timing)
            finally:
                backend.drop()
    return figures


def _row(label: str, timings: list[Timing]) -> str:
    walls = [wall for wall, _ in timings]
    cpu = statistics.median(cpu for _, cpu in timings)
    return (f"  {label:<30} {statistics.median(walls):8.3f}  ({min(walls):.3f}-{max(walls):.3f})"
            f"  cpu {cpu:7.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data.load_frames()  # read the CSVs once, outside the timings, as a running kernel would have
    print(f"big_orders {args.rows:,} rows, marketplace scale 1; median of {args.repeat} runs "
          f"(min-max) in wall seconds; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    generation = [_timed(big_orders_columns, args.rows) for _ in range(args.repeat)]
    print(_row("numpy generation only", generation))
    engines = [("SQLite", None)]
    if os.environ.get("NEXUS_DATABASE_URL"):
        engines.append(("PostgreSQL", os.environ["NEXUS_DATABASE_URL"]))
    for engine_name, url in engines:
        for what, timings in measure(url, args.rows, args.repeat).items():
            print(_row(f"{engine_name} {what}", timings))


if __name__ == "__main__":
    main()
