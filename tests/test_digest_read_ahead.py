"""A scheduled run reads ahead for every plan due at its time (jobs.start_run): the OKRs of everyone the due
digests and reminders will go through, the roster, the groups' members and leave — each person's OKRs still
once per run, nobody the roster shows leaving once it is in, a group's members once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.digests import jobs
from bot.digests.jobs import run_at
from bot.digests.okr_reminder import LEFT, NOT_IN_DIRECTORY, ON_LEAVE, SNOOZED
from bot.digests.runtime import RunData, Runtime
from bot.feishu.clients import FeishuClients
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from tests.threads import at_once

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
WEEKLY = {"minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "mon", "timezone": "Asia/Shanghai"}


@pytest.fixture
def runtime(settings, tmp_path):
    settings = settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db")
    return Runtime(settings=settings, clients=FeishuClients.create(settings), store=Store(settings.database_url))


def okr_reads(sandbox, mark: int) -> Counter:
    """Whose OKRs the bot asked for since `mark` (request-log index), and how often."""
    return Counter(r["path"].split("/")[5] for r in sandbox.state.requests.entries()[mark:]
                   if r["path"].startswith("/open-apis/okr/v1/users/"))


def join_read_ahead(data: RunData) -> None:
    """Wait until the run's read-ahead threads have ended (they end when the reads do)."""
    for thread in threading.enumerate():
        if thread.name.startswith(f"{data.label} read-ahead"):
            thread.join(timeout=60)


def leaving_ids(sandbox) -> set[str]:
    return {p.open_id for p in sandbox.seed.people if p.ehr_status in (4, 5)}


def test_a_started_run_sends_every_due_card_and_reads_each_person_once(runtime, sandbox):
    group = sandbox.seed.chat("all_hands").chat_id
    managers = [sandbox.seed.person(m).open_id for m in ("wanglei", "cto", "ceo")]
    subs = [runtime.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=group, created_by="ou_x", schedule=WEEKLY)]
    subs += [runtime.store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=m, created_by="ou_x", schedule=WEEKLY)
             for m in managers]
    runtime.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=sandbox.seed.chat("eng_weekly").chat_id,
                                    created_by="ou_x", schedule={**WEEKLY, "hour": "10"})  # due at 10:00
    assert [s.id for s in jobs.due_at(runtime, MONDAY_0900)] == [s.id for s in subs]  # not the 10:00 one
    mark = len(sandbox.state.requests.entries())
    data = jobs.start_run(runtime, MONDAY_0900)
    assert jobs.start_run(runtime, MONDAY_0900) is data  # the run's other jobs join it
    results = at_once(len(subs), lambda i: run_at(runtime, subs[i], MONDAY_0900, data))
    join_read_ahead(data)
    assert [r for r in results if not isinstance(r, str)] == []  # every due card went out
    reads = okr_reads(sandbox, mark)
    assert reads and max(reads.values()) == 1  # each person once, plans and read-ahead together
    _, decisions = runtime.store.subscriptions.last_decisions(subs[0].id)
    needed = {o for o, d in decisions.items() if d not in (NOT_IN_DIRECTORY, LEFT, ON_LEAVE, SNOOZED)}  # all read
    assert needed <= set(reads) <= needed | leaving_ids(sandbox)  # only the leaving may be read in vain


def test_the_read_ahead_passes_over_people_the_roster_shows_leaving(runtime, sandbox):
    everyone = [p.open_id for p in sandbox.seed.people if p.is_active]
    leaving = leaving_ids(sandbox) & set(everyone)
    assert leaving  # the seed has people leaving who are still in the directory
    data = RunData(runtime, MONDAY_0900, label="leaving-test")
    data.roster()  # the roster is in before the read-ahead starts
    mark = len(sandbox.state.requests.entries())
    assert data.start([lambda _: (everyone, "zh_cn")])
    join_read_ahead(data)
    reads = okr_reads(sandbox, mark)
    assert set(reads) == set(everyone) - leaving and max(reads.values()) == 1


def test_a_run_reads_a_groups_members_once_for_all_its_reminders(runtime, sandbox):
    group = sandbox.seed.chat("eng_weekly").chat_id
    subs = [runtime.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=group, created_by=f"ou_{n}",
                                           schedule={**WEEKLY, "minute": str(n)}) for n in range(2)]
    mark = len(sandbox.state.requests.entries())
    data = jobs.shared_run(runtime, MONDAY_0900)
    assert all(run_at(runtime, sub, MONDAY_0900, data) for sub in subs)
    pages = [r for r in sandbox.state.requests.entries()[mark:] if r["path"].endswith(f"/chats/{group}/members")]
    assert len(pages) == 1  # one page of 30 members, read once for both reminders
