"""Async database and cache clients on the lab's own backends (lab 05).

- `async_engine(lab)`: SQLAlchemy's AsyncEngine on the same database as `lab.sql`: the lab's
  SQLite file through aiosqlite, or the lab's PostgreSQL schema through psycopg's async mode
  (search_path set the same way the sync engine does it).
- `Customer` / `Order`: ORM classes over the marketplace tables, for the lazy-load demo.
- `async_redis(lab)`: redis-py's asyncio client on the lab's Redis (fakeredis' when emulated).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, relationship

from nexus_labs.data.schema import marketplace_metadata


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __table__ = marketplace_metadata.tables["customers"]
    orders = relationship("Order", back_populates="customer", order_by="Order.order_id")

    def __repr__(self) -> str:
        return f"Customer({self.customer_id}, {self.name!r})"


class Order(Base):
    __table__ = marketplace_metadata.tables["orders"]
    customer = relationship(Customer, back_populates="orders")

    def __repr__(self) -> str:
        return f"Order({self.order_id}, {self.status!r})"


def async_url(lab: Any) -> sa.engine.URL:
    """The async driver URL for the lab's database (same file / same server and schema)."""
    sql = lab.sql
    if sql.kind == "sqlite":
        return sa.engine.make_url(f"sqlite+aiosqlite:///{sql.path}")
    return sa.engine.make_url(sql.url).set(drivername="postgresql+psycopg_async")


def async_engine(lab: Any) -> AsyncEngine:
    """An AsyncEngine on the lab's database. Dispose it (`await engine.dispose()`) when done."""
    url = async_url(lab)
    if lab.sql.kind == "sqlite":
        return create_async_engine(url)
    return create_async_engine(
        url, connect_args={"options": f"-csearch_path={lab.sql.schema}", "connect_timeout": 5}
    )


def describe_async_engine(engine: AsyncEngine) -> str:
    """`sqlite+aiosqlite (file ...)` or `postgresql+psycopg_async (schema ...)`, no password."""
    return engine.url.render_as_string(hide_password=True)


def async_redis(lab: Any):
    """redis-py's asyncio client on the lab's Redis; returns (client, note)."""
    if lab.redis.kind == "emulated":
        import fakeredis

        client = fakeredis.FakeAsyncRedis(server=lab.redis.fake_server, decode_responses=True)
        return client, ("No redis-server here: this is fakeredis' asyncio client, an emulation "
                        "in this process. Its timings are not Redis timings.")
    import redis.asyncio

    return redis.asyncio.from_url(lab.redis.url, decode_responses=True), ""
