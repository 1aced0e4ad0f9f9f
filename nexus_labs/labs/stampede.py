"""Cache stampede: a hot key expires under concurrent load; four ways to read it, counted.

Reader threads (each with its own Redis connection, like separate app servers) read one hot key
at a steady rate while it expires. Every recomputation (the slow query behind the key) is
counted, as are the reads that had to wait for one and the reads served a stale value.

- ``none``: a miss recomputes. About (request rate x recompute time) readers miss at once.
- ``lock``: ``SET lock NX PX``: one reader recomputes, the others wait for its value.
- ``xfetch``: Vattani, Chierichetti, Lowenstein (VLDB 2015): each reader recomputes early with
  probability exp(-T/(beta*delta)), T seconds before expiry, so the key is usually refreshed
  before it expires and nobody waits.
- ``swr``: stale-while-revalidate: past a soft expiry, one reader (lock) refreshes in the
  background while everyone keeps being served the stale value.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from dataclasses import dataclass

import redis

STRATEGIES = ("none", "lock", "xfetch", "swr")
FRESH_TTL = 5.0  # a recomputed value lives long enough that the run sees one expiry only


def should_recompute_early(now: float, expiry: float, delta: float, beta: float,
                           rng: random.Random) -> bool:
    """XFetch: recompute when now - delta*beta*ln(random()) >= expiry (random() in (0, 1])."""
    return now - delta * beta * math.log(1.0 - rng.random()) >= expiry


def early_refresh_probability(seconds_before_expiry: float, delta: float, beta: float = 1.0,
                              samples: int = 20_000, seed: int = 0) -> float:
    """The fraction of `samples` XFetch decisions that refresh, T seconds before expiry."""
    rng = random.Random(seed)
    expiry = 1_000.0
    now = expiry - seconds_before_expiry
    hits = sum(should_recompute_early(now, expiry, delta, beta, rng) for _ in range(samples))
    return hits / samples


def release_lock(client: redis.Redis, lock_key: str, token: str) -> None:
    """Delete the lock only if we still own it (it may have expired and been retaken)."""
    with client.pipeline() as pipe:
        try:
            pipe.watch(lock_key)
            if pipe.get(lock_key) == token:
                pipe.multi()
                pipe.delete(lock_key)
                pipe.execute()
            else:
                pipe.unwatch()
        except redis.WatchError:
            pass


@dataclass
class StampedeRun:
    strategy: str
    recomputations: int
    reads: int
    waited: int  # reads that found no value and had to wait for a recomputation
    stale_served: int
    threads: int
    request_rate: float  # reads per second, all threads together
    recompute_seconds: float

    @property
    def expected_unprotected(self) -> float:
        """The rule of thumb: request rate x recompute time (capped by the number of readers)."""
        return min(self.threads, self.request_rate * self.recompute_seconds)


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.recomputations = self.reads = self.waited = self.stale = 0

    def add(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class _HotKey:
    """One strategy's read path for the hot key, shared by every reader thread."""

    def __init__(self, lab, strategy: str, recompute_seconds: float, beta: float) -> None:
        self.lab, self.strategy, self.beta = lab, strategy, beta
        self.key = lab.redis.key("hot", strategy)
        self.lock_key = lab.redis.key("hot", strategy, "lock")
        self.recompute_seconds = recompute_seconds
        self.counters = _Counters()
        self.background: list[threading.Thread] = []

    def recompute(self) -> str:
        self.counters.add("recomputations")
        time.sleep(self.recompute_seconds)  # the slow query
        return f"page@{time.time():.3f}"

    def store(self, client: redis.Redis, value: str, ttl: float) -> None:
        now = time.time()
        if self.strategy == "xfetch":
            payload = json.dumps({"value": value, "delta": self.recompute_seconds,
                                  "expiry": now + ttl})
            client.set(self.key, payload, px=int(ttl * 1000))
        elif self.strategy == "swr":
            # Fresh for ttl, then stale but still served for a while: the hard TTL is longer.
            payload = json.dumps({"value": value, "fresh_until": now + ttl})
            client.set(self.key, payload, px=int((ttl + FRESH_TTL) * 1000))
        else:
            client.set(self.key, value, px=int(ttl * 1000))

    def read(self, client: redis.Redis, rng: random.Random) -> str:
        self.counters.add("reads")
        raw = client.get(self.key)
        if raw is None:
            self.counters.add("waited")
            return self._on_miss(client)
        if self.strategy == "xfetch":
            entry = json.loads(raw)
            if should_recompute_early(time.time(), entry["expiry"], entry["delta"], self.beta, rng):
                value = self.recompute()
                self.store(client, value, FRESH_TTL)
                return value
            return entry["value"]
        if self.strategy == "swr":
            entry = json.loads(raw)
            if time.time() >= entry["fresh_until"]:
                self.counters.add("stale")
                if client.set(self.lock_key, "1", nx=True, px=int(FRESH_TTL * 1000)):
                    refresher = threading.Thread(target=self._refresh_in_background)
                    self.background.append(refresher)
                    refresher.start()
            return entry["value"]
        return raw

    def _on_miss(self, client: redis.Redis) -> str:
        if self.strategy != "lock":
            value = self.recompute()
            self.store(client, value, FRESH_TTL)
            return value
        token = uuid.uuid4().hex
        while True:
            # The lock expires by itself (PX), so a holder that dies cannot block everyone.
            if client.set(self.lock_key, token, nx=True, px=int(self.recompute_seconds * 20_000)):
                try:
                    cached = client.get(self.key)  # someone may have refilled it meanwhile
                    if cached is not None:
                        return cached
                    value = self.recompute()
                    self.store(client, value, FRESH_TTL)
                    return value
                finally:
                    release_lock(client, self.lock_key, token)
            time.sleep(0.005)
            cached = client.get(self.key)
            if cached is not None:
                return cached

    def _refresh_in_background(self) -> None:
        client = self.lab.redis.new_client()
        try:
            self.store(client, self.recompute(), FRESH_TTL)
        finally:
            client.delete(self.lock_key)
            client.close()


def run_stampede(lab, strategy: str, threads: int = 16, duration: float = 0.4,
                 expires_in: float = 0.25, recompute_seconds: float = 0.05,
                 read_interval: float = 0.1, beta: float = 1.0, seed: int = 0) -> StampedeRun:
    """Readers hit one hot key that expires `expires_in` seconds into a `duration` run.

    Each of `threads` readers reads every `read_interval` seconds from a random phase, so the
    request rate is about threads / read_interval.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
    hot = _HotKey(lab, strategy, recompute_seconds, beta)
    lab.redis.client.delete(hot.key, hot.lock_key)
    hot.store(lab.redis.client, "page@initial", expires_in)
    start_gate = threading.Barrier(threads + 1)
    deadline_box: list[float] = []

    def reader(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        client = lab.redis.new_client()
        try:
            start_gate.wait()
            time.sleep(rng.uniform(0, read_interval))  # spread the readers' phases
            while time.monotonic() < deadline_box[0]:
                hot.read(client, rng)
                time.sleep(read_interval)
        finally:
            client.close()

    workers = [threading.Thread(target=reader, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline_box.append(time.monotonic() + duration)
    start_gate.wait()
    for worker in workers:
        worker.join()
    for refresher in hot.background:
        refresher.join()
    lab.redis.client.delete(hot.key, hot.lock_key)
    c = hot.counters
    return StampedeRun(strategy=strategy, recomputations=c.recomputations, reads=c.reads,
                       waited=c.waited, stale_served=c.stale, threads=threads,
                       request_rate=threads / read_interval, recompute_seconds=recompute_seconds)
