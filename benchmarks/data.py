"""Seconds to build the dataset in a database: the 1M-row big table and the marketplace tables.

    .venv/bin/python benchmarks/data.py [--rows 1000000] [--repeat 3]

Always measures SQLite (a throwaway workspace in a temporary folder); also PostgreSQL when
NEXUS_DATABASE_URL is set (a throwaway schema, dropped at the end). "cold" builds from nothing,
"warm" is the second call that finds the data already there. Figures, not pass/fail.
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


def _seconds(action, *args) -> float:
    started = time.perf_counter()
    action(*args)
    return time.perf_counter() - started


def _backend(home: str, url: str | None, run: int) -> SqlBackend:
    env = {"NEXUS_HOME": home, "NEXUS_NAMESPACE": "databench"}
    if url:
        env["NEXUS_DATABASE_URL"] = url
    return connect_sql(f"run{os.getpid()}_{run}", load_settings(env))


def measure(url: str | None, rows: int, repeat: int) -> dict[str, list[float]]:
    """Cold and warm seconds per run, each run in a fresh database."""
    figures: dict[str, list[float]] = {
        "big cold": [], "big warm": [], "marketplace cold": [], "marketplace warm": [],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as home:
        for run in range(repeat):
            backend = _backend(home, url, run)
            try:
                for phase in ("cold", "warm"):
                    seconds = _seconds(data.ensure_big_table, backend, rows)
                    figures[f"big {phase}"].append(seconds)
                for phase in ("cold", "warm"):
                    seconds = _seconds(data.install_marketplace, backend.engine)
                    figures[f"marketplace {phase}"].append(seconds)
            finally:
                backend.drop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data.load_frames()  # read the CSVs once, outside the timings, as a running kernel would have
    generate = [_seconds(big_orders_columns, args.rows) for _ in range(args.repeat)]
    print(f"big_orders, {args.rows:,} rows; median of {args.repeat} runs (min-max), seconds")
    print(f"  {'numpy generation only':<32} {statistics.median(generate):7.3f}")
    engines = [("SQLite", None)]
    if os.environ.get("NEXUS_DATABASE_URL"):
        engines.append(("PostgreSQL", os.environ["NEXUS_DATABASE_URL"]))
    for engine_name, url in engines:
        for what, values in measure(url, args.rows, args.repeat).items():
            label = f"{engine_name} {what}"
            print(f"  {label:<32} {statistics.median(values):7.3f}"
                  f"   ({min(values):.3f}-{max(values):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
