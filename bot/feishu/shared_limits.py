"""Rate-limit windows shared by every instance in Redis (REDIS_URL). Without REDIS_URL the in-process
versions (bot/feishu/ratelimit.py) are used; the shared seen event keys are in bot/dedup.py."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis
from limits.storage import RedisStorage

from bot.feishu.ratelimit import SlidingWindowLimiter

_WHOLE_SECONDS = b"redis.call('expire', KEYS[1], expiry)"
if _WHOLE_SECONDS not in RedisStorage.SCRIPT_ACQUIRE_MOVING_WINDOW:
    raise ImportError("limits' moving-window script changed: review _RedisWindows in bot/feishu/shared_limits.py")


class _RedisWindows(RedisStorage):
    """limits' Redis storage, with one line of its moving-window script changed: it passes the window to
    EXPIRE, which takes whole seconds only, and Feishu's windows with their margin (61.8 s, 1.03 s, and
    less when scaled for tests) are not whole. The key now expires in milliseconds, rounded up."""

    SCRIPT_ACQUIRE_MOVING_WINDOW = RedisStorage.SCRIPT_ACQUIRE_MOVING_WINDOW.replace(
        _WHOLE_SECONDS, b"redis.call('pexpire', KEYS[1], math.ceil(expiry * 1000))")


class RedisPause:
    """A family's pause shared by every instance: a key that lives as long as the pause."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._redis = client
        self._key = key

    def remaining(self) -> float:
        return max(0, int(self._redis.pttl(self._key))) / 1000

    def extend(self, seconds: float) -> None:
        ms = max(1, math.ceil(seconds * 1000))
        if self._redis.pttl(self._key) < ms:
            self._redis.set(self._key, b"1", px=ms)


class RedisLimiter(SlidingWindowLimiter):
    """The same windows as SlidingWindowLimiter, counted in Redis across every instance by limits'
    RedisStorage. It uses the bot's connection pool (`bot.redis_client.connect`: 5 s timeouts), so the URL
    given to limits only picks the client library. Keys: `{prefix}{name}/{window}/...`, and `{prefix}{name}:pause`, with
    `name` = `{app_id}:{family}`: apps sharing one Redis keep separate limits."""

    def __init__(self, client: redis.Redis, name: str, windows: tuple[tuple[int, float], ...], *,
                 sleep: Callable[[float], None] = time.sleep, prefix: str = "okrbot:rate:") -> None:
        storage = _RedisWindows("redis://", connection_pool=client.connection_pool, key_prefix=prefix.rstrip(":"))
        super().__init__(windows, name=name, storage=storage, pause=RedisPause(client, f"{prefix}{name}:pause"),
                         sleep=sleep)
