"""Measuring what happens: repeated timings with percentiles, speedups, query plans.

Timings are noisy, so labs compare medians and assert ratios with margins, never milliseconds.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one operation, in seconds, with the engine that produced them."""

    label: str
    samples: tuple[float, ...]
    engine: str = ""

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        if len(ordered) == 1:
            return ordered[0]
        rank = (len(ordered) - 1) * p / 100
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples)

    def summary(self) -> str:
        where = f" on {self.engine}" if self.engine else ""
        return (
            f"{self.label}{where}: p50 {format_seconds(self.p50)}, p95 {format_seconds(self.p95)}"
            f" ({len(self.samples)} runs)"
        )

    def __repr__(self) -> str:
        return f"Timing({self.summary()})"


def format_seconds(seconds: float) -> str:
    """Human units: 12.3 µs, 4.56 ms, 1.23 s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def time_it(
    operation: Callable[[], object],
    label: str = "",
    repeat: int = 30,
    warmup: int = 2,
    engine: str = "",
) -> Timing:
    """Run `operation` warmup + repeat times and keep each run's wall time (timeit-style)."""
    for _ in range(warmup):
        operation()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    return Timing(label=label or getattr(operation, "__name__", "operation"),
                  samples=tuple(samples), engine=engine)


def speedup(slow: Timing, fast: Timing) -> float:
    """How many times faster `fast` is than `slow`, by median."""
    return slow.p50 / fast.p50 if fast.p50 > 0 else float("inf")


def timings_table(timings: Sequence[Timing]):
    """A pandas DataFrame of percentiles in milliseconds, one row per timing."""
    import pandas as pd

    return pd.DataFrame(
        {
            "engine": [t.engine for t in timings],
            "p50 ms": [t.p50 * 1e3 for t in timings],
            "p95 ms": [t.p95 * 1e3 for t in timings],
            "runs": [len(t.samples) for t in timings],
        },
        index=[t.label for t in timings],
    ).round(4)


_explain_calls = itertools.count(1)


def explain(engine: Engine, statement: str | sa.TextClause, params: dict | None = None,
            analyze: bool = False) -> str:
    """The query plan as text: EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) or
    plain EXPLAIN on PostgreSQL."""
    text = statement if isinstance(statement, str) else str(statement)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # SQLite plans an EXPLAIN from the connection's copy of the schema and never
            # re-checks it, and Python's sqlite3 caches statements by text: after another
            # connection created or dropped an index, a pooled connection would show the old
            # plan. A real read of sqlite_master refreshes the schema; a per-call comment
            # defeats the statement cache.
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
            rows = connection.execute(
                sa.text(f"EXPLAIN QUERY PLAN {text} /* plan {next(_explain_calls)} */"),
                params or {},
            )
            return "\n".join(str(row[-1]) for row in rows)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
        rows = connection.execute(sa.text(prefix + text), params or {})
        return "\n".join(str(row[0]) for row in rows)
