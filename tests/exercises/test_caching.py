"""Lab 04 exercises: reference passes, known-wrong answers rejected, alternatives accepted.

Every scenario runs on a scratch sub-namespace of the lab prefix on the configured Redis (the
embedded server by default, the real one in the services run) and the lab's database.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from nexus_labs.exercises import caching as ex
from nexus_labs.exercises.testing import answer_from_code, outcome_of
from nexus_labs.labs import caching


@pytest.fixture(scope="module")
def lab(open_test_lab):
    lab = open_test_lab("caching")
    caching.install(lab)
    yield lab
    lab.redis.cleanup()


def run(exercise, code_or_value, lab, from_code=True):
    if from_code and isinstance(code_or_value, str):
        namespace = {"lab": lab, "json": json, "caching": caching}
        answer = answer_from_code(textwrap.dedent(code_or_value), exercise.answer_name,
                                  namespace)
    else:
        answer = code_or_value
    return outcome_of(exercise, answer, lab)


def assert_correct(outcome):
    assert outcome.status == "correct", (outcome.status, outcome.message)


def assert_incorrect(outcome, fragment):
    assert outcome.status == "incorrect", (outcome.status, outcome.message)
    assert fragment in outcome.message, outcome.message


@pytest.mark.parametrize("exercise", ex.EXERCISES, ids=lambda e: e.id)
def test_reference_solution_passes(exercise, lab):
    assert_correct(run(exercise, exercise.solution, lab))


def test_exercises_leave_no_keys_and_restore_prices(lab):
    before = {pid: caching.db_price(lab.sql.engine, pid) for pid in (3, 5, 7)}
    for exercise in ex.EXERCISES:
        run(exercise, exercise.solution, lab)
    assert lab.redis.scan_keys("scratch:*") == []
    assert {pid: caching.db_price(lab.sql.engine, pid) for pid in (3, 5, 7)} == before


# q1 cache-aside read -------------------------------------------------------------------------
Q1_NO_TTL = """
def get_product(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    lab.redis.client.set(key, json.dumps(product))
    return product
"""
Q1_NEVER_READS_CACHE = """
def get_product(lab, product_id):
    product = caching.load_product(lab.sql.engine, product_id)
    lab.redis.client.set(caching.product_key(lab, product_id), json.dumps(product), ex=300)
    return product
"""
Q1_RETURNS_RAW_JSON = """
def get_product(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return cached
    product = caching.load_product(lab.sql.engine, product_id)
    lab.redis.client.set(key, json.dumps(product), ex=300)
    return product
"""
Q1_UNVERSIONED_KEY = """
def get_product(lab, product_id):
    key = lab.redis.key("product", product_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    lab.redis.client.set(key, json.dumps(product), ex=300)
    return product
"""
Q1_ALTERNATIVE = """
def get_product(lab, product_id):
    key = lab.redis.key("v1", "product", product_id)
    hit = lab.redis.client.get(key)
    if hit:
        return json.loads(hit)
    page = caching.load_product(lab.sql.engine, product_id)
    with lab.redis.client.pipeline() as pipe:
        pipe.set(key, json.dumps(page), ex=600)
        pipe.execute()
    return page
"""


def test_q1_wrong_answers(lab):
    assert_incorrect(run(ex.CacheAsideRead, Q1_NO_TTL, lab), "has no TTL")
    assert_incorrect(run(ex.CacheAsideRead, Q1_NEVER_READS_CACHE, lab), "second call still ran")
    assert_incorrect(run(ex.CacheAsideRead, Q1_RETURNS_RAW_JSON, lab), "came back as str")
    assert_incorrect(run(ex.CacheAsideRead, Q1_UNVERSIONED_KEY, lab), "still returned the old")


def test_q1_alternative_passes(lab):
    assert_correct(run(ex.CacheAsideRead, Q1_ALTERNATIVE, lab))


def test_q1_placeholder_is_not_attempted(lab):
    stub = "def get_product(lab, product_id):\n    return ____\n"
    assert run(ex.CacheAsideRead, stub, lab).status == "not_attempted"


# q2 key and TTL ------------------------------------------------------------------------------
def test_q2_wrong_answers(lab):
    key = lab.redis.key("v1", "product", 42)
    assert_incorrect(run(ex.KeyAndTtl, ("product:42", 3600), lab), "outside the lab's namespace")
    assert_incorrect(run(ex.KeyAndTtl, (key, None), lab), "every key needs a TTL")
    assert_incorrect(run(ex.KeyAndTtl, (key, 0), lab), "every key needs a TTL")
    assert_incorrect(run(ex.KeyAndTtl, (lab.redis.key("product", 42), 3600), lab),
                     "no version segment")
    assert_incorrect(run(ex.KeyAndTtl, (key, 30 * 86_400), lab), "longer than a day")
    assert_incorrect(run(ex.KeyAndTtl, (key, 5), lab), "most reads miss")
    assert_incorrect(run(ex.KeyAndTtl, (lab.redis.key("v1", "product", 7), 600), lab),
                     "does not name product 42")


def test_q2_alternatives_pass(lab):
    assert_correct(run(ex.KeyAndTtl, (lab.redis.key("v1", "product", 42), 600), lab))
    assert_correct(run(ex.KeyAndTtl, [lab.redis.key("v1", "page", "product", 42), 7200.0], lab))


# q3 negative caching -------------------------------------------------------------------------
Q3_CACHES_NONE_AS_MISS = """
def get_product_or_none(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    if product is not None:           # None "cached" = nothing cached
        lab.redis.client.set(key, json.dumps(product), ex=300)
    return product
"""
Q3_SENTINEL_NO_TTL = """
def get_product_or_none(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached == "none":
        return None
    if cached is not None:
        return json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    if product is None:
        lab.redis.client.set(key, "none")
    else:
        lab.redis.client.set(key, json.dumps(product), ex=300)
    return product
"""
Q3_SENTINEL_TOO_LONG = Q3_SENTINEL_NO_TTL.replace('set(key, "none")', 'set(key, "none", ex=86400)')
Q3_RETURNS_SENTINEL = """
def get_product_or_none(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return cached if cached == "none" else json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    if product is None:
        lab.redis.client.set(key, "none", ex=20)
    else:
        lab.redis.client.set(key, json.dumps(product), ex=300)
    return product
"""
Q3_ALTERNATIVE = """
def get_product_or_none(lab, product_id):
    key = lab.redis.key("v1", "product", product_id)
    cached = lab.redis.client.get(key)
    if cached is None:
        product = caching.load_product(lab.sql.engine, product_id)
        ttl = 300 if product is not None else 15
        lab.redis.client.set(key, json.dumps(product), ex=ttl)   # None is stored as "null"
        return product
    return json.loads(cached)
"""


def test_q3_wrong_answers(lab):
    assert_incorrect(run(ex.NegativeCaching, Q3_CACHES_NONE_AS_MISS, lab), "was not cached")
    assert_incorrect(run(ex.NegativeCaching, Q3_SENTINEL_NO_TTL, lab), "sentinel has no TTL")
    assert_incorrect(run(ex.NegativeCaching, Q3_SENTINEL_TOO_LONG, lab), "keep it short")
    assert_incorrect(run(ex.NegativeCaching, Q3_RETURNS_SENTINEL, lab),
                     "turn the sentinel back into None")


def test_q3_alternative_passes(lab):
    assert_correct(run(ex.NegativeCaching, Q3_ALTERNATIVE, lab))


# q4 invalidation on write --------------------------------------------------------------------
Q4_DELETE_THEN_UPDATE = """
def update_price(lab, product_id, price_cents):
    lab.redis.client.delete(caching.product_key(lab, product_id))
    caching.write_price(lab.sql.engine, product_id, price_cents)
"""
Q4_DELETE_INSIDE_TRANSACTION = """
import sqlalchemy as sa

def update_price(lab, product_id, price_cents):
    with lab.sql.engine.begin() as connection:
        connection.execute(sa.text("UPDATE products SET price_cents = :p WHERE product_id = :i"),
                           {"p": price_cents, "i": product_id})
        lab.redis.client.delete(caching.product_key(lab, product_id))  # before COMMIT
"""
Q4_NO_INVALIDATION = """
def update_price(lab, product_id, price_cents):
    caching.write_price(lab.sql.engine, product_id, price_cents)
"""
Q4_WRONG_KEY = """
def update_price(lab, product_id, price_cents):
    caching.write_price(lab.sql.engine, product_id, price_cents)
    lab.redis.client.delete(lab.redis.key("product", product_id))
"""
Q4_ALTERNATIVE_UNLINK = """
def update_price(lab, product_id, price_cents):
    caching.write_price(lab.sql.engine, product_id, price_cents)
    lab.redis.client.unlink(caching.product_key(lab, product_id))
"""
Q4_ALTERNATIVE_WRITE_THROUGH = """
def update_price(lab, product_id, price_cents):
    caching.write_price(lab.sql.engine, product_id, price_cents)
    page = caching.load_product(lab.sql.engine, product_id)
    lab.redis.client.set(caching.product_key(lab, product_id), json.dumps(page), ex=300)
"""


def test_q4_wrong_answers(lab):
    assert_incorrect(run(ex.InvalidateOnWrite, Q4_DELETE_THEN_UPDATE, lab),
                     "re-cached the OLD price")
    assert_incorrect(run(ex.InvalidateOnWrite, Q4_DELETE_INSIDE_TRANSACTION, lab),
                     "before the UPDATE was committed")
    assert_incorrect(run(ex.InvalidateOnWrite, Q4_NO_INVALIDATION, lab),
                     "cache still serves the old price")
    assert_incorrect(run(ex.InvalidateOnWrite, Q4_WRONG_KEY, lab),
                     "delete caching.product_key(lab, product_id)")


def test_q4_alternatives_pass(lab):
    assert_correct(run(ex.InvalidateOnWrite, Q4_ALTERNATIVE_UNLINK, lab))
    assert_correct(run(ex.InvalidateOnWrite, Q4_ALTERNATIVE_WRITE_THROUGH, lab))


# q5 hit ratio --------------------------------------------------------------------------------
def test_q5_wrong_answers(lab):
    no_guard = "def hit_ratio(s):\n    return s['keyspace_hits'] / (s['keyspace_hits'] + " \
               "s['keyspace_misses'])\n"
    by_misses = "def hit_ratio(s):\n    return s['keyspace_hits'] / max(1, s['keyspace_misses'])\n"
    percent = ("def hit_ratio(s):\n    n = s['keyspace_hits'] + s['keyspace_misses']\n"
               "    return 100 * s['keyspace_hits'] / n if n else 0.0\n")
    assert_incorrect(run(ex.HitRatio, no_guard, lab), "ZeroDivisionError")
    assert_incorrect(run(ex.HitRatio, by_misses, lab), "hits / misses")
    assert_incorrect(run(ex.HitRatio, percent, lab), "not a percentage")


def test_q5_alternative_passes(lab):
    alternative = ("def hit_ratio(stats):\n    hits = stats['keyspace_hits']\n"
                   "    return hits / max(1, hits + stats['keyspace_misses'])\n")
    assert_correct(run(ex.HitRatio, alternative, lab))


# q6 lock stampede guard ----------------------------------------------------------------------
Q6_NO_LOCK = """
def guarded_get(client, key, lock_key, recompute):
    value = client.get(key)
    if value is None:
        value = recompute()
        client.set(key, value, ex=300)
    return value
"""
Q6_LOCK_WITHOUT_EXPIRY = """
import time

def guarded_get(client, key, lock_key, recompute):
    while True:
        value = client.get(key)
        if value is not None:
            return value
        if client.set(lock_key, "1", nx=True):
            try:
                value = client.get(key)
                if value is None:
                    value = recompute()
                    client.set(key, value, ex=300)
                return value
            finally:
                client.delete(lock_key)
        time.sleep(0.01)
"""
Q6_LOSERS_RECOMPUTE = """
def guarded_get(client, key, lock_key, recompute):
    value = client.get(key)
    if value is not None:
        return value
    got_lock = client.set(lock_key, "1", nx=True, px=5000)
    value = recompute()
    client.set(key, value, ex=300)
    if got_lock:
        client.delete(lock_key)
    return value
"""
Q6_NO_DOUBLE_CHECK_IS_STILL_ONE_WITH_REDIS_LOCK = """
def guarded_get(client, key, lock_key, recompute):
    value = client.get(key)
    if value is not None:
        return value
    with client.lock(lock_key, timeout=5, blocking_timeout=5):
        value = client.get(key)
        if value is None:
            value = recompute()
            client.set(key, value, ex=300)
    return value
"""


def test_q6_wrong_answers(lab):
    assert_incorrect(run(ex.LockGuard, Q6_NO_LOCK, lab), "recomputed 8 times")
    assert_incorrect(run(ex.LockGuard, Q6_LOCK_WITHOUT_EXPIRY, lab), "lock has no expiry")
    assert_incorrect(run(ex.LockGuard, Q6_LOSERS_RECOMPUTE, lab), "exactly one")


def test_q6_alternative_with_redis_py_lock_passes(lab):
    if lab.redis.kind == "emulated":
        pytest.skip("redis-py's Lock releases with a Lua script, which fakeredis lacks here")
    assert_correct(run(ex.LockGuard, Q6_NO_DOUBLE_CHECK_IS_STILL_ONE_WITH_REDIS_LOCK, lab))
