"""Lab 03 teaching code: plan reading on both engines' wording, the N+1 counts, index
housekeeping, pagination helpers and SQL-vs-Python aggregation, on the configured engine."""

from __future__ import annotations

import math

import pytest

from nexus_labs.labs import indexing, n_plus_one, pagination
from nexus_labs.labs import query_optimization as qo


@pytest.fixture(scope="module")
def lab(open_test_lab):
    lab = open_test_lab("query_optimization")
    qo.prepare(lab)
    return lab


# --- plan_shape on recorded plan texts (no database needed) -----------------------------------

@pytest.mark.parametrize(("plan", "access", "index", "covering", "sorts"), [
    ("SCAN big_orders", "scan", None, False, False),
    ("SCAN TABLE big_orders", "scan", None, False, False),  # SQLite before 3.36
    ("SEARCH big_orders USING INDEX ix_lab_email (email=?)", "search", "ix_lab_email", False,
     False),
    ("SEARCH TABLE big_orders USING COVERING INDEX ix_lab_c (customer_id=?)", "search",
     "ix_lab_c", True, False),
    ("SCAN big_orders USING COVERING INDEX ix_lab_c", "scan", "ix_lab_c", True, False),
    ("SEARCH big_orders USING INDEX ix_lab_c (customer_id=?)\nUSE TEMP B-TREE FOR ORDER BY",
     "search", "ix_lab_c", False, True),
    ("Gather  (cost=1000.00..15000.00 rows=1 width=40)\n  Workers Planned: 2\n"
     "  ->  Parallel Seq Scan on big_orders  (cost=0.00..14000.00 rows=1 width=40)\n"
     "        Filter: (email = 'x'::text)", "scan", None, False, False),
    ("Index Scan using ix_lab_email on big_orders  (cost=0.42..8.44 rows=1 width=40)\n"
     "  Index Cond: (email = 'x'::text)", "search", "ix_lab_email", False, False),
    ("Bitmap Heap Scan on big_orders  (cost=4.50..40.00 rows=10 width=40)\n"
     "  Recheck Cond: (customer_id = 42)\n"
     "  ->  Bitmap Index Scan on ix_lab_c  (cost=0.00..4.50 rows=10 width=0)\n"
     "        Index Cond: (customer_id = 42)", "search", "ix_lab_c", False, False),
    ("Index Only Scan using ix_lab_c on big_orders  (cost=0.42..4.60 rows=10 width=8)\n"
     "  Index Cond: (customer_id = 4242)", "search", "ix_lab_c", True, False),
    ("Limit  (cost=1.0..2.0 rows=10 width=20)\n  ->  Index Scan Backward using ix_lab_t on "
     "big_orders  (cost=0.42..9000.00 rows=10 width=20)\n        Filter: (customer_id = 42)",
     "scan", "ix_lab_t", False, False),
    ("Limit  (cost=40.1..40.2 rows=10 width=20)\n  ->  Sort  (cost=40.1..40.2 rows=10 width=20)"
     "\n        Sort Key: created_at DESC\n        ->  Index Scan using ix_lab_c on big_orders"
     "\n              Index Cond: (customer_id = 42)", "search", "ix_lab_c", False, True),
])
def test_plan_shape_reads_both_engines(plan, access, index, covering, sorts):
    shape = indexing.plan_shape(plan)
    assert (shape.access, shape.index, shape.covering, shape.sorts) == (
        access, index, covering, sorts)


def test_plan_shape_refuses_a_plan_it_cannot_read():
    with pytest.raises(ValueError, match="cannot read"):
        indexing.plan_shape("Result  (cost=0.00..0.01 rows=1 width=4)")


def test_create_index_only_takes_lab_names(lab):
    with pytest.raises(ValueError, match="ix_lab_"):
        indexing.create_index(lab.sql.engine, "my_index", "big_orders", "email")


# --- on the engine --------------------------------------------------------------------------

def test_lazy_loading_is_n_plus_one_and_selectin_batches_500(lab):
    engine = lab.sql.engine
    lazy = n_plus_one.measure_page(engine, 600, "lazy")
    selectin = n_plus_one.measure_page(engine, 600, "selectin")
    joined = n_plus_one.measure_page(engine, 600, "joined")
    assert lazy.rows == selectin.rows == joined.rows
    assert len(lazy.rows) == 600
    with engine.connect() as connection:
        customers = connection.exec_driver_sql(
            "SELECT count(DISTINCT customer_id) FROM (SELECT customer_id FROM orders "
            "ORDER BY order_id LIMIT 600) AS page").scalar()
    assert lazy.queries == 1 + 600 + customers
    assert selectin.queries == 1 + math.ceil(600 / 500) + 1
    assert joined.queries == 1


def test_capture_statements_counts_in_list_parameters(lab):
    from sqlalchemy import select
    from sqlalchemy.orm import Session, selectinload

    engine = lab.sql.engine
    with Session(engine) as session, n_plus_one.capture_statements(engine) as log:
        session.scalars(select(qo.Order).options(selectinload(qo.Order.items))
                        .order_by(qo.Order.order_id).limit(1100)).all()
    assert log.parameter_counts[1:] == [500, 500, 100]


def test_lab_indexes_are_found_and_dropped_including_expression_indexes(lab):
    engine = lab.sql.engine
    indexing.drop_lab_indexes(engine)
    sql = "SELECT * FROM big_orders WHERE lower(email) = 'buyer5@example.com'"
    assert indexing.shape_of(engine, sql).access == "scan"
    indexing.create_index(engine, "ix_lab_test_lower", "big_orders", "lower(email)")
    try:
        assert indexing.lab_indexes(engine) == ["ix_lab_test_lower"]
        shape = indexing.shape_of(engine, sql)
        assert (shape.access, shape.index) == ("search", "ix_lab_test_lower")
    finally:
        assert indexing.drop_lab_indexes(engine) == ["ix_lab_test_lower"]
    # The very same EXPLAIN text again must see the index gone (no stale cached plan).
    assert indexing.shape_of(engine, sql).access == "scan"


def test_write_cost_measures_each_count_and_cleans_up(lab):
    import sqlalchemy as sa

    engine = lab.sql.engine
    cost = indexing.write_cost(engine, counts=(0, 2), rows=2_000, repeat=1)
    assert list(cost["indexes"]) == [0, 2] and (cost["ms"] > 0).all()
    tables = sa.inspect(engine).get_table_names()
    assert indexing.WRITE_COST_TABLE not in tables and indexing.WRITE_COST_SOURCE not in tables


def test_offset_and_keyset_pages_agree(lab):
    frame = pagination.time_pages(lab.sql.engine, depths=(0, 5_000), repeat=1)
    assert list(frame["depth"]) == [0, 5_000]  # time_pages asserts the pages are equal


def test_feed_walk_with_and_without_tie_breaker(lab):
    engine = lab.sql.engine
    feed = pagination.reset_feed(engine)
    assert len(feed) == pagination.FEED_ROWS
    exact = pagination.walk_pages(engine, "SELECT id, created_at FROM lab_feed WHERE "
                                  "(created_at, id) > (:last_created_at, :last_id) "
                                  "ORDER BY created_at, id LIMIT :size", size=5)
    loose = pagination.walk_pages(engine, "SELECT id, created_at FROM lab_feed WHERE "
                                  "created_at > :last_created_at ORDER BY created_at "
                                  "LIMIT :size", size=5)
    assert exact == feed
    assert set(loose) < set(feed)


def test_status_totals_same_in_sql_and_python(lab):
    engine = lab.sql.engine
    in_sql = qo.status_totals_in_sql(engine, 20_000)
    assert in_sql == qo.status_totals_in_python(engine, 20_000)
    assert sum(n for _, n, _ in in_sql) == 20_000
