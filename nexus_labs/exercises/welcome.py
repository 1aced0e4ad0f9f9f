"""Lab 00 warm-up exercises: a number from a query, a GROUP BY query, a key with a TTL."""

from __future__ import annotations

import numbers
from typing import Any

import pandas as pd
import sqlalchemy as sa

from nexus_labs.exercises import checks
from nexus_labs.exercises.core import Exercise, Incorrect

ONE_HOUR = 3600


def _scalar(lab: Any, sql: str) -> int:
    with lab.sql.engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


class OrderCount(Exercise):
    id = "q1"
    title = "How many orders does the marketplace have?"
    answer_name = "answer_q1"
    hints = (
        "Every order is one row of the `orders` table.",
        'pd.read_sql("select count(*) as n from orders", lab.sql.engine) gives a one-cell '
        "DataFrame; take the number out with .iloc[0, 0] or ['n'][0].",
    )
    solution = (
        'answer_q1 = pd.read_sql("select count(*) as n from orders", lab.sql.engine)'
        '["n"][0]'
    )

    def check(self, answer: Any, lab: Any) -> None:
        if isinstance(answer, pd.DataFrame):
            raise Incorrect("answer_q1 is a whole DataFrame; assign the number inside it, "
                            "e.g. df.iloc[0, 0].")
        if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
            raise Incorrect(f"answer_q1 should be a whole number, but it is "
                            f"{type(answer).__name__}: {answer!r}")
        orders = _scalar(lab, "select count(*) from orders")
        if answer == orders:
            return
        if answer == _scalar(lab, "select count(*) from order_items"):
            raise Incorrect(f"{answer} is the number of order ITEMS (lines); an order can "
                            "have several items. Count the rows of `orders`.")
        if answer == _scalar(lab, "select count(*) from customers"):
            raise Incorrect(f"{answer} is the number of customers, not of orders.")
        raise Incorrect(f"{answer} is not the number of rows in `orders`.")


class OrdersPerStatus(Exercise):
    id = "q2"
    title = "Write a query: number of orders per status"
    answer_name = "answer_q2"
    hints = (
        "GROUP BY status collapses the orders of each status into one row.",
        "Name the count with an alias: count(*) AS orders.",
    )
    solution = 'answer_q2 = "select status, count(*) as orders from orders group by status"'

    def check(self, answer: Any, lab: Any) -> None:
        checks.expect_type(answer, str, "answer_q2 (a SQL query in quotes)")
        result = checks.read_learner_sql(lab.sql.engine, answer, timeout=self.timeout)
        expected = pd.read_sql(
            "select status, count(*) as orders from orders group by status", lab.sql.engine
        )
        checks.same_rows(result, expected, what="Your query's result")


class Remember(Exercise):
    id = "q3"
    title = "Store a value in Redis with an expiry"
    answer_name = "remember"
    hints = (
        "redis-py's set() takes the expiry in seconds as ex=...",
        "r.set(key, value, ex=600) stores the value for ten minutes.",
    )
    solution = "def remember(r, key, value):\n    return r.set(key, value, ex=600)\n"

    def check(self, answer: Any, lab: Any) -> None:
        if not callable(answer):
            raise Incorrect("remember should be a function: def remember(r, key, value): ...")
        key = lab.redis.key("scratch", "remember")
        client = lab.redis.client
        try:
            self.call_allowing_none(answer, client, key, "hello")
            stored, ttl = client.get(key), client.ttl(key)
        finally:
            client.delete(key)
        if stored != "hello":
            raise Incorrect(f"after remember(r, key, 'hello') the key holds {stored!r}, "
                            "not 'hello'.")
        if ttl == -1:
            raise Incorrect("the key was stored without an expiry (TTL -1): it would stay in "
                            "the cache forever. Pass ex=... seconds.")
        if ttl > ONE_HOUR:
            raise Incorrect(f"the key expires in {ttl} s, more than one hour. Did you give "
                            "milliseconds to ex=? ex is in seconds (px is milliseconds).")


EXERCISES = (OrderCount, OrdersPerStatus, Remember)
