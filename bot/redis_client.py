"""The one way to open Redis (REDIS_URL): shared dedup keys (bot/dedup.py) and shared rate-limit windows
(bot/feishu/shared_limits.py) use it."""

from __future__ import annotations

import redis


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
