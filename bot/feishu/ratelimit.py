"""Client-side rate limits: sliding windows shared by every thread of the process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class Limiter(Protocol):
    """What the API clients need of a rate limiter (in-process or shared in Redis)."""

    def acquire(self) -> float: ...

    def penalise(self, seconds: float) -> None: ...


class SlidingWindowLimiter:
    """At most `limit` acquisitions in any window of `period` seconds, for each window given.

    A sliding log (not a token bucket) never lets a burst plus a refill exceed the limit within
    one window, so the server's own window counter can never trip.
    """

    def __init__(
        self,
        windows: tuple[tuple[int, float], ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._windows = tuple((max(1, int(limit)), float(period)) for limit, period in windows)
        self._logs = [deque[float]() for _ in self._windows]
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def _wait_time(self, now: float) -> float:
        wait = 0.0
        for (limit, period), log in zip(self._windows, self._logs, strict=True):
            while log and log[0] <= now - period:
                log.popleft()
            if len(log) >= limit:
                wait = max(wait, log[0] + period - now)
        return wait

    def acquire(self) -> float:
        """Block until a call is allowed; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_time(now)
                if wait <= 0:
                    for log in self._logs:
                        log.append(now)
                    return waited
            self._sleep(wait)
            waited += wait

    def penalise(self, seconds: float) -> None:
        """After a rate-limit answer, hold every caller back for `seconds`."""
        with self._lock:
            until = self._clock() + seconds
            for (limit, period), log in zip(self._windows, self._logs, strict=True):
                # Fill the window so the next slot opens at `until`.
                log.clear()
                log.extend([until - period] * limit)


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
