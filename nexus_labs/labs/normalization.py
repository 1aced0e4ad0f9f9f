"""Lab 01 teaching code: the flat export in a table, its normalized decomposition as SQLAlchemy
tables, and the closure explorer widget.

The denormalized read model built on these tables lives in `read_model`. Every table the lab
creates belongs to it (its SQLite file or PostgreSQL schema); `reset_tables` drops only these,
by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nexus_labs.data.shipped import TAG_SEPARATOR
from nexus_labs.labs.functional_deps import FD, closure

FLAT_TABLE = "order_lines_flat"
READ_MODEL = "order_history"  # defined and built in `read_model`; dropped here by name

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
        _drop_read_model(connection)
        normalized.drop_all(connection, checkfirst=True)
        sa.Table(FLAT_TABLE, sa.MetaData()).drop(connection, checkfirst=True)


def create_normalized(engine: Engine, flat: pd.DataFrame) -> dict[str, int]:
    """(Re)create the normalized tables with PK/FK/UNIQUE and load them from the flat export."""
    frames = normalized_frames(flat)
    with engine.begin() as connection:
        _drop_read_model(connection)
        normalized.drop_all(connection, checkfirst=True)
        normalized.create_all(connection)
        for table in normalized.sorted_tables:  # parents before children, for the FKs
            connection.execute(table.insert(), _records(frames[table.name]))
        _analyze(connection, [table.name for table in normalized.sorted_tables])
    return {name: len(frame) for name, frame in frames.items()}


def _drop_read_model(connection: Connection) -> None:
    # By name: `read_model` builds on these tables, so importing it here would be circular.
    # A read model left over from older normalized rows would no longer match them.
    sa.Table(READ_MODEL, sa.MetaData()).drop(connection, checkfirst=True)


def _analyze(connection: Connection, tables: list[str]) -> None:
    # Fresh statistics, so PostgreSQL plans the page queries for the real row counts.
    if connection.dialect.name == "postgresql":
        for name in tables:
            connection.exec_driver_sql(f'ANALYZE "{name}"')


def normalized_frames(flat: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows each normalized table holds, from the flat export (tags split off)."""
    lines, tags = split_tags(as_text_times(flat))
    frames = project_frames(lines, STEP_3NF)
    frames["product_tags"] = tags
    return frames


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
