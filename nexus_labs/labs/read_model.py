"""Lab 01 teaching code, denormalization: the `order_history` read model and what it costs.
Its one job is the deliberate copy the lab puts back for speed: the read model table (the order
history page's rows precomputed, indexed for the page's sort), the two page queries (the
five-table join over the tables of `normalization`, and the read model), filling the read model,
the per-dialect trigger that keeps its copied product names in step, and the interleaved timing
of both pages on the lab's engine (round trip and, on PostgreSQL, server execution time).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nexus_labs.labs.normalization import (
    READ_MODEL,
    _analyze,
    as_text_times,
    categories,
    order_items,
    orders,
    products,
    sellers,
)
from nexus_labs.measure import Timing

read_models = sa.MetaData()
order_history = sa.Table(
    READ_MODEL, read_models,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("product_id", sa.Integer, primary_key=True, index=True),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("ordered_at", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("product_name", sa.Text, nullable=False),  # copied from products
    sa.Column("category_name", sa.Text, nullable=False),  # copied from categories
    sa.Column("seller_name", sa.Text, nullable=False),  # copied from sellers
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", sa.Integer, nullable=False),
    # Matches the page's ORDER BY, so a page is one index range read that stops after LIMIT.
    sa.Index("ix_order_history_page", "customer_id", "ordered_at", "order_id", "product_id"),
)

# The order history page: one customer's 20 newest lines, with the names a page shows.
HISTORY_NORMALIZED = sa.text("""
SELECT o.order_id, o.ordered_at, o.status, p.product_name, c.category_name, s.seller_name,
       i.quantity, i.unit_price_cents
FROM orders o
JOIN order_items i ON i.order_id = o.order_id
JOIN products p ON p.product_id = i.product_id
JOIN categories c ON c.category_id = p.category_id
JOIN sellers s ON s.seller_id = p.seller_id
WHERE o.customer_id = :customer_id
ORDER BY o.ordered_at DESC, o.order_id DESC, i.product_id DESC
LIMIT 20
""")
HISTORY_READ_MODEL = sa.text(f"""
SELECT order_id, ordered_at, status, product_name, category_name, seller_name,
       quantity, unit_price_cents
FROM {READ_MODEL}
WHERE customer_id = :customer_id
ORDER BY ordered_at DESC, order_id DESC, product_id DESC
LIMIT 20
""")


def create_read_model(engine: Engine) -> int:
    """(Re)create `order_history`, the page's rows precomputed, and fill it from the joins."""
    select = sa.select(
        orders.c.order_id, order_items.c.product_id, orders.c.customer_id, orders.c.ordered_at,
        orders.c.status, products.c.product_name, categories.c.category_name,
        sellers.c.seller_name, order_items.c.quantity, order_items.c.unit_price_cents,
    ).select_from(orders.join(order_items).join(products).join(categories).join(sellers))
    with engine.begin() as connection:
        read_models.drop_all(connection, checkfirst=True)
        read_models.create_all(connection)
        connection.execute(order_history.insert().from_select(
            [c.name for c in select.selected_columns], select))
        _analyze(connection, [READ_MODEL])
        return connection.execute(sa.select(sa.func.count()).select_from(order_history)).scalar()


def rename_trigger_sql(dialect: str) -> list[str]:
    """DDL for a trigger copying a product rename into the read model, per dialect."""
    if dialect == "sqlite":
        return [
            "DROP TRIGGER IF EXISTS product_renamed",
            f"""CREATE TRIGGER product_renamed AFTER UPDATE OF product_name ON products
            FOR EACH ROW WHEN NEW.product_name IS NOT OLD.product_name
            BEGIN
                UPDATE {READ_MODEL} SET product_name = NEW.product_name
                WHERE product_id = NEW.product_id;
            END""",
        ]
    if dialect == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION copy_product_name() RETURNS trigger AS $$
            BEGIN
                UPDATE {READ_MODEL} SET product_name = NEW.product_name
                WHERE product_id = NEW.product_id;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""",
            "DROP TRIGGER IF EXISTS product_renamed ON products",
            """CREATE TRIGGER product_renamed AFTER UPDATE OF product_name ON products
            FOR EACH ROW WHEN (NEW.product_name IS DISTINCT FROM OLD.product_name)
            EXECUTE FUNCTION copy_product_name()""",
        ]
    raise ValueError(f"No trigger syntax for {dialect!r} here: use an application write path.")


def install_rename_trigger(engine: Engine) -> None:
    """Keep `order_history.product_name` in step with `products` inside the database."""
    with engine.begin() as connection:
        for statement in rename_trigger_sql(engine.dialect.name):
            connection.exec_driver_sql(statement)


def history_frame(flat: pd.DataFrame) -> pd.DataFrame:
    """The rows of the `order_history` read model, from the flat export."""
    return as_text_times(flat)[[c.name for c in order_history.columns]]


def time_interleaved(operations: dict[str, Callable[[], object]], repeat: int = 300,
                     warmup: int = 5, engine: str = "") -> list[Timing]:
    """Like `measure.time_it` for several operations, but alternating them run by run, so a
    burst of load on a shared machine hits all of them alike and their ratio stays fair."""
    for _ in range(warmup):
        for operation in operations.values():
            operation()
    samples: dict[str, list[float]] = {label: [] for label in operations}
    for _ in range(repeat):
        for label, operation in operations.items():
            start = time.perf_counter()
            operation()
            samples[label].append(time.perf_counter() - start)
    return [Timing(label=label, samples=tuple(values), engine=engine)
            for label, values in samples.items()]


def time_pages(connection: Connection, statements: dict[str, sa.TextClause],
               customers: Sequence[int], repeat: int = 200) -> tuple[list[Timing], list[Timing]]:
    """Time the order history page per statement, interleaved: (round trip, engine work).

    Round trip is what the endpoint waits for. Engine work is the database's own execution
    time: on PostgreSQL the server's "Execution Time" from EXPLAIN ANALYZE (a loaded client
    machine cannot blur it); SQLite runs inside this process, so its round trip is its work.
    """
    dialect = connection.dialect.name

    def page(statement: sa.TextClause) -> Callable[[], object]:
        ids = itertools.cycle(customers)
        return lambda: connection.execute(statement, {"customer_id": next(ids)}).all()

    round_trip = time_interleaved({label: page(stmt) for label, stmt in statements.items()},
                                  repeat=repeat, engine=dialect)
    if dialect != "postgresql":
        return round_trip, round_trip
    samples: dict[str, list[float]] = {label: [] for label in statements}
    ids = itertools.cycle(customers)
    for _ in range(repeat):
        params = {"customer_id": next(ids)}
        for label, statement in statements.items():
            plan = connection.execute(sa.text(
                "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + statement.text), params).scalar()
            samples[label].append(plan[0]["Execution Time"] / 1000)  # ms -> s
    work = [Timing(label=label, samples=tuple(values), engine="postgresql server")
            for label, values in samples.items()]
    return round_trip, work
