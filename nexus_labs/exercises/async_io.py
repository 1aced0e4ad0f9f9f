"""Exercises of lab 05 (asynchronous I/O).

Every code exercise is checked by behaviour against the lab's slow HTTP service: the learner's
coroutine gets a `fetch` (or a blocking `legacy_price`) that makes real loopback calls, and the
checker reads the wall time and the service's own count of calls in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from typing import Any, ClassVar

import httpx

from nexus_labs.exercises.core import Exercise, Incorrect
from nexus_labs.labs.slow_service import slow_service

_groups = itertools.count(1)


def _group(name: str) -> str:
    return f"check-{name}-{next(_groups)}"


class _ServiceExercise(Exercise):
    """Runs the learner's coroutine with a `fetch(i)` bound to a fresh group on the service."""

    timeout: ClassVar[float] = 6.0

    def run_with_fetch(self, answer, delays: dict[int, float],
                       *args: Any) -> tuple[Any, float, str]:
        """Call `answer(fetch, *args)` in a private loop; returns (result, wall, group)."""
        service = slow_service()
        group = _group(self.id)

        async def scenario():
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            async with httpx.AsyncClient(limits=limits, timeout=10) as client:

                async def fetch(i: int) -> int:
                    url = service.url("/wait", ms=int(delays[i] * 1000), id=i, group=group)
                    response = await client.get(url)
                    response.raise_for_status()
                    return int(response.json()["id"])

                start = time.perf_counter()
                result = await answer(fetch, *args)
                return result, time.perf_counter() - start

        result, wall = self.call(scenario)
        return result, wall, group


class ConcurrentFetch(_ServiceExercise):
    id = "q1"
    title = "Make fetch_all concurrent: all calls at once, results in input order"
    answer_name = "fetch_all"
    hints = (
        "Create all the coroutines first, then wait for them together: asyncio.gather(...).",
        "gather returns results in the order you passed the awaitables, whatever order they "
        "finish in.",
    )
    solution = (
        "async def fetch_all(fetch, ids):\n"
        "    return list(await asyncio.gather(*(fetch(i) for i in ids)))"
    )

    def check(self, answer, lab) -> str:
        ids = list(range(10))
        delays = {i: 0.05 + 0.02 * (len(ids) - i) for i in ids}  # later ids finish first
        result, wall, group = self.run_with_fetch(answer, delays, ids)
        slowest = max(delays.values())
        if not isinstance(result, (list, tuple)):
            raise Incorrect("fetch_all should return a list of results, got "
                            f"{type(result).__name__}.")
        if sorted(result) != ids:
            raise Incorrect(f"fetch_all should return one result per id ({ids}); "
                            f"got {list(result)}.")
        service = slow_service()
        calls, seen = len(service.records(group)), service.max_concurrency(group)
        if calls != len(ids):
            raise Incorrect(f"call fetch(i) once per id: the server saw {calls} calls for "
                            f"{len(ids)} ids.")
        if seen == 1:
            raise Incorrect(
                f"the {len(ids)} calls ran one after another ({wall:.2f} s; the server saw at most "
                "1 in flight). `await` inside a loop waits for each call before starting the "
                "next: start them all, then wait (asyncio.gather)."
            )
        if list(result) != ids:
            raise Incorrect(
                f"results came back in completion order {list(result)}, not in input order "
                f"{ids}. as_completed yields whichever call finishes first; gather keeps order."
            )
        if wall > 1.8 * slowest + 0.2:
            raise Incorrect(
                f"took {wall:.2f} s while the slowest call alone takes {slowest:.2f} s: the calls "
                "still waited for each other. A blocking call (time.sleep, a sync client) inside "
                "a coroutine holds the whole event loop."
            )
        return f"{len(ids)} calls in {wall:.2f} s; the slowest alone takes {slowest:.2f} s."


class LimitedFetch(_ServiceExercise):
    id = "q2"
    title = "Fetch every id with at most `limit` calls in flight"
    answer_name = "fetch_limited"
    hints = (
        "An asyncio.Semaphore(limit) lets `limit` holders in at once: `async with sem:` "
        "around the call.",
        "Create ONE semaphore per batch, outside the per-call coroutine: a semaphore made inside "
        "each call limits nothing.",
    )
    solution = (
        "async def fetch_limited(fetch, ids, limit):\n"
        "    semaphore = asyncio.Semaphore(limit)\n"
        "\n"
        "    async def one(i):\n"
        "        async with semaphore:\n"
        "            return await fetch(i)\n"
        "\n"
        "    return list(await asyncio.gather(*(one(i) for i in ids)))"
    )

    def check(self, answer, lab) -> str:
        ids, limit, delay = list(range(12)), 3, 0.15
        result, wall, group = self.run_with_fetch(answer, dict.fromkeys(ids, delay), ids, limit)
        seen = slow_service().max_concurrency(group)
        if not isinstance(result, (list, tuple)) or list(result) != ids:
            raise Incorrect(f"fetch_limited should return the results in input order ({ids}); "
                            f"got {result!r}.")
        if seen > limit:
            raise Incorrect(
                f"the server saw {seen} calls in flight at once, but the limit was {limit}. Is "
                "the semaphore created inside each call? Then every call has its own and "
                "nothing is limited: create it once per batch."
            )
        if seen < limit or wall > 0.8 * len(ids) * delay:
            raise Incorrect(
                f"at most {seen} call(s) ran at once ({wall:.2f} s): the limit is {limit}, so "
                f"{limit} should run side by side, not one after another."
            )
        rounds = math.ceil(len(ids) / limit)
        return (f"the server saw at most {seen} in flight; {wall:.2f} s for {rounds} rounds of "
                f"{delay * 1000:.0f} ms.")


class FixBlocking(Exercise):
    id = "q3"
    title = "Fix price_of so it no longer blocks the event loop"
    answer_name = "price_of"
    timeout = 6.0
    hints = (
        "legacy_price is a plain blocking function (a sync HTTP client inside). Calling it "
        "directly inside `async def` holds the loop until it returns.",
        "Run it in a worker thread and await that: `await asyncio.to_thread(legacy_price, "
        "product_id)`. Pass the function and its argument; do not call it yourself.",
    )
    solution = (
        "async def price_of(legacy_price, product_id):\n"
        "    return await asyncio.to_thread(legacy_price, product_id)"
    )

    def check(self, answer, lab) -> str:
        service = slow_service()
        group = _group(self.id)
        ids, delay = list(range(1, 9)), 0.1
        http = httpx.Client(timeout=10)

        def legacy_price(product_id: int) -> int:
            url = service.url("/wait", ms=int(delay * 1000), id=product_id, group=group)
            return int(http.get(url).json()["id"]) * 100

        async def scenario():
            start = time.perf_counter()
            prices = await asyncio.gather(*(answer(legacy_price, i) for i in ids))
            return prices, time.perf_counter() - start

        try:
            prices, wall = self.call(scenario)
        finally:
            http.close()
        if list(prices) != [i * 100 for i in ids]:
            raise Incorrect(f"price_of should return legacy_price's answer; got {list(prices)}.")
        seen = service.max_concurrency(group)
        if seen <= 1:
            raise Incorrect(
                f"the {len(ids)} lookups still ran one at a time ({wall:.2f} s; the server saw at "
                "most 1 in flight): the blocking call holds the event loop. Hand it to a thread."
            )
        if wall > 0.75 * len(ids) * delay:
            raise Incorrect(f"{wall:.2f} s is barely faster than one after another.")
        return (f"the server saw {seen} lookups at once; {wall:.2f} s instead of "
                f"{len(ids) * delay:.1f} s.")


class PartialResults(_ServiceExercise):
    id = "q4"
    title = "Return the results that arrive before the deadline, drop the rest"
    answer_name = "fetch_with_deadline"
    hints = (
        "Wrapping the whole gather in a timeout throws away everything when ANY call is late.",
        "Start tasks, `done, pending = await asyncio.wait(tasks, timeout=seconds)`, cancel the "
        "pending ones and keep the results of the done ones.",
    )
    solution = (
        "async def fetch_with_deadline(fetch, ids, seconds):\n"
        "    tasks = {asyncio.create_task(fetch(i)): i for i in ids}\n"
        "    done, pending = await asyncio.wait(tasks, timeout=seconds)\n"
        "    for task in pending:\n"
        "        task.cancel()\n"
        "    return {tasks[task]: task.result() for task in done}"
    )

    def check(self, answer, lab) -> str:
        ids, seconds = list(range(8)), 0.3
        delays = {i: (0.05 if i % 2 == 0 else 1.2) for i in ids}
        fast = {i: i for i in ids if delays[i] < seconds}

        async def guarded(fetch, ids, seconds):
            try:
                return await answer(fetch, ids, seconds)
            except (asyncio.TimeoutError, TimeoutError):
                return "timed out"

        result, wall, _ = self.run_with_fetch(guarded, delays, ids, seconds)
        if result == "timed out":
            raise Incorrect(
                f"fetch_with_deadline raised TimeoutError: the timeout around the whole batch "
                f"lost all results, including the {len(fast)} calls that finished in time."
            )
        if wall > seconds + 0.5:
            raise Incorrect(f"it took {wall:.2f} s but the deadline was {seconds} s: the slow "
                            "calls were waited for instead of being dropped.")
        if not isinstance(result, dict):
            raise Incorrect(f"return a dict {{id: result}}, got {type(result).__name__}.")
        if result != fast:
            raise Incorrect(f"expected the calls that finished in time, {fast}, got {result}: "
                            "keep the results of the done tasks.")
        return f"{len(fast)} of {len(ids)} results kept, back in {wall:.2f} s."


class BoundedPipeline(Exercise):
    id = "q5"
    title = "A producer/consumer pipeline with a bounded queue"
    answer_name = "run_pipeline"
    timeout = 6.0
    hints = (
        "queue = asyncio.Queue(maxsize=maxsize): `await queue.put(item)` then waits while the "
        "queue is full, so the producer cannot run ahead of the consumers.",
        "Start `workers` consumer tasks that loop `item = await queue.get()`; stop them with "
        "one sentinel (None) per worker after the last item, and count what they handled.",
    )
    solution = (
        "async def run_pipeline(source, handle, workers, maxsize):\n"
        "    queue = asyncio.Queue(maxsize=maxsize)\n"
        "\n"
        "    async def consumer():\n"
        "        handled = 0\n"
        "        while (item := await queue.get()) is not None:\n"
        "            await handle(item)\n"
        "            handled += 1\n"
        "        return handled\n"
        "\n"
        "    async def producer():\n"
        "        async for item in source:\n"
        "            await queue.put(item)\n"
        "        for _ in range(workers):\n"
        "            await queue.put(None)\n"
        "\n"
        "    counts = await asyncio.gather(producer(), *(consumer() for _ in range(workers)))\n"
        "    return sum(counts[1:])"
    )

    def check(self, answer, lab) -> str:
        items, workers, maxsize = 120, 4, 5
        state = {"produced": 0, "started": 0, "in_flight": 0, "max_in_flight": 0, "lead": 0}
        handled: list[int] = []

        async def source():
            for i in range(items):
                state["produced"] += 1
                state["lead"] = max(state["lead"], state["produced"] - state["started"])
                yield i

        async def handle(item: int) -> None:
            state["started"] += 1
            state["in_flight"] += 1
            state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
            await asyncio.sleep(0.004)
            state["in_flight"] -= 1
            handled.append(item)

        count = self.call(lambda: answer(source(), handle, workers, maxsize))
        if sorted(handled) != list(range(items)):
            missing = len(set(range(items)) - set(handled))
            raise Incorrect(f"every item must be handled exactly once: {len(handled)} handle "
                            f"calls for {items} items ({missing} never handled).")
        if count != items:
            raise Incorrect(f"run_pipeline should return how many items were handled ({items}), "
                            f"got {count!r}.")
        allowed = maxsize + workers + 1
        if state["lead"] > allowed:
            raise Incorrect(
                f"the producer ran {state['lead']} items ahead of the consumers; with a bounded "
                f"queue of {maxsize} it can be at most about {allowed} ahead. Is the queue "
                "unbounded (no maxsize)?"
            )
        if state["max_in_flight"] < min(workers, 2):
            raise Incorrect(f"only {state['max_in_flight']} item was handled at a time: start "
                            f"{workers} consumers, not one.")
        return (f"{items} items, producer at most {state['lead']} ahead, "
                f"{state['max_in_flight']} handled at once.")


WORKLOADS = {
    "a": "an async view fans out to 30 partner HTTP APIs and combines the answers",
    "b": "resize 400 uploaded images with pure-Python code",
    "c": "call a vendor SDK that only has a blocking client, from an async service",
    "d": "read one setting from a dict in memory",
}


class PickTheTool(Exercise):
    id = "q6"
    title = "Pick sync / async / thread / process for each workload"
    answer_name = "answer_q6"
    hints = (
        "Waiting on many network calls: one event loop overlaps them. CPU work holds the GIL: "
        "only processes run it in parallel.",
        "A blocking library you cannot change goes to a thread (asyncio.to_thread); something "
        "that takes microseconds needs no machinery at all.",
    )
    solution = 'answer_q6 = {"a": "async", "b": "process", "c": "thread", "d": "sync"}'
    expected: ClassVar[dict[str, str]] = {"a": "async", "b": "process", "c": "thread", "d": "sync"}
    why: ClassVar[dict[str, str]] = {
        "a": "it spends its time waiting on the network: overlap the waits on one event loop",
        "b": "pure-Python CPU work holds the GIL: only separate processes use both cores",
        "c": "a blocking client inside a coroutine stalls the loop: run it in a thread",
        "d": "it takes microseconds: a plain function call, no concurrency needed",
    }

    def check(self, answer, lab) -> None:
        choices = {"sync", "async", "thread", "process"}
        if not isinstance(answer, dict):
            raise Incorrect(f"answer_q6 should be a dict like {{'a': 'async', ...}}, got "
                            f"{type(answer).__name__}.")
        given = {str(k).strip().lower(): str(v).strip().lower() for k, v in answer.items()}
        if set(given) != set(self.expected):
            raise Incorrect(f"give one choice for each workload {sorted(self.expected)}; "
                            f"got keys {sorted(given)}.")
        if bad := sorted(v for v in given.values() if v not in choices):
            raise Incorrect(f"each choice is one of {sorted(choices)}; got {bad}.")
        for key, want in self.expected.items():
            if given[key] != want:
                raise Incorrect(f"({key}) {WORKLOADS[key]}: not {given[key]!r}. Hint: "
                                f"{self.why[key].split(':')[0]}.")


EXERCISES = (ConcurrentFetch, LimitedFetch, FixBlocking, PartialResults, BoundedPipeline,
             PickTheTool)
