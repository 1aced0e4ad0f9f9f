"""Lab 05 exercises: reference passes, known-wrong answers rejected, alternatives accepted.

The checks make real calls to the lab's slow loopback service and read its concurrency count.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from nexus_labs.exercises import async_io as ex
from nexus_labs.exercises.testing import answer_from_code, outcome_of


@pytest.fixture(scope="module")
def lab(open_test_lab):
    return open_test_lab("async_io")


def run(exercise, code: str, lab):
    namespace = {"asyncio": asyncio, "time": time}
    return outcome_of(exercise, answer_from_code(code, exercise.answer_name, namespace), lab)


def assert_correct(exercise, code, lab):
    outcome = run(exercise, code, lab)
    assert outcome.status == "correct", outcome.message


def assert_rejected(exercise, code, lab, fragment):
    outcome = run(exercise, code, lab)
    assert outcome.status == "incorrect", outcome.message
    assert fragment in outcome.message, outcome.message


@pytest.mark.parametrize("exercise", ex.EXERCISES, ids=lambda e: e.id)
def test_reference_solution_passes(exercise, lab):
    assert_correct(exercise, exercise.solution, lab)


# --- q1 concurrent fetch ---------------------------------------------------------------------

Q1_LOOP = """
async def fetch_all(fetch, ids):
    results = []
    for i in ids:
        results.append(await fetch(i))
    return results
"""
Q1_AS_COMPLETED = """
async def fetch_all(fetch, ids):
    return [await done for done in asyncio.as_completed([fetch(i) for i in ids])]
"""
Q1_SLEEP = """
async def fetch_all(fetch, ids):
    async def polite(i):
        time.sleep(0.08)   # "be nice to the server"
        return await fetch(i)
    return await asyncio.gather(*(polite(i) for i in ids))
"""
Q1_TASKS = """
async def fetch_all(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    return [await task for task in tasks]
"""
Q1_TASKGROUP = """
async def fetch_all(fetch, ids):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(i)) for i in ids]
    return [task.result() for task in tasks]
"""


@pytest.mark.parametrize("code", [Q1_TASKS, Q1_TASKGROUP], ids=["create_task", "TaskGroup"])
def test_q1_accepts_alternatives(code, lab):
    assert_correct(ex.ConcurrentFetch, code, lab)


# --- q2 concurrency limit --------------------------------------------------------------------

Q2_SEMAPHORE_PER_CALL = """
async def fetch_limited(fetch, ids, limit):
    async def one(i):
        async with asyncio.Semaphore(limit):
            return await fetch(i)
    return await asyncio.gather(*(one(i) for i in ids))
"""
Q2_SEQUENTIAL = """
async def fetch_limited(fetch, ids, limit):
    return [await fetch(i) for i in ids]
"""
Q2_NO_LIMIT = """
async def fetch_limited(fetch, ids, limit):
    return list(await asyncio.gather(*(fetch(i) for i in ids)))
"""
Q2_BATCHES = """
async def fetch_limited(fetch, ids, limit):
    results = []
    for start in range(0, len(ids), limit):
        results += await asyncio.gather(*(fetch(i) for i in ids[start:start + limit]))
    return results
"""
Q2_WORKERS = """
async def fetch_limited(fetch, ids, limit):
    results = [None] * len(ids)
    queue = asyncio.Queue()
    for position, i in enumerate(ids):
        queue.put_nowait((position, i))

    async def worker():
        while not queue.empty():
            position, i = queue.get_nowait()
            results[position] = await fetch(i)

    await asyncio.gather(*(worker() for _ in range(limit)))
    return results
"""


@pytest.mark.parametrize("code", [Q2_BATCHES, Q2_WORKERS], ids=["batches", "workers"])
def test_q2_accepts_alternatives(code, lab):
    assert_correct(ex.LimitedFetch, code, lab)


# --- q3 fix the blocking call ----------------------------------------------------------------

Q3_AS_GIVEN = """
async def price_of(legacy_price, product_id):
    price = legacy_price(product_id)
    return price
"""
Q3_SLEEP_ZERO = """
async def price_of(legacy_price, product_id):
    await asyncio.sleep(0)   # "yield to the loop first"
    return legacy_price(product_id)
"""
Q3_CALLED_TOO_EARLY = """
async def price_of(legacy_price, product_id):
    return await asyncio.to_thread(legacy_price(product_id))
"""
Q3_EXECUTOR = """
async def price_of(legacy_price, product_id):
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, legacy_price, product_id)
"""


def test_q3_accepts_run_in_executor(lab):
    assert_correct(ex.FixBlocking, Q3_EXECUTOR, lab)


# --- q4 partial results before a deadline ----------------------------------------------------

Q4_WAIT_FOR_ALL = """
async def fetch_with_deadline(fetch, ids, seconds):
    results = await asyncio.wait_for(asyncio.gather(*(fetch(i) for i in ids)), seconds)
    return dict(zip(ids, results))
"""
Q4_NO_TIMEOUT = """
async def fetch_with_deadline(fetch, ids, seconds):
    results = await asyncio.gather(*(fetch(i) for i in ids))
    return dict(zip(ids, results))
"""
Q4_SWALLOWED = """
async def fetch_with_deadline(fetch, ids, seconds):
    try:
        async with asyncio.timeout(seconds):
            results = await asyncio.gather(*(fetch(i) for i in ids))
        return dict(zip(ids, results))
    except TimeoutError:
        return {}
"""
Q4_PER_CALL = """
async def fetch_with_deadline(fetch, ids, seconds):
    async def one(i):
        try:
            return i, await asyncio.wait_for(fetch(i), seconds)
        except TimeoutError:
            return i, None
    pairs = await asyncio.gather(*(one(i) for i in ids))
    return {i: result for i, result in pairs if result is not None}
"""


def test_q4_accepts_per_call_timeouts(lab):
    assert_correct(ex.PartialResults, Q4_PER_CALL, lab)


# --- q5 bounded producer/consumer ------------------------------------------------------------

Q5_UNBOUNDED = ex.BoundedPipeline.solution.replace("asyncio.Queue(maxsize=maxsize)",
                                                   "asyncio.Queue()")
Q5_ONE_CONSUMER = """
async def run_pipeline(source, handle, workers, maxsize):
    queue = asyncio.Queue(maxsize=maxsize)
    handled = 0

    async def producer():
        async for item in source:
            await queue.put(item)
        await queue.put(None)

    async def consumer():
        nonlocal handled
        while (item := await queue.get()) is not None:
            await handle(item)
            handled += 1

    await asyncio.gather(producer(), consumer())
    return handled
"""
Q5_FORGETS_TO_STOP = """
async def run_pipeline(source, handle, workers, maxsize):
    queue = asyncio.Queue(maxsize=maxsize)
    handled = 0

    async def consumer():
        nonlocal handled
        while True:
            await handle(await queue.get())
            handled += 1

    consumers = [asyncio.create_task(consumer()) for _ in range(workers)]
    async for item in source:
        await queue.put(item)
    await asyncio.gather(*consumers)
    return handled
"""
Q5_JOIN_AND_CANCEL = """
async def run_pipeline(source, handle, workers, maxsize):
    queue = asyncio.Queue(maxsize=maxsize)
    handled = 0

    async def consumer():
        nonlocal handled
        while True:
            item = await queue.get()
            await handle(item)
            handled += 1
            queue.task_done()

    consumers = [asyncio.create_task(consumer()) for _ in range(workers)]
    async for item in source:
        await queue.put(item)
    await queue.join()
    for task in consumers:
        task.cancel()
    return handled
"""


def test_q5_accepts_join_and_cancel(lab):
    assert_correct(ex.BoundedPipeline, Q5_JOIN_AND_CANCEL, lab)


# --- q6 pick the tool ------------------------------------------------------------------------


def value(exercise, answer, lab):
    return outcome_of(exercise, answer, lab)


def test_q6_rejects_threads_for_cpu_work(lab):
    outcome = value(ex.PickTheTool, {"a": "async", "b": "thread", "c": "thread", "d": "sync"}, lab)
    assert outcome.status == "incorrect"
    assert "(b)" in outcome.message and "holds the GIL" in outcome.message


def test_q6_rejects_async_for_a_blocking_sdk(lab):
    outcome = value(ex.PickTheTool, {"a": "async", "b": "process", "c": "async", "d": "sync"}, lab)
    assert outcome.status == "incorrect"
    assert "(c)" in outcome.message and "stalls the loop" in outcome.message


def test_q6_rejects_unknown_choice(lab):
    outcome = value(ex.PickTheTool, {"a": "asyncio", "b": "process", "c": "thread", "d": "sync"},
                    lab)
    assert outcome.status == "incorrect"
    assert "each choice is one of" in outcome.message


def test_q6_accepts_other_spelling(lab):
    outcome = value(ex.PickTheTool, {"A": " Async", "b": "PROCESS", "c": "thread ", "d": "sync"},
                    lab)
    assert outcome.status == "correct", outcome.message


# --- realistic wrong answers, each rejected with the message that names its mistake -----------

WRONG_ANSWERS = [
    pytest.param(ex.ConcurrentFetch, Q1_LOOP, "ran one after another",
                 id="q1-await_in_a_loop"),
    pytest.param(ex.ConcurrentFetch, Q1_AS_COMPLETED, "not in input order",
                 id="q1-completion_order"),
    pytest.param(ex.ConcurrentFetch, Q1_SLEEP, "holds the whole event loop",
                 id="q1-blocking_sleep"),
    pytest.param(ex.LimitedFetch, Q2_SEMAPHORE_PER_CALL, "created inside each call",
                 id="q2-semaphore_per_call"),
    pytest.param(ex.LimitedFetch, Q2_NO_LIMIT, "but the limit was 3",
                 id="q2-no_limit"),
    pytest.param(ex.LimitedFetch, Q2_SEQUENTIAL, "not one after another",
                 id="q2-sequential"),
    pytest.param(ex.FixBlocking, Q3_AS_GIVEN, "still ran one at a time",
                 id="q3-the_blocking_version"),
    pytest.param(ex.FixBlocking, Q3_SLEEP_ZERO, "holds the event loop",
                 id="q3-sleep_zero"),
    pytest.param(ex.FixBlocking, Q3_CALLED_TOO_EARLY, "is not callable",
                 id="q3-calling_before_to_thread"),
    pytest.param(ex.PartialResults, Q4_WAIT_FOR_ALL, "lost all results",
                 id="q4-timeout_around_everything"),
    pytest.param(ex.PartialResults, Q4_NO_TIMEOUT, "the deadline was 0.3 s",
                 id="q4-no_timeout"),
    pytest.param(ex.PartialResults, Q4_SWALLOWED, "keep the results of the done tasks",
                 id="q4-swallowed_timeout"),
    pytest.param(ex.BoundedPipeline, Q5_UNBOUNDED, "Is the queue unbounded",
                 id="q5-unbounded_queue"),
    pytest.param(ex.BoundedPipeline, Q5_ONE_CONSUMER, "item was handled at a time",
                 id="q5-single_consumer"),
    pytest.param(ex.BoundedPipeline, Q5_FORGETS_TO_STOP, "time limit",
                 id="q5-consumers_never_stopped"),
]


@pytest.mark.parametrize(("exercise", "code", "message"), WRONG_ANSWERS)
def test_wrong_answer_is_rejected_with_its_reason(exercise, code, message, lab):
    assert_rejected(exercise, code, lab, message)
