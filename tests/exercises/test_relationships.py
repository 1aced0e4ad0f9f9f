"""Lab 02 exercises: reference passes, known-wrong answers rejected, alternatives accepted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus_labs.exercises import relationships as ex
from nexus_labs.exercises.testing import outcome_of

NAMES = {
    "Table": sa.Table, "Column": sa.Column, "ForeignKey": sa.ForeignKey,
    "UniqueConstraint": sa.UniqueConstraint, "Integer": sa.Integer, "DateTime": sa.DateTime,
    "func": sa.func, "Mapped": Mapped, "mapped_column": mapped_column,
    "relationship": relationship,
}  # fmt: skip


@pytest.fixture(scope="module")
def lab(open_test_lab):
    return open_test_lab("relationships")


def answer_from(code: str, name: str):
    """Run `code` like a notebook cell. Not testing.answer_from_code: its compile() inherits
    this package's `from __future__ import annotations`, which turns the learner's Mapped[...]
    annotations into strings a notebook cell would never produce."""
    namespace = dict(NAMES)
    exec(compile(code, f"<cell {name}>", "exec", dont_inherit=True), namespace)
    return namespace[name]


def run(exercise, code_or_value, lab, from_code=True):
    if from_code and isinstance(code_or_value, str):
        answer = answer_from(code_or_value, exercise.answer_name)
    else:
        answer = code_or_value
    return outcome_of(exercise, answer, lab)


def assert_incorrect(outcome, fragment):
    assert outcome.status == "incorrect", (outcome.status, outcome.message)
    assert fragment in outcome.message, outcome.message


@pytest.mark.parametrize("exercise", ex.EXERCISES)
def test_reference_solution_passes(exercise, lab):
    outcome = run(exercise, exercise.solution, lab)
    assert outcome.status == "correct", outcome.message


# q1 ------------------------------------------------------------------------------------------
Q1 = dict(ex.ChooseCardinality.expected)


def test_q1_wrong_answers(lab):
    assert_incorrect(run(ex.ChooseCardinality, {**Q1, "wishlist_products": "1:N"}, lab),
                     "needs a junction table")
    assert_incorrect(run(ex.ChooseCardinality, {**Q1, "loyalty_card": "1:N"}, lab),
                     "one-to-one")
    assert_incorrect(run(ex.ChooseCardinality, {"loyalty_card": "1:1"}, lab), "no entry for")
    assert_incorrect(run(ex.ChooseCardinality, {**Q1, "coupon_orders": "lots"}, lab),
                     "is not a cardinality")


def test_q1_alternative_spellings(lab):
    answer = {"loyalty_card": "one-to-one", "seller_products": "one to many",
              "wishlist_products": "many-to-many", "order_shipments": "1:m",
              "coupon_orders": "n:m"}
    assert run(ex.ChooseCardinality, answer, lab).status == "correct"


# q2 ------------------------------------------------------------------------------------------
def test_q2_wrong_answers(lab):
    assert_incorrect(run(ex.ForeignKeySide, "products.review_id", lab, False), "wrong side")
    assert_incorrect(run(ex.ForeignKeySide, "product_reviews", lab, False), "junction table")


def test_q2_alternative(lab):
    assert run(ex.ForeignKeySide, "Reviews(product_id)", lab, False).status == "correct"


# q3 ------------------------------------------------------------------------------------------
Q3_NO_UNIQUE = '''def make_wishlist_items(metadata):
    return Table("wishlist_items", metadata,
        Column("id", Integer, primary_key=True),
        Column("customer_id", ForeignKey("customers.customer_id")),
        Column("product_id", ForeignKey("products.product_id")))'''
Q3_ONE_COLUMN_UNIQUE = '''def make_wishlist_items(metadata):
    return Table("wishlist_items", metadata,
        Column("customer_id", ForeignKey("customers.customer_id"), primary_key=True),
        Column("product_id", ForeignKey("products.product_id")))'''
Q3_NO_FK = '''def make_wishlist_items(metadata):
    return Table("wishlist_items", metadata,
        Column("customer_id", Integer, primary_key=True),
        Column("product_id", ForeignKey("products.product_id"), primary_key=True))'''
Q3_SURROGATE = '''def make_wishlist_items(metadata):
    return Table("wishlist_items", metadata,
        Column("wishlist_item_id", Integer, primary_key=True),
        Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
        Column("product_id", ForeignKey("products.product_id"), nullable=False),
        UniqueConstraint("customer_id", "product_id"))'''


def test_q3_wrong_answers(lab):
    assert_incorrect(run(ex.WishlistJunction, Q3_NO_UNIQUE, lab), "stored twice")
    assert_incorrect(run(ex.WishlistJunction, Q3_ONE_COLUMN_UNIQUE, lab), "ONE column")
    assert_incorrect(run(ex.WishlistJunction, Q3_NO_FK, lab), "customer 99")
    renamed = Q3_SURROGATE.replace('Table("wishlist_items"', 'Table("wishlists"')
    assert_incorrect(run(ex.WishlistJunction, renamed, lab), "should be called wishlist_items")
    missing_return = Q3_NO_UNIQUE.replace("return Table", "Table")
    outcome = run(ex.WishlistJunction, missing_return, lab)
    assert outcome.status == "incorrect"


def test_q3_alternative_surrogate_key(lab):
    assert run(ex.WishlistJunction, Q3_SURROGATE, lab).status == "correct"


# q4 ------------------------------------------------------------------------------------------
Q4 = {"orders.customer_id": "CASCADE", "order_items.order_id": "CASCADE",
      "order_items.product_id": "RESTRICT"}


def test_q4_wrong_answers(lab):
    assert_incorrect(run(ex.OnDeleteRules, {**Q4, "order_items.product_id": "CASCADE"}, lab),
                     "must not CASCADE")
    assert_incorrect(run(ex.OnDeleteRules, {**Q4, "order_items.product_id": "SET NULL"}, lab),
                     "RESTRICT")
    assert_incorrect(run(ex.OnDeleteRules, {**Q4, "order_items.order_id": "RESTRICT"}, lab),
                     "was refused")
    assert_incorrect(run(ex.OnDeleteRules, {**Q4, "orders.customer_id": "SET NULL"}, lab),
                     "not SET NULL")
    assert_incorrect(run(ex.OnDeleteRules, {**Q4, "order_items.order_id": "DROP"}, lab),
                     "not an ON DELETE rule")


def test_q4_alternatives(lab):
    assert run(ex.OnDeleteRules, {**Q4, "order_items.product_id": "no action"}, lab
               ).status == "correct"
    without_rule = {key: value for key, value in Q4.items() if key != "order_items.product_id"}
    assert run(ex.OnDeleteRules, without_rule, lab).status == "correct"


# q5 ------------------------------------------------------------------------------------------
Q5 = ex.LoyaltyCardModel.solution


def test_q5_wrong_answers(lab):
    not_unique = Q5.replace(', unique=True)', ')')
    assert not_unique != Q5
    assert_incorrect(run(ex.LoyaltyCardModel, not_unique, lab), "one-to-many")
    as_list = Q5.replace('card: Mapped["LoyaltyCard | None"]', 'card: Mapped[list["LoyaltyCard"]]')
    assert as_list != Q5
    assert_incorrect(run(ex.LoyaltyCardModel, as_list, lab), "is a list")
    no_fk = Q5.replace('ForeignKey("customers.customer_id"), unique=True', 'unique=True')
    assert no_fk != Q5
    assert_incorrect(run(ex.LoyaltyCardModel, no_fk, lab), "ForeignKey")


def test_q5_alternative_uselist_false(lab):
    alternative = Q5.replace(
        'card: Mapped["LoyaltyCard | None"] = relationship(back_populates="customer")',
        'card = relationship("LoyaltyCard", back_populates="customer", uselist=False)',
    ).replace("class Customer(Base):", "class Customer(Base):\n        __allow_unmapped__ = True")
    assert alternative != Q5
    assert run(ex.LoyaltyCardModel, alternative, lab).status == "correct"
