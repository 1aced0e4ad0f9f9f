"""Lab 04 teaching code: the product page, cache-aside by hand, invalidation and its race.

Everything a notebook cell would otherwise spell out as plumbing lives here, so the cells read
like the lesson: ``caching.get_product(lab, 7)`` is the whole cache-aside read path.
Every key goes through ``lab.redis.key`` so nothing is written outside the lab's prefix.
The harness that runs learners' functions through scenarios lives in ``caching_scenarios``.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nexus_labs import measure
from nexus_labs.backends.redis import KINDS as REDIS_KINDS

TABLES = ["categories", "sellers", "customers", "products", "orders", "order_items", "reviews"]
KEY_VERSION = "v1"  # bump it when the cached shape changes: old entries are simply never read
NOT_FOUND = "__not_found__"  # the negative-cache sentinel: a real value can never be this string
BASE_TTL = 300
NEGATIVE_TTL = 30
MISSING_PRODUCT = 999_999  # no product has this id

# A realistic product page: the product with its seller and category, ratings and sales figures.
# The correlated aggregates are what make the page worth caching.
PRODUCT_PAGE = sa.text(
    """
    SELECT p.product_id, p.name, p.price_cents, p.stock,
           s.name AS seller, c.name AS category,
           (SELECT AVG(sr.rating) FROM reviews sr JOIN products sp ON sp.product_id = sr.product_id
             WHERE sp.seller_id = p.seller_id) AS seller_rating,
           (SELECT COALESCE(SUM(si.quantity), 0)
              FROM order_items si JOIN products sp ON sp.product_id = si.product_id
             WHERE sp.seller_id = p.seller_id) AS seller_units_sold,
           (SELECT COUNT(*) FROM reviews r WHERE r.product_id = p.product_id) AS review_count,
           (SELECT AVG(r.rating) FROM reviews r WHERE r.product_id = p.product_id) AS rating,
           (SELECT COALESCE(SUM(oi.quantity), 0)
              FROM order_items oi JOIN orders o ON o.order_id = oi.order_id
             WHERE oi.product_id = p.product_id AND o.status <> 'cancelled') AS units_sold,
           (SELECT COUNT(DISTINCT other.product_id)
              FROM order_items mine JOIN order_items other
                ON other.order_id = mine.order_id AND other.product_id <> mine.product_id
             WHERE mine.product_id = p.product_id) AS bought_together
      FROM products p
      JOIN sellers s ON s.seller_id = p.seller_id
      JOIN categories c ON c.category_id = p.category_id
     WHERE p.product_id = :product_id
    """
)


def install(lab) -> dict[str, int]:
    """Load the marketplace tables this lab reads and restore every product's price and stock,
    so a rerun starts from the shipped data even after the write demos changed it."""
    from nexus_labs import data

    counts = data.install_marketplace(lab.sql.engine, TABLES)
    products = data.load_frames()["products"]
    rows = [
        {"product_id": int(row.product_id), "price_cents": int(row.price_cents),
         "stock": int(row.stock)}
        for row in products.itertuples()
    ]
    with lab.sql.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE products SET price_cents = :price_cents, stock = :stock "
                    "WHERE product_id = :product_id"),
            rows,
        )
    return counts


def load_product(engine: Engine, product_id: int) -> dict[str, Any] | None:
    """The product page from the database (one query), or None when there is no such product."""
    with engine.connect() as connection:
        row = connection.execute(PRODUCT_PAGE, {"product_id": product_id}).mappings().first()
    if row is None:
        return None
    page = dict(row)
    # AVG is a float on SQLite and a Decimal on PostgreSQL: JSON needs one plain type.
    for average in ("rating", "seller_rating"):
        page[average] = None if page[average] is None else round(float(page[average]), 2)
    for count in ("units_sold", "seller_units_sold"):
        page[count] = int(page[count])
    page["bought_together"] = int(page["bought_together"])
    return page


def product_key(lab, product_id: int) -> str:
    """Namespaced, versioned key: nexus:caching:v1:product:7."""
    return lab.redis.key(KEY_VERSION, "product", product_id)


def ttl_with_jitter(base: int = BASE_TTL, jitter: float = 0.1,
                    rng: random.Random | None = None) -> int:
    """A TTL spread +-jitter around base, so keys cached together do not expire together."""
    rng = rng or random
    return max(1, round(base * (1 + rng.uniform(-jitter, jitter))))


def get_product(lab, product_id: int) -> dict[str, Any] | None:
    """Cache-aside read: GET; on a miss load from the database and SET with a jittered TTL.

    "Not found" is cached too, as a sentinel with a short TTL, so a missing id cannot send
    every request to the database.
    """
    key = product_key(lab, product_id)
    cached = lab.redis.client.get(key)
    if cached == NOT_FOUND:
        return None
    if cached is not None:
        return json.loads(cached)
    product = load_product(lab.sql.engine, product_id)
    if product is None:
        lab.redis.client.set(key, NOT_FOUND, ex=NEGATIVE_TTL)
    else:
        lab.redis.client.set(key, json.dumps(product), ex=ttl_with_jitter())
    return product


def write_price(engine: Engine, product_id: int, price_cents: int) -> None:
    """UPDATE one product's price and commit."""
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE products SET price_cents = :price WHERE product_id = :product_id"),
            {"price": price_cents, "product_id": product_id},
        )


def db_price(engine: Engine, product_id: int) -> int | None:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT price_cents FROM products WHERE product_id = :product_id"),
            {"product_id": product_id},
        ).scalar()


def update_price(lab, product_id: int, price_cents: int) -> None:
    """The correct write path: commit the database first, then delete the cached page."""
    write_price(lab.sql.engine, product_id, price_cents)
    lab.redis.client.delete(product_key(lab, product_id))


def cached_price(lab, product_id: int) -> int | None:
    """The price the cache currently holds for the product (None when nothing is cached)."""
    raw = lab.redis.client.get(product_key(lab, product_id))
    if raw is None or raw == NOT_FOUND:
        return None
    return json.loads(raw)["price_cents"]


# ---- Why cache: the round trip is the unit of cost ------------------------------------------

def engine_label(lab) -> str:
    """How a Redis timing must be labelled: emulated timings are not Redis timings."""
    return REDIS_KINDS[lab.redis.kind]


def compare_db_and_cache(lab, product_id: int = 1, repeat: int = 200) -> tuple:
    """Time the product page from the database vs the cached page from Redis (GET + JSON)."""
    key = product_key(lab, product_id)
    lab.redis.client.set(key, json.dumps(load_product(lab.sql.engine, product_id)), ex=60)
    # Timed in two blocks, not alternately: on a busy machine a process that just burned CPU
    # on the query waits longer to be scheduled again when Redis answers its next GET.
    db = measure.time_it(lambda: load_product(lab.sql.engine, product_id),
                         label="database: product page query", repeat=repeat,
                         engine=lab.sql.dialect)
    hit = measure.time_it(lambda: json.loads(lab.redis.client.get(key)),
                          label="cache hit: Redis GET + json.loads", repeat=repeat,
                          engine=engine_label(lab))
    return db, hit


def time_alternately(*operations: tuple, repeat: int = 30, warmup: int = 2) -> tuple:
    """Time several (fn, label, engine) operations in alternation, so a burst of load on a
    busy machine hits all of them alike. Use it for operations of the same kind (round trips
    to the same server), not to pit a CPU-heavy query against a round trip."""
    samples: list[list[float]] = [[] for _ in operations]
    for round_number in range(warmup + repeat):
        for index, (operation, _, _) in enumerate(operations):
            start = time.perf_counter()
            operation()
            if round_number >= warmup:
                samples[index].append(time.perf_counter() - start)
    return tuple(measure.Timing(label=label, samples=tuple(taken), engine=engine)
                 for (_, label, engine), taken in zip(operations, samples, strict=True))


def round_trips_vs_pipeline(lab, commands: int = 500, repeat: int = 9) -> tuple:
    """GET `commands` keys one round trip each vs all of them in one pipeline."""
    client = lab.redis.client
    keys = [lab.redis.key("pipe", i) for i in range(commands)]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.set(key, "x", ex=60)
        pipe.execute()

    def one_by_one() -> None:
        for key in keys:
            client.get(key)

    def pipelined() -> None:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            pipe.execute()

    label = engine_label(lab)
    slow, fast = time_alternately(
        (one_by_one, f"{commands} GETs, one round trip each", label),
        (pipelined, f"{commands} GETs in one pipeline", label),
        repeat=repeat, warmup=1,
    )
    client.delete(*keys)
    return slow, fast


# ---- Invalidation: two app servers interleaved step by step ---------------------------------

def interleave_write_and_read(lab, product_id: int, new_price: int,
                              order: str = "update_then_delete") -> dict:
    """Replay a writer (app A) and a reader (app B) step by step, deterministically.

    order="delete_then_update" is the classic bug: B misses between A's DELETE and A's UPDATE,
    reads the old row and re-caches it after A is done, so the cache serves the old price until
    the TTL expires. order="update_then_delete" lets B at worst read the old page once.
    """
    if order not in ("delete_then_update", "update_then_delete"):
        raise ValueError(f"order must be delete_then_update or update_then_delete: {order!r}")
    writer, reader = lab.redis.client, lab.redis.new_client()
    reader_lab = dataclasses.replace(lab, redis=dataclasses.replace(lab.redis, client=reader))
    key = product_key(lab, product_id)
    steps: list[tuple[str, str]] = []

    def step(who: str, what: str) -> None:
        steps.append((who, what))

    get_product(lab, product_id)  # a warm cache, as in production
    old_price = cached_price(lab, product_id)
    if order == "delete_then_update":
        writer.delete(key)
        step("A (writer)", "DEL key")
        missed = reader.get(key) is None
        stale_page = load_product(lab.sql.engine, product_id)
        step("B (reader)", f"GET key -> {'miss' if missed else 'hit'}; "
                           f"SELECT -> price {stale_page['price_cents']}")
        write_price(lab.sql.engine, product_id, new_price)
        step("A (writer)", f"UPDATE price = {new_price}; COMMIT")
        reader.set(key, json.dumps(stale_page), ex=ttl_with_jitter())
        step("B (reader)", f"SET key = page with price {stale_page['price_cents']}")
    else:
        write_price(lab.sql.engine, product_id, new_price)
        step("A (writer)", f"UPDATE price = {new_price}; COMMIT")
        seen = json.loads(reader.get(key))["price_cents"]
        step("B (reader)", f"GET key -> hit, price {seen} (old for a moment)")
        writer.delete(key)
        step("A (writer)", "DEL key")
        fresh = get_product(reader_lab, product_id)
        step("B (reader)", f"GET key -> miss; SELECT; SET -> price {fresh['price_cents']}")
    reader.close()
    return {"steps": steps, "old_price": old_price,
            "db_price": db_price(lab.sql.engine, product_id),
            "cached_price": cached_price(lab, product_id)}
