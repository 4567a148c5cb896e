"""The inbox: drop bots' messages, drop duplicates, hand the rest to a worker.

Feishu delivers at least once (retries after 15 s, 5 min, 1 h, 6 h), and for messages the same
`message_id` can come under a new `event_id`; both keys are remembered for `dedup_ttl` (12 h by
default, which covers the whole ≈7.1 h retry window).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Protocol

from cachetools import TTLCache

log = logging.getLogger(__name__)


class SeenStore(Protocol):
    """Remembers keys for a while. A Redis- or database-backed store implements the same call."""

    def add_if_absent(self, key: str) -> bool:
        """Record `key`; True if it was new, False if it had been seen within the TTL."""
        ...


class MemorySeenStore:
    """Seen keys in a bounded TTL cache (one process; several web workers need a shared store)."""

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


class InlineExecutor(Executor):
    """Runs each job at once, in the caller's thread (tests and one-shot scripts)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the future like a pool would
            future.set_exception(exc)
        return future


class Inbox:
    def __init__(self, seen: SeenStore, executor: Executor) -> None:
        self._seen = seen
        self._executor = executor

    def is_new(self, *keys: str) -> bool:
        """True when none of the keys was seen before; records them all. Empty keys are ignored."""
        fresh = True
        for key in keys:
            if key and not self._seen.add_if_absent(key):
                fresh = False
        return fresh

    def submit(self, label: str, job: Callable[[], object]) -> Future:
        """Run `job` on a worker; any exception is logged with `label` (the event id)."""

        def guarded() -> object:
            try:
                return job()
            except Exception:
                log.exception("worker failed on %s", label)
                return None

        return self._executor.submit(guarded)
