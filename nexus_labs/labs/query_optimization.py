"""Lab 03 (query optimization): the SQLAlchemy models, the lab's data, and SQL-vs-Python
aggregation.

The models are a declarative mapping over the marketplace tables that
`nexus_labs.data.install_marketplace` creates, so their columns are exactly the schema's; the
classes only add the relationships the N+1 lesson navigates. N+1 demos live in
`labs/n_plus_one.py`, indexes in `labs/indexing.py`, pagination in `labs/pagination.py`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, relationship

from nexus_labs import data


class Base(DeclarativeBase):
    """The lab's own registry: other labs' models never mix with these."""


_tables = data.marketplace_metadata.tables


class Customer(Base):
    __table__ = _tables["customers"]
    orders = relationship("Order", back_populates="customer")

    def __repr__(self) -> str:
        return f"Customer({self.customer_id}, {self.name!r})"


class Product(Base):
    __table__ = _tables["products"]

    def __repr__(self) -> str:
        return f"Product({self.product_id}, {self.name!r})"


class Order(Base):
    __table__ = _tables["orders"]
    customer = relationship(Customer, back_populates="orders")
    # order_by keeps every loading strategy's collections in the same order, so their pages
    # compare equal row for row.
    items = relationship(
        "OrderItem", back_populates="order", order_by=lambda: OrderItem.product_id
    )

    def __repr__(self) -> str:
        return f"Order({self.order_id}, {self.status!r})"


class OrderItem(Base):
    __table__ = _tables["order_items"]
    order = relationship(Order, back_populates="items")
    product = relationship(Product)

    def __repr__(self) -> str:
        return f"OrderItem(order {self.order_id}, product {self.product_id} × {self.quantity})"


def prepare(lab: Any, big_table: bool = True) -> dict[str, int]:
    """Install the marketplace tables (fast when present) and, optionally, the 1M-row table.

    Returns:
        Row counts per table, with "big_orders" when the big table was asked for.
    """
    counts = dict(data.install_marketplace(lab.sql.engine))
    if big_table:
        name = data.ensure_big_table(lab.sql)
        with lab.sql.engine.connect() as connection:
            counts[name] = connection.scalar(sa.text(f"SELECT count(*) FROM {name}"))
    return counts


# --- Measuring: aggregate in SQL, or pull rows into Python ---------------------------------

STATUS_TOTALS_SQL = """
SELECT status, count(*) AS orders, sum(total_cents) AS total_cents
FROM big_orders
WHERE id <= :last_id
GROUP BY status
ORDER BY status
"""


def status_totals_in_sql(engine: sa.Engine, last_id: int) -> list[tuple[str, int, int]]:
    """One GROUP BY: the database reads the rows and returns one row per status."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text(STATUS_TOTALS_SQL), {"last_id": last_id})
        return [(status, int(n), int(total)) for status, n, total in rows]


def status_totals_in_python(engine: sa.Engine, last_id: int) -> list[tuple[str, int, int]]:
    """The same totals the slow way: every row crosses the driver, then a Python loop."""
    counts: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT status, total_cents FROM big_orders WHERE id <= :last_id"),
            {"last_id": last_id},
        )
        for status, total_cents in rows:
            counts[status] += 1
            totals[status] += total_cents
    return [(status, counts[status], totals[status]) for status in sorted(counts)]


def revenue_by_customer_python(engine: sa.Engine) -> list[tuple[int, int]]:
    """The loop the exercise replaces: delivered revenue per customer, computed in Python."""
    with engine.connect() as connection:
        status = dict(connection.execute(sa.text("SELECT order_id, status FROM orders")).all())
        customer = dict(connection.execute(
            sa.text("SELECT order_id, customer_id FROM orders")).all())
        items = connection.execute(
            sa.text("SELECT order_id, quantity, unit_price_cents FROM order_items")).all()
    revenue: dict[int, int] = {}
    for order_id, quantity, unit_price_cents in items:
        if status[order_id] == "delivered":
            who = customer[order_id]
            revenue[who] = revenue.get(who, 0) + quantity * unit_price_cents
    return sorted(revenue.items())
