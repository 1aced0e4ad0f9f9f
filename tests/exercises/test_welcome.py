"""Lab 00 checkers: the reference passes, common mistakes are named, alternatives pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nexus_labs import data
from nexus_labs.exercises.testing import answer_from_code, outcome_of
from nexus_labs.exercises.welcome import OrderCount, OrdersPerStatus, Remember


@pytest.fixture(scope="module")
def lab(open_test_lab):
    lab = open_test_lab("welcome")
    data.install_marketplace(lab.sql.engine)
    return lab


def _solution(exercise, lab):
    return answer_from_code(exercise.solution, exercise.answer_name, {"lab": lab, "pd": pd})


def _count(lab, table):
    return int(pd.read_sql(f"select count(*) as n from {table}", lab.sql.engine)["n"][0])


@pytest.mark.parametrize("exercise", [OrderCount, OrdersPerStatus, Remember])
def test_reference_solution_passes(exercise, lab):
    outcome = outcome_of(exercise, _solution(exercise, lab), lab)
    assert outcome.status == "correct", outcome.message


def test_order_count_names_the_common_mistakes(lab):
    items = outcome_of(OrderCount, _count(lab, "order_items"), lab)
    assert items.status == "incorrect" and "order ITEMS" in items.message
    customers = outcome_of(OrderCount, _count(lab, "customers"), lab)
    assert customers.status == "incorrect" and "customers" in customers.message
    frame = outcome_of(OrderCount, pd.read_sql("select count(*) from orders", lab.sql.engine),
                       lab)
    assert frame.status == "incorrect" and "DataFrame" in frame.message


def test_order_count_accepts_a_numpy_integer(lab):
    assert outcome_of(OrderCount, np.int64(_count(lab, "orders")), lab).status == "correct"


def test_orders_per_status_rejects_wrong_queries(lab):
    no_alias = outcome_of(OrdersPerStatus, "select status, count(*) from orders group by status",
                          lab)
    assert no_alias.status == "incorrect" and "orders" in no_alias.message
    lines = outcome_of(
        OrdersPerStatus,
        "select o.status, count(*) as orders from orders o "
        "join order_items i on i.order_id = o.order_id group by o.status",
        lab,
    )
    assert lines.status == "incorrect"
    broken = outcome_of(OrdersPerStatus, "select status count(*) from orders group", lab)
    assert broken.status == "incorrect" and "rejected" in broken.message


def test_orders_per_status_accepts_other_column_and_row_order(lab):
    alternative = ("select count(order_id) as orders, status from orders "
                   "group by status order by orders desc")
    assert outcome_of(OrdersPerStatus, alternative, lab).status == "correct"


def test_remember_rejects_no_ttl_and_milliseconds(lab):
    forever = answer_from_code("def remember(r, key, value):\n    r.set(key, value)\n",
                               "remember")
    outcome = outcome_of(Remember, forever, lab)
    assert outcome.status == "incorrect" and "without an expiry" in outcome.message
    millis = answer_from_code(
        "def remember(r, key, value):\n    return r.set(key, value, ex=600_000)\n", "remember")
    outcome = outcome_of(Remember, millis, lab)
    assert outcome.status == "incorrect" and "milliseconds" in outcome.message


def test_remember_accepts_set_then_expire(lab):
    two_steps = answer_from_code(
        "def remember(r, key, value):\n    r.set(key, value)\n    r.expire(key, 60)\n",
        "remember")
    assert outcome_of(Remember, two_steps, lab).status == "correct"
    assert lab.redis.scan_keys("scratch*") == []  # the check cleaned up after itself


def test_untouched_stub_is_not_attempted(lab):
    stub = answer_from_code("def remember(r, key, value):\n    return ____\n", "remember")
    assert outcome_of(Remember, stub, lab).status == "not_attempted"


def test_orders_per_status_stops_a_cross_join_and_keeps_the_data(lab):
    cross = ("select o.status, count(*) as orders from orders o, order_items i, customers c "
             "group by o.status")
    outcome = outcome_of(OrdersPerStatus, cross, lab)
    assert outcome.status == "incorrect" and "time limit" in outcome.message
    deleted = outcome_of(OrdersPerStatus, "delete from orders", lab)
    assert deleted.status == "incorrect"
    assert _count(lab, "orders") == 1500
