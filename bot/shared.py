"""State that several web instances must share, in Redis (REDIS_URL): seen event keys and rate-limit
windows. Without REDIS_URL the in-process versions (bot/inbox.py, bot/feishu/ratelimit.py) are used."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import redis

# A sliding-window log per limit in one sorted set per window: drop entries older than the window; if
# every window has room, add this call to all of them; otherwise answer how long to wait. Atomic in Redis.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local period = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + period - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i]) * 1000) + 1000)
end
return '0'
"""


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


class RedisSeenStore:
    """`SeenStore` shared by every instance: SET key NX EX ttl."""

    def __init__(self, client: redis.Redis, *, ttl: float, prefix: str = "okrbot:seen:") -> None:
        self._redis = client
        self._ttl = max(1, int(ttl))
        self._prefix = prefix

    def add_if_absent(self, key: str) -> bool:
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, ex=self._ttl))


class RedisLimiter:
    """The same sliding-window limits as SlidingWindowLimiter, counted across every instance."""

    def __init__(self, client: redis.Redis, name: str, windows: tuple[tuple[int, float], ...], *,
                 sleep: Callable[[float], None] = time.sleep, prefix: str = "okrbot:rate:") -> None:
        self._redis = client
        self._windows = windows
        self._keys = [f"{prefix}{name}:{i}" for i in range(len(windows))]
        self._script = client.register_script(_ACQUIRE)
        self._sleep = sleep

    def _now(self) -> float:
        seconds, micros = self._redis.time()  # one clock for every instance
        return seconds + micros / 1e6

    def acquire(self) -> float:
        waited = 0.0
        while True:
            args: list[object] = [repr(self._now()), uuid.uuid4().hex]
            for limit, period in self._windows:
                args += [limit, repr(period)]
            wait = float(self._script(keys=self._keys, args=args))
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def penalise(self, seconds: float) -> None:
        """After a rate-limit answer: fill every window so the next slot opens in `seconds`."""
        now = self._now()
        pipe = self._redis.pipeline()
        for key, (limit, period) in zip(self._keys, self._windows, strict=True):
            pipe.delete(key)
            pipe.zadd(key, {f"penalty:{i}": now + seconds - period for i in range(limit)})
            pipe.pexpire(key, int((period + seconds) * 1000) + 1000)
        pipe.execute()
