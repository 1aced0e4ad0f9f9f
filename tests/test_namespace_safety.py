"""Every lab, run against the real servers, leaves data outside its namespace untouched.

A sentinel Redis key and a sentinel table are planted outside the labs' namespace on the
configured servers; every shipped lab then runs top to bottom; both must survive unchanged.
"""

from __future__ import annotations

import os
import secrets

import pytest
import redis
import sqlalchemy as sa

from nexus_labs.labs.catalog import installed_labs
from nexus_labs.resources import notebooks_dir
from nexus_labs.runner import execute_notebook

pytestmark = [pytest.mark.services, pytest.mark.slow]

DATABASE_URL = os.environ.get("NEXUS_DATABASE_URL")
REDIS_URL = os.environ.get("NEXUS_REDIS_URL")


@pytest.mark.skipif(not (DATABASE_URL and REDIS_URL),
                    reason="services run only: needs NEXUS_DATABASE_URL and NEXUS_REDIS_URL")
def test_labs_leave_other_data_alone(tmp_path):
    token = secrets.token_hex(4)
    sentinel_key = f"sentinel-not-a-lab:{token}"
    sentinel_table = f"sentinel_not_a_lab_{token}"
    cache = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    engine = sa.create_engine(sa.engine.make_url(DATABASE_URL).set(
        drivername="postgresql+psycopg"))
    cache.set(sentinel_key, "precious")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"create table public.{sentinel_table} (id int, note text)")
        connection.exec_driver_sql(
            f"insert into public.{sentinel_table} values (1, 'precious'), (2, 'also')")
    try:
        results = [execute_notebook(notebooks_dir() / lab.notebook, home=tmp_path)
                   for lab in installed_labs()]
        failed = [result.line() for result in results if not result.ok]
        assert failed == [], f"labs failed against the real servers: {failed}"
        assert cache.get(sentinel_key) == "precious"
        assert cache.ttl(sentinel_key) == -1  # nobody set an expiry on it either
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                f"select id, note from public.{sentinel_table} order by id").all()
        assert [tuple(row) for row in rows] == [(1, "precious"), (2, "also")]
    finally:
        cache.delete(sentinel_key)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"drop table if exists public.{sentinel_table}")
        engine.dispose()
