"""The Redis backend: configured server -> private real server -> emulation, in that order.

Every key a lab writes lives under its prefix (``nexus:caching:``); cleanup walks that prefix
with SCAN and deletes only what it finds there. No FLUSHDB, FLUSHALL or KEYS, ever: a configured
server may be shared with other people's data.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field

import redis

from nexus_labs.backends import BackendUnavailable
from nexus_labs.backends.redis_server import (
    PrivateRedisServer,
    find_redis_server,
    start_private_server,
)
from nexus_labs.config import Settings, redact_url

KINDS = {
    "configured": "real Redis",
    "embedded": "embedded real Redis",
    "emulated": "emulated Redis (fakeredis; timings are not Redis timings)",
}

# One private server per kernel, shared by every lab opened in it. The lock keeps two labs
# opened at once from different threads from starting two servers.
_private_server: PrivateRedisServer | None = None
_private_server_lock = threading.Lock()


@dataclass
class RedisBackend:
    client: redis.Redis
    kind: str  # "configured", "embedded" or "emulated"
    prefix: str
    url: str | None = field(default=None, repr=False)  # may hold a password
    fake_server: object | None = field(default=None, repr=False)  # only when emulated

    @property
    def owns_server(self) -> bool:
        """True only when the lab started this server itself and may reconfigure it."""
        return self.kind in ("embedded", "emulated")

    def key(self, *parts: object) -> str:
        """A key inside the lab's namespace: key("product", 7) -> "nexus:caching:product:7"."""
        return self.prefix + ":".join(str(part) for part in parts)

    def new_client(self, **options) -> redis.Redis:
        """Another connection to the same server (a second 'app server', an async test)."""
        options.setdefault("decode_responses", True)
        if self.kind == "emulated":
            import fakeredis

            return fakeredis.FakeRedis(server=self.fake_server, **options)
        return redis.Redis.from_url(self.url, **options)

    def scan_keys(self, pattern: str = "*") -> list[str]:
        """Keys under the lab prefix matching `pattern`, found with SCAN (never KEYS)."""
        return sorted(self.client.scan_iter(match=self.prefix + pattern, count=500))

    def cleanup(self) -> int:
        """Delete every key under the lab prefix, and nothing else. Returns how many."""
        deleted = 0
        batch: list[str] = []
        for key in self.client.scan_iter(match=self.prefix + "*", count=500):
            batch.append(key)
            if len(batch) == 500:
                deleted += self.client.delete(*batch)
                batch.clear()
        if batch:
            deleted += self.client.delete(*batch)
        return deleted

    @property
    def label(self) -> str:
        """Short engine name for a timing's legend, e.g. "embedded real Redis"."""
        return KINDS[self.kind].split(" (")[0]

    def version(self) -> str:
        if self.kind == "emulated":
            import fakeredis

            # fakeredis answers no INFO: name the emulator and its version instead.
            return f"fakeredis {getattr(fakeredis, '__version__', '')}".strip()
        info = self.client.info("server")
        return f"Redis {info.get('redis_version', '?')}"

    def describe(self) -> str:
        where = f" at {redact_url(self.url)}" if self.url and self.kind != "emulated" else ""
        return f"{KINDS[self.kind]}{where}"


def connect_redis(lab: str, settings: Settings) -> RedisBackend:
    prefix = f"{settings.namespace}:{lab}:"
    if settings.redis_url:
        return RedisBackend(
            client=_connect_configured(settings.redis_url),
            kind="configured",
            prefix=prefix,
            url=settings.redis_url,
        )
    server = _ensure_private_server(settings)
    if server is not None:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        return RedisBackend(client=client, kind="embedded", prefix=prefix, url=server.url)
    import fakeredis

    fake_server = fakeredis.FakeServer()
    return RedisBackend(
        client=fakeredis.FakeRedis(server=fake_server, decode_responses=True),
        kind="emulated",
        prefix=prefix,
        fake_server=fake_server,
    )


def _connect_configured(url: str) -> redis.Redis:
    try:
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=5)
        client.ping()
    # AuthenticationError subclasses ConnectionError in redis-py: it must be caught first.
    except redis.exceptions.AuthenticationError as error:
        raise BackendUnavailable(
            f"The Redis server at NEXUS_REDIS_URL={redact_url(url)} refused the credentials "
            f"({error}). Put the right password in the URL: redis://:PASSWORD@HOST:6379/0."
        ) from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as error:
        raise BackendUnavailable(
            f"Cannot reach the Redis server at NEXUS_REDIS_URL={redact_url(url)} ({error}). "
            "Start the server (see README, 'docker compose up -d'), fix the URL, or unset "
            "NEXUS_REDIS_URL to use a private embedded Redis."
        ) from None
    return client


def _ensure_private_server(settings: Settings) -> PrivateRedisServer | None:
    with _private_server_lock:
        return _start_or_reuse_private_server(settings)


def _start_or_reuse_private_server(settings: Settings) -> PrivateRedisServer | None:
    global _private_server
    if _private_server is not None and _private_server.process.poll() is None:
        return _private_server
    binary = find_redis_server()
    if binary is None:
        return None
    try:
        _private_server = start_private_server(binary, settings.state_dir / "redis")
    except (RuntimeError, OSError) as error:
        # A binary that cannot run here (a wheel built for another libc, no exec permission):
        # the lab still works on the emulation, and says so here and in its banner.
        warnings.warn(
            f"The private Redis could not start ({error}); using emulated Redis instead. "
            "Install redis-server (conda-forge, Homebrew, apt) for real Redis timings.",
            RuntimeWarning,
            stacklevel=4,  # the caller of connect_redis
        )
        return None
    return _private_server
