"""Group commit: many threads' small writes go to the database together, in one transaction.

Each caller queues its item and tries to become the writer; the writer takes everything queued so far,
writes it in one call and hands each caller its own result (or the batch's exception). Under load the
webhook's threads then share one transaction instead of queueing for the database's write lock one by
one (SQLite makes a waiting writer sleep and retry), and a lone caller pays nothing extra.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("item", "result", "error", "done")

    def __init__(self, item: T) -> None:
        self.item = item
        self.result: R | None = None
        self.error: BaseException | None = None
        self.done = False


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], Sequence[R]]) -> None:
        """`write(items)` stores the items in one transaction and returns one result per item, in order."""
        self._write = write
        self._changed = threading.Condition()
        self._queue: list[_Slot[T, R]] = []
        self._writing = False

    def submit(self, item: T) -> R:
        """Store `item` (with whatever else is waiting) and return its result; raises the write's error."""
        slot: _Slot[T, R] = _Slot(item)
        writer = False
        with self._changed:
            self._queue.append(slot)
            while self._writing and not slot.done:  # wait for the write in progress (it may not hold ours)
                self._changed.wait()
            if not slot.done:  # become the writer of everything waiting, ours included
                batch, self._queue, self._writing, writer = self._queue, [], True, True
        if writer:
            try:
                results = self._write([s.item for s in batch])
                for waiting, result in zip(batch, results, strict=True):
                    waiting.result = result
            except BaseException as exc:
                for waiting in batch:
                    waiting.error = exc
            finally:
                with self._changed:
                    for waiting in batch:
                        waiting.done = True
                    self._writing = False
                    self._changed.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]
