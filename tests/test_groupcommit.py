"""Group commit: every caller gets its own result, a failed write fails every caller in its batch, and a
message recorded by several threads at once is new for exactly one of them."""

from __future__ import annotations

import threading

import pytest

from bot.store import Store
from bot.store.groupcommit import GroupCommit
from tests.threads import at_once


class _WatchedCondition(threading.Condition):
    """Counts the callers that went to wait (so a test can wait until they have all queued)."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0
        self.seen = threading.Condition()

    def wait(self, timeout: float | None = None) -> bool:
        with self.seen:
            self.waiting += 1
            self.seen.notify_all()
        return super().wait(timeout)


def test_each_caller_gets_its_own_result_and_those_who_waited_are_written_together():
    batches: list[int] = []
    writing, gate = threading.Event(), threading.Event()

    def write(items):
        if not batches:
            writing.set()
            assert gate.wait(10)  # the first writer holds on until the others have queued behind it
        batches.append(len(items))
        return [item * 2 for item in items]

    group = GroupCommit(write)
    watched = group._changed = _WatchedCondition()
    results: dict[int, int] = {}

    def submit(i: int) -> None:
        results[i] = group.submit(i)

    threads = [threading.Thread(target=submit, args=(0,))]
    threads[0].start()
    assert writing.wait(10)
    threads += [threading.Thread(target=submit, args=(i,)) for i in range(1, 21)]
    for thread in threads[1:]:
        thread.start()
    with watched.seen:
        assert watched.seen.wait_for(lambda: watched.waiting == 20, timeout=10)
    gate.set()
    for thread in threads:
        thread.join()
    assert results == {i: i * 2 for i in range(21)}
    assert batches == [1, 20]


def test_a_failed_write_fails_every_caller_in_it_and_the_next_write_works():
    calls = []

    def write(items):
        calls.append(list(items))
        if len(calls) == 1:
            raise RuntimeError("database down")
        return list(items)

    group = GroupCommit(write)
    with pytest.raises(RuntimeError, match="database down"):
        group.submit("a")
    assert group.submit("b") == "b"


def test_a_message_recorded_by_many_threads_at_once_is_new_exactly_once(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/bot.db")
    results = at_once(16, lambda i: store.inbox.record("om_same", f"ev_{i}", {"message_id": "om_same"}))
    assert sorted(results) == [False] * 15 + [True]
    distinct = at_once(16, lambda i: store.inbox.record(f"om_{i}", f"ev_{i}", {"message_id": f"om_{i}"}))
    assert distinct == [True] * 16
    assert len(store.inbox.unfinished()) == 17
