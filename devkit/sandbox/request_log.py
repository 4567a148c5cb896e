"""Every Open Platform call the sandbox answered, with its log id: what tests count to see what the bot SENT.

Entries are {seq, method, path, endpoint, query, body, status, code, log_id, time}. Control endpoints
(/_sandbox/...) are not logged. Thread-safe.
"""

from __future__ import annotations

import threading
from typing import Any

from . import ids


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._log_seq = 0

    def next_log_id(self) -> str:
        """A fresh X-Tt-Logid value, as Feishu answers on every call."""
        with self._lock:
            self._log_seq += 1
            return f"2026sandbox{self._log_seq:08d}" + ids.short_hex(f"log{self._log_seq}", 8).upper()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["seq"] = len(self._entries)
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Snapshot of every logged call, oldest first."""
        with self._lock:
            return list(self._entries)

    def matching(self, path_prefix: str, method: str | None = None) -> list[dict[str, Any]]:
        """Calls whose path (with or without /open-apis) starts with `path_prefix`, of `method` if given."""
        with self._lock:
            return [
                r
                for r in self._entries
                if (
                    r["path"].startswith(path_prefix)
                    or r["path"].removeprefix("/open-apis").startswith(path_prefix)
                )
                and (method is None or r["method"] == method.upper())
            ]

    def count(self, path_prefix: str, method: str | None = None) -> int:
        return len(self.matching(path_prefix, method))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
