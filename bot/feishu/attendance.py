"""Attendance API (attendance/v1): groups, their members, punch results. 50 requests/second.

Being written (issue 3); see AttendanceClient's docstring for the interface.
"""

from __future__ import annotations

from bot.feishu.caller import ApiCaller
from bot.feishu.ratelimit import SlidingWindowLimiter


class AttendanceClient:
    def __init__(self, caller: ApiCaller, *, limiter: SlidingWindowLimiter, ttl: float = 600.0) -> None:
        self._caller = caller
        self._limiter = limiter
