# %% [markdown]
# # Lab 00 · Welcome to Nexus Labs
#
# **Goal:** learn how every lab works — the setup cell, the engines behind it, measuring
# instead of guessing, exercises with instant feedback, and your progress.
# **Time:** 10 minutes. **Prerequisites:** basic Python and SQL.
#
# Backend engineering is full of claims ("an index makes it fast", "the cache fixes the slow
# endpoint"). In these labs you check every claim on a real engine, on your own machine, and
# the notebook itself asserts that the claim held on *this* run.

# %% [markdown]
# ## 1. The setup cell
#
# Every lab starts with one cell. It connects the lab's backends, loads nothing you did not ask
# for, binds the exercises, and prints which engine each backend **really** is: a SQLite file in
# your workspace or the PostgreSQL server you configured; a private real Redis server started
# for this kernel, the Redis you configured, or — only where no server can run — an emulation.

# %% tags=["nbval-ignore-output"]
from nexus_labs import open_lab, ____
lab = open_lab("welcome", made_with="0.1.0")
q1, q2, q3 = lab.exercises

# %% [markdown]
# `nexus-labs doctor` prints the same facts with versions, from a terminal or from here.
# Point the labs at real servers with `NEXUS_DATABASE_URL` / `NEXUS_REDIS_URL` (see README).

# %% tags=["nbval-ignore-output"]
import subprocess
import sys

report = subprocess.run([sys.executable, "-m", "nexus_labs", "doctor"],
                        capture_output=True, text=True, timeout=60)
print(report.stdout or report.stderr)
assert "SQL" in report.stdout and "Redis" in report.stdout

# %% [markdown]
# ## 2. The marketplace
#
# All labs share one small online marketplace: customers, sellers, products, categories, tags,
# orders, order items and reviews. It ships with the package and loads into your lab database
# in a blink (only the first time).

# %%
import pandas as pd
from nexus_labs import data

loaded = data.install_marketplace(lab.sql.engine)
pd.Series(loaded, name="rows").to_frame()

# %%
pd.read_sql(
    "select o.order_id, c.name as customer, o.status, count(*) as items "
    "from orders o join customers c on c.customer_id = o.customer_id "
    "join order_items i on i.order_id = o.order_id "
    "group by o.order_id, c.name, o.status order by o.order_id limit 5",
    lab.sql.engine,
)

# %% [markdown]
# ## 3. Measure, don't guess
#
# A single timing lies: the first run warms caches, the machine does other things. The labs
# repeat an operation and report **percentiles** (p50 = the typical run, p95 = the slow tail),
# always saying which engine produced them. Here: the revenue per category computed by the
# database, against reading an already computed answer from Redis.

# %%
import json

from nexus_labs.measure import speedup, time_it, timings_table

REVENUE_SQL = (
    "select p.category_id, sum(i.quantity * i.unit_price_cents) as revenue_cents "
    "from order_items i join products p on p.product_id = i.product_id "
    "group by p.category_id order by p.category_id"
)


def revenue_from_database():
    return pd.read_sql(REVENUE_SQL, lab.sql.engine)


revenue_key = lab.redis.key("revenue_by_category")
lab.redis.client.set(revenue_key, revenue_from_database().to_json(orient="records"), ex=300)


def revenue_from_redis():
    return json.loads(lab.redis.client.get(revenue_key))


assert revenue_from_redis() == json.loads(revenue_from_database().to_json(orient="records"))
print("same answer from both: yes")

# %% tags=["nbval-ignore-output"]
db_timing = time_it(revenue_from_database, "revenue query", repeat=30,
                    engine=lab.sql.label)
redis_timing = time_it(revenue_from_redis, "Redis GET of the answer", repeat=30,
                       engine=lab.redis.label)
print(db_timing.summary())
print(redis_timing.summary())
if lab.redis.kind == "emulated":
    print("note: Redis is emulated here (fakeredis), so its timing is not a Redis timing")
print(f"reading the stored answer is {speedup(db_timing, redis_timing):.0f}x faster (p50)")
timings_table([db_timing, redis_timing])

# %% [markdown]
# The notebook **asserts** its claim on this run, with a margin for a busy laptop. If the
# claim ever stops being true, the lab fails in CI instead of teaching something false.

# %%
assert speedup(db_timing, redis_timing) > 2, "the stored answer should be clearly faster"

# %% tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 2.2))
labels = [db_timing.label, redis_timing.label]
# p95 first, lighter, so the p50 bar drawn over it stays visible.
ax.barh(labels, [db_timing.p95 * 1e3, redis_timing.p95 * 1e3], alpha=0.3, label="p95")
ax.barh(labels, [db_timing.p50 * 1e3, redis_timing.p50 * 1e3], label="p50")
ax.set_xlabel("milliseconds (measured on this run)")
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Exercises
#
# After each concept comes an exercise. Replace `____` with your answer, run the cell, then run
# the `check()` cell below it. `hint()` gives the next hint (`hint(2)` a given one) and
# `solution()` shows the reference answer. Everything you do is saved in your progress.
#
# **Exercise 1.** How many orders does the marketplace have? Compute it with a query on
# `lab.sql.engine` and assign the number.

# %% tags=["exercise:q1"]
answer_q1 = ____

# %%
q1.check()

# %%
# q1.hint()
# q1.solution()

# %% [markdown]
# **Exercise 2.** Write a SQL query (a string) that returns one row per order `status` with
# the number of orders in that status, in columns named `status` and `orders`. Row order does
# not matter.

# %% tags=["exercise:q2"]
answer_q2 = ____

# %%
q2.check()

# %% [markdown]
# **Exercise 3.** Complete `remember(r, key, value)` so it stores `value` under `key` in Redis
# **with an expiry of at most one hour** — in the labs every cached key gets a TTL. The check
# calls your function on a scratch key under this lab's prefix and inspects the server.

# %% tags=["exercise:q3"]
def remember(r, key, value):
    return ____


# %%
q3.check()

# %% [markdown]
# ## 5. Your progress
#
# The dashboard shows every lab and exercise: done, attempted or not started, and the hints
# you used. `nexus-labs progress` prints the same table in a terminal.

# %% tags=["nbval-ignore-output"]
import nexus_labs

nexus_labs.progress()

# %% [markdown]
# ## Recap
#
# - The setup cell tells you which engine is behind every number. Emulated Redis timings are
#   not Redis timings.
# - Measure with repetitions and percentiles; compare ratios, not single milliseconds.
# - Every lab asserts its claims on the run you just did.
# - `check()`, `hint()`, `solution()` after each exercise; `nexus-labs reset LAB` starts a lab
#   over and keeps a backup of your copy.
#
# **Further reading:** the SQLAlchemy 2.0 tutorial (docs.sqlalchemy.org), the Redis
# documentation on keys and expiry (redis.io/docs), "Latency numbers every programmer should
# know" (J. Dean).

# %%
lab.redis.cleanup()
print("this lab's keys removed (only under its prefix)")
