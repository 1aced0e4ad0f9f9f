"""Cache-aside hit latency through the lab's helper vs a raw redis-py GET, same server, same key.

    .venv/bin/python benchmarks/caching.py [--repeat 3000]

Uses the Redis the labs would use: NEXUS_REDIS_URL when set, else the embedded private server
(a throwaway workspace in a temporary folder). The helper, `caching.get_product`, builds the
namespaced key, GETs it, checks the not-found sentinel and decodes the JSON page; the raw call
is `client.get(key)`. The two run alternately so load on the machine hits them alike
(the database query, CPU-bound, is timed in its own block afterwards). Target: the
helper's p50 within 1.5x of the raw GET's p50. Also prints the database query it replaces.
"""

from __future__ import annotations

import argparse
import os
import tempfile

from nexus_labs import open_lab
from nexus_labs.labs import caching
from nexus_labs.measure import format_seconds, time_it

TARGET = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3000)
    parser.add_argument("--product", type=int, default=1)
    args = parser.parse_args()
    if not os.environ.get("NEXUS_HOME"):
        os.environ["NEXUS_HOME"] = tempfile.mkdtemp(prefix="nexus-bench-caching-")
    lab = open_lab("caching", quiet=True)
    caching.install(lab)
    product_id = args.product
    key = caching.product_key(lab, product_id)
    client = lab.redis.client
    try:
        assert caching.get_product(lab, product_id) is not None  # warm: every call below hits
        helper, raw = caching.time_alternately(
            (lambda: caching.get_product(lab, product_id), "caching.get_product (hit)",
             caching.engine_label(lab)),
            (lambda: client.get(key), "raw redis-py GET", caching.engine_label(lab)),
            repeat=args.repeat, warmup=50,
        )
        database = time_it(lambda: caching.load_product(lab.sql.engine, product_id),
                           label="database product page query", repeat=args.repeat // 5,
                           warmup=5, engine=lab.sql.dialect)
    finally:
        lab.redis.cleanup()
    print(f"Redis: {lab.redis.describe()} · {lab.redis.version()}")
    print(f"SQL:   {lab.sql.kind} · {lab.sql.version()}")
    for timing in (helper, raw, database):
        print(f"  {timing.label:32s} p50 {format_seconds(timing.p50):>10s}   "
              f"p95 {format_seconds(timing.p95):>10s}   ({len(timing.samples)} runs)")
    ratio = helper.p50 / raw.p50
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"helper / raw GET (p50): {ratio:.2f}x  ({verdict} the {TARGET}x target)")
    print(f"database / helper (p50): {database.p50 / helper.p50:.1f}x")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
