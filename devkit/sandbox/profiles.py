"""Fields people changed about themselves (PATCH contact/v3/users with their own user token).

The seed stays as it was built; contact reads lay these changes over it. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping


class ProfileChanges:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, dict[str, str]] = {}  # open_id -> changed fields

    def of(self, open_id: str) -> dict[str, str]:
        """The fields `open_id` changed (empty if none)."""
        with self._lock:
            return dict(self._changes.get(open_id, {}))

    def update(self, open_id: str, changes: Mapping[str, str]) -> dict[str, str]:
        """Record `changes` for `open_id`; every field they changed so far."""
        with self._lock:
            current = self._changes.setdefault(open_id, {})
            current.update(changes)
            return dict(current)

    def clear(self) -> None:
        with self._lock:
            self._changes.clear()
