"""Lab 01 checkers: the reference passes, common mistakes are named, alternatives pass."""

from __future__ import annotations

import pytest

from nexus_labs.exercises import normalization as ex
from nexus_labs.exercises.testing import answer_from_code, outcome_of


@pytest.fixture(scope="module")
def lab(open_test_lab):
    return open_test_lab("normalization")


def _answer(exercise, answer):
    """Code strings that define the answer (functions) are executed like a notebook cell."""
    if isinstance(answer, str) and ("def " in answer or f"{exercise.answer_name} =" in answer):
        return answer_from_code(answer, exercise.answer_name)
    return answer


def _outcome(exercise, answer, lab):
    return outcome_of(exercise, _answer(exercise, answer), lab)


@pytest.mark.parametrize("exercise", ex.EXERCISES, ids=lambda e: e.id)
def test_reference_solution_passes(exercise, lab):
    outcome = _outcome(exercise, exercise.solution, lab)
    assert outcome.status == "correct", outcome.message


@pytest.mark.parametrize(
    ("exercise", "wrong", "fragment"),
    [(e, wrong, fragment) for e in ex.EXERCISES for wrong, fragment in e.wrong_answers.items()],
    ids=lambda value: getattr(value, "id", None) or "case",
)
def test_declared_wrong_answers_are_rejected_with_their_message(exercise, wrong, fragment, lab):
    outcome = _outcome(exercise, wrong, lab)
    assert outcome.status == "incorrect", outcome.message
    assert fragment in outcome.message


@pytest.mark.parametrize("exercise", ex.EXERCISES, ids=lambda e: e.id)
def test_each_exercise_declares_two_wrong_answers(exercise):
    assert len(exercise.wrong_answers) >= 2


def test_placeholder_is_not_attempted(lab):
    from nexus_labs import ____

    for exercise in ex.EXERCISES:
        assert outcome_of(exercise, ____, lab).status == "not_attempted"


# q1: the FD behind the update anomaly ------------------------------------------------------

@pytest.mark.parametrize("answer", [
    ("customer_id", "customer_email"),
    (["customer_id"], "customer_email"),
    " customer_id→customer_email ",
])
def test_q1_accepts_other_notations(answer, lab):
    assert _outcome(ex.AnomalyDependency, answer, lab).status == "correct"


def test_q1_rejects_non_minimal_and_garbage(lab):
    bloated = _outcome(ex.AnomalyDependency, "customer_id, customer_city -> customer_email", lab)
    assert bloated.status == "incorrect" and "not minimal" in bloated.message
    unknown = _outcome(ex.AnomalyDependency, "email -> customer_email", lab)
    assert unknown.status == "incorrect" and "not a column" in unknown.message
    text = _outcome(ex.AnomalyDependency, "the email", lab)
    assert text.status == "incorrect" and '"X -> A"' in text.message


# q2: which normal form order_items_wide violates -------------------------------------------

@pytest.mark.parametrize("answer", [
    ["2nf", "product_id->product_name"],
    ("2NF", ("product_id", "product_name")),
])
def test_q2_accepts_other_notations(answer, lab):
    assert _outcome(ex.ViolatedNormalForm, answer, lab).status == "correct"


def test_q2_rejects_a_bare_normal_form_and_a_false_fd(lab):
    bare = _outcome(ex.ViolatedNormalForm, "2NF", lab)
    assert bare.status == "incorrect" and "pair" in bare.message
    false = _outcome(ex.ViolatedNormalForm, ("2NF", "quantity -> product_name"), lab)
    assert false.status == "incorrect" and "does not hold" in false.message


# q3: a decomposition is judged by its properties -------------------------------------------

@pytest.mark.parametrize("answer", [
    # products keep the seller's other key (email) as the link instead of seller_id
    [["product_id", "product_name", "category_id", "seller_email"],
     ["category_id", "category_name"], ["seller_id", "seller_name", "seller_email"]],
    # one table per fact about a product, parts in another order
    [["seller_email", "seller_name", "seller_id"], ["category_name", "category_id"],
     ["product_id", "seller_id"], ["product_id", "category_id"],
     ["product_name", "product_id"]],
    {"products": ("product_id", "product_name", "category_id", "seller_id"),
     "categories": ("category_id", "category_name"),
     "sellers": {"seller_id", "seller_name", "seller_email"}},
])
def test_q3_accepts_any_valid_decomposition(answer, lab):
    outcome = _outcome(ex.Decomposition, answer, lab)
    assert outcome.status == "correct", outcome.message


def test_q3_rejects_unknown_columns_and_the_wrong_shape(lab):
    typo = _outcome(ex.Decomposition, [["product_id", "name"]], lab)
    assert typo.status == "incorrect" and "not a column" in typo.message
    flat = _outcome(ex.Decomposition, ["product_id", "product_name"], lab)
    assert flat.status == "incorrect" and "list of tables" in flat.message


def test_q3_rejects_a_bcnf_split_that_loses_a_dependency(lab):
    # Lossless and BCNF, but seller_id -> seller_email can no longer be checked in one table.
    answer = [["product_id", "product_name", "category_id", "seller_id"],
              ["category_id", "category_name"], ["seller_id", "seller_name"],
              ["product_id", "seller_email"]]
    outcome = _outcome(ex.Decomposition, answer, lab)
    assert outcome.status == "incorrect" and "not preserved" in outcome.message


# q4: the lossless-join query ----------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    """SELECT cat.category_name, p.product_name, c.customer_email, i.quantity,
              i.product_id, i.order_id
       FROM categories cat
       JOIN products p ON p.category_id = cat.category_id
       JOIN order_items i ON i.product_id = p.product_id
       JOIN orders o ON o.order_id = i.order_id
       JOIN customers c ON c.customer_id = o.customer_id
       ORDER BY i.quantity DESC""",
    """SELECT order_id, product_id, quantity, customer_email, product_name, category_name
       FROM order_items
       JOIN orders USING (order_id)
       JOIN customers USING (customer_id)
       JOIN products USING (product_id)
       JOIN categories USING (category_id)""",
    """SELECT i.order_id, i.product_id, i.quantity,
              (SELECT c.customer_email FROM orders o JOIN customers c
                  ON c.customer_id = o.customer_id WHERE o.order_id = i.order_id)
                  AS customer_email,
              p.product_name, cat.category_name
       FROM order_items i LEFT JOIN products p ON p.product_id = i.product_id
       LEFT JOIN categories cat ON cat.category_id = p.category_id""",
])
def test_q4_accepts_other_correct_queries(sql, lab):
    outcome = _outcome(ex.LosslessJoinQuery, sql, lab)
    assert outcome.status == "correct", outcome.message


def test_q4_rejects_a_missing_join_condition(lab):
    sql = """SELECT i.order_id, i.product_id, i.quantity, c.customer_email, p.product_name,
                    cat.category_name
             FROM order_items i, orders o, customers c, products p, categories cat
             WHERE o.order_id = i.order_id AND p.product_id = i.product_id
               AND cat.category_id = p.category_id"""
    outcome = _outcome(ex.LosslessJoinQuery, sql, lab)
    assert outcome.status == "incorrect" and "rows multiply" in outcome.message


def test_q4_rejects_a_join_on_the_wrong_column(lab):
    sql = """SELECT i.order_id, i.product_id, i.quantity, c.customer_email, p.product_name,
                    cat.category_name
             FROM order_items i
             JOIN orders o ON o.order_id = i.order_id
             JOIN customers c ON c.customer_id = o.customer_id
             JOIN products p ON p.product_id = i.product_id
             JOIN categories cat ON cat.category_id = p.seller_id"""
    outcome = _outcome(ex.LosslessJoinQuery, sql, lab)
    assert outcome.status == "incorrect" and "wrong columns" in outcome.message


def test_q4_rejects_wrong_values_and_missing_columns_and_bad_sql(lab):
    swapped = """SELECT i.order_id, i.product_id, i.quantity, c.customer_email,
                        cat.category_name AS product_name, p.product_name AS category_name
                 FROM order_items i JOIN orders o ON o.order_id = i.order_id
                 JOIN customers c ON c.customer_id = o.customer_id
                 JOIN products p ON p.product_id = i.product_id
                 JOIN categories cat ON cat.category_id = p.category_id"""
    values = _outcome(ex.LosslessJoinQuery, swapped, lab)
    assert values.status == "incorrect" and "other values" in values.message
    short = _outcome(ex.LosslessJoinQuery, "SELECT order_id, product_id FROM order_items", lab)
    assert short.status == "incorrect" and "no column quantity" in short.message
    broken = _outcome(ex.LosslessJoinQuery, "SELEC order_id FROM order_items", lab)
    assert broken.status == "incorrect" and "failed on the database" in broken.message


# q5: what to denormalize ----------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["A", " a ", "(a)"])
def test_q5_accepts_the_letter_in_any_case(answer, lab):
    assert _outcome(ex.WhatToDenormalize, answer, lab).status == "correct"


# q6: the application write path ----------------------------------------------------------------

SUBQUERY = """import sqlalchemy as sa
def rename_product(connection, product_id, new_name):
    with connection.begin_nested():
        connection.execute(sa.text("UPDATE products SET product_name = :n WHERE product_id = :p"),
                           {"n": new_name, "p": product_id})
        result = connection.execute(sa.text(
            "UPDATE order_history SET product_name = (SELECT product_name FROM products "
            "WHERE products.product_id = order_history.product_id) WHERE product_id = :p"),
            {"p": product_id})
    return result.rowcount
"""
CORE = """import sqlalchemy as sa
from nexus_labs.labs.normalization import products
from nexus_labs.labs.read_model import order_history
def rename_product(connection, product_id, new_name):
    copies = connection.execute(sa.update(order_history)
        .where(order_history.c.product_id == product_id).values(product_name=new_name))
    connection.execute(sa.update(products).where(products.c.product_id == product_id)
        .values(product_name=new_name))
    connection.commit()
    return copies.rowcount
"""


@pytest.mark.parametrize("code", [SUBQUERY, CORE], ids=["subquery", "core"])
def test_q6_accepts_other_correct_write_paths(code, lab):
    outcome = _outcome(ex.RenameProduct, code, lab)
    assert outcome.status == "correct", outcome.message


def test_q6_forgotten_return_and_errors_get_clear_feedback(lab):
    no_return = """import sqlalchemy as sa
def rename_product(connection, product_id, new_name):
    connection.execute(sa.text("UPDATE products SET product_name = :n WHERE product_id = :p"),
                       {"n": new_name, "p": product_id})
"""
    outcome = _outcome(ex.RenameProduct, no_return, lab)
    assert outcome.status == "incorrect" and "return" in outcome.message
    bad_table = """import sqlalchemy as sa
def rename_product(connection, product_id, new_name):
    return connection.execute(sa.text("UPDATE product SET name = 1")).rowcount
"""
    outcome = _outcome(ex.RenameProduct, bad_table, lab)
    assert outcome.status == "incorrect"


def test_q6_leaves_the_lab_tables_alone(lab):
    import sqlalchemy as sa

    from nexus_labs.labs import read_model

    with lab.sql.engine.connect() as connection:
        exists = sa.inspect(connection).has_table("products")
        before = connection.execute(sa.text(
            "SELECT count(*) FROM products WHERE product_name LIKE 'Renamed%'")).scalar() \
            if exists else 0
    assert _outcome(ex.RenameProduct, ex.RenameProduct.solution, lab).status == "correct"
    with lab.sql.engine.connect() as connection:
        assert not sa.inspect(connection).has_table("order_history") or connection.execute(
            sa.text(f"SELECT count(*) FROM {read_model.READ_MODEL} WHERE product_name LIKE "
                    "'Renamed%'")).scalar() == 0
        if exists:
            assert connection.execute(sa.text(
                "SELECT count(*) FROM products WHERE product_name LIKE 'Renamed%'")
            ).scalar() == before
