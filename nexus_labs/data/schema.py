"""The normalized marketplace schema as SQLAlchemy Core tables (`marketplace_metadata`).

Tables carry no schema name: on PostgreSQL each lab's connection sets search_path to the lab's
own schema, so the same metadata lands wherever the engine points. Constraint names follow a
convention so plans and error messages name them predictably (e.g. ``uq_customers_email``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from nexus_labs.data.words import ORDER_STATUSES

NAMING = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}

# SQLite has no timestamp type; store "YYYY-MM-DD HH:MM:SS" (what SQLite's own datetime()
# returns) instead of SQLAlchemy's default with microseconds, so raw SQL reads naturally and
# compares correctly as text. PostgreSQL gets a real TIMESTAMP.
Timestamp = sa.DateTime().with_variant(
    sqlite.DATETIME(
        storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
    ),
    "sqlite",
)

marketplace_metadata = sa.MetaData(naming_convention=NAMING)

categories = sa.Table(
    "categories", marketplace_metadata,
    sa.Column("category_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("categories.category_id"), nullable=True),
)  # fmt: skip

sellers = sa.Table(
    "sellers", marketplace_metadata,
    sa.Column("seller_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("country", sa.String(60), nullable=False),
    sa.Column("joined_at", Timestamp, nullable=False),
)  # fmt: skip

customers = sa.Table(
    "customers", marketplace_metadata,
    sa.Column("customer_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("city", sa.String(80), nullable=False),
    sa.Column("country", sa.String(60), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)  # fmt: skip

customer_profiles = sa.Table(  # one-to-one: the primary key is also the foreign key
    "customer_profiles", marketplace_metadata,
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.customer_id"), primary_key=True,
              autoincrement=False),
    sa.Column("bio", sa.Text, nullable=False),
    sa.Column("birth_year", sa.Integer, nullable=False),
    sa.Column("marketing_opt_in", sa.Boolean, nullable=False),
)  # fmt: skip

products = sa.Table(
    "products", marketplace_metadata,
    sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seller_id", sa.Integer, sa.ForeignKey("sellers.seller_id"), nullable=False),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.category_id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("stock", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.CheckConstraint("price_cents >= 0", name="price_not_negative"),
    sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
)  # fmt: skip

tags = sa.Table(
    "tags", marketplace_metadata,
    sa.Column("tag_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(40), nullable=False, unique=True),
)  # fmt: skip

product_tags = sa.Table(  # many-to-many association table
    "product_tags", marketplace_metadata,
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), primary_key=True),
    sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.tag_id"), primary_key=True),
)  # fmt: skip

orders = sa.Table(
    "orders", marketplace_metadata,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.customer_id"), nullable=False),
    sa.Column("ordered_at", Timestamp, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{name}'" for name in ORDER_STATUSES) + ")",
        name="known_status",
    ),
)  # fmt: skip

order_items = sa.Table(
    "order_items", marketplace_metadata,
    sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.order_id"), primary_key=True),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", sa.Integer, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)  # fmt: skip

reviews = sa.Table(
    "reviews", marketplace_metadata,
    sa.Column("review_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("product_id", sa.Integer, sa.ForeignKey("products.product_id"), nullable=False),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.customer_id"), nullable=False),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.UniqueConstraint("product_id", "customer_id"),  # one review per buyer and product
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
)  # fmt: skip

# The generated 1M-row table lives apart from the marketplace: it is built by ensure_big_table,
# never by install_marketplace, and deliberately has no index but its primary key.
big_metadata = sa.MetaData(naming_convention=NAMING)
big_orders = sa.Table(
    "big_orders", big_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("total_cents", sa.Integer, nullable=False),
    sa.Column("email", sa.Text, nullable=False),  # unique values, but no UNIQUE index
)  # fmt: skip
