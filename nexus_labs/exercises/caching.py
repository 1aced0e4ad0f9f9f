"""Exercises of lab 04, caching with Redis.

Code answers are checked by behaviour on a scratch namespace of the lab's real Redis (a
sub-prefix of the lab prefix, deleted afterwards) and the lab's database, counting queries:
read / update / read scenarios, a concurrent reader injected at the moment the learner deletes
a key, and eight threads racing for one expired key.
"""

from __future__ import annotations

import numbers
import threading
import time

from nexus_labs.backends.sql import count_queries
from nexus_labs.exercises.core import Exercise, Incorrect
from nexus_labs.labs import caching
from nexus_labs.labs.caching import MISSING_PRODUCT
from nexus_labs.labs.caching_scenarios import scratch_run, with_reader_on_delete


class CacheAsideRead(Exercise):
    id = "q1"
    title = "Implement get_product(lab, product_id) with cache-aside"
    answer_name = "get_product"
    hints = (
        "GET the key first; only on a miss (None) load from the database, then SET it.",
        "Use key = caching.product_key(lab, product_id): the write path deletes exactly that key.",
        "Redis stores strings: json.dumps the dict on the way in, json.loads on the way out, "
        "and give the SET a TTL: ex=caching.ttl_with_jitter().",
    )
    solution = '''import json
from nexus_labs.labs import caching

def get_product(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached is not None:
        return json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    lab.redis.client.set(key, json.dumps(product), ex=caching.ttl_with_jitter())
    return product'''

    def check(self, answer, lab) -> None:
        with scratch_run(lab, "q1", product_id=5) as (scratch, product_id, original):
            engine = scratch.sql.engine
            expected = caching.load_product(engine, product_id)
            with count_queries(engine) as first:
                got = self.call(answer, scratch, product_id)
            if not isinstance(got, dict):
                raise Incorrect(f"get_product should return the product page as a dict, but "
                                f"returned {type(got).__name__}.")
            if got != expected:
                raise Incorrect("get_product returned something else than the product page "
                                "caching.load_product gives on a cache miss.")
            if first.count == 0:
                raise Incorrect("the first call (empty cache) ran no query: it must load the "
                                "page from the database on a miss.")
            if not scratch.redis.scan_keys():
                raise Incorrect("nothing was stored in Redis under lab.redis.key(...): "
                                "a miss must SET the page in the cache.")
            with count_queries(engine) as second:
                again = self.call(answer, scratch, product_id)
            if second.count:
                raise Incorrect(f"the second call still ran {second.count} database "
                                "quer(ies): it must be served from the cache (GET the key "
                                "you SET, and return it without querying).")
            if again != expected:
                raise Incorrect(f"the cached value came back as {type(again).__name__} "
                                f"{str(again)[:60]!r}, not the same dict: json.loads what "
                                "you json.dumps-ed.")
            no_ttl = [k for k in scratch.redis.scan_keys() if scratch.redis.client.ttl(k) == -1]
            if no_ttl:
                raise Incorrect(f"{no_ttl[0]} has no TTL: every cached key needs one "
                                "(ex=...), or a missed invalidation serves stale data forever.")
            caching.update_price(scratch, product_id, original + 777)
            fresh = self.call(answer, scratch, product_id)
            if not isinstance(fresh, dict) or fresh.get("price_cents") != original + 777:
                raise Incorrect("after caching.update_price (UPDATE, then DELETE of "
                                "caching.product_key(lab, id)) get_product still returned the "
                                "old price: cache under caching.product_key(lab, product_id).")


class InvalidateOnWrite(Exercise):
    id = "q4"
    title = "Implement update_price(lab, product_id, price_cents) that invalidates correctly"
    answer_name = "update_price"
    hints = (
        "Two steps: change the database, and make the cache forget the old page.",
        "Order matters: a reader that misses between your DELETE and your UPDATE re-caches "
        "the old row. Commit the UPDATE first, then delete caching.product_key(lab, id).",
    )
    solution = '''from nexus_labs.labs import caching

def update_price(lab, product_id, price_cents):
    caching.write_price(lab.sql.engine, product_id, price_cents)   # UPDATE ... ; COMMIT
    lab.redis.client.delete(caching.product_key(lab, product_id))  # then invalidate'''

    def check(self, answer, lab) -> None:
        with scratch_run(lab, "q2", product_id=7) as (scratch, product_id, original):
            caching.get_product(scratch, product_id)  # the page is cached, as in production
            new_price = original + 1234
            with with_reader_on_delete(scratch, product_id) as (watched, deleted):
                self.call_allowing_none(answer, watched, product_id, new_price)
            if caching.db_price(scratch.sql.engine, product_id) != new_price:
                raise Incorrect("the database still has the old price: UPDATE products (e.g. "
                                "caching.write_price) and commit.")
            cached = caching.cached_price(scratch, product_id)
            if cached == original and caching.product_key(scratch, product_id) not in deleted:
                raise Incorrect("the cache still serves the old price: after the UPDATE, "
                                "delete caching.product_key(lab, product_id).")
            if cached == original:
                raise Incorrect("a concurrent reader re-cached the OLD price: you deleted the "
                                "key before the UPDATE was committed. Update the database "
                                "first, then delete the key.")
            if caching.get_product(scratch, product_id)["price_cents"] != new_price:
                raise Incorrect("a read after update_price does not see the new price.")


class KeyAndTtl(Exercise):
    id = "q2"
    title = "Choose the key and the TTL for product 42's page"
    answer_name = "answer_q2"
    hints = (
        "The key lives in the lab's namespace (lab.redis.key(...)), carries a schema version "
        "and names the product.",
        "The page is invalidated on every write, so the TTL is a safety net: minutes to hours, "
        "not forever and not seconds.",
    )
    solution = 'answer_q2 = (lab.redis.key("v1", "product", 42), 3600)'

    def check(self, answer, lab) -> None:
        if not isinstance(answer, (tuple, list)) or len(answer) != 2:
            raise Incorrect("answer_q2 should be a pair (key, ttl_seconds).")
        key, ttl = answer
        if not isinstance(key, str):
            raise Incorrect(f"the key should be a str, not {type(key).__name__}.")
        if not key.startswith(lab.redis.prefix):
            raise Incorrect(f"{key!r} is outside the lab's namespace: build it with "
                            f"lab.redis.key(...), which starts with {lab.redis.prefix!r}.")
        parts = key[len(lab.redis.prefix):].split(":")
        if "v1" not in parts:
            raise Incorrect("the key has no version segment (v1): without it, changing the "
                            "cached shape means old entries are read as if they were new.")
        if "42" not in parts:
            raise Incorrect("the key does not name product 42.")
        if ttl is None or isinstance(ttl, bool) or not isinstance(ttl, numbers.Real) or ttl <= 0:
            raise Incorrect("every key needs a TTL: a positive number of seconds (None or 0 "
                            "means the page could stay stale forever after a missed delete).")
        if ttl > 86_400:
            raise Incorrect(f"{ttl} s is longer than a day: if an invalidation is ever missed, "
                            "the wrong price shows that long. Minutes to hours is enough.")
        if ttl < 60:
            raise Incorrect(f"{ttl} s is so short that most reads miss; writes already "
                            "invalidate the page, so the TTL can be minutes to hours.")


class NegativeCaching(Exercise):
    id = "q3"
    title = "Implement get_product_or_none with negative caching"
    answer_name = "get_product_or_none"
    hints = (
        "Caching None is caching nothing: GET returns None for a miss too, so the next "
        "request queries again.",
        "Store a sentinel (caching.NOT_FOUND) with a SHORT TTL (ex=caching.NEGATIVE_TTL) and "
        "turn it back into None when you read it.",
    )
    solution = '''import json
from nexus_labs.labs import caching

def get_product_or_none(lab, product_id):
    key = caching.product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached == caching.NOT_FOUND:
        return None
    if cached is not None:
        return json.loads(cached)
    product = caching.load_product(lab.sql.engine, product_id)
    if product is None:
        lab.redis.client.set(key, caching.NOT_FOUND, ex=caching.NEGATIVE_TTL)
    else:
        lab.redis.client.set(key, json.dumps(product), ex=caching.ttl_with_jitter())
    return product'''

    def check(self, answer, lab) -> None:
        with scratch_run(lab, "q4", product_id=3) as (scratch, product_id, _):
            engine = scratch.sql.engine
            with count_queries(engine):
                missing = self.call_allowing_none(answer, scratch, MISSING_PRODUCT)
            if missing is not None:
                raise Incorrect(f"for a product that does not exist the function should "
                                f"return None, not {str(missing)[:60]!r}.")
            with count_queries(engine) as second:
                again = self.call_allowing_none(answer, scratch, MISSING_PRODUCT)
            if second.count:
                raise Incorrect("the second lookup of a missing product queried the database "
                                "again: 'not found' was not cached (caching None is the same "
                                "as caching nothing). Store a sentinel.")
            if again is not None:
                raise Incorrect(f"the cached 'not found' came back as {again!r}: turn the "
                                "sentinel back into None.")
            for key in scratch.redis.scan_keys():
                ttl = scratch.redis.client.ttl(key)
                if ttl == -1:
                    raise Incorrect("the 'not found' sentinel has no TTL: once the product is "
                                    "created it would stay 'not found' forever.")
                if ttl > 300:
                    raise Incorrect(f"the 'not found' sentinel lives {ttl} s: keep it short "
                                    "(seconds to a minute or two), so a new product appears.")
            found = self.call(answer, scratch, product_id)
            with count_queries(engine) as hit:
                found_again = self.call(answer, scratch, product_id)
            expected = caching.load_product(engine, product_id)
            if found != expected or found_again != expected or hit.count:
                raise Incorrect("an existing product must still be returned as its page "
                                "dict, and served from the cache the second time.")


class LockGuard(Exercise):
    id = "q6"
    title = "Implement a SET NX PX lock stampede guard"
    answer_name = "guarded_get"
    timeout = 8.0
    threads = 8
    recompute_seconds = 0.2
    hints = (
        "On a miss, only the caller that wins `client.set(lock_key, token, nx=True, px=...)` "
        "recomputes; the others wait a little and GET again.",
        "Give the lock an expiry (px=...), or a crashed holder blocks everyone forever; after "
        "winning it, GET once more: another caller may have just filled the key.",
    )
    solution = '''import time

def guarded_get(client, key, lock_key, recompute):
    while True:
        value = client.get(key)
        if value is not None:
            return value
        if client.set(lock_key, "1", nx=True, px=5_000):
            try:
                value = client.get(key)          # filled while we took the lock?
                if value is None:
                    value = recompute()
                    client.set(key, value, ex=300)
                return value
            finally:
                client.delete(lock_key)
        time.sleep(0.01)'''

    def check(self, answer, lab) -> None:
        with scratch_run(lab, "q5") as (scratch, _, _):
            key, lock_key = scratch.redis.key("hot"), scratch.redis.key("hot", "lock")
            counter_lock = threading.Lock()
            calls: list[int] = []  # pttl of the lock seen by each recomputation

            def recompute() -> str:
                with counter_lock:
                    calls.append(scratch.redis.client.pttl(lock_key))
                time.sleep(self.recompute_seconds)  # the slow query
                return "fresh page"

            results: list[object] = [None] * self.threads
            errors: list[Incorrect] = []
            gate = threading.Barrier(self.threads)

            def caller(index: int) -> None:
                client = scratch.redis.new_client()
                try:
                    gate.wait()
                    results[index] = self.call(answer, client, key, lock_key, recompute)
                except Incorrect as error:
                    errors.append(error)
                finally:
                    client.close()

            workers = [threading.Thread(target=caller, args=(i,)) for i in range(self.threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            if errors:
                raise errors[0]
            if not calls:
                raise Incorrect("recompute() was never called: on a miss, the lock holder "
                                "must recompute the value.")
            if any(pttl == -1 for pttl in calls):
                raise Incorrect("the lock has no expiry: if its holder crashes, every caller "
                                "waits forever. Take it with px=... (SET NX PX).")
            if len(calls) != 1:
                raise Incorrect(f"{self.threads} concurrent callers recomputed "
                                f"{len(calls)} times; the lock should let exactly one do it "
                                "(the others wait and GET again).")
            if any(result != "fresh page" for result in results):
                raise Incorrect("every caller must return the recomputed value, but got "
                                f"{sorted({str(r) for r in results})}.")


class HitRatio(Exercise):
    id = "q5"
    title = "Compute the hit ratio from Redis INFO counters"
    answer_name = "hit_ratio"
    hints = (
        "Hits divided by ALL lookups: hits + misses.",
        "A fresh server has 0 hits and 0 misses: return 0.0 rather than dividing by zero.",
    )
    solution = '''def hit_ratio(stats):
    hits, misses = stats["keyspace_hits"], stats["keyspace_misses"]
    lookups = hits + misses
    return hits / lookups if lookups else 0.0'''
    cases = ((90, 10, 0.9), (3, 1, 0.75), (0, 5, 0.0), (0, 0, 0.0))

    def check(self, answer, lab) -> None:
        for hits, misses, expected in self.cases:
            stats = {"keyspace_hits": hits, "keyspace_misses": misses, "evicted_keys": 0}
            try:
                got = self.call(answer, stats)
            except Incorrect as error:
                if "ZeroDivisionError" in error.reason:
                    raise Incorrect("with 0 hits and 0 misses (a fresh server) it raised "
                                    "ZeroDivisionError: return 0.0 when there were no "
                                    "lookups.") from None
                raise
            if not isinstance(got, numbers.Real):
                raise Incorrect(f"hit_ratio should return a number, not {type(got).__name__}.")
            if got > 1:
                if hits and abs(got - hits / misses) < 1e-9:
                    raise Incorrect("that is hits / misses; the hit ratio is hits divided by "
                                    "all lookups (hits + misses).")
                raise Incorrect(f"hit_ratio returned {got} for {hits} hits and {misses} "
                                "misses: a ratio is between 0 and 1 (not a percentage).")
            if abs(got - expected) > 1e-9:
                raise Incorrect(f"for {hits} hits and {misses} misses the hit ratio is "
                                f"{expected}, but hit_ratio returned {got}.")


EXERCISES = (CacheAsideRead, KeyAndTtl, NegativeCaching, InvalidateOnWrite, HitRatio, LockGuard)
