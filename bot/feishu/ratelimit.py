"""Client-side rate limits. The `limits` package counts the calls (its moving window, in this process's
memory or in Redis); on top of it, only what is Feishu's: several windows per API family (per second and
per minute), a 3% safety margin, and a pause of the whole family after a rate-limit answer."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from limits.limits import Granularity, RateLimitItem
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter


class Limiter(Protocol):
    """What the API clients need of a rate limiter (in-process or shared in Redis)."""

    def acquire(self) -> float: ...

    def penalise(self, seconds: float) -> None: ...


class Pause(Protocol):
    """Holds a family's callers back after Feishu answered 'frequency limit' (in-process or in Redis)."""

    def remaining(self) -> float: ...

    def extend(self, seconds: float) -> None: ...


class LocalPause:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self._clock = clock

    def remaining(self) -> float:
        return self._until - self._clock()

    def extend(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)


class Window(RateLimitItem):
    """`limit` calls in any `period` seconds. limits' own items count whole seconds (per second, per
    minute); Feishu's windows with the margin, and scaled for tests, are fractions of a second."""

    __slots__ = ("period",)

    def __init__(self, limit: int, period: float, namespace: str) -> None:
        super().__init__(max(1, int(limit)), 1, namespace)
        self.period = float(period)

    def get_expiry(self) -> float:  # type: ignore[override]
        return self.period


# Set after the class is made: declared in the class body, the metaclass would register "window" as a
# granularity of limits' string parser for the whole process.
Window.GRANULARITY = Granularity(1, "window")

_memory: MemoryStorage | None = None
_memory_lock = threading.Lock()


def memory_storage() -> MemoryStorage:
    """One store for every in-process limiter (each under its own keys): limits' MemoryStorage expires
    entries on a timer thread, one per store."""
    global _memory
    with _memory_lock:
        if _memory is None:
            _memory = MemoryStorage()
        return _memory


class SlidingWindowLimiter:
    """At most `limit` calls in any `period` seconds, for each window given, counted by limits' moving
    window (a log of calls, not a token bucket: a burst plus a refill never exceeds a limit within one
    window, so the server's own window counter can never trip).

    A call takes a slot in every window only when every window has room; threads of this process take
    turns, and across processes (Redis) a slot lost to another instance between the look and the take only
    makes this call wait longer. `name` keys the windows in a shared store (Redis: the app id and family).
    """

    def __init__(
        self,
        windows: tuple[tuple[int, float], ...],
        *,
        name: str = "",
        storage: Storage | None = None,
        pause: Pause | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        name = name or uuid.uuid4().hex
        self._windows = tuple((Window(limit, period, name), str(i)) for i, (limit, period) in enumerate(windows))
        self._storage = storage
        self._limiter: MovingWindowRateLimiter | None = None  # made at the first call (see _strategy)
        self._pause = pause if pause is not None else LocalPause()
        self._lock = threading.Lock()
        self._sleep = sleep

    @property
    def _strategy(self) -> MovingWindowRateLimiter:
        """Made at the first call, not when the clients are built: limits' MemoryStorage starts a timer thread,
        and building the bot starts no thread (bot/app.py)."""
        if self._limiter is None:
            self._limiter = MovingWindowRateLimiter(self._storage if self._storage is not None else memory_storage())
        return self._limiter

    def _wait_time(self) -> float:
        wait = self._pause.remaining()
        if wait > 0:
            return wait
        now = time.time()  # limits stamps its entries with time.time()
        for window, key in self._windows:
            stats = self._strategy.get_window_stats(window, key)
            if stats.remaining < 1:
                wait = max(wait, stats.reset_time - now)
        return wait

    def acquire(self) -> float:
        """Block until a call is allowed; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                wait = self._wait_time()
                if wait <= 0 and all(self._strategy.hit(window, key) for window, key in self._windows):
                    return waited
            if wait > 0:
                self._sleep(wait)
                waited += wait

    def penalise(self, seconds: float) -> None:
        """After a rate-limit answer, hold every caller of this family back for `seconds`."""
        if seconds > 0:
            self._pause.extend(seconds)


# Requests reach Feishu a little after we let them go, and not always in order; windows 3% longer
# than documented keep a burst at a window's edge from landing in the server's next window twice.
WINDOW_MARGIN = 1.03


def scaled(windows: tuple[tuple[int, float], ...], scale: float) -> tuple[tuple[int, float], ...]:
    """The same limits with time compressed by `scale` (scale 60 turns 100/minute into 100/second),
    with the safety margin applied."""
    if scale <= 0:
        raise ValueError("rate limit scale must be positive")
    return tuple((limit, period * WINDOW_MARGIN / scale) for limit, period in windows)


# Documented limits (FEISHU_FACTS.md §4, §6; the API documents in shared/feishu-api).
OKR_LIMITS = ((100, 60.0),)
EHR_LIMITS = ((100, 60.0),)
ATTENDANCE_LIMITS = ((50, 1.0),)
CONTACT_LIMITS = ((1000, 60.0), (50, 1.0))
IM_LIMITS = ((1000, 60.0), (50, 1.0))
IM_PER_TARGET_LIMITS = ((5, 1.0),)
