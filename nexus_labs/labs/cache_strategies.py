"""Write strategies side by side: write-through, write-back (write-behind), and write-back made
durable with a Redis stream.

The cache holds each product's price under ``v1:price:<id>``; the database is the ``products``
table. Write-back acknowledges a write once the cache has it and leaves the database to a
flusher thread; when that thread dies, whatever it had not flushed is gone. The stream variant
keeps every write in Redis (XADD) until the flusher has written it to the database and
acknowledged it (XACK), so a restarted flusher finishes the job.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import redis
import sqlalchemy as sa

from nexus_labs.labs.caching import db_price, write_price


def price_key(lab, product_id: int) -> str:
    return lab.redis.key("v1", "price", product_id)


def read_price(lab, product_id: int) -> int | None:
    """What a reader sees: the cache first, the database on a miss."""
    cached = lab.redis.client.get(price_key(lab, product_id))
    return int(cached) if cached is not None else db_price(lab.sql.engine, product_id)


class WriteThrough:
    """The write path updates the database and the cache before it returns."""

    name = "write-through"

    def __init__(self, lab) -> None:
        self.lab = lab

    def write(self, product_id: int, price_cents: int) -> None:
        write_price(self.lab.sql.engine, product_id, price_cents)
        self.lab.redis.client.set(price_key(self.lab, product_id), price_cents, ex=300)

    def close(self) -> None:
        """Nothing runs in the background."""


class WriteBack:
    """Acknowledge once the cache has the write; a flusher thread writes the database later.

    The pending writes live in this process's memory (a queue), as in an in-process
    write-behind buffer. ``crash_after=n`` makes the flusher die after n database writes, as a
    killed process would: the queue, and every write in it, is lost.
    """

    name = "write-back"

    def __init__(self, lab, batch: int = 10, interval: float = 0.02,
                 crash_after: int | None = None) -> None:
        self.lab = lab
        self.pending: queue.Queue = queue.Queue()
        self.batch, self.interval, self.crash_after = batch, interval, crash_after
        self.flushed = 0
        self.crashed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush_loop, name="write-back", daemon=True)
        self._thread.start()

    def write(self, product_id: int, price_cents: int) -> None:
        self.lab.redis.client.set(price_key(self.lab, product_id), price_cents, ex=300)
        self.pending.put((product_id, price_cents))

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            time.sleep(self.interval)
            for _ in range(self.batch):
                if self.crash_after is not None and self.flushed >= self.crash_after:
                    self.crashed = True
                    return  # the process died: the in-memory queue dies with it
                try:
                    product_id, price = self.pending.get_nowait()
                except queue.Empty:
                    break
                write_price(self.lab.sql.engine, product_id, price)
                self.flushed += 1

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until the flusher has emptied the queue or died."""
        deadline = time.monotonic() + timeout
        while (not self.pending.empty() and self._thread.is_alive()
               and time.monotonic() < deadline):
            time.sleep(0.005)

    def close(self) -> None:
        self.drain()
        self._stop.set()
        self._thread.join(timeout=5)


class StreamWriteBack:
    """Write-back whose pending writes are entries of a Redis stream read by a consumer group.

    A write is acknowledged after SET + XADD. The flusher reads entries as consumer
    ``flusher-N``, writes the database, and only then XACKs them, so an entry read but not yet
    written stays pending. ``restart()`` starts a new consumer that first XAUTOCLAIMs what the
    dead one left pending. Price writes are idempotent, so a replayed entry is harmless.
    """

    name = "write-back + stream"
    group = "flusher"

    def __init__(self, lab, batch: int = 10, interval: float = 0.02,
                 crash_after: int | None = None) -> None:
        self.lab = lab
        self.stream = lab.redis.key("price-writes")
        self.batch, self.interval, self.crash_after = batch, interval, crash_after
        self.flushed = 0
        self.generation = 0
        self.crashed = False
        try:
            lab.redis.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:  # BUSYGROUP: it exists from an earlier run
            if "BUSYGROUP" not in str(error):
                raise
        self._stop = threading.Event()
        self._thread = self._start()

    def _start(self) -> threading.Thread:
        self.generation += 1
        thread = threading.Thread(target=self._flush_loop, args=(f"flusher-{self.generation}",),
                                  name="stream-write-back", daemon=True)
        thread.start()
        return thread

    def write(self, product_id: int, price_cents: int) -> None:
        with self.lab.redis.client.pipeline(transaction=True) as pipe:
            pipe.set(price_key(self.lab, product_id), price_cents, ex=300)
            pipe.xadd(self.stream, {"product_id": product_id, "price_cents": price_cents})
            pipe.execute()

    def _flush_loop(self, consumer: str) -> None:
        client = self.lab.redis.new_client()
        try:
            # A new consumer first takes over what a dead one read but never acknowledged.
            _, claimed, *_ = client.xautoclaim(self.stream, self.group, consumer,
                                               min_idle_time=0, start_id="0-0", count=1000)
            if claimed and not self._apply(client, claimed):
                return
            while not self._stop.is_set():
                time.sleep(self.interval)
                replies = client.xreadgroup(self.group, consumer, {self.stream: ">"},
                                            count=self.batch)
                for _, entries in replies or []:
                    if not self._apply(client, entries):
                        return
        finally:
            client.close()

    def _apply(self, client: redis.Redis, entries: list) -> bool:
        """Write each entry to the database, then XACK it. False when the flusher 'died'."""
        for entry_id, fields in entries:
            if self.crash_after is not None and self.flushed >= self.crash_after:
                self.crashed = True
                return False  # died holding entries it read: they stay pending in the stream
            write_price(self.lab.sql.engine, int(fields["product_id"]), int(fields["price_cents"]))
            client.xack(self.stream, self.group, entry_id)
            self.flushed += 1
        return True

    def backlog(self) -> int:
        """Entries not yet acknowledged: pending in the group plus never delivered."""
        client = self.lab.redis.client
        group = {g["name"]: g for g in client.xinfo_groups(self.stream)}[self.group]
        # Counted by XRANGE after the last delivered id: XINFO's "lag" needs Redis 7.
        undelivered = client.xrange(self.stream, min="(" + group["last-delivered-id"], max="+")
        return int(group["pending"]) + len(undelivered)

    def restart(self) -> None:
        """Start a new flusher after a crash (a new process, a new consumer name)."""
        self._thread.join(timeout=5)
        self.crash_after = None
        self._thread = self._start()

    def drain(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.backlog() and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self) -> None:
        self.drain()
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class WriteRun:
    """What one strategy did with `writes` price updates."""

    strategy: str
    latencies: list[float] = field(default_factory=list)
    fresh_in_db_at_ack: int = 0  # writes already in the database when write() returned
    acknowledged: dict[int, int] = field(default_factory=dict)

    def lost(self, lab) -> int:
        """Acknowledged writes whose value the database does not hold (after any flushing)."""
        ids = list(self.acknowledged)
        with lab.sql.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT product_id, price_cents FROM products WHERE product_id IN "
                        "(" + ",".join(str(int(i)) for i in ids) + ")")
            ).all()
        in_db = dict(rows)
        return sum(1 for pid, price in self.acknowledged.items() if in_db.get(pid) != price)


def run_writes(lab, strategy, writes: int = 40, first_product: int = 1,
               price_base: int = 100_000) -> WriteRun:
    """Send `writes` price updates (one per product) through `strategy` and measure each."""
    run = WriteRun(strategy=strategy.name)
    for offset in range(writes):
        product_id, price = first_product + offset, price_base + offset
        start = time.perf_counter()
        strategy.write(product_id, price)
        run.latencies.append(time.perf_counter() - start)
        run.acknowledged[product_id] = price
        if db_price(lab.sql.engine, product_id) == price:
            run.fresh_in_db_at_ack += 1
    return run


# ---- The maintained tools for the same jobs -------------------------------------------------

def django_cache(lab, timeout: int = 300):
    """Django's cache framework on its built-in Redis backend, keys under the lab prefix.

    Instantiated directly rather than through settings.CACHES: Django settings are
    process-wide and another lab may own them. Keys come out as
    ``<lab prefix>django:<version>:<key>``, values are pickled by Django.
    Returns (cache, None), or (None, reason) when it cannot run here.
    """
    if lab.redis.kind == "emulated":
        return None, ("skipped: Django's RedisCache needs a Redis URL; the emulated Redis "
                      "(fakeredis) has none")
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(lab.redis.url, {"KEY_PREFIX": lab.redis.key("django"), "TIMEOUT": timeout})
    return cache, None


def client_side_cache_support(lab) -> tuple[bool, str]:
    """Whether redis-py's client-side caching (RESP3 + CacheConfig) can run on this server."""
    if lab.redis.kind == "emulated":
        return False, "skipped: client-side caching needs a real server (RESP3 invalidations)"
    try:
        from redis.cache import CacheConfig  # noqa: F401  (redis-py >= 5.1)
    except ImportError:
        return False, f"skipped: redis-py {redis.__version__} has no client-side caching"
    version = lab.redis.client.info("server").get("redis_version", "0")
    if tuple(int(part) for part in version.split(".")[:2]) < (7, 4):
        return False, (f"skipped: redis-py's client-side caching needs Redis 7.4 or newer; "
                       f"this server is Redis {version}")
    return True, ""


def client_side_cache_demo(lab) -> dict:
    """GET twice through a caching client, change the key from another client, GET again.

    The second GET is answered from the client's memory (no round trip); the server's
    invalidation push (CLIENT TRACKING) makes the third GET go back to Redis.
    """
    from redis.cache import CacheConfig

    key = lab.redis.key("csc", "product", 1)
    lab.redis.client.set(key, "price 100", ex=60)
    cached_client = redis.Redis.from_url(lab.redis.url, protocol=3, decode_responses=True,
                                         cache_config=CacheConfig(max_size=1000))
    try:
        first = cached_client.get(key)
        in_local_cache = cached_client.get_cache().size
        lab.redis.client.set(key, "price 120", ex=60)
        time.sleep(0.05)  # the invalidation is pushed; redis-py reads it on the next command
        after_write = cached_client.get(key)
    finally:
        cached_client.close()
        lab.redis.client.delete(key)
    return {"first": first, "entries_in_local_cache": in_local_cache, "after_write": after_write}
