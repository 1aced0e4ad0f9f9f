"""Lab 04 exercise scenarios: run a learner's cache functions safely and watch what they do.

Its one job is the harness the lab 04 checkers use to put a learner's function through
read / update / read scenarios: a scratch copy of the lab whose Redis prefix is a fresh
sub-namespace of the lab's own (deleted afterwards, with the product's price restored), and a
watched Redis client that lets a concurrent reader run `caching.get_product` right after each
key deletion, the moment that exposes a writer which deletes before it commits.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nexus_labs.labs.caching import db_price, get_product, write_price


def scratch_lab(lab, name: str = ""):
    """A copy of `lab` whose Redis prefix is a fresh sub-namespace of the lab's own prefix.

    Exercises and tests run learner code there, so a wrong answer cannot touch the demo keys,
    and cleanup of the scratch prefix removes exactly what the run wrote.
    """
    scratch = f"scratch:{name or 'run'}:{uuid.uuid4().hex[:8]}:"
    return dataclasses.replace(lab, redis=dataclasses.replace(lab.redis,
                                                              prefix=lab.redis.prefix + scratch))


@contextmanager
def scratch_run(lab, name: str, product_id: int | None = None) -> Iterator[tuple]:
    """(scratch lab, product id, its price now) for one scenario; afterwards the price is
    restored and every key under the scratch prefix deleted."""
    scratch = scratch_lab(lab, name)
    original = db_price(lab.sql.engine, product_id) if product_id is not None else None
    try:
        yield scratch, product_id, original
    finally:
        if product_id is not None:
            write_price(lab.sql.engine, product_id, original)
        scratch.redis.cleanup()


class _DeleteWatcher:
    """A redis client that runs `on_delete(keys)` right after every DELETE/UNLINK it sends."""

    def __init__(self, client, on_delete: Callable[[tuple], None]) -> None:
        self._client, self._on_delete = client, on_delete

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def delete(self, *keys):
        result = self._client.delete(*keys)
        self._on_delete(keys)
        return result

    def unlink(self, *keys):
        result = self._client.unlink(*keys)
        self._on_delete(keys)
        return result

    def pipeline(self, *args, **kwargs):
        return _PipelineWatcher(self._client.pipeline(*args, **kwargs), self._on_delete)


class _PipelineWatcher:
    def __init__(self, pipe, on_delete: Callable[[tuple], None]) -> None:
        self._pipe, self._on_delete, self._deleted = pipe, on_delete, []

    def __getattr__(self, name: str):
        attribute = getattr(self._pipe, name)
        if name not in ("delete", "unlink"):
            return attribute

        def queue_deletion(*keys):
            self._deleted.extend(keys)
            attribute(*keys)
            return self

        return queue_deletion

    def execute(self, *args, **kwargs):
        result = self._pipe.execute(*args, **kwargs)
        if self._deleted:
            self._on_delete(tuple(self._deleted))
            self._deleted = []
        return result

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._pipe.__exit__(*exc)


@contextmanager
def with_reader_on_delete(lab, product_id: int) -> Iterator[tuple[Any, list[str]]]:
    """A copy of `lab` whose client lets a concurrent reader (app B) run get_product right
    after each key deletion: the worst moment for a writer that deletes too early.

    Yields the watched lab and the list of keys deleted through it.
    """
    reader = lab.redis.new_client()
    reader_lab = dataclasses.replace(lab, redis=dataclasses.replace(lab.redis, client=reader))
    deleted: list[str] = []

    def concurrent_read(keys: tuple) -> None:
        deleted.extend(str(key) for key in keys)
        get_product(reader_lab, product_id)

    try:
        yield dataclasses.replace(lab, redis=dataclasses.replace(
            lab.redis, client=_DeleteWatcher(lab.redis.client, concurrent_read))), deleted
    finally:
        reader.close()
