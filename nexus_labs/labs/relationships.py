"""Lab 02: the marketplace as SQLAlchemy 2.x declarative models, with every kind of relationship.

- one-to-one: `Customer.profile` (the profile's primary key is also its foreign key)
- one-to-many: `Customer.orders`, `Order.items`, `Seller.products`, `Category.children`
- many-to-many: products and tags through the plain junction table `product_tags`
  (composite primary key), and orders and products through the association object
  `OrderItem`, which carries its own data (quantity, unit price) and a composite UNIQUE.

Deletes are handled twice on purpose, so the lab can show both: the ORM cascades
(`cascade="all, delete-orphan"`) and the database's own `ON DELETE` rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Column, ForeignKey, Table, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from nexus_labs.backends.sql import enforce_foreign_keys


class Base(DeclarativeBase):
    """The lab's own registry and MetaData: the ERD is drawn from `Base.metadata`."""


product_tags = Table(
    "product_tags",
    Base.metadata,
    Column("product_id", ForeignKey("products.product_id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.tag_id", ondelete="CASCADE"), primary_key=True),
)


class Category(Base):
    __tablename__ = "categories"
    category_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # SET NULL: deleting a parent category turns its children into top-level categories.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.category_id", ondelete="SET NULL"), index=True
    )
    parent: Mapped[Category | None] = relationship(
        back_populates="children", remote_side=[category_id]
    )
    children: Mapped[list[Category]] = relationship(back_populates="parent", passive_deletes=True)


class Seller(Base):
    __tablename__ = "sellers"
    seller_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    country: Mapped[str] = mapped_column(sa.String(60))
    joined_at: Mapped[datetime]
    products: Mapped[list[Product]] = relationship(back_populates="seller")


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    city: Mapped[str] = mapped_column(sa.String(100))
    country: Mapped[str] = mapped_column(sa.String(60))
    created_at: Mapped[datetime]
    # uselist=False comes from the Optional[...] annotation: one profile or none.
    profile: Mapped[CustomerProfile | None] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    orders: Mapped[list[Order]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )
    # No delete-orphan here on purpose: the lab shows what removing a review from this list does.
    reviews: Mapped[list[Review]] = relationship(back_populates="customer", passive_deletes=True)


class CustomerProfile(Base):
    __tablename__ = "customer_profiles"
    # The FK is the primary key: at most one profile per customer, enforced by the database.
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    birth_year: Mapped[int | None]
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)
    customer: Mapped[Customer] = relationship(back_populates="profile")


class Tag(Base):
    __tablename__ = "tags"
    tag_id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    products: Mapped[list[Product]] = relationship(secondary=product_tags, back_populates="tags")


class Product(Base):
    __tablename__ = "products"
    product_id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a seller or category that still has products cannot be deleted.
    seller_id: Mapped[int] = mapped_column(
        ForeignKey("sellers.seller_id", ondelete="RESTRICT"), index=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.category_id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    price_cents: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    seller: Mapped[Seller] = relationship(back_populates="products")
    tags: Mapped[list[Tag]] = relationship(secondary=product_tags, back_populates="products")


class Order(Base):
    __tablename__ = "orders"
    order_id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    ordered_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(20))
    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )


class OrderItem(Base):
    """The association object: a junction row with its own columns."""

    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "product_id", name="uq_order_items_line"),)
    item_id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.order_id", ondelete="CASCADE"))
    # RESTRICT: a product somebody bought cannot disappear from their order history.
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.product_id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class Review(Base):
    __tablename__ = "reviews"
    review_id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.product_id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]
    customer: Mapped[Customer] = relationship(back_populates="reviews")


# Dataset frame -> table, in an order that satisfies every foreign key.
LOAD_ORDER = (
    "categories", "sellers", "customers", "customer_profiles", "tags", "products",
    "product_tags", "orders", "order_items", "reviews",
)  # fmt: skip


def _frame_rows(frame) -> list[dict]:
    import pandas as pd

    frame = frame.copy()
    for column in frame.columns:
        if column.endswith(("_at",)):
            frame[column] = [value.to_pydatetime() for value in pd.to_datetime(frame[column])]
    frame = frame.astype(object).where(frame.notna(), None)
    return frame.to_dict("records")


def install(engine: Engine) -> dict[str, int]:
    """Create the lab's tables and load the marketplace into them; returns rows per table.

    Idempotent and quick on a second run: when every table already holds the dataset's row
    count nothing is written; otherwise the lab's tables are emptied and reloaded.
    """
    from nexus_labs import data

    enforce_foreign_keys(engine)
    Base.metadata.create_all(engine)
    frames = data.load_frames()
    tables = Base.metadata.tables
    with engine.begin() as connection:
        counts = {
            name: connection.execute(sa.select(sa.func.count()).select_from(tables[name])).scalar()
            for name in LOAD_ORDER
        }
        if all(counts[name] == len(frames[name]) for name in LOAD_ORDER):
            return counts
        for name in reversed(LOAD_ORDER):
            connection.execute(tables[name].delete())
        for name in LOAD_ORDER:
            connection.execute(tables[name].insert(), _frame_rows(frames[name]))
    if engine.dialect.name == "postgresql":
        _reset_sequences(engine)
    return {name: len(frames[name]) for name in LOAD_ORDER}


def _reset_sequences(engine: Engine) -> None:
    """Explicit ids do not move PostgreSQL sequences: move them past the loaded ids."""
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            key = list(table.primary_key.columns)
            if len(key) != 1 or not key[0].autoincrement or key[0].foreign_keys:
                continue
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                f"COALESCE((SELECT MAX({key[0].name}) FROM {table.name}), 0) + 1, false)"
            )


DEMO_EMAIL = "demo.customer@example.invalid"


def make_demo_customer(engine: Engine, orders: int = 2, items_per_order: int = 2) -> int:
    """A throwaway customer with a profile and orders, for delete demos; returns its id.

    A leftover from an interrupted run (same e-mail) is deleted first, so reruns start clean.
    """
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        session.execute(sa.delete(Customer).where(Customer.email == DEMO_EMAIL))
        products = session.scalars(
            sa.select(Product).order_by(Product.product_id).limit(items_per_order)
        ).all()
        customer = Customer(name="Demo Customer", email=DEMO_EMAIL, city="Oslo",
                            country="Norway", created_at=datetime(2025, 1, 1))
        customer.profile = CustomerProfile(bio="Only here to be deleted.")
        for _ in range(orders):
            order = Order(ordered_at=datetime(2025, 1, 2), status="pending")
            order.items = [
                OrderItem(product=product, quantity=1, unit_price_cents=product.price_cents)
                for product in products
            ]
            customer.orders.append(order)
        session.add(customer)
        session.commit()
        return customer.customer_id


def customer_footprint(engine: Engine, customer_id: int) -> dict[str, int]:
    """How many rows in each table belong to one customer (directly or through orders)."""
    orders = sa.select(Order.order_id).where(Order.customer_id == customer_id)
    queries = {
        "customers": sa.select(sa.func.count()).where(Customer.customer_id == customer_id),
        "customer_profiles": sa.select(sa.func.count()).where(
            CustomerProfile.customer_id == customer_id),
        "orders": sa.select(sa.func.count()).where(Order.customer_id == customer_id),
        "order_items": sa.select(sa.func.count()).where(OrderItem.order_id.in_(orders)),
        "reviews": sa.select(sa.func.count()).where(Review.customer_id == customer_id),
    }
    with engine.connect() as connection:
        return {name: connection.execute(query).scalar() for name, query in queries.items()}


@contextmanager
def scratch_tables(engine: Engine, *tables: sa.Table) -> Iterator[tuple[sa.Table, ...]]:
    """Create throwaway tables (named mistake_*) for a demo and drop them afterwards.

    Explicit DROP rather than a rolled-back transaction: Python's sqlite3 runs DDL outside
    transactions, so a rollback would leave the table behind.
    """
    for table in tables:
        if not table.name.startswith("mistake_"):
            raise ValueError(f"scratch tables are named mistake_*, not {table.name!r}")
    with engine.begin() as connection:
        for table in tables:
            table.drop(connection, checkfirst=True)
            table.create(connection)
    try:
        yield tables
    finally:
        with engine.begin() as connection:
            for table in tables:
                table.drop(connection, checkfirst=True)
