"""The reusable domain checks, on the real engines of this run (embedded or services)."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest
import sqlalchemy as sa

from nexus_labs.exercises import checks
from nexus_labs.exercises.feedback import Incorrect
from nexus_labs.exercises.testing import answer_from_code

# --- same_rows -------------------------------------------------------------------------------


def test_same_rows_ignores_row_and_column_order():
    expected = pd.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    checks.same_rows(pd.DataFrame({"name": ["b", "a"], "id": [2, 1]}), expected)
    checks.same_rows([{"name": "b", "id": 2}, {"id": 1, "name": "a"}], expected)


def test_same_rows_accepts_row_lists_and_numeric_variants():
    checks.same_rows([(2, 20.0), (1, 10)], [(1, 10), (2, 20)])
    checks.same_rows([1, 2, 3], [(3,), (2,), (1,)])


def test_same_rows_names_missing_and_extra_columns():
    with pytest.raises(Incorrect, match=r"missing column\(s\) name and has extra column\(s\) nm"):
        checks.same_rows(pd.DataFrame({"id": [1], "nm": ["a"]}),
                         pd.DataFrame({"id": [1], "name": ["a"]}))


def test_same_rows_names_missing_and_unexpected_rows():
    with pytest.raises(Incorrect) as error:
        checks.same_rows([(1, "a"), (1, "a"), (3, "c")], [(1, "a"), (2, "b"), (3, "c")])
    message = str(error.value)
    assert "has 3 rows, expected 3" in message
    assert "Missing 1 row(s): (2, 'b')" in message
    assert "Unexpected 1 row(s): (1, 'a')" in message


def test_same_rows_width_mismatch():
    with pytest.raises(Incorrect, match="each row should have 2"):
        checks.same_rows([(1,), (2,)], [(1, "a"), (2, "b")])


def test_same_rows_ordered():
    checks.same_rows([(1,), (2,)], [(1,), (2,)], ordered=True)
    with pytest.raises(Incorrect, match="wrong order: row 1 is"):
        checks.same_rows([(2,), (1,)], [(1,), (2,)], ordered=True)


def test_same_rows_rejects_non_tables():
    with pytest.raises(Incorrect, match="should be a table of rows"):
        checks.same_rows(42, [(1,)])


def test_same_rows_treats_nan_as_null():
    checks.same_rows(pd.DataFrame({"x": [1.0, float("nan")]}), [{"x": 1}, {"x": None}])


# --- on the lab's database ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(open_test_lab):
    engine = open_test_lab("welcome").sql.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS engine_check_items")
        connection.exec_driver_sql(
            "CREATE TABLE engine_check_items (id INTEGER PRIMARY KEY, email TEXT, n INTEGER)")
        connection.execute(
            sa.text("INSERT INTO engine_check_items (id, email, n) VALUES (:id, :email, :n)"),
            [{"id": i, "email": f"user{i}@example.com", "n": i % 7} for i in range(1, 2001)],
        )
        connection.exec_driver_sql(
            "CREATE INDEX ix_engine_check_email ON engine_check_items (email)")
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE engine_check_items")
    yield engine
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS engine_check_items")


def test_same_rows_on_a_sqlalchemy_result(engine):
    with engine.connect() as connection:
        result = connection.execute(sa.text(
            "SELECT id, email FROM engine_check_items WHERE id <= 2"))
        checks.same_rows(result, [{"email": "user2@example.com", "id": 2},
                                  {"email": "user1@example.com", "id": 1}])


def test_plan_uses_index(engine):
    lookup = "SELECT id FROM engine_check_items WHERE email = :email"
    params = {"email": "user5@example.com"}
    assert checks.plan_uses_index(engine, lookup, "ix_engine_check_email", params)
    assert checks.plan_uses_index(engine, lookup, params=params)
    assert not checks.plan_uses_index(engine, lookup, "ix_other", params)
    defeated = "SELECT id FROM engine_check_items WHERE lower(email) = :email"
    assert not checks.plan_uses_index(engine, defeated, "ix_engine_check_email", params)
    ordered = "SELECT id, email FROM engine_check_items ORDER BY email LIMIT 5"
    if engine.dialect.name == "sqlite":  # SCAN t USING INDEX: walked in order, not looked up
        assert not checks.plan_uses_index(engine, ordered, "ix_engine_check_email")
        assert checks.plan_uses_index(engine, ordered, "ix_engine_check_email", lookup=False)


def test_count_queries_of(engine):
    def two_queries():
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            return connection.exec_driver_sql("SELECT 2").scalar()

    result, log = checks.count_queries_of(engine, two_queries)
    assert result == 2
    assert log.count == 2


def test_expect_type():
    assert checks.expect_type(3, (int, float), "the count") == 3
    with pytest.raises(Incorrect, match="the count should be int or float, but it is str"):
        checks.expect_type("3", (int, float), "the count")
    with pytest.raises(Incorrect, match="forget `return`"):
        checks.expect_type(None, int, "the count")


# --- cache scenario --------------------------------------------------------------------------

CACHE_ASIDE = '''
import json
def get_item(lab, item_id):
    key = lab.redis.key("item", item_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return json.loads(cached)
    with lab.sql.engine.connect() as connection:
        n = connection.exec_driver_sql(
            f"SELECT n FROM engine_check_items WHERE id = {int(item_id)}").scalar()
    lab.redis.client.set(key, json.dumps(n), ex=60)
    return n

def update_item(lab, item_id, n):
    with lab.sql.engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE engine_check_items SET n = {int(n)} WHERE id = {int(item_id)}")
    lab.redis.client.delete(lab.redis.key("item", item_id))
'''


def run_scenario(lab, get_item, update_item):
    return checks.cache_scenario(lab, [
        ("first read", lambda s: get_item(s, 3)),
        ("second read", lambda s: get_item(s, 3)),
        ("update", lambda s: update_item(s, 3, 99)),
        ("read after update", lambda s: get_item(s, 3)),
    ], tag="test")


def test_cache_scenario_read_update_read(open_test_lab, engine):
    lab = open_test_lab("welcome")
    namespace = {}
    get_item = answer_from_code(CACHE_ASIDE, "get_item", namespace)
    try:
        scenario = run_scenario(lab, get_item, namespace["update_item"])
        scenario.require_value("first read", 3)
        scenario.require_queries("first read", 1)
        scenario.require_queries("second read", 0)
        scenario.require_ttl("second read")
        scenario.require_value("read after update", 99)
        assert all(key.startswith(lab.redis.key("scratch", "test")) for step in scenario.steps
                   for key in step.keys)
        assert lab.redis.scan_keys("scratch:test:*") == []  # cleaned up by SCAN of the prefix
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE engine_check_items SET n = 3 WHERE id = 3")


def test_cache_scenario_catches_stale_reads_and_missing_ttl(open_test_lab, engine):
    lab = open_test_lab("welcome")
    namespace = {}
    stale = CACHE_ASIDE.replace("lab.redis.client.delete(", "(").replace(", ex=60", "")
    get_item = answer_from_code(stale, "get_item", namespace)
    try:
        scenario = run_scenario(lab, get_item, namespace["update_item"])
        with pytest.raises(Incorrect, match="expected 99"):
            scenario.require_value("read after update", 99)
        with pytest.raises(Incorrect, match="no TTL"):
            scenario.require_ttl("first read")
        assert lab.redis.scan_keys("scratch:test:*") == []
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE engine_check_items SET n = 3 WHERE id = 3")


# --- concurrency -----------------------------------------------------------------------------


async def gathered(waits):
    return await asyncio.gather(*(asyncio.sleep(w, result=w) for w in waits))


async def one_by_one(waits):
    return [await asyncio.sleep(w, result=w) for w in waits]


def test_runs_concurrently_accepts_gather():
    result, elapsed = checks.runs_concurrently(gathered, [0.1] * 8)
    assert result == [0.1] * 8
    assert elapsed < 0.45


def test_runs_concurrently_rejects_sequential_awaits():
    with pytest.raises(Incorrect, match="ran one after another"):
        checks.runs_concurrently(one_by_one, [0.1] * 8)


# --- read_learner_sql --------------------------------------------------------------------------


def test_read_learner_sql_returns_the_rows(engine):
    frame = checks.read_learner_sql(engine, "SELECT id, email FROM engine_check_items "
                                            "WHERE id <= :top", params={"top": 2})
    checks.same_rows(frame, [(1, "user1@example.com"), (2, "user2@example.com")])


def test_read_learner_sql_reports_the_databases_error(engine):
    with pytest.raises(Incorrect, match="the database rejected your query") as error:
        checks.read_learner_sql(engine, "SELECT id email FROM engine_check_items GROUP")
    assert "Traceback" not in str(error.value)


def test_read_learner_sql_never_changes_the_lab_data(engine):
    with pytest.raises(Incorrect):
        checks.read_learner_sql(engine, "DELETE FROM engine_check_items")
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM engine_check_items").scalar()
    assert count == 2000


def test_read_learner_sql_stops_a_join_without_its_condition(engine):
    import time

    cross = ("SELECT count(*) AS n FROM engine_check_items a, engine_check_items b, "
             "engine_check_items c")
    start = time.perf_counter()
    with pytest.raises(Incorrect, match=r"0\.5 s time limit.*ON condition"):
        checks.read_learner_sql(engine, cross, timeout=0.5)
    assert time.perf_counter() - start < 10
    # the pooled connection is usable again, without the time limit left on it
    assert len(checks.read_learner_sql(engine, "SELECT id FROM engine_check_items")) == 2000
