"""Pagination for lab 03: OFFSET pages vs keyset (seek) pages.

OFFSET n makes the engine produce and throw away n rows, so deep pages cost more and more;
a keyset page seeks to the last row seen through an index and reads only the page. The small
`lab_feed` table (with deliberate ties on created_at) shows correctness: OFFSET pages skip or
repeat rows when rows arrive between page loads, and keyset needs a unique tie-breaker.
"""

from __future__ import annotations

import sqlalchemy as sa

from nexus_labs.measure import Timing, time_it

PAGE_SIZE = 20
OFFSET_SQL = "SELECT id, total_cents FROM big_orders ORDER BY id LIMIT :size OFFSET :offset"
KEYSET_SQL = "SELECT id, total_cents FROM big_orders WHERE id > :after ORDER BY id LIMIT :size"


def offset_page(connection, offset: int, size: int = PAGE_SIZE) -> list[tuple]:
    return [tuple(r) for r in connection.execute(sa.text(OFFSET_SQL),
                                                 {"size": size, "offset": offset})]


def keyset_page(connection, after: int, size: int = PAGE_SIZE) -> list[tuple]:
    return [tuple(r) for r in connection.execute(sa.text(KEYSET_SQL),
                                                 {"size": size, "after": after})]


def time_pages(engine: sa.Engine, depths=(0, 10_000, 100_000, 400_000, 900_000),
               repeat: int = 5):
    """p50 ms of the page at each depth, OFFSET vs keyset, as a DataFrame. Both must return the
    same rows at every depth (asserted here: a fast wrong page is no page)."""
    import pandas as pd

    engine_name = engine.dialect.name
    records = []
    with engine.connect() as connection:
        first_ids = {d: connection.scalar(sa.text(
            "SELECT id FROM big_orders ORDER BY id LIMIT 1 OFFSET :d"), {"d": d}) for d in depths}
        for depth in depths:
            after = first_ids[depth] - 1  # the id the previous page ended on
            assert offset_page(connection, depth) == keyset_page(connection, after)
            offset: Timing = time_it(lambda d=depth: offset_page(connection, d), f"OFFSET {depth}",
                                     repeat=repeat, warmup=1, engine=engine_name)
            keyset: Timing = time_it(lambda a=after: keyset_page(connection, a),
                                     f"keyset {depth}", repeat=repeat, warmup=1,
                                     engine=engine_name)
            records.append({"depth": depth, "offset_ms": offset.p50 * 1e3,
                            "keyset_ms": keyset.p50 * 1e3})
    return pd.DataFrame(records)


def plot_pages(frame, engine_name: str = ""):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.5, 3.6))
    axes.plot(frame["depth"], frame["offset_ms"], marker="o", label="LIMIT … OFFSET depth")
    axes.plot(frame["depth"], frame["keyset_ms"], marker="o", label="WHERE id > last LIMIT …")
    axes.set(xlabel="rows before the page (depth)", ylabel="p50 ms per page",
             title=f"Page time against depth {engine_name}")
    axes.legend()
    figure.tight_layout()
    return figure


# --- The small feed table: ties, inserts between page loads --------------------------------

FEED_TABLE = "lab_feed"
FEED_ROWS = 23
FEED_TIES = 4  # rows share a created_at in groups of this size, so page edges fall in ties


def reset_feed(engine: sa.Engine) -> list[tuple[int, str]]:
    """(Re)create lab_feed: FEED_ROWS posts whose created_at values repeat in groups of
    FEED_TIES. Returns all rows in feed order (created_at, id)."""
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FEED_TABLE}")
        connection.exec_driver_sql(
            f"CREATE TABLE {FEED_TABLE} (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, "
            "title TEXT NOT NULL)"
        )
        # ids are shuffled against time, so id order is not feed order.
        rows = [
            {"id": (n * 7) % 97 + 1, "created_at": f"2026-01-01 10:{n // FEED_TIES:02d}:00",
             "title": f"post {n}"}
            for n in range(FEED_ROWS)
        ]
        connection.execute(
            sa.text(f"INSERT INTO {FEED_TABLE} (id, created_at, title) "
                    "VALUES (:id, :created_at, :title)"),
            rows,
        )
    return feed_rows(engine)


def feed_rows(engine: sa.Engine) -> list[tuple[int, str]]:
    """Every feed row in the feed's order: created_at, then id as the tie-breaker."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            f"SELECT id, created_at FROM {FEED_TABLE} ORDER BY created_at, id"))
        return [tuple(r) for r in rows]


def walk_pages(engine: sa.Engine, sql: str, size: int = 5, limit: int = 100) -> list[tuple]:
    """Follow keyset pages of `sql` (params :last_created_at, :last_id, :size; first page with
    the smallest possible key) until a page comes back short; all rows in the order seen."""
    seen: list[tuple] = []
    last = ("", -1)
    with engine.connect() as connection:
        for _ in range(limit):
            page = [tuple(r)[:2] for r in connection.execute(sa.text(sql), {
                "last_created_at": last[0], "last_id": last[1], "size": size})]
            seen.extend(page)
            if len(page) < size:
                break
            last = (page[-1][1], page[-1][0])
    return seen
