"""Lab 01 exercises: normal forms, functional dependencies, decomposition, denormalization.

Decompositions are judged by their properties (lossless by the chase, every part in BCNF, no
FD lost), never by comparison with the reference, so every valid design passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import ClassVar

import pandas as pd
import sqlalchemy as sa

from nexus_labs.exercises import checks
from nexus_labs.exercises.core import Exercise, Incorrect, ValueExercise
from nexus_labs.labs import functional_deps as fdx
from nexus_labs.labs import normalization as lab01
from nexus_labs.labs import read_model
from nexus_labs.labs.functional_deps import FD

Q1_COLUMNS = ("order_id", "product_id", "quantity", "product_name")
Q3_COLUMNS = tuple(lab01.STEP_2NF["products_wide"])
Q4_COLUMNS = ("order_id", "product_id", "quantity", "customer_email", "product_name",
              "category_name")


@cache
def _flat() -> pd.DataFrame:
    from nexus_labs import data

    return lab01.as_text_times(data.flat_export())


def parse_fd(value: object) -> FD:
    """An FD from "a, b -> c", ("a", "c"), (["a", "b"], "c") or an FD; Incorrect otherwise."""
    if isinstance(value, FD):
        return value
    if isinstance(value, str):
        parts = re.split(r"->|→", value)
        if len(parts) == 2 and parts[1].strip():
            lhs = [c.strip() for c in parts[0].split(",") if c.strip()]
            return FD.of(lhs, parts[1].strip())
    if isinstance(value, (tuple, list)) and len(value) == 2 and isinstance(value[1], str):
        lhs = [value[0]] if isinstance(value[0], str) else list(value[0])
        return FD.of([c.strip() for c in lhs], value[1].strip())
    raise Incorrect(f'Write the dependency as "X -> A", e.g. "order_id -> status"; got {value!r}.')


def _check_columns(fd: FD, columns: Iterable[str]) -> None:
    unknown = sorted((fd.lhs | {fd.rhs}) - set(columns))
    if unknown:
        raise Incorrect(f"{', '.join(unknown)} is not a column here. Columns: "
                        f"{', '.join(columns)}.")


class AnomalyDependency(Exercise):
    id = "q1"
    title = "Name the functional dependency behind the email update anomaly"
    answer_name = "answer_q1"
    hints = (
        "The stale value was customer_email. Which single column really decides it?",
        "An email is a fact about a customer, not about an order or an order line.",
    )
    solution = 'answer_q1 = "customer_id -> customer_email"'
    wrong_answers: ClassVar[dict] = {
        "order_id -> customer_email": "only through order_id -> customer_id",
        "order_id, product_id -> customer_email": "key of the flat table",
        "customer_email -> customer_id": "other way round",
        "customer_name -> customer_email": "does not hold",
    }

    def check(self, answer, lab) -> None:
        fd = parse_fd(answer)
        flat = _flat()
        _check_columns(fd, [c for c in flat.columns if c != "product_tags"])
        if fd.rhs != "customer_email":
            if fd.rhs == "customer_id" and "customer_email" in fd.lhs:
                raise Incorrect("That is the other way round: which columns decide the "
                                "email, the value that went stale?")
            raise Incorrect(f"The stale value was customer_email, not {fd.rhs}.")
        if not fdx.holds(flat, fd.lhs, fd.rhs):
            raise Incorrect(f"{fd} does not hold in the export: rows with the same "
                            f"{', '.join(sorted(fd.lhs))} have different emails.")
        if {"order_id", "product_id"} <= fd.lhs:
            raise Incorrect("order_id, product_id is the key of the flat table; a key "
                            "determining a column is no anomaly. Look for a smaller determinant.")
        smaller = [c for c in fd.lhs if len(fd.lhs) > 1 and fdx.holds(flat, [c], fd.rhs)]
        if smaller:
            raise Incorrect(f"{fd} holds but is not minimal: {smaller[0]} alone determines "
                            "the email.")
        if fd.lhs != {"customer_id"}:
            raise Incorrect(f"{fd} holds, but only through {', '.join(sorted(fd.lhs))} -> "
                            "customer_id: the email is a fact about the customer, so the FD "
                            "behind the anomaly starts at the customer's key.")


class ViolatedNormalForm(Exercise):
    id = "q2"
    title = "Which normal form does order_items_wide violate, and which FD breaks it?"
    answer_name = "answer_q2"
    hints = (
        "Find the key of order_items_wide first: which columns identify one order line?",
        "A column that depends on only PART of a composite key breaks the second normal form.",
    )
    solution = 'answer_q2 = ("2NF", "product_id -> product_name")'
    wrong_answers: ClassVar[dict] = {
        ("1NF", "product_id -> product_name"): "every cell holds one value",
        ("3NF", "product_id -> product_name"): "lower normal form fails first",
        ("2NF", "order_id, product_id -> product_name"): "is the key",
        ("2NF", "order_id, product_id -> quantity"): "is the key",
    }

    def check(self, answer, lab) -> None:
        if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
            raise Incorrect('Give a pair: ("?NF", "X -> A").')
        form, fd = str(answer[0]).strip().upper(), parse_fd(answer[1])
        diagnosis = fdx.diagnose(Q1_COLUMNS, lab01.BUSINESS_FDS)
        violated = {"1NF": "2NF", "2NF": "3NF", "3NF": "BCNF"}[diagnosis.normal_form]
        if form == "1NF":
            raise Incorrect("1NF holds: every cell holds one value (no lists, no repeating "
                            "groups). Look at what depends on part of the key.")
        if form in ("3NF", "BCNF"):
            raise Incorrect(f"It violates {form} too, but a lower normal form fails first: "
                            "which column depends on part of the key?")
        if form != violated:
            raise Incorrect(f"{form!r} is not a normal form we covered: 1NF, 2NF, 3NF or BCNF.")
        _check_columns(fd, Q1_COLUMNS)
        key = diagnosis.keys[0]
        if fd.lhs >= key:
            raise Incorrect(f"{fd} holds, but {', '.join(sorted(fd.lhs))} is the key: a key may "
                            "determine every column. Which column depends on only part of it?")
        if not fdx.closure(fd.lhs, lab01.BUSINESS_FDS) >= {fd.rhs}:
            raise Incorrect(f"{fd} does not hold: two lines with the same "
                            f"{', '.join(sorted(fd.lhs))} can differ in {fd.rhs}.")
        if fd != diagnosis.violation:
            raise Incorrect(f"{fd} is not the dependency that breaks {violated}.")


class Decomposition(Exercise):
    id = "q3"
    title = "Decompose products_wide into BCNF, lossless and dependency preserving"
    answer_name = "answer_q3"
    hints = (
        "Every determinant that is not a key of products_wide deserves a table of its own.",
        "category_id -> category_name and seller_id -> seller_name, seller_email: give each "
        "determinant its own table, and keep the determinant in products too so the join works.",
    )
    solution = ('answer_q3 = [\n'
                '    ["product_id", "product_name", "category_id", "seller_id"],\n'
                '    ["category_id", "category_name"],\n'
                '    ["seller_id", "seller_name", "seller_email"],\n'
                ']')
    wrong_answers: ClassVar[dict] = {
        (("product_id", "product_name", "category_id", "category_name", "seller_id"),
         ("seller_id", "seller_name", "seller_email")): "is not in BCNF",
        (("product_id", "product_name"), ("category_id", "category_name"),
         ("seller_id", "seller_name", "seller_email")): "not lossless",
        (("product_id", "product_name", "category_id", "seller_id"),
         ("category_id", "category_name")): "in no part",
    }

    def check(self, answer, lab) -> None:
        if isinstance(answer, dict):
            answer = list(answer.values())
        if not isinstance(answer, (list, tuple)) or not all(
                isinstance(part, (list, tuple, set, frozenset)) for part in answer):
            raise Incorrect("Give a list of tables, each a list of column names, e.g. "
                            '[["product_id", "product_name"], ...].')
        parts = [frozenset(part) for part in answer]
        known = set(Q3_COLUMNS)
        for part in parts:
            if unknown := sorted(part - known):
                raise Incorrect(f"{', '.join(unknown)} is not a column of products_wide.")
        if missing := [c for c in Q3_COLUMNS if not any(c in part for part in parts)]:
            raise Incorrect(f"{', '.join(missing)} is in no part: the decomposition loses it.")
        fds = fdx.project(lab01.BUSINESS_FDS, Q3_COLUMNS)
        if not fdx.is_lossless(Q3_COLUMNS, parts, fds):
            raise Incorrect("The decomposition is not lossless: joining the parts back can "
                            "create rows that were never there. Shared columns must be a key "
                            "of at least one side (keep the foreign key in products).")
        for part in parts:
            diagnosis = fdx.diagnose(part, fds)
            if diagnosis.normal_form != "BCNF":
                raise Incorrect(f"The part ({', '.join(sorted(part))}) is not in BCNF: "
                                f"{diagnosis.reason}.")
        if lost := fdx.lost_dependencies(parts, fds):
            raise Incorrect(f"{lost[0]} is not preserved: no single table can enforce it "
                            "any more, only a join could.")


# Known-wrong joins: a forgotten join condition (rows multiply), a join on the wrong column.
_Q4_NO_CUSTOMER_JOIN = """SELECT i.order_id, i.product_id, i.quantity, c.customer_email,
       p.product_name, cat.category_name
FROM order_items i, orders o, customers c, products p, categories cat
WHERE o.order_id = i.order_id AND p.product_id = i.product_id
  AND cat.category_id = p.category_id"""
_Q4_WRONG_COLUMN = """SELECT i.order_id, i.product_id, i.quantity, c.customer_email,
       p.product_name, cat.category_name
FROM order_items i
JOIN orders o ON o.order_id = i.order_id
JOIN customers c ON c.customer_id = o.order_id
JOIN products p ON p.product_id = i.product_id
JOIN categories cat ON cat.category_id = p.category_id"""


class LosslessJoinQuery(Exercise):
    id = "q4"
    title = "Write the join that gives back the flat order lines"
    answer_name = "answer_q4"
    hints = (
        "Start FROM order_items (one row per order line) and JOIN the tables holding the "
        "other columns.",
        "customer_email lives in customers (via orders.customer_id); category_name in "
        "categories (via products.category_id).",
    )
    solution = ('answer_q4 = """\n'
                'SELECT i.order_id, i.product_id, i.quantity, c.customer_email,\n'
                '       p.product_name, cat.category_name\n'
                'FROM order_items i\n'
                'JOIN orders o ON o.order_id = i.order_id\n'
                'JOIN customers c ON c.customer_id = o.customer_id\n'
                'JOIN products p ON p.product_id = i.product_id\n'
                'JOIN categories cat ON cat.category_id = p.category_id\n'
                '"""')
    timeout = 10.0
    wrong_answers: ClassVar[dict] = {
        _Q4_NO_CUSTOMER_JOIN: "rows multiply",
        _Q4_WRONG_COLUMN: "wrong columns",
    }

    def check(self, answer, lab) -> None:
        if not isinstance(answer, str):
            raise Incorrect(f"answer_q4 should be the SQL text (a str), not "
                            f"{type(answer).__name__}.")
        expected = _flat()[list(Q4_COLUMNS)]
        frames = lab01.normalized_frames(_flat())
        with lab01.scratch_connection(lab.sql.engine, frames) as connection:
            try:
                # Stream and stop one row past the export: a runaway join cannot eat memory;
                # the time limit stops one that aggregates for ever before its first row.
                with checks.statement_time_limit(connection, self.timeout):
                    result = connection.execution_options(stream_results=True).execute(
                        sa.text(answer))
                    got = pd.DataFrame(result.mappings().fetchmany(len(expected) + 1))
                    result.close()
            except sa.exc.ResourceClosedError:
                raise Incorrect("The answer returns no rows: write a SELECT query.") from None
            except sa.exc.DBAPIError as error:
                first = str(error.orig).strip().splitlines()[0]
                if "interrupted" in first or "statement timeout" in first:
                    raise Incorrect(f"The query did not finish within {self.timeout:g} s: is "
                                    "a join condition missing?") from None
                raise Incorrect(f"The query failed on the database: {first}") from None
        if len(got) > len(expected):
            raise Incorrect(f"The join returns more than the export's {len(expected)} rows: a "
                            "join condition is missing or too loose (rows multiply).")
        compare_rows(got, expected)


def compare_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns (any order) and the same multiset of rows (any order), or Incorrect."""
    got.columns = [str(c).lower() for c in got.columns]
    if missing := [c for c in expected.columns if c not in got.columns]:
        raise Incorrect(f"The result has no column {', '.join(missing)} (name the columns "
                        f"exactly: {', '.join(expected.columns)}).")
    got = got[list(expected.columns)]
    if len(got) != len(expected):
        more = len(got) > len(expected)
        raise Incorrect(f"The join returns {len(got)} rows, the export has {len(expected)}: "
                        + ("a join condition is missing or too loose (rows multiply)."
                           if more else "a join condition compares the wrong columns or "
                           "drops lines."))
    key = list(expected.columns)
    left = got.astype(str).sort_values(key, ignore_index=True)
    right = expected.astype(str).sort_values(key, ignore_index=True)
    differ = (left != right).any()
    if differ.any():
        raise Incorrect(f"Right number of rows, but column {differ[differ].index[0]} holds "
                        "other values: check the join condition that brings it in.")


class WhatToDenormalize(ValueExercise):
    id = "q5"
    title = "Choose the denormalization for the product listing"
    answer_name = "answer_q5"
    expected = "a"
    normalize = staticmethod(lambda value: str(value).strip().lower().strip("()"))
    hints = (
        "The listing reads the review count and average rating thousands of times per review "
        "written. What can a write cheaply keep up to date?",
        "Counters updated in the same transaction as the insert are never stale; an average "
        "can be derived from a count and a sum.",
    )
    solution = 'answer_q5 = "a"'
    wrong_answers: ClassVar[dict] = {
        "b": "A nightly recompute leaves the listing stale for up to a day after each review.",
        "c": "Copying product_name into reviews does not help the listing query at all, and "
             "adds write cost on every rename.",
        "d": "An in-memory cache in each application process disagrees between processes and "
             "is lost on restart; it is a cache, not a consistent copy.",
    }


# Known-wrong rename_product versions (the tests prove each is rejected with its message).
_ONLY_PRODUCTS = """import sqlalchemy as sa
def rename_product(connection, product_id, new_name):
    params = {"n": new_name, "p": product_id}
    connection.execute(sa.text(
        "UPDATE products SET product_name = :n WHERE product_id = :p"), params)
    return 1
"""
_NO_WHERE = """import sqlalchemy as sa
def rename_product(connection, product_id, new_name):
    params = {"n": new_name, "p": product_id}
    connection.execute(sa.text(
        "UPDATE products SET product_name = :n WHERE product_id = :p"), params)
    copies = connection.execute(sa.text("UPDATE order_history SET product_name = :n"), params)
    return copies.rowcount
"""
_WRONG_COUNT = """import sqlalchemy as sa
def rename_product(connection, product_id, new_name):
    params = {"n": new_name, "p": product_id}
    connection.execute(sa.text(
        "UPDATE order_history SET product_name = :n WHERE product_id = :p"), params)
    renamed = connection.execute(sa.text(
        "UPDATE products SET product_name = :n WHERE product_id = :p"), params)
    return renamed.rowcount
"""


class RenameProduct(Exercise):
    id = "q6"
    title = "Keep the read model in step: rename_product"
    answer_name = "rename_product"
    hints = (
        "Two UPDATEs: products (1 row) and order_history (every line of that product).",
        "Restrict the order_history UPDATE with WHERE product_id = :product_id and return its "
        "result.rowcount.",
    )
    solution = (
        "import sqlalchemy as sa\n\n"
        "def rename_product(connection, product_id, new_name):\n"
        "    params = {\"product_id\": product_id, \"name\": new_name}\n"
        "    connection.execute(sa.text(\n"
        "        \"UPDATE products SET product_name = :name WHERE product_id = :product_id\"),\n"
        "        params)\n"
        "    copies = connection.execute(sa.text(\n"
        "        \"UPDATE order_history SET product_name = :name \"\n"
        "        \"WHERE product_id = :product_id\"), params)\n"
        "    return copies.rowcount\n"
    )
    timeout = 10.0
    wrong_answers: ClassVar[dict] = {
        _ONLY_PRODUCTS: "still shows the old name",
        _NO_WHERE: "of other products were renamed",
        _WRONG_COUNT: "return the read-model UPDATE's rowcount",
    }

    def check(self, answer, lab) -> None:
        if not callable(answer):
            raise Incorrect("rename_product should be a function: def rename_product("
                            "connection, product_id, new_name): ...")
        flat = _flat()
        frames = {"products": lab01.normalized_frames(flat)["products"],
                  read_model.READ_MODEL: read_model.history_frame(flat)}
        product_id = int(flat["product_id"].value_counts().idxmax())
        lines = int((flat["product_id"] == product_id).sum())
        new_name = "Renamed by the q6 check"
        with lab01.scratch_connection(lab.sql.engine, frames) as connection:
            returned = self.call(answer, connection, product_id, new_name)
            count = _counter(connection)
            in_products = count("SELECT count(*) FROM products WHERE product_name = :n",
                                n=new_name)
            copies = count(f"SELECT count(*) FROM {read_model.READ_MODEL} "
                           "WHERE product_name = :n", n=new_name)
            stale = count(f"SELECT count(*) FROM {read_model.READ_MODEL} "
                          "WHERE product_id = :p AND product_name <> :n", p=product_id,
                          n=new_name)
        if in_products != 1:
            raise Incorrect(f"products has {in_products} rows named {new_name!r} after the "
                            "rename; exactly 1 (the product) should change.")
        if stale:
            raise Incorrect(f"order_history still shows the old name on {stale} of the "
                            f"product's {lines} lines: the copy is out of step.")
        if copies != lines:
            raise Incorrect(f"{copies - lines} order_history rows of other products were "
                            "renamed too: restrict the UPDATE to the product's lines.")
        if not isinstance(returned, int) or isinstance(returned, bool) or returned != lines:
            raise Incorrect(f"rename_product returned {returned!r}, but it changed {lines} "
                            "order_history rows: return the read-model UPDATE's rowcount.")


def _counter(connection):
    def count(sql: str, **params) -> int:
        return int(connection.execute(sa.text(sql), params).scalar())
    return count


EXERCISES = (AnomalyDependency, ViolatedNormalForm, Decomposition, LosslessJoinQuery,
             WhatToDenormalize, RenameProduct)
