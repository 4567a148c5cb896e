"""Injected faults: answer (or delay) the next N requests whose path matches a prefix or a regex."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    match_body: dict[str, Any] | None = None  # top-level JSON body fields the request must carry (compared as text)
    hits: int = 0

    @property
    def answers(self) -> bool:
        """True if the fault produces an error answer; False for a pure delay."""
        return self.code is not None or self.http_status is not None or self.delay <= 0

    def matches(self, method: str, path: str, body: Callable[[], Any] | None = None) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        short = path[len(OPEN_APIS) :] if path.startswith(OPEN_APIS) else path
        if isinstance(self.pattern, re.Pattern):
            matched = bool(self.pattern.search(path) or self.pattern.search(short))
        else:
            matched = path.startswith(self.pattern) or short.startswith(self.pattern)
        return matched and self._body_matches(body)

    def _body_matches(self, body: Callable[[], Any] | None) -> bool:
        if not self.match_body:
            return True
        sent = body() if body is not None else None
        if not isinstance(sent, dict):
            return False
        # as text: an int64 id matches whether it was sent as a number or a string
        return all(key in sent and str(sent[key]) == str(value) for key, value in self.match_body.items())

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
            "body": self.match_body,
            "hits": self.hits,
        }


def compile_pattern(pattern: str | re.Pattern[str], regex: bool | None = None) -> str | re.Pattern[str]:
    """Strings starting with "^" (or regex=True) are regexes; other strings are path prefixes."""
    if isinstance(pattern, re.Pattern):
        return pattern
    if regex or (regex is None and pattern.startswith("^")):
        return re.compile(pattern)
    return pattern


class Faults:
    """The faults injected into one sandbox instance. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = threading.Condition(self._lock)
        self._faults: list[Fault] = []
        self._seq = 0
        self._hits: dict[int, int] = {}  # fault id -> requests it caught, kept after it is used up
        self._cancel_delays = threading.Event()

    def inject(
        self,
        path_prefix_or_regex: str | re.Pattern[str],
        *,
        times: int | None = 1,
        http_status: int | None = None,
        code: int | None = None,
        msg: str | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        regex: bool | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> int:
        """Answer the next `times` matching requests with an error (or just delay them).

        The pattern is a path prefix ("/okr/v1" or "/open-apis/okr/v1") or a regex (an re.Pattern, a string
        starting with "^", or regex=True). With only `delay` set the request is delayed, then served normally;
        with `code`/`http_status` it is answered with that error (after the delay). Neither set = HTTP 500,
        code 1. `times=None` keeps the fault until clear(). `body` limits the fault to requests whose JSON body has
        those top-level fields, compared as text (`body={"target_id": kr_id}` fails one key result's progress
        record). Returns the fault id.
        """
        with self._lock:
            self._seq += 1
            status = http_status
            if status is None and (code is not None or delay <= 0):
                status = 400 if code is not None else 500
            fault = Fault(
                id=self._seq,
                pattern=compile_pattern(path_prefix_or_regex, regex),
                remaining=times,
                http_status=status,
                code=code,
                msg=msg,
                delay=delay,
                headers=dict(headers or {}),
                method=method,
                match_body=dict(body) if body else None,
            )
            self._faults.append(fault)
            self._cancel_delays.clear()
            return fault.id

    def describe(self) -> list[dict[str, object]]:
        """The faults still active, as the control endpoint lists them."""
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, method: str, path: str, body: Callable[[], Any] | None = None) -> Fault | None:
        """The first fault matching the request (counted as a hit and used once), or None. `body` returns the
        request's parsed JSON body; it is called only for faults that look at the body."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, body):
                    fault.hits += 1
                    self._hits[fault.id] = fault.hits
                    self._taken.notify_all()
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return copy.copy(fault)
            return None

    def wait_for(self, fault_id: int, hits: int = 1, timeout: float = 10.0) -> int:
        """Block (on a Condition) until the fault has caught `hits` requests; how many it caught."""
        with self._taken:
            self._taken.wait_for(lambda: self._hits.get(fault_id, 0) >= hits, timeout)
            return self._hits.get(fault_id, 0)

    def sleep(self, seconds: float) -> None:
        """Server-side delay for delay faults; cut short by clear()."""
        if seconds > 0:
            self._cancel_delays.wait(seconds)

    def clear(self, *, hits: bool = False) -> None:
        """Remove every fault and cut short the delays still sleeping; `hits=True` also forgets hit counts."""
        with self._lock:
            self._faults.clear()
            if hits:
                self._hits.clear()
            self._cancel_delays.set()
