"""Nobody can drain the app's quota or spam a group: a minimum interval between runs, caps per group and per
manager, duplicate schedules refused, cool-downs on `remind run` and `digest now`, and runs that reuse
recent roster and OKR reads. And jobs due together count their API calls without crashing (an upsert)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.digests.jobs import run_at, shared_run
from bot.digests.runtime import Runtime
from bot.feishu.clients import FeishuClients
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from tests.services import postgres_server

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
WEEKLY = {"minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "mon", "timezone": "Asia/Shanghai"}


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


# -- api_calls: jobs due together --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bot.db"
    from sqlalchemy import create_engine, text

    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:  # a clean schema per test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def test_api_call_counts_from_many_threads_at_once_are_all_kept(db_url):
    store = Store(db_url)
    apis = [f"api.{n}" for n in range(10)]
    results = at_once(8, lambda i: store.add_api_calls({api: i + 1 for api in apis}, at=MONDAY_0900))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert store.api_calls("2026-11") == {api: sum(range(1, 9)) for api in apis}


def test_jobs_due_together_all_send_and_count_every_call_once(db_url, settings, sandbox):
    settings = settings.with_(database_url=db_url)
    runtime = Runtime(settings=settings, clients=FeishuClients.create(settings), store=Store(db_url))
    group = sandbox.seed.chat("eng_weekly").chat_id
    subs = [runtime.store.add_subscription(kind=KIND_OKR_REMINDER, target=group, created_by="ou_x",
                                           schedule={**WEEKLY, "minute": str(n)}) for n in range(5)]
    managers = ("wanglei", "cto", "ceo")
    subs += [runtime.store.add_subscription(kind=KIND_MANAGER_DIGEST, target=sandbox.seed.person(m).open_id,
                                            created_by="ou_x", schedule=WEEKLY) for m in managers]
    before = runtime.clients.caller.call_counts
    results = at_once(len(subs), lambda i: run_at(runtime, subs[i], MONDAY_0900, shared_run(runtime, MONDAY_0900)))
    assert [r for r in results if not isinstance(r, str)] == []  # every job sent its card, none crashed
    assert len(sandbox.state.requests_matching("/im/v1/messages", "POST")) == len(subs)
    made = Counter(runtime.clients.caller.call_counts) - Counter(before)
    assert runtime.store.api_calls("2026-11") == dict(made)  # each call counted once, none lost
