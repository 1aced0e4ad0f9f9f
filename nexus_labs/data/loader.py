"""Putting the dataset into a lab's database: the marketplace tables and the big table.

Both loaders are idempotent and cheap when the data is already there (one count query), so a
notebook can call them in its setup section on every run.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nexus_labs.data.generate import BIG_STATUS_NAMES, DATE_FORMAT, SEED, big_orders_columns
from nexus_labs.data.schema import big_orders, marketplace_metadata
from nexus_labs.data.shipped import expected_counts, load_frames

BIG_TABLE = big_orders.name
_COPY_CHUNK = 100_000


def _sorted_tables(names: Iterable[str]) -> list[sa.Table]:
    wanted = set(names)
    return [table for table in marketplace_metadata.sorted_tables if table.name in wanted]


def _with_parents(tables: Iterable[str] | None) -> list[str]:
    """The requested tables plus every table their foreign keys point to, parents first."""
    known = marketplace_metadata.tables
    if tables is None:
        return [table.name for table in marketplace_metadata.sorted_tables]
    if isinstance(tables, str):
        tables = [tables]
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise ValueError(f"Unknown marketplace tables {unknown}; known: {sorted(known)}")
    needed: set[str] = set()
    pending = list(tables)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(fk.column.table.name for fk in known[name].foreign_keys)
    return [table.name for table in _sorted_tables(needed)]


def _with_children(names: set[str], existing: set[str]) -> set[str]:
    """names plus every existing marketplace table that (transitively) references one of them."""
    result = set(names)
    changed = True
    while changed:
        changed = False
        for table in marketplace_metadata.sorted_tables:
            if table.name in existing and table.name not in result and any(
                fk.column.table.name in result for fk in table.foreign_keys
            ):
                result.add(table.name)
                changed = True
    return result


def _row_counts(connection: Connection, names: Iterable[str]) -> dict[str, int]:
    """Row counts of the given tables in one round trip."""
    names = list(names)
    if not names:
        return {}
    counts = (
        sa.select(sa.func.count()).select_from(sa.table(name)).scalar_subquery().label(name)
        for name in names
    )
    select = sa.select(*counts)
    return dict(connection.execute(select).one()._mapping)


def _python_rows(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as dicts of plain Python values (datetime, int, None) for any driver."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            columns[name] = [value.to_pydatetime() for value in series]
        elif isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and series.hasnans:
            columns[name] = [None if pd.isna(value) else value for value in series.tolist()]
        else:
            columns[name] = series.tolist()
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(columns, values, strict=True)) for values in rows]


def install_marketplace(
    engine: Engine, tables: Iterable[str] | None = None, *, scale: int = 1
) -> dict[str, int]:
    """Create and load the normalized marketplace tables in the engine's default schema.

    Idempotent: when every requested table (and its foreign-key parents) already holds the
    expected number of rows it returns at once. Otherwise it drops only the marketplace tables
    that are stale (plus marketplace tables referencing them) and reloads those.

    Args:
        engine: the lab's engine (`lab.sql.engine`); on PostgreSQL its search_path is the lab's
            schema, so tables are created unqualified.
        tables: names to install, e.g. ``["orders"]``; their parents come along. None: all.
        scale: 1 for the shipped CSVs, more for a generated marketplace that many times larger.

    Returns:
        {table: row count} for every table installed or found, parents first.
    """
    wanted = _with_parents(tables)
    expected = expected_counts(scale)
    with engine.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names()) & set(marketplace_metadata.tables)
        counts = _row_counts(connection, [name for name in wanted if name in existing])
    stale = {name for name in wanted if counts.get(name) != expected[name]}
    if not stale:
        return {name: counts[name] for name in wanted}
    reload = _with_children(stale, existing)
    frames = load_frames(scale)
    with engine.begin() as connection:
        marketplace_metadata.drop_all(connection, tables=_sorted_tables(reload & existing))
        marketplace_metadata.create_all(connection, tables=_sorted_tables(reload))
        for table in _sorted_tables(reload):
            connection.execute(table.insert(), _python_rows(frames[table.name]))
    with engine.connect() as connection:
        return _row_counts(connection, wanted)


def ensure_big_table(sql_backend, rows: int = 1_000_000, seed: int = SEED) -> str:
    """Build the generated `big_orders` table once per workspace database; return its name.

    If the table already holds `rows` rows it is reused as is (any indexes a lab added stay).
    Otherwise it is dropped and rebuilt with only its primary key: numpy columns loaded by one
    executemany transaction on SQLite, by COPY on PostgreSQL.

    Args:
        sql_backend: the lab's SQL backend (`lab.sql`).
        rows: how many rows; tests use a small number.
        seed: numpy seed; the same rows and seed give the same table.
    """
    engine: Engine = sql_backend.engine
    with engine.connect() as connection:
        exists = sa.inspect(connection).has_table(BIG_TABLE)
        if exists and _row_counts(connection, [BIG_TABLE])[BIG_TABLE] == rows:
            return BIG_TABLE
    columns = big_orders_columns(rows, seed)
    with engine.begin() as connection:
        big_orders.drop(connection, checkfirst=True)
        big_orders.create(connection)
        if engine.dialect.name == "postgresql":
            _copy_postgresql(connection, columns)
    if engine.dialect.name != "postgresql":
        _insert_sqlite(engine, columns)
    return BIG_TABLE


def _insert_sqlite(engine: Engine, columns: dict[str, np.ndarray]) -> None:
    # Python passes numbers only; SQLite builds the text columns in C, about twice as fast as
    # formatting a million timestamps and emails in Python. datetime(..., 'unixepoch') gives
    # the "YYYY-MM-DD HH:MM:SS" text the marketplace timestamps use.
    status = " ".join(f"WHEN {code} THEN '{name}'" for code, name in enumerate(BIG_STATUS_NAMES))
    insert = (
        f"INSERT INTO {BIG_TABLE} VALUES (?1, ?2, CASE ?3 {status} END, "
        "datetime(?4, 'unixepoch'), ?5, 'buyer' || ?1 || '@example.com')"
    )
    values = zip(
        columns["id"].tolist(), columns["customer_id"].tolist(), columns["status_code"].tolist(),
        columns["created_at"].astype(np.int64).tolist(), columns["total_cents"].tolist(),
        strict=True,
    )  # fmt: skip
    raw = engine.raw_connection()
    try:
        sqlite = raw.driver_connection
        synchronous = sqlite.execute("PRAGMA synchronous").fetchone()[0]
        # No fsync while loading generated data we can regenerate; restored right after.
        sqlite.execute("PRAGMA synchronous = OFF")
        try:
            sqlite.executemany(insert, values)
            sqlite.commit()
        finally:
            sqlite.execute(f"PRAGMA synchronous = {int(synchronous)}")
    finally:
        raw.close()


def _copy_postgresql(connection: Connection, columns: dict[str, np.ndarray]) -> None:
    # COPY of tab-separated text written by pandas' C writer: the fastest of the ways measured
    # (per-row write_row, a Python join, a numeric staging table plus INSERT ... SELECT).
    frame = pd.DataFrame({
        "id": columns["id"],
        "customer_id": columns["customer_id"],
        "status": np.array(BIG_STATUS_NAMES, dtype=object)[columns["status_code"]],
        "created_at": columns["created_at"],
        "total_cents": columns["total_cents"],
        "email": [f"buyer{i}@example.com" for i in columns["id"].tolist()],
    })  # fmt: skip
    names = ", ".join(frame.columns)
    # The table was created in this transaction, so FREEZE may skip the hint-bit rewrite that
    # would otherwise slow the lab's first full scan; ANALYZE gives the planner real statistics.
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {BIG_TABLE} ({names}) FROM STDIN WITH (FREEZE)") as copy:
        for start in range(0, len(frame), _COPY_CHUNK):
            buffer = io.StringIO()
            frame.iloc[start : start + _COPY_CHUNK].to_csv(
                buffer, sep="\t", header=False, index=False, date_format=DATE_FORMAT
            )
            copy.write(buffer.getvalue())
    connection.exec_driver_sql(f"ANALYZE {BIG_TABLE}")
