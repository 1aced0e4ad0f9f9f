"""Lab 03 exercises: each reference solution passes, realistic wrong answers are rejected with
the intended message, and an alternative correct answer passes. Runs on the configured engine
(SQLite embedded, or the PostgreSQL schema in the services run)."""

from __future__ import annotations

import pytest

from nexus_labs.exercises import query_optimization as qo
from nexus_labs.exercises.testing import answer_from_code, outcome_of


@pytest.fixture(scope="module")
def lab(open_test_lab):
    from nexus_labs.labs.query_optimization import prepare

    lab = open_test_lab("query_optimization")
    prepare(lab)
    return lab


def correct(exercise, answer, lab):
    outcome = outcome_of(exercise, answer, lab)
    assert outcome.status == "correct", outcome.message
    return outcome


def rejected(exercise, answer, lab, fragment):
    outcome = outcome_of(exercise, answer, lab)
    assert outcome.status == "incorrect", (outcome.status, outcome.message)
    assert fragment in outcome.message, outcome.message
    return outcome


def solution_of(exercise):
    return answer_from_code(exercise.solution, exercise.answer_name)


PAGE_IMPORTS = """
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from nexus_labs.labs.query_optimization import Order, OrderItem
"""


def page_function(body: str):
    return answer_from_code(PAGE_IMPORTS + "def orders_page(session):\n" + body,
                            "orders_page")


# --- q1 ---------------------------------------------------------------------------------------

def test_q1_reference_passes_within_two_queries(lab):
    outcome = correct(qo.FixNPlusOne, solution_of(qo.FixNPlusOne), lab)
    assert "2 queries" in outcome.message


def test_q1_all_joined_with_unique_passes(lab):
    answer = page_function(
        "    query = (select(Order).options(joinedload(Order.customer), joinedload(Order.items))"
        "\n             .order_by(Order.order_id).limit(100))\n"
        "    return session.scalars(query).unique().all()\n")
    assert "1 query" in correct(qo.FixNPlusOne, answer, lab).message


def test_q1_lazy_loading_is_called_n_plus_one(lab):
    answer = page_function(
        "    return session.scalars(select(Order).order_by(Order.order_id).limit(100)).all()\n")
    rejected(qo.FixNPlusOne, answer, lab, "N+1")


def test_q1_selectinload_for_both_is_three_queries(lab):
    answer = page_function(
        "    query = (select(Order).options(selectinload(Order.customer), "
        "selectinload(Order.items))\n"
        "             .order_by(Order.order_id).limit(100))\n"
        "    return session.scalars(query).all()\n")
    rejected(qo.FixNPlusOne, answer, lab, "took 3 queries; the limit is 2")


def test_q1_hand_written_join_with_limit_has_too_few_orders(lab):
    answer = page_function(
        "    query = (select(Order).join(Order.items)\n"
        "             .options(contains_eager(Order.items), joinedload(Order.customer))\n"
        "             .order_by(Order.order_id).limit(100))\n"
        "    return session.scalars(query).unique().all()\n")
    rejected(qo.FixNPlusOne, answer, lab, "expected 100")


def test_q1_joined_collection_without_unique_reports_the_error(lab):
    answer = page_function(
        "    query = (select(Order).options(joinedload(Order.customer), joinedload(Order.items))"
        "\n             .order_by(Order.order_id).limit(100))\n"
        "    return session.scalars(query).all()\n")
    rejected(qo.FixNPlusOne, answer, lab, "unique()")


def test_q1_placeholder_is_not_attempted(lab):
    answer = page_function("    return ____\n")
    assert outcome_of(qo.FixNPlusOne, answer, lab).status == "not_attempted"


# --- q2 ---------------------------------------------------------------------------------------

def test_q2_reference_passes_and_leaves_no_index(lab):
    from nexus_labs.labs.indexing import lab_indexes

    before = lab_indexes(lab.sql.engine)
    outcome = correct(qo.ChooseIndex, solution_of(qo.ChooseIndex), lab)
    assert "SEARCH" in outcome.message
    assert lab_indexes(lab.sql.engine) == before


@pytest.mark.parametrize("sql", [
    "CREATE INDEX ix_lab_q2_alt ON big_orders (customer_id, created_at DESC)",
    "create index if not exists ix_lab_q2_alt ON big_orders (customer_id, created_at, "
    "total_cents);",
])
def test_q2_alternative_indexes_pass(lab, sql):
    correct(qo.ChooseIndex, sql, lab)


def test_q2_index_on_the_sort_column_only_is_rejected(lab):
    rejected(qo.ChooseIndex, "CREATE INDEX ix_lab_q2 ON big_orders (created_at)", lab,
             "does not start with the column")


def test_q2_index_without_the_sort_column_still_sorts(lab):
    rejected(qo.ChooseIndex, "CREATE INDEX ix_lab_q2 ON big_orders (customer_id)", lab,
             "still sorts")


def test_q2_wrong_column_order_is_rejected(lab):
    rejected(qo.ChooseIndex, "CREATE INDEX ix_lab_q2 ON big_orders (created_at, customer_id)",
             lab, "does not start with the column")


def test_q2_not_a_create_index_is_rejected(lab):
    rejected(qo.ChooseIndex, "DROP TABLE big_orders", lab, "one CREATE INDEX")
    rejected(qo.ChooseIndex, "CREATE INDEX my_index ON big_orders (customer_id, created_at)",
             lab, "name your index ix_lab_")


# --- q3 ---------------------------------------------------------------------------------------

def test_q3_reference_passes(lab):
    assert "ix_lab_q3_total_cents" in correct(
        qo.RewritePredicate, solution_of(qo.RewritePredicate), lab).message


def test_q3_between_with_the_right_ends_passes(lab):
    correct(qo.RewritePredicate,
            "select id from big_orders where total_cents between 23400 and 23499", lab)


def test_q3_off_by_one_range_is_rejected(lab):
    rejected(qo.RewritePredicate,
             "SELECT id FROM big_orders WHERE total_cents BETWEEN 23400 AND 23500", lab,
             "extra")


def test_q3_expression_left_on_the_column_is_rejected(lab):
    rejected(qo.RewritePredicate,
             "SELECT id FROM big_orders WHERE total_cents + 0 >= 23400 AND total_cents + 0 "
             "< 23500", lab, "still inside an expression")


def test_q3_original_query_is_rejected(lab):
    rejected(qo.RewritePredicate, qo.Q3_ORIGINAL, lab, "still inside an expression")


# --- q4 ---------------------------------------------------------------------------------------

def test_q4_reference_passes(lab):
    correct(qo.SpotNoIndex, solution_of(qo.SpotNoIndex), lab)


@pytest.mark.parametrize("answer", ["B, D, F", ["f", "b", "d"], ("B", "D", "F")])
def test_q4_other_spellings_pass(lab, answer):
    correct(qo.SpotNoIndex, answer, lab)


def test_q4_missing_a_function_is_rejected(lab):
    rejected(qo.SpotNoIndex, {"B"}, lab, "D cannot")


def test_q4_between_wrongly_included_is_rejected(lab):
    rejected(qo.SpotNoIndex, {"B", "D", "E", "F"}, lab, "E does use the index")


def test_q4_unknown_letter_is_rejected(lab):
    rejected(qo.SpotNoIndex, {"B", "Z"}, lab, "no option Z")


# --- q5 ---------------------------------------------------------------------------------------

def test_q5_reference_passes(lab):
    correct(qo.KeysetNextPage, solution_of(qo.KeysetNextPage), lab)


def test_q5_spelled_out_row_comparison_passes(lab):
    correct(qo.KeysetNextPage,
            "SELECT id, created_at FROM lab_feed WHERE created_at > :last_created_at "
            "OR (created_at = :last_created_at AND id > :last_id) "
            "ORDER BY created_at, id LIMIT :size", lab)


def test_q5_without_tie_breaker_loses_rows(lab):
    rejected(qo.KeysetNextPage,
             "SELECT id, created_at FROM lab_feed WHERE created_at > :last_created_at "
             "ORDER BY created_at, id LIMIT :size", lab, "lost")


def test_q5_and_instead_of_row_comparison_loses_rows(lab):
    rejected(qo.KeysetNextPage,
             "SELECT id, created_at FROM lab_feed WHERE created_at >= :last_created_at "
             "AND id > :last_id ORDER BY created_at, id LIMIT :size", lab, "lost")


def test_q5_greater_or_equal_repeats_rows(lab):
    rejected(qo.KeysetNextPage,
             "SELECT id, created_at FROM lab_feed WHERE created_at >= :last_created_at "
             "ORDER BY created_at, id LIMIT :size", lab, "repeated")


def test_q5_offset_is_rejected(lab):
    rejected(qo.KeysetNextPage,
             "SELECT id, created_at FROM lab_feed ORDER BY created_at, id "
             "LIMIT :size OFFSET 5", lab, "does not use OFFSET")


# --- q6 ---------------------------------------------------------------------------------------

def test_q6_reference_passes(lab):
    correct(qo.SqlAggregation, solution_of(qo.SqlAggregation), lab)


def test_q6_subquery_form_passes(lab):
    correct(qo.SqlAggregation, """
        SELECT customer_id, SUM(line_total) AS revenue_cents
        FROM (SELECT o.customer_id, i.quantity * i.unit_price_cents AS line_total
              FROM order_items i JOIN orders o USING (order_id)
              WHERE o.status = 'delivered') AS lines
        GROUP BY customer_id ORDER BY revenue_cents DESC""", lab)


def test_q6_forgetting_quantity_is_rejected(lab):
    rejected(qo.SqlAggregation, """
        SELECT o.customer_id, SUM(i.unit_price_cents) FROM orders o
        JOIN order_items i ON i.order_id = o.order_id
        WHERE o.status = 'delivered' GROUP BY o.customer_id""", lab, "quantity ×")


def test_q6_forgetting_the_status_filter_is_rejected(lab):
    outcome = rejected(qo.SqlAggregation, """
        SELECT o.customer_id, SUM(i.quantity * i.unit_price_cents) FROM orders o
        JOIN order_items i ON i.order_id = o.order_id GROUP BY o.customer_id""", lab,
        "customers")
    assert "delivered" in outcome.message or "another total" in outcome.message


def test_q6_sql_error_is_reported(lab):
    rejected(qo.SqlAggregation, "SELECT customer_id, SUM(nope) FROM orders GROUP BY 1", lab,
             "the database rejected your SQL")


def test_q6_runaway_cross_join_is_stopped_and_named(lab, monkeypatch):
    import time

    monkeypatch.setattr(qo.SqlAggregation, "timeout", 1.0)
    original = qo._run_rows
    monkeypatch.setattr(qo, "_run_rows",
                        lambda engine, sql, params=None, timeout=15.0: original(engine, sql,
                                                                               params, 1.0))
    started = time.monotonic()
    rejected(qo.SqlAggregation, """
        SELECT o.customer_id, SUM(a.total_cents + b.total_cents) FROM orders o, big_orders a,
        big_orders b GROUP BY o.customer_id""", lab, "did not finish")
    assert time.monotonic() - started < 10


def test_q6_answer_cannot_change_the_labs_data(lab):
    import sqlalchemy as sa

    with pytest.raises(qo.Incorrect, match="SELECT"):
        qo._run_rows(lab.sql.engine, "UPDATE customers SET city = 'Tampered'")
    with lab.sql.engine.connect() as connection:
        tampered = connection.execute(
            sa.text("select count(*) from customers where city = 'Tampered'")).scalar_one()
    assert tampered == 0  # rolled back
