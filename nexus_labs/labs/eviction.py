"""Eviction and memory: a cache smaller than its data set, under a skewed (Zipf) workload.

Two tools: ``measure_hit_ratio`` runs the workload against the real Redis with ``maxmemory``
and an eviction policy (only on the lab's own private server: a configured server is never
reconfigured, and its previous settings are restored afterwards), and ``simulate_hit_ratio``,
a fast pure-Python LRU model used by the widget so sliders answer instantly.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

CONFIG_KEYS = ("maxmemory", "maxmemory-policy", "maxmemory-samples")


def zipf_requests(n_keys: int, n_requests: int, skew: float, seed: int = 0) -> np.ndarray:
    """Key ranks 0..n_keys-1 drawn with probability proportional to 1 / (rank + 1) ** skew."""
    weights = 1.0 / np.arange(1, n_keys + 1) ** skew
    rng = np.random.default_rng(seed)
    return rng.choice(n_keys, size=n_requests, p=weights / weights.sum())


def simulate_hit_ratio(cache_size: int, ttl: float, skew: float, n_keys: int = 2_000,
                       n_requests: int = 20_000, rate: float = 100.0, seed: int = 0) -> float:
    """Hit ratio of an LRU cache of `cache_size` entries with a TTL (seconds) under Zipf traffic.

    A model, not Redis: `rate` requests per second of simulated time, exact LRU order.
    """
    cache: OrderedDict[int, float] = OrderedDict()  # key -> expires at
    hits = 0
    for step, key in enumerate(zipf_requests(n_keys, n_requests, skew, seed).tolist()):
        now = step / rate
        expires = cache.get(key)
        if expires is not None and expires > now:
            hits += 1
            cache.move_to_end(key)
            continue
        cache[key] = now + ttl
        cache.move_to_end(key)
        if len(cache) > cache_size:
            cache.popitem(last=False)
    return hits / n_requests


def can_reconfigure(lab) -> tuple[bool, str]:
    """Whether this lab may CONFIG SET maxmemory here, and if not, why."""
    if not lab.redis.owns_server:
        return False, ("skipped: this Redis is a configured server (NEXUS_REDIS_URL), possibly "
                       "shared; the lab never changes its maxmemory or eviction policy")
    if lab.redis.kind == "emulated":
        return False, ("skipped: the emulated Redis (fakeredis) does not evict under maxmemory; "
                       "install redis-server to see real eviction")
    return True, ""


@dataclass
class EvictionRun:
    policy: str
    maxmemory_bytes: int
    hit_ratio: float
    evicted: int
    keys_left: int


def measure_hit_ratio(lab, policy: str, n_keys: int = 2_000, n_requests: int = 4_000,
                      skew: float = 1.1, value_bytes: int = 1_000, budget_keys: int = 200,
                      seed: int = 0) -> EvictionRun:
    """Cache-aside over Zipf traffic on the real server limited to about `budget_keys` values.

    Requests go in batches of 25 (pipelined) to keep the run short; see _cache_aside_batch.

    maxmemory is set to the memory in use now plus room for `budget_keys` values, so the
    limit bites for this workload whatever else the private server holds. The previous
    configuration is restored even if the run fails.
    """
    allowed, reason = can_reconfigure(lab)
    if not allowed:
        raise RuntimeError(reason)
    client = lab.redis.client
    previous = {name: client.config_get(name)[name] for name in CONFIG_KEYS}
    evicted_before = int(client.info("stats")["evicted_keys"])
    value = "x" * value_bytes
    # ~value + key + per-key overhead; measured roughly, only needs to be the right order.
    per_key = value_bytes + 100
    try:
        client.config_set("maxmemory-policy", policy)
        client.config_set("maxmemory-samples", 10)  # closer to exact LRU/LFU than the default 5
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used + budget_keys * per_key)
        keys = [lab.redis.key("evict", policy, i) for i in range(n_keys)]
        requests = zipf_requests(n_keys, n_requests, skew, seed).tolist()
        hits = sum(_cache_aside_batch(client, [keys[rank] for rank in requests[i:i + 25]], value)
                   for i in range(0, len(requests), 25))
        left = sum(1 for _ in client.scan_iter(match=lab.redis.key("evict", policy, "*"),
                                               count=1000))
        evicted = int(client.info("stats")["evicted_keys"]) - evicted_before
        maxmemory = int(client.config_get("maxmemory")["maxmemory"])
    finally:
        for name, old in previous.items():
            client.config_set(name, old)
        for key_batch in _batches(client.scan_iter(match=lab.redis.key("evict", policy, "*"),
                                                   count=1000)):
            client.delete(*key_batch)
    return EvictionRun(policy=policy, maxmemory_bytes=maxmemory, hit_ratio=hits / n_requests,
                       evicted=evicted, keys_left=left)


def _cache_aside_batch(client, batch: list[str], value: str) -> int:
    """Cache-aside over a batch of requests in two round trips (GETs, then SETs of misses).

    A key requested twice in the batch counts as a hit the second time, as it would have
    been served one by one; only the eviction decisions inside one batch can differ.
    """
    with client.pipeline(transaction=False) as pipe:
        for key in batch:
            pipe.get(key)
        found = pipe.execute()
    hits, filled = 0, set()
    with client.pipeline(transaction=False) as pipe:
        for key, cached in zip(batch, found, strict=True):
            if cached is not None or key in filled:
                hits += 1
            else:
                filled.add(key)
                pipe.set(key, value, ex=600)
        pipe.execute()
    return hits


def _batches(keys, size: int = 500):
    batch: list[str] = []
    for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def hit_ratio_widget():
    """Sliders for cache size, TTL and skew -> simulated hit ratio (labelled as a simulation)."""
    import ipywidgets as widgets

    size = widgets.IntSlider(value=200, min=10, max=2_000, step=10, description="cache size")
    ttl = widgets.FloatSlider(value=60, min=1, max=600, step=1, description="TTL (s)")
    skew = widgets.FloatSlider(value=1.1, min=0.0, max=2.0, step=0.1, description="Zipf skew")
    out = widgets.HTML()

    def update(_=None) -> None:
        ratio = simulate_hit_ratio(size.value, ttl.value, skew.value, n_requests=10_000)
        rows = (("cache size", f"{size.value:,} keys"), ("TTL", f"{ttl.value:.0f} s"),
                ("Zipf skew", f"{skew.value:.1f}"), ("hit ratio", f"<b>{ratio:.1%}</b>"))
        cells = "".join(f"<tr><td>{name}</td><td style='text-align:right'>{value}</td></tr>"
                        for name, value in rows)
        out.value = (f"<table class='nexus-hit-ratio'>{cells}</table>"
                     "<small><b>simulated</b> LRU (a Python model, not Redis): 2,000 keys, "
                     "100 requests/s</small>")

    for slider in (size, ttl, skew):
        slider.observe(update, names="value")
    update()
    return widgets.VBox([size, ttl, skew, out])
