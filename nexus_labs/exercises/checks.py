"""Reusable domain checks for exercises. Each raises Incorrect with a reason that names the
difference (which columns, which rows, which plan), or returns what the checker needs next."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from nexus_labs.backends.sql import QueryLog, count_queries
from nexus_labs.exercises.cache_checks import CacheScenario, ScenarioStep, cache_scenario
from nexus_labs.exercises.feedback import Incorrect
from nexus_labs.exercises.learner_code import call_learner, name_of
from nexus_labs.measure import explain

__all__ = [
    "CacheScenario",
    "ScenarioStep",
    "cache_scenario",
    "count_queries_of",
    "expect_type",
    "plan_uses_index",
    "read_learner_sql",
    "runs_concurrently",
    "same_rows",
    "statement_time_limit",
]

SHOWN_ROWS = 3  # how many differing rows a message lists


# --- result sets -------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """One comparable form per value across drivers: 3 == 3.0 == Decimal(3), NaN/NA -> None,
    numpy scalars -> Python, datetimes -> ISO text (SQLite returns text, PostgreSQL datetime)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        with contextlib.suppress(TypeError, ValueError):
            value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() else round(number, 6)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas ships with the package
        pass
    return value


def _table(value: Any, what: str) -> tuple[list[str] | None, list[tuple]]:
    """(column names or None, rows as tuples) from a DataFrame, SQLAlchemy result/rows,
    a list of dicts or a list of tuples."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(value, pd.DataFrame):
        frame = value.reset_index(drop=True)
        columns = [str(c) for c in frame.columns]
        rows = [tuple(_plain(v) for v in row) for row in frame.itertuples(index=False, name=None)]
        return columns, rows
    if hasattr(value, "keys") and hasattr(value, "fetchall"):  # a SQLAlchemy Result
        columns = list(value.keys())
        return columns, [tuple(_plain(v) for v in row) for row in value.fetchall()]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise Incorrect(f"{what} should be a table of rows (a DataFrame or a list of rows), "
                        f"but it is {type(value).__name__}: {value!r:.80}")
    items = list(value)
    if items and all(isinstance(item, dict) for item in items):
        columns = list(items[0].keys())
        return columns, [tuple(_plain(item.get(c)) for c in columns) for item in items]
    if items and all(hasattr(item, "_fields") and hasattr(item, "_mapping") for item in items):
        columns = list(items[0]._fields)
        return columns, [tuple(_plain(v) for v in item) for item in items]
    rows = []
    for item in items:
        if isinstance(item, (str, bytes)) or not isinstance(item, Iterable):
            item = (item,)  # a list of scalars is a one-column table
        rows.append(tuple(_plain(v) for v in item))
    return None, rows


def _show(rows: Iterable[tuple]) -> str:
    rows = list(rows)
    shown = ", ".join(repr(r) for r in rows[:SHOWN_ROWS])
    return shown + (f" (and {len(rows) - SHOWN_ROWS} more)" if len(rows) > SHOWN_ROWS else "")


def same_rows(actual: Any, expected: Any, ordered: bool = False, what: str = "Your result") -> None:
    """Require the same rows, ignoring row order (unless `ordered`) and column order.

    Raises:
        Incorrect: naming missing/extra columns, or the rows missing/unexpected, or the first
            row out of order.
    """
    actual_columns, actual_rows = _table(actual, what)
    expected_columns, expected_rows = _table(expected, "the expected result")
    if actual_columns is not None and expected_columns is not None:
        missing = [c for c in expected_columns if c not in actual_columns]
        extra = [c for c in actual_columns if c not in expected_columns]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"is missing column(s) {', '.join(missing)}")
            if extra:
                parts.append(f"has extra column(s) {', '.join(extra)}")
            raise Incorrect(f"{what} {' and '.join(parts)}. "
                            f"Expected columns: {', '.join(expected_columns)}.")
        positions = [actual_columns.index(c) for c in expected_columns]
        actual_rows = [tuple(row[i] for i in positions) for row in actual_rows]
    widths = {len(row) for row in actual_rows}
    expected_width = len(expected_rows[0]) if expected_rows else None
    if expected_width is not None and widths and widths != {expected_width}:
        names = f" ({', '.join(expected_columns)})" if expected_columns else ""
        raise Incorrect(f"{what} has rows of {sorted(widths)} values; each row should have "
                        f"{expected_width}{names}.")
    have, want = Counter(actual_rows), Counter(expected_rows)
    if have != want:
        missing_rows = list((want - have).elements())
        extra_rows = list((have - want).elements())
        parts = [f"{what} has {len(actual_rows)} rows, expected {len(expected_rows)}."]
        if missing_rows:
            parts.append(f"Missing {len(missing_rows)} row(s): {_show(missing_rows)}.")
        if extra_rows:
            parts.append(f"Unexpected {len(extra_rows)} row(s): {_show(extra_rows)}.")
        raise Incorrect(" ".join(parts))
    if ordered:
        for position, (got, want_row) in enumerate(zip(actual_rows, expected_rows, strict=True)):
            if got != want_row:
                raise Incorrect(f"{what} has the right rows in the wrong order: row "
                                f"{position + 1} is {got!r}, expected {want_row!r}. "
                                "Check the ORDER BY (and its tie-breaker).")


# --- the learner's own SQL ------------------------------------------------------------------


@contextlib.contextmanager
def statement_time_limit(connection: Any, seconds: float):
    """Stop a statement that runs longer than `seconds` (a join without its ON condition):
    SQLite through a progress handler, PostgreSQL through SET LOCAL statement_timeout."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        raw = connection.connection.dbapi_connection
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)  # the connection goes back to the pool
    else:
        if dialect == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        yield


def read_learner_sql(engine: Any, sql: str, timeout: float = 5.0, what: str = "your query",
                     params: dict | None = None) -> Any:
    """Run the learner's SELECT and return its rows as a DataFrame, without letting it change
    the lab's data (the transaction is rolled back) or run for ever (`timeout` seconds).

    Raises:
        Incorrect: the database rejected the query (its first error line), or it ran too long.
    """
    import pandas as pd
    import sqlalchemy as sa

    expect_type(sql, str, f"{what} (SQL in quotes)")
    with engine.connect() as connection:
        try:
            with statement_time_limit(connection, timeout):
                return pd.read_sql(sa.text(sql), connection, params=params)
        except Exception as error:
            message = str(getattr(error, "orig", error)).strip()
            first_line = message.splitlines()[0] if message else type(error).__name__
            if "interrupted" in first_line or "statement timeout" in first_line:
                raise Incorrect(f"{what} did not finish within the {timeout:g} s time limit. "
                                "Is a JOIN missing its ON condition (every row paired with "
                                "every row)?") from None
            raise Incorrect(f"the database rejected {what}: {first_line}") from None
        finally:
            connection.rollback()  # a DELETE or DROP in the answer never reaches the lab


# --- plans and query counts --------------------------------------------------------------

_SQLITE_INDEX = r"\b{verb}\b.*\bUSING (?:COVERING )?INDEX {name}\b"
_SQLITE_ANY = r"\b{verb}\b.*\bUSING (?:(?:COVERING )?INDEX \w+|INTEGER PRIMARY KEY)"
_PG_INDEX = r"\b(?:Index Scan|Index Only Scan|Bitmap Index Scan)\b (?:using|on) {name}\b"


def plan_uses_index(engine: Any, sql: str, index_name: str | None = None,
                    params: dict | None = None, lookup: bool = True) -> bool:
    """True when the query plan of `sql` uses `index_name` (any real index when None).

    SQLite: a SEARCH line naming the index; with `lookup=False` a SCAN that walks the index
    in full (e.g. for ORDER BY, or `lower(email) = ?` over a covering index) counts too.
    Automatic (transient) indexes never count. PostgreSQL: an Index Scan, Index Only Scan or
    Bitmap Index Scan on the index.
    """
    plan = explain(engine, sql, params)
    verb = "SEARCH" if lookup else "(?:SEARCH|SCAN)"
    if engine.dialect.name == "sqlite":
        if index_name:
            pattern = _SQLITE_INDEX.format(verb=verb, name=re.escape(index_name))
        else:
            pattern = _SQLITE_ANY.format(verb=verb)
    else:
        pattern = _PG_INDEX.format(name=re.escape(index_name) if index_name else r"\w+")
    return re.search(pattern, plan, flags=re.IGNORECASE) is not None


def count_queries_of(engine: Any, fn: Callable[[], Any]) -> tuple[Any, QueryLog]:
    """Run `fn()` and return (its result, the QueryLog of statements it sent to `engine`)."""
    with count_queries(engine) as log:
        result = fn()
    return result, log


def expect_type(value: Any, types: type | tuple[type, ...], what: str) -> Any:
    """Require `isinstance(value, types)`; the message names the expected and actual type."""
    if isinstance(value, types):
        return value
    wanted = types if isinstance(types, tuple) else (types,)
    names = " or ".join(t.__name__ for t in wanted)
    if value is None:
        raise Incorrect(f"{what} is None, expected {names}. Did you forget `return`?")
    raise Incorrect(f"{what} should be {names}, but it is {type(value).__name__}: {value!r:.80}")


# --- concurrency ---------------------------------------------------------------------------


def runs_concurrently(async_fn: Callable[..., Any], waits: Sequence[float],
                      args: tuple | None = None, timeout: float | None = None) -> tuple[Any, float]:
    """Run `async_fn(*args)` (default args: `(waits,)`) and require its wall time to be close
    to the longest wait, not their sum. Returns (result, seconds).

    The bar is halfway between the longest wait and the sum, a generous margin for a loaded
    machine that a sequential run still cannot meet.
    """
    longest, total = max(waits), sum(waits)
    args = (list(waits),) if args is None else args
    limit = timeout if timeout is not None else total * 2 + 5
    start = time.perf_counter()
    result = call_learner(async_fn, args, timeout=limit)
    elapsed = time.perf_counter() - start
    if elapsed > longest + (total - longest) / 2:
        raise Incorrect(
            f"{name_of(async_fn)} took {elapsed:.2f} s for {len(waits)} waits adding up to "
            f"{total:.2f} s (longest {longest:.2f} s): they ran one after another. Start them "
            "together (asyncio.gather or a TaskGroup) and make sure nothing blocks the loop "
            "(time.sleep instead of await asyncio.sleep)."
        )
    return result, elapsed
