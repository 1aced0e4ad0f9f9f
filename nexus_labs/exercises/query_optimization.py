"""Exercises of lab 03 (query optimization): N+1, indexes, predicates, keyset pages, SQL
aggregation. Every check runs on the lab's real engine: query counts, real plans, real rows.

Exercises that need an index on big_orders create it under an `ix_lab_*` name and drop what
they created before returning, so the table is left as it was found.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import sqlalchemy as sa

from nexus_labs.exercises import checks
from nexus_labs.exercises.core import Exercise, Incorrect

PAGE_SIZE = 100


def _sql_text(answer: Any, name: str) -> str:
    if not isinstance(answer, str):
        raise Incorrect(f"{name} should be SQL text in quotes, but it is "
                        f"{type(answer).__name__}: {answer!r}")
    text = answer.strip().rstrip(";").strip()
    if ";" in text:
        raise Incorrect(f"{name} should be ONE SQL statement (remove the ';' in the middle).")
    return text


def _run_rows(engine: sa.Engine, sql: str, params: dict | None = None,
              timeout: float = 15.0) -> list[tuple]:
    # A time limit, because a learner's cross join over big_orders would never finish; and a
    # rollback, so a stray DELETE in an answer never reaches the lab's data.
    try:
        with engine.connect() as connection:
            try:
                with checks.statement_time_limit(connection, timeout):
                    return [tuple(row) for row in connection.execute(sa.text(sql), params or {})]
            finally:
                connection.rollback()
    except sa.exc.ResourceClosedError:
        raise Incorrect("your SQL returns no rows: the answer is a SELECT query.", sql) from None
    except sa.exc.DBAPIError as error:
        first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        if "interrupted" in first or "statement timeout" in first:
            raise Incorrect(f"your SQL did not finish within {timeout:g} s; is a JOIN missing "
                            "its ON condition?", sql) from None
        raise Incorrect(f"the database rejected your SQL: {first}", sql) from None


# --- q1: N+1 ----------------------------------------------------------------------------------

class FixNPlusOne(Exercise):
    id = "q1"
    title = "Load the first 100 orders with customer and items in at most 2 queries"
    answer_name = "orders_page"
    timeout = 20.0
    hints = (
        "Loader options go into .options(...): joinedload for a many-to-one (one JOIN, no "
        "duplicate rows), selectinload for a collection (one extra SELECT ... IN).",
        "joinedload(Order.customer) + selectinload(Order.items) is 2 queries. Loading the items "
        "with joinedload too is 1 query, but then the result needs .unique().",
    )
    solution = '''from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from nexus_labs.labs.query_optimization import Order

def orders_page(session):
    query = (
        select(Order)
        .options(joinedload(Order.customer), selectinload(Order.items))
        .order_by(Order.order_id)
        .limit(100)
    )
    return session.scalars(query).all()'''

    def check(self, answer: Any, lab: Any) -> str:
        from sqlalchemy.orm import Session

        from nexus_labs import data
        from nexus_labs.labs.n_plus_one import capture_statements, render_page
        from nexus_labs.labs.query_optimization import Order

        engine = lab.sql.engine
        data.install_marketplace(engine)
        with Session(engine) as session:
            expected = render_page(list(session.scalars(
                sa.select(Order).order_by(Order.order_id).limit(PAGE_SIZE))))
        with Session(engine) as session, capture_statements(engine) as log:
            orders = self.call(answer, session)
            if not all(isinstance(order, Order) for order in orders):
                raise Incorrect("orders_page should return Order objects (session.scalars(...)"
                                ".all()), not rows or ids.")
            page = render_page(list(orders))  # inside the count: lazy loads happen here
        if log.count > 2:
            if log.count > PAGE_SIZE:
                raise Incorrect(f"rendering the page took {log.count} queries: that is the "
                                "N+1 pattern, one lazy load per order. Add loader options.")
            raise Incorrect(f"rendering the page took {log.count} queries; the limit is 2. "
                            "selectinload costs one query per relationship: load the customer "
                            "with joinedload instead.")
        if len(page) != PAGE_SIZE:
            raise Incorrect(f"the page has {len(page)} orders, expected {PAGE_SIZE}. A LIMIT "
                            "on a JOIN counts rows (order items), not orders.")
        if page != expected:
            wrong = next(i for i, (a, b) in enumerate(zip(page, expected, strict=True)) if a != b)
            raise Incorrect(f"row {wrong} of the page is {page[wrong]}, expected "
                            f"{expected[wrong]}: the first 100 orders by order_id, each with "
                            "all its items.")
        return f"the page took {log.count} {'query' if log.count == 1 else 'queries'}."


# --- q2: choose the index ---------------------------------------------------------------------

Q2_SQL = ("SELECT id, created_at, total_cents FROM big_orders WHERE customer_id = :customer_id "
          "ORDER BY created_at DESC LIMIT 10")
_CREATE_INDEX = re.compile(
    r"^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+big_orders\s*\(",
    re.IGNORECASE)


class ChooseIndex(Exercise):
    id = "q2"
    title = "Write the CREATE INDEX that makes the customer's latest orders a SEARCH"
    answer_name = "answer_q2"
    hints = (
        "The query filters on customer_id with = and then sorts by created_at: an index can "
        "do both if its columns come in that order.",
        "Equality columns first, then the ORDER BY column: (customer_id, created_at).",
    )
    solution = ('answer_q2 = "CREATE INDEX ix_lab_q2_customer_created '
                'ON big_orders (customer_id, created_at)"')

    def check(self, answer: Any, lab: Any) -> str:
        from nexus_labs import data
        from nexus_labs.labs import indexing

        sql = _sql_text(answer, self.answer_name)
        match = _CREATE_INDEX.match(sql)
        if not match:
            raise Incorrect("answer_q2 should be one CREATE INDEX name ON big_orders (...) "
                            "statement.", sql)
        name = match.group(1).lower()
        if not name.startswith(indexing.LAB_PREFIX):
            raise Incorrect(f"name your index {indexing.LAB_PREFIX}something (lab indexes "
                            "carry that prefix so the lab can clean them up).")
        engine = lab.sql.engine
        data.ensure_big_table(lab.sql)
        before = set(indexing.lab_indexes(engine))
        try:
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(sql)
            except sa.exc.DBAPIError as error:
                first = str(error.orig).strip().splitlines()[0]
                raise Incorrect(f"the database rejected your CREATE INDEX: {first}") from None
            indexing.analyze(engine)
            shape = indexing.shape_of(engine, Q2_SQL, {"customer_id": 42})
        finally:
            with engine.begin() as connection:
                for created in set(indexing.lab_indexes(engine)) - before:
                    connection.exec_driver_sql(f"DROP INDEX IF EXISTS {created}")
        if shape.access != "search":
            raise Incorrect(f"with your index the plan is still {shape}: the index does not "
                            "start with the column the WHERE clause compares with =.",
                            shape.text)
        if shape.sorts:
            raise Incorrect(f"the plan is {shape}: it finds the customer's rows but still "
                            "sorts them. Add created_at to the index, after customer_id.",
                            shape.text)
        return f"the plan is now {shape}."


# --- q3: rewrite a predicate ------------------------------------------------------------------

Q3_INDEX = "ix_lab_q3_total_cents"
Q3_ORIGINAL = "SELECT id FROM big_orders WHERE total_cents / 100 = 234"


class RewritePredicate(Exercise):
    id = "q3"
    title = "Rewrite WHERE total_cents / 100 = 234 so it can use the index on total_cents"
    answer_name = "answer_q3"
    hints = (
        "An index on total_cents is sorted by total_cents, not by total_cents / 100: leave the "
        "column alone on one side of the comparison and move the arithmetic to the constants.",
        "Integer division by 100 equals 234 for total_cents from 23400 to 23499.",
    )
    solution = ('answer_q3 = "SELECT id FROM big_orders '
                'WHERE total_cents >= 23400 AND total_cents < 23500"')

    def check(self, answer: Any, lab: Any) -> str:
        from nexus_labs import data
        from nexus_labs.labs import indexing

        sql = _sql_text(answer, self.answer_name)
        if not re.match(r"^SELECT\b", sql, re.IGNORECASE):
            raise Incorrect("answer_q3 should be a SELECT query.", sql)
        engine = lab.sql.engine
        data.ensure_big_table(lab.sql)
        with indexing.temporary_index(engine, Q3_INDEX, "big_orders", "total_cents"):
            expected = sorted(_run_rows(engine, Q3_ORIGINAL))
            got = sorted(_run_rows(engine, sql))
            try:
                shape = indexing.shape_of(engine, sql)
            except ValueError:
                shape = None
        if got != expected:
            missing, extra = len(set(expected) - set(got)), len(set(got) - set(expected))
            raise Incorrect(f"your query returns {len(got)} rows, the original {len(expected)} "
                            f"({missing} missing, {extra} extra). Check the range ends: "
                            "which total_cents values divide to exactly 234?")
        if shape is None or shape.access != "search" or shape.index != Q3_INDEX:
            raise Incorrect(f"right rows, but the plan is {shape or 'unreadable'}, not a "
                            f"search with {Q3_INDEX}: the column is still inside an "
                            "expression.", shape.text if shape else "")
        return f"same {len(got)} rows, and the plan is {shape}."


# --- q5: keyset next page ---------------------------------------------------------------------

class KeysetNextPage(Exercise):
    id = "q5"
    title = "Write the keyset query for the next page of lab_feed (ties on created_at included)"
    answer_name = "answer_q5"
    hints = (
        "The feed is ordered by created_at, then id. The next page starts strictly after the "
        "last row's (created_at, id) pair, not after its created_at alone.",
        "WHERE (created_at, id) > (:last_created_at, :last_id) ORDER BY created_at, id "
        "LIMIT :size  (or spell the row comparison out with OR).",
    )
    solution = '''answer_q5 = """
SELECT id, created_at FROM lab_feed
WHERE (created_at, id) > (:last_created_at, :last_id)
ORDER BY created_at, id
LIMIT :size
"""'''

    def check(self, answer: Any, lab: Any) -> str:
        from nexus_labs.labs.pagination import reset_feed, walk_pages

        sql = _sql_text(answer, self.answer_name)
        if re.search(r"\bOFFSET\b", sql, re.IGNORECASE):
            raise Incorrect("a keyset page does not use OFFSET: it starts after the last row "
                            "seen, with a WHERE condition on :last_created_at and :last_id.")
        engine = lab.sql.engine
        expected = reset_feed(engine)
        try:
            seen = walk_pages(engine, sql, size=5)
        except sa.exc.DBAPIError as error:
            first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise Incorrect(f"the database rejected your SQL: {first}", sql) from None
        if seen == expected:
            return f"walking the feed 5 rows at a time returns all {len(expected)} rows once."
        seen_set = set(seen)
        lost = [row for row in expected if row not in seen_set]
        repeated = len(seen) - len(seen_set)
        if lost:
            raise Incorrect(f"walking the pages lost {len(lost)} rows, e.g. {lost[0]}: rows "
                            "that share the last row's created_at are skipped. Compare the "
                            "(created_at, id) pair, with id as the tie-breaker.")
        if repeated:
            raise Incorrect(f"walking the pages repeated {repeated} rows: the next page must "
                            "start strictly after the last row's (created_at, id).")
        raise Incorrect("every row came back once, but not in feed order: ORDER BY "
                        "created_at, id.")


# --- q6: SQL aggregation ----------------------------------------------------------------------

class SqlAggregation(Exercise):
    id = "q6"
    title = "Replace the Python revenue loop with one SQL query"
    answer_name = "answer_q6"
    hints = (
        "Join orders to order_items on order_id, keep the delivered orders, GROUP BY the "
        "customer.",
        "SUM(quantity * unit_price_cents): each line's revenue is quantity times unit price.",
    )
    solution = '''answer_q6 = """
SELECT o.customer_id, SUM(i.quantity * i.unit_price_cents) AS revenue_cents
FROM orders AS o
JOIN order_items AS i ON i.order_id = o.order_id
WHERE o.status = 'delivered'
GROUP BY o.customer_id
"""'''

    def check(self, answer: Any, lab: Any) -> str:
        from nexus_labs import data
        from nexus_labs.labs.query_optimization import revenue_by_customer_python

        sql = _sql_text(answer, self.answer_name)
        engine = lab.sql.engine
        data.install_marketplace(engine)
        expected = revenue_by_customer_python(engine)
        rows = _run_rows(engine, sql)
        if rows and len(rows[0]) != 2:
            raise Incorrect(f"return two columns, customer_id and revenue_cents; your rows "
                            f"have {len(rows[0])}: {rows[0]}")
        try:
            got = sorted((int(c), int(r)) for c, r in rows)
        except (TypeError, ValueError):
            raise Incorrect(f"the columns should be numbers; first row: {rows[:1]}") from None
        if got == expected:
            return f"one query, the same {len(got)} customers and totals as the loop."
        if len(got) != len(expected):
            raise Incorrect(f"{len(got)} customers, the loop finds {len(expected)}: only "
                            "delivered orders count, and each customer appears once "
                            "(GROUP BY customer_id).")
        wrong = [(g, e) for g, e in zip(got, expected, strict=True) if g != e]
        (customer, yours), (_, theirs) = wrong[0]
        raise Incorrect(f"{len(wrong)} customers have another total, e.g. customer {customer}: "
                        f"{yours} instead of {theirs}. A line's revenue is quantity × "
                        "unit_price_cents.")


# --- q4: spot the query that cannot use the index ---------------------------------------------

Q4_INDEX = "ix_lab_q4_customer"
Q4_OPTIONS = {
    "A": "SELECT id FROM big_orders WHERE customer_id = 4242",
    "B": "SELECT id FROM big_orders WHERE customer_id + 0 = 4242",
    "C": "SELECT id FROM big_orders WHERE customer_id IN (4242, 4243)",
    "D": "SELECT id FROM big_orders WHERE abs(customer_id) = 4242",
    "E": "SELECT id FROM big_orders WHERE customer_id BETWEEN 4240 AND 4245",
    "F": "SELECT id FROM big_orders WHERE CAST(customer_id AS TEXT) = '4242'",
}


def _letters(answer: Any) -> set[str]:
    if isinstance(answer, str):
        items = re.findall(r"[A-Za-z]", answer)
    elif isinstance(answer, (set, frozenset, list, tuple)):
        items = [str(item).strip() for item in answer]
    else:
        raise Incorrect(f"answer_q4 should be letters like {{'A', 'C'}}, not "
                        f"{type(answer).__name__}")
    letters = {item.upper() for item in items}
    unknown = letters - set(Q4_OPTIONS)
    if unknown:
        raise Incorrect(f"there is no option {', '.join(sorted(unknown))}: choose among "
                        f"{', '.join(Q4_OPTIONS)}.")
    return letters


_Q4_PLANS: dict[Any, dict] = {}  # engine URL -> the plan shape of each option


class SpotNoIndex(Exercise):
    id = "q4"
    title = "Which of the queries cannot use the index on customer_id?"
    answer_name = "answer_q4"
    hints = (
        "An index on customer_id is sorted by customer_id. A condition the engine can turn "
        "into 'find this value/range in the sorted list' uses it.",
        "Anything computed FROM the column (arithmetic, a function, a cast) is a different "
        "value the index does not store.",
    )
    solution = 'answer_q4 = {"B", "D", "F"}'
    reasons: ClassVar[dict[str, str]] = {
        "A": "equality on the bare column is exactly what the index finds",
        "B": "customer_id + 0 is an expression: the index stores customer_id, not that",
        "C": "IN is a few equality lookups",
        "D": "abs(customer_id) is a function of the column",
        "E": "BETWEEN is a range on the sorted column",
        "F": "a CAST makes text out of the column: another value, another order",
    }

    def check(self, answer: Any, lab: Any) -> str:
        from nexus_labs import data
        from nexus_labs.labs import indexing

        chosen = _letters(answer)
        engine = lab.sql.engine
        # The real plans need the index on the 1M-row table (seconds to build); they depend
        # only on the schema, so they are computed once per engine and reused by later checks.
        shapes = _Q4_PLANS.get(engine.url)
        if shapes is None:
            data.ensure_big_table(lab.sql)
            with indexing.temporary_index(engine, Q4_INDEX, "big_orders", "customer_id"):
                shapes = {letter: indexing.shape_of(engine, sql)
                          for letter, sql in Q4_OPTIONS.items()}
            _Q4_PLANS[engine.url] = shapes
        no_index = {letter for letter, shape in shapes.items() if shape.access == "scan"}
        if chosen == no_index:
            return ("the real plans agree: " + ", ".join(
                f"{letter} {shapes[letter]}" for letter in sorted(shapes)) + ".")
        wrongly = sorted(chosen - no_index)
        missed = sorted(no_index - chosen)
        parts = [f"{letter} does use the index ({self.reasons[letter]}; plan: "
                 f"{shapes[letter]})" for letter in wrongly]
        parts += [f"{letter} cannot ({self.reasons[letter]}; plan: {shapes[letter]})"
                  for letter in missed]
        raise Incorrect("; ".join(parts) + ".")


EXERCISES = (FixNPlusOne, ChooseIndex, RewritePredicate, SpotNoIndex, KeysetNextPage,
             SqlAggregation)
