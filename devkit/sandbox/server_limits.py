"""Fixed-window rate limiting with an injectable clock and a speed-up factor.

A limit "N per W seconds" becomes "N per W / rate_scale seconds" (rate_scale=60 turns a minute into a
second). Windows are aligned to multiples of their length on the clock's time line, so with a fake clock the
answers are fully deterministic. Rejected requests do not consume quota.

`x-ogw-ratelimit-reset` (seconds until a request in the same bucket will pass): an integer >= 1 when
rate_scale == 1 (as Feishu sends it); with any other scale a decimal string with millisecond precision
(e.g. "0.250"), because whole seconds would be far too coarse. Parse it with float().
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ONE_SECOND = 1.0
ONE_MINUTE = 60.0


@dataclass(frozen=True)
class Limit:
    count: int
    window: float  # seconds, before scaling


@dataclass(frozen=True)
class Rejection:
    limit: int
    reset_after: float  # seconds until the blocking window ends

    def headers(self, scale: float) -> dict[str, str]:
        return {
            "x-ogw-ratelimit-limit": str(self.limit),
            "x-ogw-ratelimit-reset": format_reset(self.reset_after, scale),
        }


def format_reset(seconds: float, scale: float) -> str:
    if scale == 1.0:
        return str(max(1, math.ceil(seconds - 1e-9)))
    return f"{max(seconds, 0.001):.3f}"


# Documented per-app limits (each API has its own buckets).
FAMILY_LIMITS: dict[str, tuple[Limit, ...]] = {
    "okr": (Limit(100, ONE_MINUTE),),
    "ehr": (Limit(100, ONE_MINUTE),),
    "attendance": (Limit(50, ONE_SECOND),),
    "contact": (Limit(1000, ONE_MINUTE), Limit(50, ONE_SECOND)),
    "im": (Limit(1000, ONE_MINUTE), Limit(50, ONE_SECOND)),
    "authen": (Limit(1000, ONE_MINUTE), Limit(50, ONE_SECOND)),  # oidc token endpoints and user_info
}
PER_RECEIVER = (Limit(5, ONE_SECOND),)  # IM: 5 QPS per user / per chat
PER_MESSAGE_UPDATE = (Limit(5, ONE_SECOND),)  # PATCH: 5 QPS per message


class FixedWindowLimiter:
    def __init__(self, clock: Callable[[], float], scale: float | None) -> None:
        self._clock = clock
        self._scale = scale
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, float], tuple[int, int]] = {}  # (bucket, window) -> (index, count)

    @property
    def scale(self) -> float | None:
        return self._scale

    @property
    def enabled(self) -> bool:
        return self._scale is not None and self._scale > 0

    def set_scale(self, scale: float | None) -> None:
        with self._lock:
            self._scale = scale
            self._windows.clear()

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def hit(self, bucket: str, limits: Sequence[Limit]) -> Rejection | None:
        """Count one request in `bucket`; a Rejection (nothing counted) if any limit is exhausted."""
        if not self.enabled:
            return None
        assert self._scale is not None
        now = self._clock()
        with self._lock:
            blocked: list[Rejection] = []
            updates: list[tuple[tuple[str, float], tuple[int, int]]] = []
            for limit in limits:
                length = limit.window / self._scale
                index = math.floor(now / length)
                key = (bucket, limit.window)
                current_index, count = self._windows.get(key, (index, 0))
                if current_index != index:
                    count = 0
                if count >= limit.count:
                    blocked.append(Rejection(limit.count, (index + 1) * length - now))
                updates.append((key, (index, count + 1)))
            if blocked:
                return max(blocked, key=lambda r: r.reset_after)
            for key, value in updates:
                self._windows[key] = value
            return None
