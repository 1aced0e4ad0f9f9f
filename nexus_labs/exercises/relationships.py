"""Exercises of lab 02 (ERD modeling and relationships).

Model exercises are checked by behaviour: the learner's tables or mapped classes are created
on a scratch in-memory SQLite database with foreign keys enforced, then a scenario inserts,
duplicates and deletes rows and looks at what the database kept. Nothing touches the lab's DB.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Session

from nexus_labs.backends.sql import enforce_foreign_keys
from nexus_labs.exercises.core import Exercise, Incorrect, ValueExercise

CARDINALITIES = {"1:1": "one-to-one", "1:n": "one-to-many", "m:n": "many-to-many"}


def _cardinality(value: Any) -> str:
    text = re.sub(r"[\s_]+", "-", str(value).strip().lower())
    aliases = {
        "1:1": "1:1", "one-to-one": "1:1", "1-1": "1:1",
        "1:n": "1:n", "1:m": "1:n", "one-to-many": "1:n", "1-n": "1:n", "1:*": "1:n",
        "m:n": "m:n", "n:m": "m:n", "many-to-many": "m:n", "m-n": "m:n", "n:n": "m:n",
    }  # fmt: skip
    return aliases.get(text, text)


@contextmanager
def scratch_engine() -> Iterator[sa.Engine]:
    """A private in-memory SQLite database that enforces foreign keys, disposed afterwards."""
    engine = sa.create_engine("sqlite://")
    enforce_foreign_keys(engine)

    try:
        yield engine
    finally:
        engine.dispose()


def _rejects(engine: sa.Engine, statement: Any, params: Any) -> bool:
    """True when the database refuses the statement with an integrity error."""
    try:
        with engine.begin() as connection:
            connection.execute(statement, params)
    except sa.exc.IntegrityError:
        return True
    return False


class ChooseCardinality(Exercise):
    id = "q1"
    title = "Choose the cardinality of each requirement"
    answer_name = "answer_q1"
    expected: ClassVar[dict[str, str]] = {
        "loyalty_card": "1:1", "seller_products": "1:N",
        "wishlist_products": "M:N", "order_shipments": "1:N", "coupon_orders": "M:N",
    }  # fmt: skip
    reasons: ClassVar[dict[str, str]] = {
        "loyalty_card": "a customer has at most one loyalty card and a card belongs to one "
        "customer: one-to-one (a UNIQUE foreign key on the card)",
        "seller_products": "each product has exactly one seller, a seller has many products: "
        "one-to-many (seller_id on products)",
        "wishlist_products": "a wishlist holds many products AND a product sits in many "
        "wishlists: many-to-many, which needs a junction table",
        "order_shipments": "a shipment belongs to one order, an order may ship in several "
        "parcels: one-to-many (order_id on shipments)",
        "coupon_orders": "a coupon is used by many orders and an order may use several coupons: "
        "many-to-many",
    }
    hints = (
        "Ask the question in both directions: how many B can one A have, and how many A can "
        "one B have? 'many' both ways is M:N.",
        "Only loyalty_card is one-to-one; two of the others need a junction table.",
    )
    solution = (
        'answer_q1 = {\n    "loyalty_card": "1:1",\n    "seller_products": "1:N",\n'
        '    "wishlist_products": "M:N",\n    "order_shipments": "1:N",\n'
        '    "coupon_orders": "M:N",\n}'
    )
    def check(self, answer: Any, lab: Any) -> None:
        if not isinstance(answer, dict):
            raise Incorrect(f"answer_q1 should be a dict like {{'loyalty_card': '1:1', ...}}, "
                            f"but it is {type(answer).__name__}")
        missing = sorted(set(self.expected) - set(answer))
        if missing:
            raise Incorrect(f"answer_q1 has no entry for {', '.join(missing)}.")
        for key, want in self.expected.items():
            got = _cardinality(answer[key])
            if got not in CARDINALITIES:
                raise Incorrect(f"{key}: {answer[key]!r} is not a cardinality; "
                                "use '1:1', '1:N' or 'M:N'.")
            if got != _cardinality(want):
                raise Incorrect(f"{key} is not {CARDINALITIES[got]}: {self.reasons[key]}.")


class ForeignKeySide(ValueExercise):
    id = "q2"
    title = "Put the foreign key on the right side of products and reviews"
    answer_name = "answer_q2"
    expected = "reviews.product_id"
    normalize = staticmethod(
        lambda value: re.sub(r"\s+", "", str(value)).lower().replace("(", ".").rstrip(")")
    )
    hints = (
        "A column holds one value per row. Which side has only ONE of the other?",
        "Each review is about exactly one product; a product has many reviews.",
    )
    solution = 'answer_q2 = "reviews.product_id"'
    wrong_answers: ClassVar[dict[str, str]] = {
        "products.review_id": "the foreign key is on the wrong side: a product row can hold "
        "only one review_id, so a product could have only one review",
        "product_reviews": "a junction table is for many-to-many; each review belongs to exactly "
        "one product, so the review itself holds the key",
        "reviews.review_id": "review_id is the review's own primary key, not a reference",
    }


def _junction_scenario(table: sa.Table, parents: sa.MetaData) -> None:
    columns = set(table.c.keys())
    for needed in ("customer_id", "product_id"):
        if needed not in columns:
            raise Incorrect(f"wishlist_items needs a {needed} column (it has {sorted(columns)}).")
    with scratch_engine() as engine:
        parents.create_all(engine)
        tables = parents.tables
        with engine.begin() as connection:
            connection.execute(tables["customers"].insert(),
                               [{"customer_id": 1, "name": "Ada"}, {"customer_id": 2,
                                                                    "name": "Bo"}])
            connection.execute(tables["products"].insert(),
                               [{"product_id": 1, "name": "Mug"}, {"product_id": 2,
                                                                   "name": "Lamp"}])
        insert = table.insert()
        for pair in ({"customer_id": 1, "product_id": 1}, {"customer_id": 1, "product_id": 2},
                     {"customer_id": 2, "product_id": 1}):
            if _rejects(engine, insert, pair):
                raise Incorrect(
                    f"the database refused {pair} after other pairs for the same customer or "
                    "product: a unique constraint on ONE column makes this one-to-many. Make "
                    "the PAIR (customer_id, product_id) unique."
                )
        if not _rejects(engine, insert, {"customer_id": 1, "product_id": 1}):
            raise Incorrect("the same (customer 1, product 1) pair was stored twice: add a "
                            "composite primary key or UniqueConstraint on (customer_id, "
                            "product_id).")
        if not _rejects(engine, insert, {"customer_id": 99, "product_id": 1}):
            raise Incorrect("a row for customer 99, who does not exist, was accepted: "
                            "customer_id needs ForeignKey('customers.customer_id').")
        if not _rejects(engine, insert, {"customer_id": 2, "product_id": 99}):
            raise Incorrect("a row for product 99, which does not exist, was accepted: "
                            "product_id needs ForeignKey('products.product_id').")


def parent_tables() -> sa.MetaData:
    """A fresh MetaData holding minimal customers and products tables for a scenario."""
    metadata = sa.MetaData()
    sa.Table("customers", metadata, sa.Column("customer_id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String(50)))
    sa.Table("products", metadata, sa.Column("product_id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String(50)))
    return metadata


class WishlistJunction(Exercise):
    id = "q3"
    title = "Write the junction table wishlist_items (customers <-> products)"
    answer_name = "make_wishlist_items"
    hints = (
        "Two ForeignKey columns, customer_id and product_id, plus any data of the link "
        "(e.g. added_at).",
        "Uniqueness of the PAIR: make both columns the primary key, or add "
        "UniqueConstraint('customer_id', 'product_id').",
    )
    solution = '''def make_wishlist_items(metadata):
    return Table(
        "wishlist_items", metadata,
        Column("customer_id", ForeignKey("customers.customer_id"), primary_key=True),
        Column("product_id", ForeignKey("products.product_id"), primary_key=True),
        Column("added_at", DateTime, server_default=func.now()),
    )'''

    def check(self, answer: Any, lab: Any) -> None:
        if not callable(answer):
            raise Incorrect("make_wishlist_items should be a function taking a MetaData.")
        metadata = parent_tables()
        table = self.call(answer, metadata)
        if not isinstance(table, sa.Table):
            raise Incorrect(f"make_wishlist_items should return the Table it built, not "
                            f"{type(table).__name__}.")
        if table.name != "wishlist_items":
            raise Incorrect(f"the table should be called wishlist_items, not {table.name!r}.")
        if table.metadata is not metadata:
            raise Incorrect("build the Table on the MetaData passed in (Table('wishlist_items', "
                            "metadata, ...)), so it can refer to customers and products.")
        _junction_scenario(table, metadata)


class OnDeleteRules(Exercise):
    id = "q4"
    title = "Fix the ON DELETE rules so a delete keeps what it must"
    answer_name = "answer_q4"
    rules = ("orders.customer_id", "order_items.order_id", "order_items.product_id")
    hints = (
        "Erasing a customer must erase their orders and the orders' lines: follow the chain.",
        "A product that was sold must stay: refuse its deletion with RESTRICT (or NO ACTION).",
    )
    solution = (
        'answer_q4 = {\n    "orders.customer_id": "CASCADE",\n'
        '    "order_items.order_id": "CASCADE",\n    "order_items.product_id": "RESTRICT",\n}'
    )

    def _schema(self, answer: dict) -> sa.MetaData:
        def rule(name: str) -> str | None:
            value = answer.get(name)
            if value is None:
                return None
            text = str(value).strip().upper()
            if text not in ("CASCADE", "RESTRICT", "NO ACTION", "SET NULL"):
                raise Incorrect(f"{name}: {value!r} is not an ON DELETE rule; use CASCADE, "
                                "RESTRICT, NO ACTION or SET NULL.")
            return text

        metadata = sa.MetaData()
        sa.Table("customers", metadata, sa.Column("customer_id", sa.Integer, primary_key=True))
        sa.Table("products", metadata, sa.Column("product_id", sa.Integer, primary_key=True))
        sa.Table("orders", metadata, sa.Column("order_id", sa.Integer, primary_key=True),
                 sa.Column("customer_id", sa.ForeignKey("customers.customer_id",
                                                        ondelete=rule(self.rules[0]))))
        sa.Table("order_items", metadata, sa.Column("item_id", sa.Integer, primary_key=True),
                 sa.Column("order_id", sa.ForeignKey("orders.order_id",
                                                     ondelete=rule(self.rules[1]))),
                 sa.Column("product_id", sa.ForeignKey("products.product_id",
                                                       ondelete=rule(self.rules[2]))))
        return metadata

    def check(self, answer: Any, lab: Any) -> None:
        if not isinstance(answer, dict):
            raise Incorrect("answer_q4 should be a dict: {'orders.customer_id': 'CASCADE', ...}")
        unknown = sorted(set(answer) - set(self.rules))
        if unknown:
            raise Incorrect(f"unknown key(s) {unknown}: use {list(self.rules)}.")
        metadata = self._schema(answer)
        t = metadata.tables
        with scratch_engine() as engine:
            metadata.create_all(engine)
            with engine.begin() as c:
                c.execute(t["customers"].insert(), [{"customer_id": 1}, {"customer_id": 2}])
                c.execute(t["products"].insert(), [{"product_id": 1}, {"product_id": 2}])
                c.execute(t["orders"].insert(), [{"order_id": 10, "customer_id": 1},
                                                 {"order_id": 20, "customer_id": 2}])
                c.execute(t["order_items"].insert(), [
                    {"order_id": 10, "product_id": 1}, {"order_id": 10, "product_id": 2},
                    {"order_id": 20, "product_id": 1},
                ])
            self._erase_customer(engine, t)
            self._delete_sold_product(engine, t)

    @staticmethod
    def _count(engine: sa.Engine, table: sa.Table, where: Any = None) -> int:
        query = sa.select(sa.func.count()).select_from(table)
        with engine.connect() as c:
            return c.execute(query if where is None else query.where(where)).scalar()

    def _erase_customer(self, engine: sa.Engine, t: Any) -> None:
        if _rejects(engine, t["customers"].delete().where(t["customers"].c.customer_id == 1),
                    {}):
            raise Incorrect("erasing customer 1 was refused: the rule chain from customers to "
                            "orders to order_items must let the children go (CASCADE).")
        if self._count(engine, t["orders"], t["orders"].c.order_id == 10):
            raise Incorrect("customer 1 was deleted but order 10 is still there (customer_id "
                            "NULL): orders.customer_id needs CASCADE, not SET NULL.")
        if self._count(engine, t["order_items"], t["order_items"].c.order_id.is_(None)):
            raise Incorrect("order 10 was deleted but its lines stayed with order_id NULL: "
                            "order_items.order_id needs CASCADE, not SET NULL.")

    def _delete_sold_product(self, engine: sa.Engine, t: Any) -> None:
        items = t["order_items"]
        lines = self._count(engine, items)  # order 20's line for product 1 is left
        refused = _rejects(engine, t["products"].delete().where(t["products"].c.product_id == 1),
                           {})
        if refused:
            return
        if self._count(engine, items) < lines:
            raise Incorrect(f"deleting product 1 also deleted {lines - self._count(engine, items)}"
                            " order line(s) of another customer's order: "
                            "order_items.product_id must not CASCADE.")
        raise Incorrect("deleting a sold product was allowed and its order lines lost their "
                        "product (product_id NULL): refuse it with RESTRICT.")


class LoyaltyCardModel(Exercise):
    id = "q5"
    title = "Add the one-to-one relationship Customer.card <-> LoyaltyCard"
    answer_name = "build_loyalty_models"
    hints = (
        "The card holds the foreign key: customer_id = mapped_column(ForeignKey(...)).",
        "A one-to-one needs the FK to be unique (unique=True) and a scalar relationship: "
        "Mapped['LoyaltyCard | None'] = relationship(back_populates='customer').",
    )
    solution = '''def build_loyalty_models(Base):
    class Customer(Base):
        __tablename__ = "customers"
        customer_id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        card: Mapped["LoyaltyCard | None"] = relationship(back_populates="customer")

    class LoyaltyCard(Base):
        __tablename__ = "loyalty_cards"
        card_id: Mapped[int] = mapped_column(primary_key=True)
        customer_id: Mapped[int] = mapped_column(
            ForeignKey("customers.customer_id"), unique=True)
        points: Mapped[int] = mapped_column(default=0)
        customer: Mapped[Customer] = relationship(back_populates="card")

    return Customer, LoyaltyCard'''

    def check(self, answer: Any, lab: Any) -> None:
        if not callable(answer):
            raise Incorrect("build_loyalty_models should be a function taking a declarative Base.")

        class Base(DeclarativeBase):
            pass

        try:
            try:
                customer_cls, card_cls = self.call(answer, Base)
                Base.registry.configure()
            except (TypeError, ValueError):
                raise Incorrect(
                    "build_loyalty_models should return (Customer, LoyaltyCard).") from None
            except sa.exc.SQLAlchemyError as error:
                first = str(error).splitlines()[0]
                raise Incorrect(f"SQLAlchemy cannot build the mapping: {first}. Does "
                                "LoyaltyCard.customer_id have a ForeignKey to customers?"
                                ) from None
            self._scenario(Base, customer_cls, card_cls)
        finally:
            Base.registry.dispose()  # the learner's classes must not outlive the check

    def _scenario(self, Base: Any, customer_cls: Any, card_cls: Any) -> None:
        cards = card_cls.__table__
        if "customer_id" not in cards.c or not cards.c.customer_id.foreign_keys:
            raise Incorrect("loyalty_cards.customer_id must be a ForeignKey to "
                            "customers.customer_id (the card holds the key).")
        with scratch_engine() as engine:
            Base.metadata.create_all(engine)
            with Session(engine) as session:
                ada = customer_cls(customer_id=1, name="Ada")
                try:
                    ada.card = card_cls(points=10)
                except TypeError:
                    raise Incorrect("Customer.card is a list: a one-to-one relationship needs "
                                    "a single object (Mapped['LoyaltyCard | None'] or "
                                    "uselist=False).") from None
                session.add(ada)
                session.commit()
            with Session(engine) as session:
                card = session.get(customer_cls, 1).card
                if card is None or card.points != 10 or card.customer.customer_id != 1:
                    raise Incorrect("after saving Ada with her card, loading her back did not "
                                    "give the card (check back_populates on both sides).")
            if not _rejects(engine, cards.insert(), {"customer_id": 1, "points": 0}):
                raise Incorrect("a second loyalty card for customer 1 was accepted: that is "
                                "one-to-many. Make loyalty_cards.customer_id unique.")


EXERCISES = (ChooseCardinality, ForeignKeySide, WishlistJunction, OnDeleteRules, LoyaltyCardModel)
