# %% [markdown]
# # Lab 03 · Query optimization: N+1, indexes and EXPLAIN, pagination
#
# **Goal:** find and fix the three classic causes of a slow endpoint — the N+1 query pattern,
# a missing (or defeated) index, and deep OFFSET pagination — and measure each fix on a real
# engine. **Time:** 60 minutes. **Prerequisites:** lab 02 (relationships), basic SQL, a first
# look at an ORM.
#
# The production story: an "orders" page is fast in development with 10 orders and takes
# seconds in production. The database is not slow; the code asks it a thousand small
# questions, or one question it can only answer by reading every row. Every number below is
# measured on this run, and every claim is asserted in the cell that shows it.

# %% tags=["nbval-ignore-output"]
from nexus_labs import open_lab, ____
lab = open_lab("query_optimization", made_with="0.1.0")
q1, q2, q3, q4, q5, q6 = lab.exercises

# %% [markdown]
# The marketplace tables load in a blink; the 1,000,000-row `big_orders` table (for indexes
# and pagination) is generated the first time only and reused by every later run.

# %%
import math

import pandas as pd
import sqlalchemy as sa

from nexus_labs.labs import query_optimization as qo

engine = lab.sql.engine
ENGINE = lab.sql.version()  # printed next to every measurement
rows = qo.prepare(lab)
assert rows["big_orders"] == 1_000_000 and rows["orders"] == 1500
pd.Series(rows, name="rows").to_frame().T

# %% [markdown]
# ## 1. N+1 in SQLAlchemy
#
# The lab maps the marketplace tables to classes (`nexus_labs/labs/query_optimization.py`):
# `Order.customer` (many-to-one), `Order.items` (one-to-many, `OrderItem`), `Customer.orders`.
# Relationships load **lazily** by default: touching `order.items` sends a SELECT the first
# time. The page shows each order with its customer's name and its items.
#
# `count_queries(engine)` counts every statement the driver executes inside the block.

# %%
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, raiseload, selectinload

from nexus_labs.backends.sql import count_queries
from nexus_labs.labs import n_plus_one
from nexus_labs.labs.query_optimization import Order

N = 1200
with Session(engine) as session, count_queries(engine) as lazy:
    orders = session.scalars(select(Order).order_by(Order.order_id).limit(N)).all()
    item_counts = [len(order.items) for order in orders]  # one SELECT per order
print(f"{N} orders and their items, lazy loading: {lazy.count} queries")
assert lazy.count == N + 1

# %% [markdown]
# That is N+1: one query for the list, one per row. The whole page also touches
# `order.customer`. Many-to-one lazy loads first look in the Session's identity map, so a
# customer already loaded costs nothing: the page costs 1 + N + (distinct customers).

# %%
page = n_plus_one.measure_page(engine, N, "lazy")
with engine.connect() as connection:
    customers_on_page = connection.scalar(sa.text(
        "SELECT count(DISTINCT customer_id) FROM (SELECT customer_id FROM orders "
        "ORDER BY order_id LIMIT :n) AS page"), {"n": N})
print(f"lazy page: {page.queries} queries = 1 + {N} item loads + {customers_on_page} "
      "customer loads")
assert page.queries == 1 + N + customers_on_page

# %% [markdown]
# ### `selectinload`: one extra SELECT … IN per relationship, 500 keys at a time
#
# `selectinload(Order.items)` loads the orders, then all their items with
# `WHERE order_id IN (…)`. SQLAlchemy puts at most 500 keys in one IN list, so 1,200 orders
# need ceil(1200 / 500) = 3 item queries. Counting each statement's bound parameters shows
# the batches.

# %%
with Session(engine) as session, n_plus_one.capture_statements(engine) as log:
    orders = session.scalars(
        select(Order).options(selectinload(Order.items)).order_by(Order.order_id).limit(N)
    ).all()
    item_counts_selectin = [len(order.items) for order in orders]
print(f"selectinload: {log.count} queries; bound parameters per statement: "
      f"{log.parameter_counts}")
assert log.count == 1 + math.ceil(N / 500)
assert log.parameter_counts[1:] == [500, 500, 200]
assert item_counts_selectin == item_counts  # same page, 4 queries instead of 1,201

# %% [markdown]
# ### `joinedload`: one query, but collections need `.unique()`
#
# `joinedload` adds a LEFT OUTER JOIN. For a collection the result repeats each order once
# per item, and SQLAlchemy refuses to hand you those duplicates silently:

# %%
with Session(engine) as session:
    try:
        session.scalars(select(Order).options(joinedload(Order.items)).limit(N)).all()
        raise AssertionError("expected SQLAlchemy to demand .unique()")
    except sa.exc.InvalidRequestError as error:
        print("InvalidRequestError:", error)
        assert "unique()" in str(error)

# %%
with Session(engine) as session, count_queries(engine) as joined:
    orders = session.scalars(
        select(Order).options(joinedload(Order.items)).order_by(Order.order_id).limit(N)
    ).unique().all()
    item_counts_joined = [len(order.items) for order in orders]
print(f"joinedload + unique(): {joined.count} query for {len(orders)} orders")
assert joined.count == 1 and item_counts_joined == item_counts

# %% [markdown]
# ### LIMIT with a JOIN: the ORM gets it right, the hand-written JOIN does not
#
# "First 10 orders with their items": `joinedload` + `.limit(10)` wraps the LIMIT in a
# subquery over orders, then joins the items. A hand-written JOIN + LIMIT 10 limits
# *joined rows* — order items — and returns fewer than 10 orders.

# %%
with Session(engine) as session, count_queries(engine) as limited:
    ten = session.scalars(
        select(Order).options(joinedload(Order.items)).order_by(Order.order_id).limit(10)
    ).unique().all()
with engine.connect() as connection:
    hand_written = connection.execute(sa.text(
        "SELECT o.order_id, i.product_id FROM orders o "
        "JOIN order_items i ON i.order_id = o.order_id ORDER BY o.order_id LIMIT 10")).all()
orders_by_hand = {order_id for order_id, _ in hand_written}
print(f"joinedload + limit(10): {len(ten)} orders, "
      f"{sum(len(o.items) for o in ten)} items, in {limited.count} query")
print(f"JOIN + LIMIT 10 by hand: {len(orders_by_hand)} orders (10 rows are 10 items)")
print("ORM statement:", limited.statements[0][:160], "...")
assert len(ten) == 10 and len(orders_by_hand) < 10
assert "LIMIT" in limited.statements[0] and "FROM (SELECT" in limited.statements[0]

# %% [markdown]
# ### `raiseload("*")`: make hidden lazy loads fail loudly
#
# In a code review nobody sees the lazy load inside a template. `raiseload("*")` makes every
# relationship you did not eager-load raise instead of querying; tests then catch the N+1.

# %%
with Session(engine) as session:
    guarded = session.scalars(
        select(Order).options(selectinload(Order.items), raiseload("*"))
        .order_by(Order.order_id).limit(5)
    ).all()
    print("items are loaded:", [len(o.items) for o in guarded])
    try:
        guarded[0].customer.name  # not eager-loaded: would be a hidden query
        raise AssertionError("expected raiseload to refuse the lazy load")
    except sa.exc.InvalidRequestError as error:
        print("InvalidRequestError:", error)
        assert "lazy='raise'" in str(error)

# %% [markdown]
# ### Queries and time as the page grows
#
# The three strategies on the full page (customer and items), from 10 to 800 orders. The
# static chart below is measured on this run; the widget after it lets you slide the size.

# %% tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt

frame = n_plus_one.sweep(engine, sizes=(10, 200, 800))
_ = n_plus_one.plot_sweep(frame, f"({ENGINE})")
plt.show()
by = frame.set_index(["strategy", "parents"])
with engine.connect() as connection:
    customers_800 = connection.scalar(sa.text(
        "SELECT count(DISTINCT customer_id) FROM (SELECT customer_id FROM orders "
        "ORDER BY order_id LIMIT 800) AS page"))
assert by.loc[("joined", 800), "queries"] == 1
assert by.loc[("selectin", 800), "queries"] == 1 + math.ceil(800 / 500) + 1
assert by.loc[("lazy", 800), "queries"] == 1 + 800 + customers_800
# Lazy's wall time grows with N; with a margin for a busy machine.
assert by.loc[("lazy", 800), "ms"] > 1.5 * by.loc[("selectin", 800), "ms"]
frame.pivot(index="parents", columns="strategy", values="queries")

# %% tags=["nbval-ignore-output"]
n_plus_one.page_widget(engine, f"({ENGINE})", initial=frame)

# %% [markdown]
# ### Exercise q1 · Fix the N+1
#
# Return the first 100 orders (by `order_id`) so that rendering the page — each order's
# customer name and items — takes **at most 2 queries**. The check counts the queries and
# compares the page with the right one.

# %% tags=["exercise:q1"]
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from nexus_labs.labs.query_optimization import Order

def orders_page(session):
    query = select(Order).order_by(Order.order_id).limit(100)  # add loader options
    return ____

# %%
q1.check()

# %%
# q1.hint()
# q1.solution()

# %% [markdown]
# ## 2. N+1 in Django
#
# The same marketplace as Django models (`nexus_labs.django_marketplace.models`). Django has
# no identity map: every `order.customer` access without `select_related` is a query.
# `CaptureQueriesContext` records the statements of a block.

# %% tags=["nbval-ignore-output"]
from nexus_labs.backends.django_orm import load_django_marketplace, setup_django

setup_django(lab)
load_django_marketplace()

# %%
from django.db import connection as django_connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from nexus_labs.django_marketplace.models import Customer as DjCustomer
from nexus_labs.django_marketplace.models import Order as DjOrder

with CaptureQueriesContext(django_connection) as naive:
    names = [order.customer.name for order in DjOrder.objects.order_by("id")[:1000]]
with CaptureQueriesContext(django_connection) as related:
    names_related = [order.customer.name
                     for order in DjOrder.objects.select_related("customer").order_by("id")[:1000]]
print(f"forward FK, 1,000 orders: {len(naive)} queries -> select_related: {len(related)}")
assert len(naive) == 1001 and len(related) == 1 and names_related == names

# %% [markdown]
# For the reverse side (a customer's orders) and many-to-many, a JOIN would multiply rows:
# `prefetch_related` runs one more query with `IN (…)` and stitches the results in Python.

# %%
with CaptureQueriesContext(django_connection) as naive:
    counts = [len(c.orders.all()) for c in DjCustomer.objects.order_by("id")[:200]]
with CaptureQueriesContext(django_connection) as prefetched:
    counts_prefetched = [len(c.orders.all())
                         for c in DjCustomer.objects.prefetch_related("orders").order_by("id")[:200]]
print(f"reverse FK, 200 customers: {len(naive)} queries -> prefetch_related: {len(prefetched)}")
assert len(naive) == 201 and len(prefetched) == 2 and counts_prefetched == counts

# %% [markdown]
# The trap: `.filter()` on a prefetched relation is a **new query**; the prefetch is silently
# ignored and the N+1 is back. `Prefetch(..., queryset=..., to_attr=...)` filters inside the
# prefetch query instead.

# %%
with CaptureQueriesContext(django_connection) as chained:
    delivered = [len(c.orders.filter(status="delivered"))
                 for c in DjCustomer.objects.prefetch_related("orders").order_by("id")[:200]]
delivered_orders = Prefetch("orders", queryset=DjOrder.objects.filter(status="delivered"),
                            to_attr="delivered_orders")
with CaptureQueriesContext(django_connection) as to_attr:
    delivered_to_attr = [len(c.delivered_orders)
                         for c in DjCustomer.objects.prefetch_related(delivered_orders)
                         .order_by("id")[:200]]
print(f"prefetch + chained .filter(): {len(chained)} queries; "
      f"Prefetch(to_attr=...): {len(to_attr)} queries")
assert len(chained) == 2 + 200 and len(to_attr) == 2 and delivered_to_attr == delivered

# %% [markdown]
# ## 3. Indexes and EXPLAIN
#
# `big_orders` has 1,000,000 rows and only its primary key. Without an index, finding one
# email means reading every row (a **SCAN**); a B-tree index finds it in a few page reads
# (a **SEARCH**). `indexing.shape_of` reads the plan (SQLite `EXPLAIN QUERY PLAN`,
# PostgreSQL `EXPLAIN`) with a regex on the words that matter. Every index this lab creates is
# named `ix_lab_*` and dropped at the end of the section.

# %%
from nexus_labs.labs import indexing
from nexus_labs.measure import explain, speedup, time_it, timings_table

indexing.drop_lab_indexes(engine)  # a rerun starts from the bare table
indexing.analyze(engine, vacuum=True)  # PostgreSQL: fresh statistics, visibility map
LOOKUP = "SELECT * FROM big_orders WHERE email = :email"
params = {"email": "buyer777777@example.com"}
before = indexing.shape_of(engine, LOOKUP, params)
print(explain(engine, LOOKUP, params))
assert before.access == "scan"

# %% tags=["nbval-ignore-output"]
def time_lookup(label, repeat):
    # One connection for all runs: we time the query, not taking a connection from the pool.
    with engine.connect() as connection:
        assert len(connection.execute(sa.text(LOOKUP), params).all()) == 1
        return time_it(lambda: connection.execute(sa.text(LOOKUP), params).all(), label,
                       repeat=repeat, warmup=1, engine=ENGINE)


no_index = time_lookup("email = ?, no index", repeat=5)
build_seconds = indexing.create_index(engine, "ix_lab_email", "big_orders", "email")
with_index = time_lookup("email = ?, ix_lab_email", repeat=50)
after = indexing.shape_of(engine, LOOKUP, params)
print(f"CREATE INDEX ix_lab_email took {build_seconds:.2f} s (it sorts 1M emails once)")
print(explain(engine, LOOKUP, params, analyze=True))
print(f"speedup: {speedup(no_index, with_index):.0f}x")
assert after.access == "search" and after.index == "ix_lab_email"
assert speedup(no_index, with_index) > 50
timings_table([no_index, with_index])

# %% [markdown]
# ### Ways to defeat an index
#
# The index stores `email` values in order. A condition on anything *computed from* the
# column — a function, `|| ''` (the text version of `+ 0`), a case fold — or a pattern with
# a leading wildcard cannot be looked up in that order, so the engine scans.

# %%
DEFEATED = {
    "function on the column": "SELECT * FROM big_orders WHERE trim(email) = :email",
    "email || '' (like + 0)": "SELECT * FROM big_orders WHERE email || '' = :email",
    "leading-% LIKE": "SELECT * FROM big_orders WHERE email LIKE '%777777@example.com'",
    "case folding": "SELECT * FROM big_orders WHERE lower(email) = :email",
    "the bare column": LOOKUP,
}
shapes = {name: indexing.shape_of(engine, sql, params) for name, sql in DEFEATED.items()}
for name, shape in shapes.items():
    print(f"{name:>24}: {shape.access.upper()}  index={shape.index}")
assert all(shapes[name].access == "scan" for name in list(DEFEATED)[:4])
assert shapes["the bare column"].access == "search"

# %% [markdown]
# Case-insensitive lookups are common (emails!). The fix is an index on the expression the
# query uses:

# %%
indexing.create_index(engine, "ix_lab_email_lower", "big_orders", "lower(email)")
folded = indexing.shape_of(engine, DEFEATED["case folding"], params)
print(f"lower(email) = ? with an index on lower(email): {folded}")
assert folded.access == "search" and folded.index == "ix_lab_email_lower"

# %% [markdown]
# ### Composite indexes: column order matters
#
# An index on `(status, total_cents)` is sorted by status, then by total within a status —
# like a phone book by last name, then first name. It serves conditions on `status`, or on
# `status` *and* `total_cents`, but cannot *seek* to a `total_cents` alone: those entries
# are spread over every status. SQLite then scans the table; PostgreSQL may read the whole
# index instead (it is smaller than the table), which is still a scan, as the timings show.

# %% tags=["nbval-ignore-output"]
indexing.create_index(engine, "ix_lab_status_total", "big_orders", "status, total_cents")
COMPOSITE = {
    "status and total": "SELECT * FROM big_orders WHERE status = 'refunded' "
                        "AND total_cents = 12345",
    "status only (leading column)": "SELECT * FROM big_orders WHERE status = 'refunded'",
    "total only (second column)": "SELECT * FROM big_orders WHERE total_cents = 12345",
}
composite = {name: indexing.shape_of(engine, sql) for name, sql in COMPOSITE.items()}


def timed(sql):
    with engine.connect() as connection:
        return time_it(lambda: connection.execute(sa.text(sql)).all(), sql.split("WHERE ")[1],
                       repeat=3, warmup=1, engine=ENGINE)


both, second_only = timed(COMPOSITE["status and total"]), timed(COMPOSITE["total only (second column)"])
for name, shape in composite.items():
    print(f"{name:>30}: {shape}")
print(f"second column alone is {speedup(second_only, both):.0f}x slower than both columns")
assert composite["status and total"].index == "ix_lab_status_total"
assert composite["status and total"].access == "search"
assert composite["status only (leading column)"].access == "search"
if lab.sql.kind == "sqlite":
    assert composite["total only (second column)"].access == "scan"
assert speedup(second_only, both) > 10
timings_table([both, second_only])

# %% [markdown]
# ### Covering indexes
#
# When the index holds every column the query needs, the engine never visits the table:
# SQLite says `USING COVERING INDEX`, PostgreSQL `Index Only Scan` (after `VACUUM` has
# marked the pages all-visible). The same index shows `+ 0` defeating it.

# %%
indexing.create_index(engine, "ix_lab_customer_total", "big_orders", "customer_id, total_cents")
indexing.analyze(engine, vacuum=True)
covering = indexing.shape_of(
    engine, "SELECT customer_id, total_cents FROM big_orders WHERE customer_id = 4242")
not_covering = indexing.shape_of(
    engine, "SELECT customer_id, total_cents, email FROM big_orders WHERE customer_id = 4242")
plus_zero = indexing.shape_of(
    engine, "SELECT customer_id, total_cents FROM big_orders WHERE customer_id + 0 = 4242")
print("customer_id, total_cents:       ", covering)
print("customer_id, total_cents, email:", not_covering)
print("WHERE customer_id + 0 = 4242:   ", plus_zero)
assert covering.access == "search" and covering.covering
assert not_covering.access == "search" and not not_covering.covering
assert plus_zero.access == "scan"

# %% [markdown]
# ### Indexes are not free: the write cost
#
# Every index is one more B-tree to update on each INSERT. The same 10,000 rows inserted into
# a copy table carrying 0, 1, 3 and 5 indexes (median of 3 runs each):

# %% tags=["nbval-ignore-output"]
cost = indexing.write_cost(engine, counts=(0, 1, 3, 5), rows=10_000)
figure, axes = plt.subplots(figsize=(6, 3.4))
axes.bar(cost["indexes"].astype(str), cost["ms"])
axes.set(xlabel="indexes on the table", ylabel="ms to insert 10,000 rows",
         title=f"Write cost of indexes ({ENGINE})")
plt.show()
ms = cost.set_index("indexes")["ms"]
assert ms[5] > 1.5 * ms[0] and ms[3] > ms[0] and ms[5] > ms[1]
cost

# %%
dropped = indexing.drop_lab_indexes(engine)
print("dropped:", dropped)
assert indexing.lab_indexes(engine) == []

# %% [markdown]
# ### Exercise q2 · Choose the index
#
# The "latest orders of a customer" query below scans the table and sorts. Write the
# `CREATE INDEX ix_lab_... ON big_orders (...)` that makes it a SEARCH **without** a sort
# step. The check creates your index, reads the real plan, and drops it again.

# %%
from nexus_labs.exercises.query_optimization import Q2_SQL

print(Q2_SQL)
print(explain(engine, Q2_SQL, {"customer_id": 42}))

# %% tags=["exercise:q2"]
answer_q2 = ____

# %%
q2.check()

# %%
# q2.hint()
# q2.solution()

# %% [markdown]
# ### Exercise q3 · Rewrite the predicate
#
# With an index on `total_cents` (the check creates `ix_lab_q3_total_cents`), this query
# still scans: `SELECT id FROM big_orders WHERE total_cents / 100 = 234`. Write a query that
# returns the same rows and can use the index.

# %% tags=["exercise:q3"]
answer_q3 = ____

# %%
q3.check()

# %%
# q3.hint()
# q3.solution()

# %% [markdown]
# ### Exercise q4 · Spot the queries that cannot use the index
#
# With an index on `customer_id`, which of these can **not** use it? Answer with a set of
# letters, e.g. `{"A", "C"}`. The check compares with the real plans.

# %%
from nexus_labs.exercises.query_optimization import Q4_OPTIONS

for letter, sql in Q4_OPTIONS.items():
    print(letter, sql)

# %% tags=["exercise:q4"]
answer_q4 = ____

# %%
q4.check()

# %%
# q4.hint()
# q4.solution()

# %% [markdown]
# ## 4. Pagination: OFFSET vs keyset
#
# `LIMIT 20 OFFSET 900000` makes the engine produce 900,020 rows and throw away 900,000.
# A keyset ("seek") page remembers where the last page ended — `WHERE id > :last` — and the
# primary-key index jumps straight there.

# %% tags=["nbval-ignore-output"]
from nexus_labs.labs import pagination

pages = pagination.time_pages(engine, depths=(0, 10_000, 100_000, 400_000, 900_000), repeat=3)
_ = pagination.plot_pages(pages, f"({ENGINE})")
plt.show()
deepest = pages.iloc[-1]
print(f"page at depth {int(deepest['depth']):,}: OFFSET {deepest['offset_ms']:.2f} ms, "
      f"keyset {deepest['keyset_ms']:.3f} ms (p50 of 3)")
assert deepest["offset_ms"] > 5 * deepest["keyset_ms"]
assert deepest["offset_ms"] > 3 * pages.iloc[0]["offset_ms"]  # OFFSET grows with depth
pages

# %% [markdown]
# OFFSET is also *wrong* on a live table. A feed shows the newest posts first, 5 per page.
# Between loading page 1 and page 2, someone posts: every row shifts down by one, and page 2
# starts with the last row of page 1 again.

# %%
feed = pagination.reset_feed(engine)
NEWEST_FIRST = ("SELECT id, created_at FROM lab_feed ORDER BY created_at DESC, id DESC "
                "LIMIT 5 OFFSET :offset")
with engine.connect() as connection:
    page_1 = connection.execute(sa.text(NEWEST_FIRST), {"offset": 0}).all()
with engine.begin() as connection:
    connection.execute(sa.text("INSERT INTO lab_feed VALUES (1000, '2026-01-01 11:00:00', "
                               "'breaking news')"))
with engine.connect() as connection:
    page_2 = connection.execute(sa.text(NEWEST_FIRST), {"offset": 5}).all()
    page_2_keyset = connection.execute(sa.text(
        "SELECT id, created_at FROM lab_feed WHERE (created_at, id) < (:created_at, :id) "
        "ORDER BY created_at DESC, id DESC LIMIT 5"),
        {"created_at": page_1[-1].created_at, "id": page_1[-1].id}).all()
repeated = set(page_1) & set(page_2)
print("page 1:", [r.id for r in page_1])
print("page 2 by OFFSET:", [r.id for r in page_2], "repeated:", [r.id for r in repeated])
print("page 2 by keyset:", [r.id for r in page_2_keyset])
assert repeated == {page_1[-1]} and not set(page_1) & set(page_2_keyset)

# %% [markdown]
# Keyset pagination needs a **unique** sort key. `lab_feed` has ties: posts share a
# `created_at` in groups of 4. Seeking on `created_at` alone skips the rest of a tie group at
# each page edge; adding `id` as the tie-breaker visits every row exactly once.

# %%
feed = pagination.reset_feed(engine)
WITHOUT_TIE_BREAKER = ("SELECT id, created_at FROM lab_feed WHERE created_at > :last_created_at "
                       "ORDER BY created_at LIMIT :size")
WITH_TIE_BREAKER = ("SELECT id, created_at FROM lab_feed "
                    "WHERE (created_at, id) > (:last_created_at, :last_id) "
                    "ORDER BY created_at, id LIMIT :size")
walked_loose = pagination.walk_pages(engine, WITHOUT_TIE_BREAKER, size=5)
walked_exact = pagination.walk_pages(engine, WITH_TIE_BREAKER, size=5)
print(f"{len(feed)} rows; created_at only: saw {len(walked_loose)}, lost "
      f"{len(set(feed) - set(walked_loose))}; with id tie-breaker: saw {len(walked_exact)}")
assert len(set(feed) - set(walked_loose)) > 0
assert walked_exact == feed

# %% [markdown]
# ### Exercise q5 · The next keyset page
#
# Write the query for the next page of `lab_feed` in `(created_at, id)` order, using the
# parameters `:last_created_at`, `:last_id` (the last row of the previous page) and `:size`.
# The check walks the whole feed 5 rows at a time with your query.

# %% tags=["exercise:q5"]
answer_q5 = ____

# %%
q5.check()

# %%
# q5.hint()
# q5.solution()

# %% [markdown]
# ## 5. Measuring honestly
#
# One timing is an anecdote: caches warm up, the machine is busy. Repeat the operation
# (`time_it` works like `timeit`), then look at percentiles: p50 is the typical run, p95/p99
# the slow tail your users feel.

# %% tags=["nbval-ignore-output"]
def one_page():
    with engine.connect() as connection:
        return pagination.keyset_page(connection, after=500_000)

runs = time_it(one_page, "keyset page", repeat=200, engine=ENGINE)
print(runs.summary(), f"p99 {runs.p99 * 1e3:.3f} ms, max {max(runs.samples) * 1e3:.3f} ms")
assert runs.p50 <= runs.p95 <= runs.p99 <= max(runs.samples)

# %% [markdown]
# Where the work happens matters as much as how: totals per status over 100,000 orders, as
# one `GROUP BY` in the database or by pulling every row into a Python loop.

# %% tags=["nbval-ignore-output"]
totals_sql = qo.status_totals_in_sql(engine, 100_000)  # also the warm-up runs
totals_python = qo.status_totals_in_python(engine, 100_000)
assert totals_sql == totals_python
in_sql = time_it(lambda: qo.status_totals_in_sql(engine, 100_000), "GROUP BY in SQL",
                 repeat=3, warmup=0, engine=ENGINE)
in_python = time_it(lambda: qo.status_totals_in_python(engine, 100_000),
                    "rows into a Python loop", repeat=3, warmup=0, engine=ENGINE)
print(f"SQL is {speedup(in_python, in_sql):.1f}x faster, same totals")
assert speedup(in_python, in_sql) > 1.3
timings_table([in_sql, in_python])

# %%
pd.DataFrame(totals_sql, columns=["status", "orders", "total_cents"])

# %% [markdown]
# ### Exercise q6 · Aggregate in SQL
#
# This loop computes each customer's revenue from **delivered** orders. Replace it with one
# SQL query returning `customer_id, revenue_cents` (one row per customer; any order).

# %%
import inspect

print(inspect.getsource(qo.revenue_by_customer_python))

# %% tags=["exercise:q6"]
answer_q6 = ____

# %%
q6.check()

# %%
# q6.hint()
# q6.solution()

# %% [markdown]
# ## Recap
#
# 1. **Count queries, not just milliseconds.** N+1 hides in loops and templates: eager-load
#    with `selectinload` / `joinedload` (SQLAlchemy) or `select_related` / `prefetch_related`
#    / `Prefetch(to_attr=...)` (Django), and guard with `raiseload("*")` in tests.
# 2. **Read the plan.** SCAN vs SEARCH (SQLite), Seq Scan vs Index Scan (PostgreSQL). Leave
#    the indexed column bare in the predicate; order composite columns equality-first; a
#    covering index skips the table; every index costs writes.
# 3. **Paginate with a key, not an offset**: keyset pages stay flat with depth and do not
#    skip or repeat rows, as long as the key is unique (add the id as a tie-breaker).
# 4. **Measure with repetitions and percentiles**, and aggregate where the data lives.
#
# Further reading: SQLAlchemy "Relationship Loading Techniques"; Django "Database access
# optimization"; SQLite "Query Planning" and "EXPLAIN QUERY PLAN"; PostgreSQL "Using
# EXPLAIN" and "Index-Only Scans"; Markus Winand, *Use The Index, Luke* (use-the-index-luke.com),
# including "We need tool support for keyset pagination".
