"""Lab 04 teaching code: cache-aside, invalidation order, write strategies, stampede, eviction,
and namespace safety (every key any of it touches is under the lab prefix).

Runs on the embedded Redis by default and on NEXUS_REDIS_URL in the services run.
"""

from __future__ import annotations

import math
import threading

import pytest
import redis
import redis.connection

from nexus_labs.backends.sql import count_queries
from nexus_labs.exercises import caching as exercises
from nexus_labs.exercises.testing import answer_from_code, outcome_of
from nexus_labs.labs import cache_strategies, caching, eviction, stampede


@pytest.fixture(scope="module")
def lab(open_test_lab):
    lab = open_test_lab("caching")
    caching.install(lab)
    lab.redis.cleanup()
    yield lab
    caching.install(lab)
    lab.redis.cleanup()


def test_cache_aside_counts_queries_and_caches_not_found(lab):
    lab.redis.cleanup()
    counts = []
    for product_id in (9, 9, caching.MISSING_PRODUCT, caching.MISSING_PRODUCT):
        with count_queries(lab.sql.engine) as log:
            caching.get_product(lab, product_id)
        counts.append(log.count)
    assert counts == [1, 0, 1, 0]
    client = lab.redis.client
    assert client.get(caching.product_key(lab, caching.MISSING_PRODUCT)) == caching.NOT_FOUND
    assert 0 < client.ttl(caching.product_key(lab, caching.MISSING_PRODUCT)) <= 30
    assert 270 <= client.ttl(caching.product_key(lab, 9)) <= 330
    lab.redis.cleanup()


def test_ttl_jitter_stays_in_band_and_spreads():
    import random

    ttls = [caching.ttl_with_jitter(100, 0.2, random.Random(i)) for i in range(200)]
    assert min(ttls) >= 80 and max(ttls) <= 120 and len(set(ttls)) > 20


@pytest.mark.parametrize("order, stale", [("delete_then_update", True),
                                          ("update_then_delete", False)])
def test_interleaving_is_deterministic(lab, order, stale):
    original = caching.db_price(lab.sql.engine, 11)
    try:
        for _ in range(2):  # the same outcome every time
            result = caching.interleave_write_and_read(lab, 11, original + 500, order)
            assert result["db_price"] == original + 500
            assert (result["cached_price"] == original) is stale
            assert result["cached_price"] == (original if stale else original + 500)
            caching.write_price(lab.sql.engine, 11, original)
            lab.redis.client.delete(caching.product_key(lab, 11))
    finally:
        caching.write_price(lab.sql.engine, 11, original)
        lab.redis.cleanup()


def test_write_through_is_fresh_and_write_back_lags(lab):
    through = cache_strategies.WriteThrough(lab)
    through_run = cache_strategies.run_writes(lab, through, writes=10, first_product=200)
    back = cache_strategies.WriteBack(lab, interval=0.2)
    back_run = cache_strategies.run_writes(lab, back, writes=10, first_product=210)
    assert through_run.fresh_in_db_at_ack == 10 and back_run.fresh_in_db_at_ack == 0
    assert cache_strategies.read_price(lab, 215) == back_run.acknowledged[215]  # cache is fresh
    back.close()
    assert through_run.lost(lab) == back_run.lost(lab) == 0
    caching.install(lab)
    lab.redis.cleanup()


@pytest.mark.parametrize("crash_after", [0, 7, 15])
def test_write_back_crash_loses_exactly_the_unflushed(lab, crash_after):
    crashing = cache_strategies.WriteBack(lab, batch=4, crash_after=crash_after)
    run = cache_strategies.run_writes(lab, crashing, writes=20, first_product=230,
                                      price_base=500_000 + crash_after)
    crashing.close()
    assert crashing.crashed and crashing.flushed == crash_after
    assert run.lost(lab) == 20 - crash_after
    caching.install(lab)
    lab.redis.cleanup()


def test_stream_write_back_loses_nothing_after_restart(lab):
    durable = cache_strategies.StreamWriteBack(lab, batch=4, crash_after=6)
    run = cache_strategies.run_writes(lab, durable, writes=20, first_product=260,
                                      price_base=600_000)
    durable.drain(timeout=5)
    assert durable.crashed and run.lost(lab) == 14 and durable.backlog() == 14
    durable.restart()
    durable.close()
    assert run.lost(lab) == 0 and durable.backlog() == 0
    caching.install(lab)
    lab.redis.cleanup()


def test_stampede_counts(lab):
    runs = {name: stampede.run_stampede(lab, name) for name in stampede.STRATEGIES}
    assert runs["none"].recomputations >= 2 and runs["none"].waited >= 2
    assert runs["lock"].recomputations == 1
    assert runs["swr"].recomputations == 1 and runs["swr"].waited == 0
    assert runs["swr"].stale_served >= 1
    # probabilistic early refresh: nearly always nobody waits, never as many as unprotected
    assert runs["xfetch"].waited < runs["none"].waited / 2
    assert runs["xfetch"].recomputations < runs["xfetch"].threads
    assert lab.redis.scan_keys("hot:*") == []


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_xfetch_probability_follows_the_formula(beta):
    delta = 0.05
    for seconds in (0.0, 0.02, 0.05, 0.1, 0.2):
        measured = stampede.early_refresh_probability(seconds, delta, beta, samples=20_000)
        assert abs(measured - math.exp(-seconds / (beta * delta))) < 0.015


class _FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_xfetch_decision_is_the_papers_inequality():
    # random() = 1 - e^-1 makes -ln(1 - random()) exactly 1: refresh iff now + delta*beta >= expiry
    rng = _FixedRandom(1 - math.exp(-1))
    assert stampede.should_recompute_early(9.9, 10.0, delta=0.1, beta=1.0, rng=rng)
    assert not stampede.should_recompute_early(9.8, 10.0, delta=0.1, beta=1.0, rng=rng)
    assert stampede.should_recompute_early(9.8, 10.0, delta=0.1, beta=2.0, rng=rng)


def test_simulated_hit_ratio_grows_with_size_and_skew():
    small, large = (eviction.simulate_hit_ratio(n, 600, 1.1, n_requests=5_000) for n in (50, 800))
    flat, skewed = (eviction.simulate_hit_ratio(200, 600, s, n_requests=5_000) for s in (0, 1.2))
    assert small < large and flat < skewed
    assert eviction.simulate_hit_ratio(200, ttl=0.001, skew=1.1, n_requests=2_000) == 0.0


def test_eviction_only_on_an_owned_server_and_config_restored(lab):
    allowed, reason = eviction.can_reconfigure(lab)
    if not allowed:
        assert "skipped" in reason
        with pytest.raises(RuntimeError):
            eviction.measure_hit_ratio(lab, "allkeys-lru")
        return
    before = lab.redis.client.config_get("maxmemory*")
    run = eviction.measure_hit_ratio(lab, "allkeys-lfu", n_requests=1_500)
    assert run.evicted > 0 and 0.2 < run.hit_ratio < 0.95
    assert lab.redis.client.config_get("maxmemory*") == before
    assert lab.redis.scan_keys("evict:*") == []


def test_configured_server_is_never_reconfigured(lab):
    import dataclasses

    configured = dataclasses.replace(lab, redis=dataclasses.replace(lab.redis, kind="configured"))
    allowed, reason = eviction.can_reconfigure(configured)
    assert not allowed and "never changes" in reason


def test_django_cache_stays_in_the_prefix(lab):
    cache, reason = cache_strategies.django_cache(lab)
    if cache is None:
        pytest.skip(reason)
    loads = []
    for _ in range(3):
        cache.get_or_set("product:3", lambda: loads.append(1) or {"id": 3}, timeout=30)
    assert loads == [1]
    assert lab.redis.scan_keys("django:*") == [lab.redis.key("django", 1, "product", 3)]
    lab.redis.cleanup()


# ---- namespace safety ----------------------------------------------------------------------

@pytest.fixture
def sent_commands(monkeypatch):
    """Every command this process sends to any Redis server, as argument tuples."""
    sent: list[tuple] = []
    lock = threading.Lock()
    original_send = redis.connection.AbstractConnection.send_command
    original_pack = redis.connection.AbstractConnection.pack_commands

    def send_command(self, *args, **kwargs):
        with lock:
            sent.append(args)
        return original_send(self, *args, **kwargs)

    def pack_commands(self, commands):
        commands = list(commands)
        with lock:
            sent.extend(tuple(command) for command in commands)
        return original_pack(self, commands)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", send_command)
    monkeypatch.setattr(redis.connection.AbstractConnection, "pack_commands", pack_commands)
    return sent


def _keys_of(client: redis.Redis, commands: list[tuple]) -> set[str]:
    """The keys each command touches, as the server itself parses them (COMMAND GETKEYS)."""
    distinct = {tuple(str(part) for part in command) for command in commands}
    keys: set[str] = set()
    with client.pipeline(transaction=False) as pipe:
        for command in distinct:
            pipe.command_getkeys(*command)
        for reply in pipe.execute(raise_on_error=False):
            if not isinstance(reply, Exception):  # commands without keys: PING, INFO, CONFIG
                keys.update(str(key) for key in reply)
    return keys


def test_nothing_is_written_outside_the_lab_prefix(lab, sent_commands):
    if lab.redis.kind == "emulated":
        pytest.skip("fakeredis sends no commands over a connection and has no COMMAND GETKEYS")
    caching.get_product(lab, 4)
    caching.get_product(lab, caching.MISSING_PRODUCT)
    original = caching.db_price(lab.sql.engine, 12)
    caching.interleave_write_and_read(lab, 12, original + 1, "delete_then_update")
    caching.update_price(lab, 12, original)
    caching.round_trips_vs_pipeline(lab, commands=20, repeat=1)
    for strategy in (cache_strategies.WriteThrough(lab),
                     cache_strategies.StreamWriteBack(lab, crash_after=3)):
        cache_strategies.run_writes(lab, strategy, writes=6, first_product=280)
        if isinstance(strategy, cache_strategies.StreamWriteBack):
            strategy.drain()
            strategy.restart()
        strategy.close()
    for name in stampede.STRATEGIES:
        stampede.run_stampede(lab, name, threads=4, duration=0.3, expires_in=0.1)
    if eviction.can_reconfigure(lab)[0]:
        eviction.measure_hit_ratio(lab, "allkeys-lru", n_keys=300, n_requests=300)
    cache, _ = cache_strategies.django_cache(lab)
    cache.get_or_set("page", lambda: "x", timeout=30)
    for exercise in exercises.EXERCISES:
        answer = answer_from_code(exercise.solution, exercise.answer_name, {"lab": lab})
        assert outcome_of(exercise, answer, lab).status == "correct"
    lab.redis.cleanup()
    caching.install(lab)

    recorded = list(sent_commands)
    touched = _keys_of(lab.redis.new_client(), recorded)
    assert len(recorded) > 300 and touched  # the recorder saw the run
    outside = sorted(key for key in touched if not key.startswith(lab.redis.prefix))
    assert outside == [], f"keys outside {lab.redis.prefix}: {outside[:10]}"
    assert not any(str(c[0]).upper() in ("FLUSHDB", "FLUSHALL", "KEYS") for c in recorded)
    assert lab.redis.scan_keys() == []


def test_hit_ratio_widget_table_follows_the_sliders():
    widget = eviction.hit_ratio_widget()
    size, _ttl, _skew, readout = widget.children
    before = readout.value
    assert "<table" in before and "simulated" in before and "200 keys" in before
    size.value = 1_000
    assert readout.value != before and "1,000 keys" in readout.value
