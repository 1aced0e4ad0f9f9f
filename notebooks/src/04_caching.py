# %% [markdown]
# # Lab 04 · Caching with Redis
#
# **Goal:** put Redis in front of the database the right way: cache-aside reads, keys and
# TTLs, invalidation on write, write-through and write-back, eviction, and the stampede when a
# hot key expires. **Time:** 60 minutes. **Prerequisites:** lab 03 (a slow query), basic Redis
# commands (GET, SET, DEL).
#
# The product page of the marketplace runs a join-heavy query on every view. When traffic
# grows, that endpoint is the slow one, and the database is the bottleneck. A cache fixes it
# only if it is correct: a wrong invalidation order serves old prices for hours, a missing TTL
# keeps garbage forever, an expiring hot key takes the database down. Every claim below is
# measured on the Redis and database this notebook is connected to, and asserted.

# %% tags=["nbval-ignore-output"]
from nexus_labs import open_lab, ____
lab = open_lab("caching", made_with="0.1.0")
q1, q2, q3, q4, q5, q6 = lab.exercises

# %% [markdown]
# The lab loads the marketplace tables it reads and starts from a clean namespace: every key
# this lab writes lives under `lab.redis.prefix`, and `lab.redis.cleanup()` deletes exactly
# those (by SCAN of the prefix, never FLUSHDB or KEYS: the server may be shared).

# %%
import json
import random

import matplotlib.pyplot as plt
import pandas as pd

from nexus_labs.backends.sql import count_queries
from nexus_labs.labs import cache_strategies, caching, eviction, stampede
from nexus_labs.measure import speedup, timings_table

_ = lab.redis.cleanup()
pd.Series(caching.install(lab), name="rows").to_frame()

# %% [markdown]
# ## 1. Why cache: the round trip is the unit of cost
#
# The product page: the product with its category and its seller (the seller's rating and
# units sold), its review count and rating, units sold and how many other products were bought
# with it. One query, several joins and correlated aggregates:

# %%
page = caching.load_product(lab.sql.engine, 1)
page

# %% [markdown]
# The same page from Redis is one GET of a JSON string. Both measured 200 times (p50 is the
# typical request, p95 the slow tail). The Redis engine is named with its figures: an
# *emulated* Redis (fakeredis, only where no server can run) is Python code, and its timings
# are **not** Redis timings.

# %% tags=["nbval-ignore-output"]
db_timing, hit_timing = caching.compare_db_and_cache(lab, product_id=1)
print(f"Redis: {caching.engine_label(lab)}")
display(timings_table([db_timing, hit_timing]))
ratio = speedup(db_timing, hit_timing)
print(f"cache hit p50 is {ratio:.1f}x below the database query p50")

fig, ax = plt.subplots(figsize=(7, 2.4))
rows = [0, 1]
ax.barh([r + 0.2 for r in rows], [db_timing.p50 * 1e6, hit_timing.p50 * 1e6], height=0.4,
        label="p50")
ax.barh([r - 0.2 for r in rows], [db_timing.p95 * 1e6, hit_timing.p95 * 1e6], height=0.4,
        label="p95")
ax.set_yticks(rows, ["database query", "cache hit"])
ax.set_xscale("log")
ax.set_xlabel(f"µs per product page, log scale ({lab.sql.dialect} vs {caching.engine_label(lab)})")
ax.legend()
plt.show()

if lab.redis.kind == "emulated":
    print("timing claim skipped: emulated Redis timings are not Redis timings")
else:
    assert ratio > 3, f"expected the cache hit several times faster, got {ratio:.1f}x"

# %% [markdown]
# A GET on loopback costs tens of microseconds, almost all of it the round trip: the client
# sends, the server answers, the client waits. So N commands sent one by one cost N round
# trips, while a **pipeline** sends them all and reads all the answers once.

# %% tags=["nbval-ignore-output"]
one_by_one, pipelined = caching.round_trips_vs_pipeline(lab, commands=500)
display(timings_table([one_by_one, pipelined]))
gain = speedup(one_by_one, pipelined)
print(f"pipeline: {gain:.1f}x faster for 500 GETs on {caching.engine_label(lab)}")
if lab.redis.kind == "emulated":
    print("timing claim skipped: emulated Redis has no network round trip to save")
else:
    assert gain > 3, f"expected the pipeline several times faster, got {gain:.1f}x"

# %% [markdown]
# ## 2. Cache-aside
#
# The application asks the cache first and only on a miss asks the database, then stores the
# answer in the cache: *cache-aside* (lazy loading). Four decisions make it correct:
#
# - **Key design.** Namespaced (this lab's prefix: nothing collides with other apps) and
#   **versioned** (`v1`): when the cached shape changes, bump the version and old entries are
#   never read again.
# - **Serialization.** Redis stores bytes; JSON keeps the page readable from any language.
# - **Every key gets a TTL,** with **jitter**: keys written together (after a deploy, a cold
#   start) would otherwise expire together and hit the database together.
# - **"Not found" is cached too**, as a sentinel with a short TTL.

# %%
caching.product_key(lab, 7)

# %%
encoded = json.dumps(caching.load_product(lab.sql.engine, 7))
print(f"{len(encoded)} bytes of JSON: {encoded[:80]}...")

# %%
ttls = [caching.ttl_with_jitter(300, jitter=0.1, rng=random.Random(seed)) for seed in range(8)]
print("TTLs for 8 keys cached at the same moment:", ttls)
assert all(270 <= ttl <= 330 for ttl in ttls) and len(set(ttls)) > 1

# %% [markdown]
# The library's read path, `caching.get_product(lab, id)`, puts the four together. Counting the
# database queries shows the cache at work, for a product that exists and one that does not:

# %%
_ = lab.redis.cleanup()
calls = []
for product_id in (7, 7, caching.MISSING_PRODUCT, caching.MISSING_PRODUCT):
    with count_queries(lab.sql.engine) as queries:
        found = caching.get_product(lab, product_id)
    calls.append({"product_id": product_id, "found": found is not None,
                  "database queries": queries.count})
display(pd.DataFrame(calls))
sentinel_ttl = lab.redis.client.ttl(caching.product_key(lab, caching.MISSING_PRODUCT))
page_ttl = lab.redis.client.ttl(caching.product_key(lab, 7))
assert [call["database queries"] for call in calls] == [1, 0, 1, 0]
assert 0 < sentinel_ttl <= caching.NEGATIVE_TTL < page_ttl
print(f"the page expires within {caching.BASE_TTL} s ± 10 %, the 'not found' sentinel within "
      f"{caching.NEGATIVE_TTL} s")

# %% [markdown]
# ### Exercise 1: cache-aside
# Write `get_product(lab, product_id)`: GET `caching.product_key(lab, product_id)`; on a hit
# return the decoded page; on a miss load it with `caching.load_product(lab.sql.engine,
# product_id)`, SET it as JSON with a TTL, and return it. The check runs it on a scratch
# namespace: first call 1 query, second call 0, then an update and a fresh read.

# %% tags=["exercise:q1"]
import json

from nexus_labs.labs import caching


def get_product(lab, product_id):
    return ____

# %%
q1.check()

# %%
# q1.hint()
# q1.solution()

# %% [markdown]
# ### Exercise 2: key and TTL
# The page of product 42 changes when its seller edits it, and every edit deletes the cached
# page. Give `answer_q2 = (key, ttl_seconds)`: the key this lab should use (namespaced,
# versioned) and a sensible TTL.

# %% tags=["exercise:q2"]
answer_q2 = ____

# %%
q2.check()

# %%
# q2.hint()
# q2.solution()

# %% [markdown]
# ### Exercise 3: negative caching
# Bots and old links ask for products that do not exist. Write
# `get_product_or_none(lab, product_id)`: like exercise 1, but a missing product is cached as
# the sentinel `caching.NOT_FOUND` with the short TTL `caching.NEGATIVE_TTL`, and returned as
# `None`.

# %% tags=["exercise:q3"]
import json

from nexus_labs.labs import caching


def get_product_or_none(lab, product_id):
    return ____

# %%
q3.check()

# %%
# q3.hint()
# q3.solution()

# %% [markdown]
# ## 3. Invalidation on write: update the database, then delete the key
#
# When a price changes, the cached page must go. Deleting it is better than overwriting it
# (the next reader rebuilds it from the truth), but the **order** matters. Below, two app
# servers are replayed step by step (no threads, no sleeps: the same interleaving every run).
# App A changes the price of product 11; app B reads the page at the worst moment.
#
# First the wrong order: **delete, then update**.

# %%
old_price = caching.db_price(lab.sql.engine, 11)
wrong = caching.interleave_write_and_read(lab, 11, old_price + 500, order="delete_then_update")
display(pd.DataFrame(wrong["steps"], columns=["who", "step"]))
print(f"database: {wrong['db_price']}, cache: {wrong['cached_price']}")
assert wrong["db_price"] == old_price + 500
assert wrong["cached_price"] == wrong["old_price"] == old_price  # stale until the TTL ends

# %% [markdown]
# B missed between A's DELETE and A's UPDATE, read the old row and put it back in the cache
# after A had finished. The cache now serves the old price until the TTL expires: minutes,
# or forever without a TTL. Now the right order: **update, then delete**.

# %%
caching.write_price(lab.sql.engine, 11, old_price)
_ = lab.redis.client.delete(caching.product_key(lab, 11))
right = caching.interleave_write_and_read(lab, 11, old_price + 500, order="update_then_delete")
display(pd.DataFrame(right["steps"], columns=["who", "step"]))
print(f"database: {right['db_price']}, cache: {right['cached_price']}")
assert right["cached_price"] == right["db_price"] == old_price + 500

# %% [markdown]
# B may still read the old page once, in the instant between A's COMMIT and A's DELETE, but
# nothing stale stays behind. (A rarer race remains: a reader that read the row *before* the
# update and writes it back *after* the delete. Short TTLs bound it; Facebook's memcache
# "leases" close it.)
#
# ### Exercise 4: the write path
# Write `update_price(lab, product_id, price_cents)`. The check injects a concurrent reader
# right after every key deletion you make, as app B above.

# %% tags=["exercise:q4"]
from nexus_labs.labs import caching


def update_price(lab, product_id, price_cents):
    return ____

# %%
q4.check()

# %%
# q4.hint()
# q4.solution()

# %%
caching.write_price(lab.sql.engine, 11, old_price)
_ = lab.redis.cleanup()

# %% [markdown]
# ## 4. Write-through and write-back
#
# Cache-aside leaves writes to the database. Two other strategies route writes through the
# cache layer:
#
# - **Write-through:** the write updates the database and the cache before it returns. Reads
#   are fresh everywhere; writes pay for both.
# - **Write-back (write-behind):** the write goes to the cache and is acknowledged; a flusher
#   writes the database later, in batches. Writes are fast, the database lags, and writes not
#   yet flushed are lost if the flusher dies.
#
# 20 price updates through each (the code is in `nexus_labs/labs/cache_strategies.py`):

# %% tags=["nbval-ignore-output"]
through = cache_strategies.WriteThrough(lab)
through_run = cache_strategies.run_writes(lab, through, writes=20, first_product=1)
through.close()
back = cache_strategies.WriteBack(lab)
back_run = cache_strategies.run_writes(lab, back, writes=20, first_product=41)
back.close()

runs = [through_run, back_run]
write_table = pd.DataFrame({
    "p50 write µs": [pd.Series(r.latencies).median() * 1e6 for r in runs],
    "in the database when acknowledged": [f"{r.fresh_in_db_at_ack}/20" for r in runs],
    "lost after flushing": [r.lost(lab) for r in runs],
}, index=[r.strategy for r in runs]).round(1)
display(write_table)
print(f"engines: {lab.sql.dialect} + {caching.engine_label(lab)}")
assert through_run.fresh_in_db_at_ack == 20
assert back_run.fresh_in_db_at_ack < 10  # acknowledged before the database had it
assert through_run.lost(lab) == back_run.lost(lab) == 0  # no crash: everything flushed
assert write_table["p50 write µs"].iloc[0] > 2 * write_table["p50 write µs"].iloc[1]

# %% [markdown]
# Now the flusher dies after flushing 15 of 40 acknowledged writes (a killed process: the
# pending writes were in its memory). Count what the database never gets:

# %%
crashing = cache_strategies.WriteBack(lab, crash_after=15)
crash_run = cache_strategies.run_writes(lab, crashing, writes=40, first_product=81,
                                        price_base=200_000)
crashing.close()
lost = crash_run.lost(lab)
print(f"write-back: 40 acknowledged, {crashing.flushed} flushed, {lost} lost for good")
assert crashing.crashed and crashing.flushed == 15 and lost == 40 - 15

# %% [markdown]
# The fix is a durable queue between the write and the flusher. Each write is also appended to
# a **Redis stream** (`XADD`); the flusher reads it through a consumer group and acknowledges
# an entry (`XACK`) only after the database has it. When the flusher dies, its unacknowledged
# entries stay pending; the restarted flusher claims them (`XAUTOCLAIM`) and finishes.

# %%
durable = cache_strategies.StreamWriteBack(lab, crash_after=15)
stream_run = cache_strategies.run_writes(lab, durable, writes=40, first_product=121,
                                         price_base=300_000)
durable.drain(timeout=3)
missing_at_crash, backlog_at_crash = stream_run.lost(lab), durable.backlog()
durable.restart()
durable.close()
print(f"stream write-back: flusher died after 15; {missing_at_crash} not yet in the database, "
      f"{backlog_at_crash} kept in the stream; after restart: {stream_run.lost(lab)} lost")
assert durable.crashed and missing_at_crash == backlog_at_crash == 25
assert stream_run.lost(lab) == 0 and durable.backlog() == 0

# %% [markdown]
# The stream is only as durable as Redis itself: in production that means AOF persistence
# (`appendfsync everysec` can still lose about a second) and a replica. This lab's private
# server keeps nothing on disk.

# %%
_ = caching.install(lab)  # put the original prices back
_ = lab.redis.cleanup()

# %% [markdown]
# ## 5. Eviction and memory
#
# A cache is smaller than the data. With `maxmemory` set, Redis evicts keys by a policy:
# `allkeys-lru` drops the least recently used, `allkeys-lfu` the least frequently used. Real
# traffic is skewed (a few products get most views: a Zipf distribution), which is why a small
# cache still has a high hit ratio. Changing `maxmemory` reconfigures the whole server, so the
# lab only does it on the private server it started itself, and restores the previous
# settings afterwards.

# %% tags=["nbval-ignore-output"]
allowed, reason = eviction.can_reconfigure(lab)
if allowed:
    before = lab.redis.client.config_get("maxmemory*")
    measured = [eviction.measure_hit_ratio(lab, policy) for policy in ("allkeys-lru",
                                                                      "allkeys-lfu")]
    display(pd.DataFrame([vars(run) for run in measured]).set_index("policy"))
    print(f"measured on {caching.engine_label(lab)}: 2,000 keys of 1 kB, room for about 200, "
          "4,000 Zipf(1.1) requests (pipelined in batches of 25)")
    assert lab.redis.client.config_get("maxmemory*") == before  # configuration restored
    for run in measured:
        assert run.evicted > 0 and 0.3 < run.hit_ratio < 0.95
else:
    print(reason)

# %% [markdown]
# To explore, the widget below uses a **simulation** (an exact LRU in Python, not Redis) so it
# answers instantly: change the cache size, the TTL and the skew and watch the hit ratio.

# %% tags=["nbval-ignore-output"]
eviction.hit_ratio_widget()

# %%
simulated = {skew: eviction.simulate_hit_ratio(200, ttl=60, skew=skew) for skew in (0.0, 1.1)}
print({skew: round(ratio, 3) for skew, ratio in simulated.items()})
assert simulated[1.1] > 3 * simulated[0.0]  # skew is what makes a small cache work

# %% [markdown]
# ### Exercise 5: hit ratio from the counters
# Redis counts lookups in `INFO stats`: `keyspace_hits` and `keyspace_misses`. Write
# `hit_ratio(stats)` returning the fraction of lookups that hit (a float between 0 and 1).

# %% tags=["exercise:q5"]
def hit_ratio(stats):
    return ____

# %%
q5.check()

# %%
# q5.hint()
# q5.solution()

# %% [markdown]
# ## 6. Stampede: when a hot key expires
#
# 16 app threads (each with its own Redis connection) read one hot key about 160 times a
# second in all. It expires 0.25 s into the run and takes 50 ms to recompute. Four read paths:
#
# - **none:** every reader that misses recomputes: about *request rate × recompute time*;
# - **lock:** `SET lock NX PX`: one reader recomputes, the others wait and read its value;
# - **XFetch** (Vattani, Chierichetti, Lowenstein, VLDB 2015): every reader recomputes early
#   when `now - delta * beta * ln(random()) >= expiry`, so one usually refreshes the key
#   *before* it expires and nobody waits;
# - **stale-while-revalidate:** past a soft expiry, one reader refreshes in the background
#   while everyone is served the stale value.

# %% tags=["nbval-ignore-output"]
results = {name: stampede.run_stampede(lab, name) for name in stampede.STRATEGIES}
table = pd.DataFrame([vars(run) for run in results.values()]).set_index("strategy")
display(table[["recomputations", "waited", "stale_served", "reads"]])
expected = results["none"].expected_unprotected
print(f"no protection: {results['none'].recomputations} recomputations "
      f"(rate x recompute time = {expected:.0f}) on {caching.engine_label(lab)}")

fig, ax = plt.subplots(figsize=(7, 2.6))
ax.bar(list(results), [run.recomputations for run in results.values()])
ax.set_ylabel("recomputations")
ax.set_title("one expiry of a hot key, 16 concurrent readers")
plt.show()

assert results["none"].recomputations >= 2
assert results["lock"].recomputations == 1  # exactly one, the others waited
assert results["swr"].recomputations == 1 and results["swr"].waited == 0
# XFetch is probabilistic: usually one reader refreshes early enough that nobody waits, but a
# refresh that starts too close to expiry can leave a reader or two waiting. So the claim is
# "far fewer waits than with no protection", not "never".
assert results["xfetch"].waited < results["none"].waited / 2
assert results["xfetch"].recomputations < 16

# %% [markdown]
# Why XFetch works: T seconds before expiry, a reader refreshes with probability
# `exp(-T / (beta * delta))`: almost never while the key is young, more and more often near
# the end, so with many readers one of them refreshes a little early. 20,000 seeded draws per
# point (pure Python, the same decision function the readers use) against the formula:

# %%
import math

delta, beta = 0.05, 1.0
points = [0.0, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2]
curve = pd.DataFrame({
    "T (s before expiry)": points,
    "measured": [stampede.early_refresh_probability(t, delta, beta) for t in points],
    "exp(-T/(beta*delta))": [math.exp(-t / (beta * delta)) for t in points],
}).round(4)
display(curve)
assert (curve["measured"] - curve["exp(-T/(beta*delta))"]).abs().max() < 0.015

# %% tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(6, 2.6))
ax.plot(curve.iloc[:, 0], curve["exp(-T/(beta*delta))"], label="exp(-T/(beta*delta))")
ax.plot(curve.iloc[:, 0], curve["measured"], "o", label="measured (seeded draws)")
ax.set_xlabel("seconds before expiry")
ax.set_ylabel("P(refresh early)")
ax.legend()
plt.show()

# %% [markdown]
# XFetch needs no coordination but, with many readers near expiry, can still let a few
# recompute; the lock gives exactly one but makes the others wait; stale-while-revalidate gives
# exactly one and no waiting, at the price of serving a slightly old value.
#
# ### Exercise 6: a lock stampede guard
# Write `guarded_get(client, key, lock_key, recompute)`: return the cached value; on a miss,
# only the caller that takes the lock (`SET lock_key ... NX PX`) calls `recompute()` and stores
# the result, the others wait briefly and GET again. The check runs 8 concurrent callers, each
# with its own connection, and requires exactly one recomputation.

# %% tags=["exercise:q6"]
import time


def guarded_get(client, key, lock_key, recompute):
    return ____

# %%
q6.check()

# %%
# q6.hint()
# q6.solution()

# %% [markdown]
# ## 7. The maintained tools
#
# Built by hand above to see how it works; in an application use the well-kept library.
# **Django's cache framework** has a Redis backend (`django.core.cache.backends.redis
# .RedisCache`, usually configured in `settings.CACHES`; here it is instantiated directly with
# this lab's prefix). `get_or_set` is cache-aside in one call; TTLs and key versions are
# built in.

# %%
django_cache, why_not = cache_strategies.django_cache(lab)
if django_cache is None:
    print(why_not)
else:
    recomputed = []

    def load_page():
        recomputed.append(1)
        return caching.load_product(lab.sql.engine, 7)

    first = django_cache.get_or_set("product:7", load_page, timeout=60)
    second = django_cache.get_or_set("product:7", load_page, timeout=60)
    stored = lab.redis.scan_keys("django:*")
    print(f"loaded {len(recomputed)} time(s); stored as {stored}")
    assert first == second and len(recomputed) == 1
    assert stored == [lab.redis.key("django", 1, "product", 7)]  # inside the lab prefix

# %% [markdown]
# **redis-py client-side caching** (RESP3, `cache_config=CacheConfig()`) keeps hot values in
# the application's memory; the server tracks what each client cached and pushes an
# invalidation when a key changes. Reads become local, without the round trip of section 1.
# It needs Redis 7.4 or newer:

# %% tags=["nbval-ignore-output"]
supported, reason = cache_strategies.client_side_cache_support(lab)
if supported:
    demo = cache_strategies.client_side_cache_demo(lab)
    print(demo)
    assert demo["entries_in_local_cache"] >= 1 and demo["after_write"] == "price 120"
else:
    print(reason)

# %% [markdown]
# When to prefer which: Django's cache (or your framework's) for application-level
# cache-aside with one API over backends; client-side caching for a few very hot, rarely
# changing keys read on every request; hand-written Redis code for what the frameworks do not
# give you (stampede protection, write-back through a stream, negative caching policies).

# %%
_ = lab.redis.cleanup()
assert lab.redis.scan_keys() == []  # nothing of this lab is left on the server

# %% [markdown]
# ## Recap
#
# 1. **Measure the round trip.** A Redis GET costs tens of microseconds, almost all network;
#    pipeline many commands instead of paying one round trip each.
# 2. **Cache-aside, done right:** namespaced, versioned keys; JSON; every key with a TTL and
#    jitter; "not found" cached as a sentinel with a short TTL.
# 3. **On write: update the database, then delete the key.** Deleting first lets a concurrent
#    reader re-cache the old row.
# 4. **Write-back is fast and lossy**; a stream acknowledged after the database write makes it
#    recoverable (as durable as Redis persistence).
# 5. **Protect hot keys** from stampedes: a `SET NX PX` lock (exactly one recomputation),
#    XFetch (early, probabilistic), or stale-while-revalidate.
#
# Further reading: the Redis docs on [eviction](https://redis.io/docs/latest/develop/reference/eviction/),
# [pipelining](https://redis.io/docs/latest/develop/use/pipelining/),
# [streams](https://redis.io/docs/latest/develop/data-types/streams/) and
# [client-side caching](https://redis.io/docs/latest/develop/reference/client-side-caching/);
# Vattani, Chierichetti, Lowenstein, *Optimal Probabilistic Cache Stampede Prevention*
# (VLDB 2015); Nishtala et al., *Scaling Memcache at Facebook* (NSDI 2013);
# [Django's cache framework](https://docs.djangoproject.com/en/5.2/topics/cache/).
