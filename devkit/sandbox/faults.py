"""Injected faults: answer (or delay) the next N requests whose path matches a prefix or a regex."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPEN_APIS = "/open-apis"


@dataclass
class Fault:
    id: int
    pattern: str | re.Pattern[str]
    remaining: int | None  # None = until cleared
    http_status: int | None = None
    code: int | None = None
    msg: str | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    hits: int = 0

    @property
    def answers(self) -> bool:
        """True if the fault produces an error answer; False for a pure delay."""
        return self.code is not None or self.http_status is not None or self.delay <= 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        short = path[len(OPEN_APIS) :] if path.startswith(OPEN_APIS) else path
        if isinstance(self.pattern, re.Pattern):
            return bool(self.pattern.search(path) or self.pattern.search(short))
        return path.startswith(self.pattern) or short.startswith(self.pattern)

    def body(self, log_id: str) -> dict[str, object]:
        return {
            "code": self.code if self.code is not None else 1,
            "msg": self.msg or "sandbox injected fault",
            "error": {"log_id": log_id},
        }

    def describe(self) -> dict[str, object]:
        pattern = self.pattern.pattern if isinstance(self.pattern, re.Pattern) else self.pattern
        return {
            "id": self.id,
            "pattern": pattern,
            "regex": isinstance(self.pattern, re.Pattern),
            "remaining": self.remaining,
            "http_status": self.http_status,
            "code": self.code,
            "msg": self.msg,
            "delay": self.delay,
            "headers": self.headers,
            "method": self.method,
            "hits": self.hits,
        }


def compile_pattern(pattern: str | re.Pattern[str], regex: bool | None = None) -> str | re.Pattern[str]:
    """Strings starting with "^" (or regex=True) are regexes; other strings are path prefixes."""
    if isinstance(pattern, re.Pattern):
        return pattern
    if regex or (regex is None and pattern.startswith("^")):
        return re.compile(pattern)
    return pattern
