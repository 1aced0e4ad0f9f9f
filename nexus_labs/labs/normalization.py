"""Lab 01 teaching code: the flat export in a table, its normalized decomposition as SQLAlchemy
tables, the denormalized read model and the trigger that keeps it in step.

Every table here belongs to this lab (its SQLite file or PostgreSQL schema); `reset_tables`
drops only these, by name.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nexus_labs.data.shipped import TAG_SEPARATOR
from nexus_labs.labs.functional_deps import FD, closure
from nexus_labs.measure import Timing

FLAT_TABLE = "order_lines_flat"
READ_MODEL = "order_history"

# The rules of the business, as a designer would state them. Discovery on the data must agree
# with every one of them (the notebook asserts it); it also finds accidental ones.
BUSINESS_FDS: tuple[FD, ...] = (
    *(FD.of("order_id", a) for a in ("ordered_at", "status", "customer_id")),
    *(FD.of("customer_id", a) for a in ("customer_name", "customer_email", "customer_city")),
    FD.of("customer_email", "customer_id"),
    *(FD.of("product_id", a) for a in ("product_name", "category_id", "seller_id")),
    FD.of("category_id", "category_name"),
    *(FD.of("seller_id", a) for a in ("seller_name", "seller_email")),
    FD.of("seller_email", "seller_id"),
    *(FD.of(["order_id", "product_id"], a) for a in ("quantity", "unit_price_cents")),
)

# The decomposition, one normal form at a time (columns of the flat export, tags split off).
STEP_2NF: dict[str, list[str]] = {
    "order_lines": ["order_id", "product_id", "quantity", "unit_price_cents"],
    "orders_wide": ["order_id", "ordered_at", "status", "customer_id", "customer_name",
                    "customer_email", "customer_city"],
    "products_wide": ["product_id", "product_name", "category_id", "category_name",
                      "seller_id", "seller_name", "seller_email"],
}
STEP_3NF: dict[str, list[str]] = {
    "order_items": ["order_id", "product_id", "quantity", "unit_price_cents"],
    "orders": ["order_id", "ordered_at", "status", "customer_id"],
    "customers": ["customer_id", "customer_name", "customer_email", "customer_city"],
    "products": ["product_id", "product_name", "category_id", "seller_id"],
    "categories": ["category_id", "category_name"],
    "sellers": ["seller_id", "seller_name", "seller_email"],
}

normalized = sa.MetaData()
customers = sa.Table(
    "customers", normalized,
    sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("customer_email", sa.Text, nullable=False, unique=True),
    sa.Column("customer_city", sa.Text),
)
sellers = sa.Table(
    "sellers", normalized,
    sa.Column("seller_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seller_name", sa.Text, nullable=False),
    sa.Column("seller_email", sa.Text, nullable=False, unique=True),
)
categories = sa.Table(
    "categories", normalized,
    sa.Column("category_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("category_name", sa.Text, nullable=False),
)
products = sa.Table(
    "products", normalized,
    sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("product_name", sa.Text, nullable=False),
    sa.Column("category_id", sa.ForeignKey("categories.category_id"), nullable=False),
    sa.Column("seller_id", sa.ForeignKey("sellers.seller_id"), nullable=False),
)
product_tags = sa.Table(
    "product_tags", normalized,
    sa.Column("product_id", sa.ForeignKey("products.product_id"), primary_key=True),
    sa.Column("tag", sa.Text, primary_key=True),
)
orders = sa.Table(
    "orders", normalized,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("ordered_at", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("customer_id", sa.ForeignKey("customers.customer_id"), nullable=False, index=True),
)
order_items = sa.Table(
    "order_items", normalized,
    sa.Column("order_id", sa.ForeignKey("orders.order_id"), primary_key=True),
    sa.Column("product_id", sa.ForeignKey("products.product_id"), primary_key=True, index=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", sa.Integer, nullable=False),
)

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


def _sql_type(series: pd.Series) -> sa.types.TypeEngine:
    if pd.api.types.is_bool_dtype(series):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(series):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(series):
        return sa.Float()
    return sa.Text()


def as_text_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO text, so SQLite and PostgreSQL store and return the same values."""
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return frame


def load_flat(engine: Engine, flat: pd.DataFrame) -> int:
    """(Re)create `order_lines_flat` with the export's rows. Its only constraint is the key a
    spreadsheet row has, (order_id, product_id): everything else is repeated freely."""
    flat = as_text_times(flat)
    key = ("order_id", "product_id")
    metadata = sa.MetaData()
    table = sa.Table(FLAT_TABLE, metadata,
                     *(sa.Column(col, _sql_type(flat[col]), primary_key=col in key,
                                 autoincrement=False) for col in flat.columns))
    with engine.begin() as connection:
        table.drop(connection, checkfirst=True)
        table.create(connection)
        connection.execute(table.insert(), _records(flat))
    return len(flat)


def _records(frame: pd.DataFrame) -> list[dict]:
    # Plain Python values: numpy ints and pandas NA confuse some drivers.
    return [{k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
             for k, v in row.items()} for row in frame.to_dict("records")]


def split_tags(flat: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """1NF: the comma-separated `product_tags` cell becomes one (product_id, tag) row per tag."""
    lines = flat.drop(columns=["product_tags"])
    tags = (flat[["product_id", "product_tags"]].drop_duplicates("product_id")
            .assign(tag=lambda f: f["product_tags"].fillna("").str.split(","))
            .explode("tag"))
    tags["tag"] = tags["tag"].str.strip()
    tags = tags[tags["tag"] != ""][["product_id", "tag"]]
    return lines, tags.sort_values(["product_id", "tag"], ignore_index=True)


def join_tags(lines: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    """The inverse of `split_tags`: each line gets its product's tags back as one sorted string,
    in the export's format ("" when a product has none)."""
    joined = tags.sort_values("tag").groupby("product_id")["tag"].agg(TAG_SEPARATOR.join)
    return lines.assign(product_tags=lines["product_id"].map(joined).fillna("").astype(str))


def project_frames(frame: pd.DataFrame, parts: dict[str, list[str]]) -> dict[str, pd.DataFrame]:
    """Each part's columns, duplicates removed: what the decomposition stores."""
    return {name: frame[cols].drop_duplicates(ignore_index=True) for name, cols in parts.items()}


def natural_join(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Join the parts back on their shared columns, in the order given."""
    result = None
    for frame in frames.values():
        if result is None:
            result = frame
        else:
            shared = [c for c in frame.columns if c in result.columns]
            result = result.merge(frame, on=shared, how="inner") if shared else result.merge(
                frame, how="cross")
    return result


def reset_tables(engine: Engine) -> None:
    """Drop every table this lab creates (and nothing else)."""
    with engine.begin() as connection:
        read_models.drop_all(connection, checkfirst=True)
        normalized.drop_all(connection, checkfirst=True)
        sa.Table(FLAT_TABLE, sa.MetaData()).drop(connection, checkfirst=True)


def create_normalized(engine: Engine, flat: pd.DataFrame) -> dict[str, int]:
    """(Re)create the normalized tables with PK/FK/UNIQUE and load them from the flat export."""
    frames = normalized_frames(flat)
    with engine.begin() as connection:
        read_models.drop_all(connection, checkfirst=True)
        normalized.drop_all(connection, checkfirst=True)
        normalized.create_all(connection)
        for table in normalized.sorted_tables:  # parents before children, for the FKs
            connection.execute(table.insert(), _records(frames[table.name]))
        _analyze(connection, [table.name for table in normalized.sorted_tables])
    return {name: len(frame) for name, frame in frames.items()}


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


def _analyze(connection: Connection, tables: list[str]) -> None:
    # Fresh statistics, so PostgreSQL plans the page queries for the real row counts.
    if connection.dialect.name == "postgresql":
        for name in tables:
            connection.exec_driver_sql(f'ANALYZE "{name}"')


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


def normalized_frames(flat: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows each normalized table holds, from the flat export (tags split off)."""
    lines, tags = split_tags(as_text_times(flat))
    frames = project_frames(lines, STEP_3NF)
    frames["product_tags"] = tags
    return frames


def history_frame(flat: pd.DataFrame) -> pd.DataFrame:
    """The rows of the `order_history` read model, from the flat export."""
    return as_text_times(flat)[[c.name for c in order_history.columns]]


@contextmanager
def scratch_connection(engine: Engine, frames: dict[str, pd.DataFrame]) -> Iterator[Connection]:
    """A connection on which TEMPORARY copies of `frames` shadow the lab's tables of the same
    name (both SQLite and PostgreSQL look in the temp schema first), without triggers.

    Checkers run learner code here, so the lab's own tables and the notebook's state never
    affect a verdict. The DBAPI connection is discarded afterwards: temp tables die with it.
    """
    connection = engine.connect()
    try:
        metadata = sa.MetaData()
        for name, frame in frames.items():
            table = sa.Table(name, metadata, *(sa.Column(col, _sql_type(frame[col]))
                                               for col in frame.columns), prefixes=["TEMPORARY"])
            table.create(connection)
            connection.execute(table.insert(), _records(frame))
        connection.commit()
        yield connection
    finally:
        connection.invalidate()
        connection.close()


def describe_closure(attrs: Iterable[str], schema: Sequence[str], fds: Sequence[FD]) -> str:
    """X+, and whether X is a candidate key, a superkey that is not minimal, or no key."""
    attrs = frozenset(attrs)
    reached = closure(attrs, fds)
    shown = ", ".join(c for c in schema if c in attrs) or "∅"
    lines = [f"X  = {{{shown}}}",
             f"X+ = {{{', '.join(c for c in schema if c in reached)}}}"]
    missing = [c for c in schema if c not in reached]
    if missing:
        lines.append(f"not a key: X does not determine {', '.join(missing)}")
    else:
        extra = [c for c in schema if c in attrs and set(schema) <= closure(attrs - {c}, fds)]
        lines.append(f"superkey, but not minimal: drop {extra[0]} and it still determines "
                     "every column" if extra else "candidate key: determines every column, "
                     "and no column can be dropped")
    return "\n".join(lines)


def closure_explorer(schema: Sequence[str], fds: Sequence[FD], value: Sequence[str] = ()):
    """A widget: pick columns (ctrl/shift-click), see their closure and whether they are a key."""
    import ipywidgets as widgets

    picker = widgets.SelectMultiple(options=list(schema), value=tuple(value), rows=len(schema),
                                    description="X =")
    result = widgets.Output()

    def show(_change=None) -> None:
        result.clear_output()
        with result:
            print(describe_closure(picker.value, schema, fds))

    picker.observe(show, names="value")
    show()
    return widgets.HBox([picker, result])


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
