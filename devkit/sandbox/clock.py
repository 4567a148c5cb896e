"""The sandbox's clock: wall time for timestamps, monotonic time for rate windows and TTLs, both replaceable."""

from __future__ import annotations

import time
from collections.abc import Callable


class Clock:
    """Real time, or one injected function (seconds) that drives both wall and monotonic time."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock

    def now(self) -> float:
        """Wall-clock epoch seconds (the injected clock if any, else time.time())."""
        return self._clock() if self._clock else time.time()

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def monotonic(self) -> float:
        """Seconds for rate-limit windows and TTLs (the injected clock if any, else time.monotonic())."""
        return self._clock() if self._clock else time.monotonic()

    def replace(self, clock: Callable[[], float] | None) -> None:
        """Use `clock` from now on (None = real time); SandboxState.set_clock restarts what was timed before."""
        self._clock = clock
