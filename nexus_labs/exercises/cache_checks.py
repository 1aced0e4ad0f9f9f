"""Cache scenario checks: run a learner's cache code through read / update / read steps on a
scratch namespace of the lab's Redis, counting SQL queries and recording key TTLs per step."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from nexus_labs.backends.sql import count_queries
from nexus_labs.exercises.feedback import Incorrect


@dataclasses.dataclass
class ScenarioStep:
    label: str
    value: Any
    queries: int  # SQL statements the step sent to the lab's database
    keys: dict[str, int]  # scratch keys after the step -> TTL in seconds (-1: none)


@dataclasses.dataclass
class CacheScenario:
    """What happened in each step of a cache scenario, plus checks that raise Incorrect."""

    prefix: str
    steps: list[ScenarioStep]

    def step(self, label: str) -> ScenarioStep:
        return next(s for s in self.steps if s.label == label)

    def require_value(self, label: str, expected: Any, why: str = "") -> None:
        got = self.step(label).value
        if got != expected:
            raise Incorrect(f"After '{label}' the result was {got!r}, expected {expected!r}. "
                            + why)

    def require_queries(self, label: str, count: int, why: str = "") -> None:
        got = self.step(label).queries
        if got != count:
            raise Incorrect(f"'{label}' sent {got} SQL quer{'y' if got == 1 else 'ies'} to "
                            f"the database, expected {count}. " + why)

    def require_ttl(self, label: str, why: str = "") -> None:
        keys = self.step(label).keys
        if not keys:
            raise Incorrect(f"After '{label}' nothing was stored in Redis under "
                            "lab.redis.key(...). " + why)
        forever = [key.removeprefix(self.prefix) for key, ttl in keys.items() if ttl < 0]
        if forever:
            raise Incorrect(f"Key(s) {', '.join(forever)} have no TTL: every cache key needs "
                            "an expiry (SET ... EX seconds). " + why)


def cache_scenario(lab: Any, steps: Sequence[tuple[str, Callable[[Any], Any]]],
                   tag: str = "scenario") -> CacheScenario:
    """Run `steps` against a scratch copy of `lab` whose Redis keys live under
    `lab.redis.key("scratch", tag, <random>)`, then delete that prefix (SCAN, never KEYS).

    Each step is (label, fn); `fn(scratch_lab)` typically calls the learner's function through
    `exercise.call(...)`, so `lab.redis.key(...)` inside learner code lands in the scratch
    namespace. SQL statements per step are counted on the lab's engine.

    Example (read / update / read)::

        scenario = checks.cache_scenario(lab, [
            ("first read", lambda s: self.call(get_product, s, 7)),
            ("second read", lambda s: self.call(get_product, s, 7)),
            ("update", lambda s: self.call_allowing_none(update_price, s, 7, 999)),
            ("read after update", lambda s: self.call(get_product, s, 7)),
        ])
        scenario.require_queries("second read", 0, "The second read should come from Redis.")
    """
    prefix = lab.redis.key("scratch", tag, secrets.token_hex(4)) + ":"
    scratch = dataclasses.replace(lab, redis=dataclasses.replace(lab.redis, prefix=prefix))
    client = lab.redis.client
    recorded: list[ScenarioStep] = []
    try:
        for label, fn in steps:
            if lab.sql is not None:
                with count_queries(lab.sql.engine) as log:
                    value = fn(scratch)
                queries = log.count
            else:
                value, queries = fn(scratch), 0
            keys = {key: client.ttl(key) for key in client.scan_iter(match=prefix + "*")}
            recorded.append(ScenarioStep(label, value, queries, keys))
    finally:
        found = list(client.scan_iter(match=prefix + "*", count=500))
        if found:
            client.delete(*found)
    return CacheScenario(prefix=prefix, steps=recorded)
