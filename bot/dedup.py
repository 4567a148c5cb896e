"""Dedup: the keys of the events already seen, remembered for a while.

Feishu delivers at least once (retries after 15 s, 5 min, 1 h, 6 h), and for messages the same
`message_id` can come under a new `event_id`; the inbound pipeline remembers both keys for `dedup_ttl`
(12 h by default, which covers the whole ≈7.1 h retry window). One process keeps them in memory; several
web instances share them in Redis (REDIS_URL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from cachetools import TTLCache

from bot.settings import Settings

if TYPE_CHECKING:
    import redis


class SeenStore(Protocol):
    """Remembers keys for a while."""

    def add_if_absent(self, key: str) -> bool:
        """Record `key`; True if it was new, False if it had been seen within the TTL."""
        ...


class MemorySeenStore:
    """Seen keys in a bounded TTL cache (one process; several web instances need RedisSeenStore)."""

    def __init__(self, *, ttl: float = 12 * 3600.0, maxsize: int = 100_000,
                 timer: Callable[[], float] | None = None) -> None:
        kwargs = {"timer": timer} if timer else {}
        self._cache: TTLCache[str, bool] = TTLCache(maxsize=maxsize, ttl=ttl, **kwargs)
        self._lock = threading.Lock()

    def add_if_absent(self, key: str) -> bool:
        with self._lock:
            if key in self._cache:
                return False
            self._cache[key] = True
            return True


class RedisSeenStore:
    """Seen keys shared by every instance: SET key NX EX ttl."""

    def __init__(self, client: redis.Redis, *, ttl: float, prefix: str = "okrbot:seen:") -> None:
        self._redis = client
        self._ttl = max(1, int(ttl))
        self._prefix = prefix

    def add_if_absent(self, key: str) -> bool:
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, ex=self._ttl))


def build_seen_store(settings: Settings) -> SeenStore:
    """Redis when REDIS_URL is set (keys prefixed with the app id: apps sharing one Redis stay apart), else memory."""
    if settings.redis_url:
        from bot.redis_client import connect

        return RedisSeenStore(connect(settings.redis_url), ttl=settings.dedup_ttl, prefix=f"okrbot:{settings.app_id}:")
    return MemorySeenStore(ttl=settings.dedup_ttl, maxsize=settings.dedup_max_keys)
