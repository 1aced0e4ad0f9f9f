"""Indexes and plans for lab 03: read a plan's shape, create and drop the lab's own indexes,
measure the write cost of extra indexes.

Plan wording differs between engines and between SQLite versions ("SCAN TABLE t" became
"SCAN t" in 3.36), so plans are matched with regexes on the words that matter:
SQLite SCAN / SEARCH ... USING [COVERING] INDEX name; PostgreSQL Seq Scan / Index Scan /
Bitmap Index Scan / Index Only Scan.
Every index the lab creates is named `ix_lab_*`, so `drop_lab_indexes` can put the table
back as it was without touching anything else.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from nexus_labs.measure import explain

LAB_PREFIX = "ix_lab_"

_SQLITE_SEARCH = re.compile(r"\bSEARCH (?:TABLE )?(\w+) USING (COVERING )?INDEX (\w+)")
_SQLITE_SCAN = re.compile(r"\bSCAN (?:TABLE )?(\w+)(?: USING (COVERING )?INDEX (\w+))?")
_PG_INDEX = re.compile(r"\b(Index Only Scan|Index Scan|Bitmap Index Scan) (?:Backward )?"
                       r"(?:using|on) (\w+)")
_PG_SEQ = re.compile(r"\bSeq Scan on (\w+)")
_SORT = re.compile(r"USE TEMP B-TREE FOR (?:ORDER BY|RIGHT PART OF ORDER BY)|^\s*(?:->\s*)?"
                   r"(?:Incremental )?Sort\b", re.MULTILINE)


@dataclass(frozen=True)
class PlanShape:
    """What a plan does with a table: full "scan" or index "search", with which index."""

    access: str  # "search" (index lookup/range), "scan" (reads every row or index entry)
    index: str | None  # the index used, if any
    covering: bool  # answered from the index alone (no table lookups)
    sorts: bool  # an explicit sort step (SQLite temp B-tree, PostgreSQL Sort node)
    text: str

    def __str__(self) -> str:
        how = f"{self.access.upper()}"
        if self.index:
            how += f" using {'covering ' if self.covering else ''}index {self.index}"
        return how + (" + sort" if self.sorts else "")


def plan_shape(plan: str, table: str = "big_orders") -> PlanShape:
    """Classify the plan text of `measure.explain` for `table` (either engine)."""
    sorts = bool(_SORT.search(plan))
    for match in _SQLITE_SEARCH.finditer(plan):
        if match.group(1) == table:
            return PlanShape("search", match.group(3), bool(match.group(2)), sorts, plan)
    for match in _SQLITE_SCAN.finditer(plan):
        if match.group(1) == table:
            return PlanShape("scan", match.group(3), bool(match.group(2)), sorts, plan)
    if match := _PG_INDEX.search(plan):
        kind, name = match.groups()
        # Without an Index Cond the index is only walked in order, every entry of it: a scan.
        access = "search" if "Index Cond" in plan else "scan"
        return PlanShape(access, name, kind == "Index Only Scan", sorts, plan)
    if _PG_SEQ.search(plan):
        return PlanShape("scan", None, False, sorts, plan)
    raise ValueError(f"cannot read this plan for table {table}:\n{plan}")




def shape_of(engine: sa.Engine, sql: str, params: dict | None = None) -> PlanShape:
    """The plan shape of `sql` on `engine` (EXPLAIN only, the query is not run)."""
    return plan_shape(explain(engine, sql, params))


def lab_indexes(engine: sa.Engine, table: str = "big_orders") -> list[str]:
    """The `ix_lab_*` indexes currently on `table`."""
    # The catalogs, not the inspector: SQLAlchemy skips expression indexes like lower(email).
    if engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"
    else:
        sql = ("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
               "AND tablename = :table")
    with engine.connect() as connection:
        names = connection.execute(sa.text(sql), {"table": table}).scalars().all()
    return sorted(name for name in names if name.startswith(LAB_PREFIX))


def drop_lab_indexes(engine: sa.Engine, table: str = "big_orders") -> list[str]:
    """Drop every `ix_lab_*` index on `table`, so a rerun starts from the bare table."""
    dropped = lab_indexes(engine, table)
    with engine.begin() as connection:
        for name in dropped:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    return dropped


def create_index(engine: sa.Engine, name: str, table: str, columns: str) -> float:
    """CREATE INDEX name ON table (columns); returns the seconds it took (a sort of the table).
    On PostgreSQL the table is ANALYZEd afterwards so the planner knows what it has."""
    if not name.startswith(LAB_PREFIX):
        raise ValueError(f"lab indexes are named {LAB_PREFIX}*, got {name!r}")
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
    seconds = time.perf_counter() - start
    analyze(engine, table)
    return seconds


@contextmanager
def temporary_index(engine: sa.Engine, name: str, table: str, columns: str) -> Iterator[None]:
    """The index exists inside the block; dropped afterwards if this block created it."""
    created = name not in lab_indexes(engine, table)
    if created:
        create_index(engine, name, table, columns)
    try:
        yield
    finally:
        if created:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def analyze(engine: sa.Engine, table: str = "big_orders", vacuum: bool = False) -> None:
    """PostgreSQL: refresh planner statistics (and the visibility map with `vacuum`, which
    Index Only Scans need). SQLite plans here without statistics: nothing to do."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"{'VACUUM ' if vacuum else ''}ANALYZE {table}")


# --- Write cost -----------------------------------------------------------------------------

WRITE_COST_TABLE = "lab_write_cost"
WRITE_COST_SOURCE = "lab_write_source"
WRITE_COST_INDEXES = (
    ("customer_id",),
    ("email",),
    ("total_cents",),
    ("status", "created_at"),
    ("created_at", "customer_id"),
)


def insert_seconds(engine: sa.Engine, index_count: int) -> float:
    """Time one INSERT ... SELECT of the source rows into an empty copy table that carries the
    first `index_count` indexes of WRITE_COST_INDEXES. Server-side, so the time is the
    engine's work: row writes plus one B-tree insert per index per row."""
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {WRITE_COST_TABLE}")
        connection.exec_driver_sql(
            f"CREATE TABLE {WRITE_COST_TABLE} AS SELECT * FROM {WRITE_COST_SOURCE} WHERE 1 = 0"
        )
        for number, columns in enumerate(WRITE_COST_INDEXES[:index_count]):
            connection.exec_driver_sql(
                f"CREATE INDEX {LAB_PREFIX}write_{number} ON {WRITE_COST_TABLE} "
                f"({', '.join(columns)})"
            )
    with engine.begin() as connection:
        start = time.perf_counter()
        connection.exec_driver_sql(f"INSERT INTO {WRITE_COST_TABLE} SELECT * FROM "
                                   f"{WRITE_COST_SOURCE}")
        seconds = time.perf_counter() - start
    return seconds


def write_cost(engine: sa.Engine, counts=(0, 1, 3, 5), rows: int = 20_000, repeat: int = 3):
    """Median time to insert `rows` rows (a spread-out sample of big_orders) per number of
    indexes, as a pandas DataFrame. Both helper tables are dropped afterwards."""
    import statistics

    import pandas as pd

    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {WRITE_COST_SOURCE}")
            # Customer ids, emails (as text) and totals arrive in no useful order, as real
            # inserts do, so each index insert lands somewhere random in its B-tree.
            connection.execute(sa.text(  # text(): psycopg would read % as a placeholder
                f"CREATE TABLE {WRITE_COST_SOURCE} AS SELECT * FROM big_orders "
                f"WHERE id <= {int(rows) * 7} AND id % 7 = 0"
            ))
        medians = [
            statistics.median(insert_seconds(engine, count) for _ in range(repeat))
            for count in counts
        ]
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {WRITE_COST_TABLE}")
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {WRITE_COST_SOURCE}")
    return pd.DataFrame(
        {"indexes": list(counts), "ms": [m * 1e3 for m in medians],
         "rows_per_s": [rows / m for m in medians]}
    )
