"""Helpers for tests that need several threads at once."""

from __future__ import annotations

import threading


def at_once(count: int, work) -> list:
    """Run `work(i)` on `count` threads released together; return each result or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
