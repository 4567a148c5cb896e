"""Nobody can drain the app's quota or spam a group: a minimum interval between runs, caps per group and per
manager, duplicate schedules refused, cool-downs on `remind run` and `digest now`, and runs that reuse
recent roster and OKR reads. And jobs due together count their API calls without crashing (an upsert)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests import jobs
from bot.digests.jobs import run_at, shared_run
from bot.digests.runtime import Runtime
from bot.feishu.clients import FeishuClients
from bot.inbound import InlineExecutor
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from bot.transports.webhook import create_app
from tests.conftest import NOW, Chat, card_title
from tests.threads import at_once

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
WEEKLY = {"minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "mon", "timezone": "Asia/Shanghai"}




# -- api_calls: jobs due together --------------------------------------------------------------------------


def test_api_call_counts_from_many_threads_at_once_are_all_kept(db_url):
    store = Store(db_url)
    apis = [f"api.{n}" for n in range(10)]
    results = at_once(8, lambda i: store.usage.add_api_calls({api: i + 1 for api in apis}, at=MONDAY_0900))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert store.usage.api_calls("2026-11") == {api: sum(range(1, 9)) for api in apis}


def test_jobs_due_together_all_send_and_count_every_call_once(db_url, settings, sandbox):
    settings = settings.with_(database_url=db_url)
    runtime = Runtime(settings=settings, clients=FeishuClients.create(settings), store=Store(db_url))
    group = sandbox.seed.chat("eng_weekly").chat_id
    subs = [runtime.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=group, created_by="ou_x",
                                           schedule={**WEEKLY, "minute": str(n)}) for n in range(5)]
    managers = ("wanglei", "cto", "ceo")
    subs += [runtime.store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=sandbox.seed.person(m).open_id,
                                            created_by="ou_x", schedule=WEEKLY) for m in managers]
    before = runtime.clients.caller.call_counts
    results = at_once(len(subs), lambda i: run_at(runtime, subs[i], MONDAY_0900, shared_run(runtime, MONDAY_0900)))
    assert [r for r in results if not isinstance(r, str)] == []  # every job sent its card, none crashed
    sent = [r["body"] for r in sandbox.state.requests.matching("/im/v1/messages", "POST")]
    to = Counter(body["receive_id"] for body in sent)
    assert to[group] == 5  # each reminder's group card once
    digests = [body for body in sent if "团队周报" in body["content"] or "Team digest" in body["content"]]
    assert sorted(b["receive_id"] for b in digests) == sorted(sandbox.seed.person(m).open_id for m in managers)
    private = len(sent) - 5 - len(managers)  # each reminder's check-in cards to those it mentions, once each
    assert private > 0 and private % 5 == 0 and len({body["uuid"] for body in sent}) == len(sent)
    made = Counter(runtime.clients.caller.call_counts) - Counter(before)
    assert runtime.store.usage.api_calls("2026-11") == dict(made)  # each call counted once, none lost


# -- the commands ------------------------------------------------------------------------------------------

@pytest.fixture
def moment():
    """The bot's clock, moved by the test."""
    return [NOW]


@pytest.fixture
def quota_settings(settings, sandbox, tmp_path):
    return settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                          database_url=f"sqlite:///{tmp_path}/bot.db", okr_ttl=3600.0)


@pytest.fixture
def store(quota_settings):
    return Store(quota_settings.database_url)


def make_bot(settings, sandbox, store, moment) -> Chat:
    app = create_app(settings, executor=InlineExecutor(), clock=lambda: moment[0], store=store)
    return Chat(app.test_client(), sandbox, settings)


@pytest.fixture
def bot(quota_settings, sandbox, store, moment):
    return make_bot(quota_settings, sandbox, store, moment)


def answer(bot, *args, **kwargs) -> tuple[str, str]:
    """(title, text) of the card the bot answered with (after the reminder or digest a run sent)."""
    entry = bot.say(*args, **kwargs)[-1]
    return card_title(entry), bot.text_of(entry)


@pytest.mark.parametrize("phrase", ["* * * * *", "*/5 * * * *", "0,30 9 * * *", "0,45 9 * * * stale 3"])
def test_a_reminder_more_often_than_hourly_is_refused_with_the_minimum_and_an_example(bot, store, phrase):
    title, text = answer(bot, "郭芳", f"remind okr {phrase}", group="eng_weekly")
    assert title == "Too often"
    assert "at most once every 60 minutes" in text and "`remind okr weekdays 9:30`" in text
    assert store.subscriptions.find() == []


def test_hourly_is_the_default_minimum_and_a_setting_raises_it(bot, store, quota_settings, sandbox, moment):
    assert answer(bot, "陈立", "remind okr 0 * * * *", group="eng_weekly")[0] == "OKR reminder on"
    daily_only = make_bot(quota_settings.with_(min_schedule_minutes=24 * 60.0), sandbox, store, moment)
    title, text = answer(daily_only, "陈立", "提醒 OKR 30 * * * *", group="eng_weekly")
    assert title == "时间太频繁" and "至少要隔 1440 分钟" in text and "`提醒 OKR 工作日 9:30`" in text
    assert len(store.subscriptions.find()) == 1


def test_a_digest_more_often_than_hourly_is_refused(bot, store):
    title, text = answer(bot, "王磊", "digest on */10 * * * *")
    assert title == "Too often" and "`digest on mon 09:00`" in text
    title, _ = answer(bot, "郭芳", "digest on all * * * * *")
    assert title == "Too often"
    assert store.subscriptions.find() == []


def test_a_group_holds_at_most_five_reminders_and_the_refusal_says_how_to_free_one(bot, store):
    for day in ("mon", "tue", "wed", "thu", "fri"):
        assert answer(bot, "陈立", f"remind okr {day} 17:00", group="eng_weekly")[0] == "OKR reminder on"
    title, text = answer(bot, "陈立", "remind okr sat 10:00", group="eng_weekly")
    subs = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    assert title == "Too many reminders" and len(subs) == 5
    assert "at most 5" in text and "`remind off <id>`" in text and f"#{subs[0].id}" in text
    bot.say("陈立", f"remind off {subs[0].id}", group="eng_weekly")
    assert answer(bot, "陈立", "remind okr sat 10:00", group="eng_weekly")[0] == "OKR reminder on"
    assert answer(bot, "郭芳", "remind okr sun 10:00", group="all_hands")[0] == "OKR reminder on"  # per group


def test_the_same_times_twice_in_a_group_are_refused_naming_the_existing_one(bot, store):
    answer(bot, "陈立", "remind okr weekdays 17:00", group="eng_weekly")
    [first] = store.subscriptions.find()
    title, text = answer(bot, "陈立", "remind okr 0 17 * * 1-5 stale 3", group="eng_weekly")  # written otherwise
    assert title == "Same time already taken"
    assert f"#{first.id}" in text and f"`remind off {first.id}`" in text
    assert store.subscriptions.find() == [first]
    assert answer(bot, "郭芳", "remind okr weekdays 17:00", group="all_hands")[0] == "OKR reminder on"


def test_a_managers_digest_is_one_subscription_and_on_again_changes_its_time(bot, store, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    answer(bot, "王磊", "digest on mon 09:00")
    title, text = answer(bot, "王磊", "digest on fri 17:00")
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    assert sub.target == manager and sub.schedule["day_of_week"] == "fri" and sub.schedule["hour"] == "17"
    assert "Fridays at 17:00" in text and "was Mondays at 09:00" in text
    answer(bot, "郭芳", "digest on all")
    assert "Digest turned on for 0 managers" in answer(bot, "郭芳", "digest on all tue 08:00")[1]
    digests = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    assert len(digests) == len({s.target for s in digests})  # one per manager
    [mine] = [s for s in digests if s.target == manager]
    assert mine.id == sub.id and mine.schedule == sub.schedule  # on all keeps a manager's own time


def test_two_digests_left_by_a_race_become_one_and_the_oldest_stays(bot, store, sandbox):
    """Two `digest on` at the same moment (two processes) may both insert; each then keeps only the oldest."""
    manager = sandbox.seed.person("wanglei").open_id
    first, second = (store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager,
                                            schedule=WEEKLY) for _ in range(2))
    answer(bot, "王磊", "digest on tue 09:00")
    [kept] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    assert kept.id == first.id and kept.schedule["day_of_week"] == "tue"


def test_remind_run_cools_down_per_group_across_processes(bot, store, sandbox, quota_settings, moment):
    bot.say("陈立", "remind okr fri 17:00", group="eng_weekly")
    bot.say("郭芳", "remind okr fri 17:00", group="all_hands")
    assert answer(bot, "陈立", "remind run", group="eng_weekly")[0] == "Reminder run"
    moment[0] = NOW + timedelta(minutes=3)
    mark, sends = len(sandbox.state.requests.entries()), len(sandbox.state.requests.matching("/im/v1/messages", "POST"))
    another_process = make_bot(quota_settings, sandbox, Store(quota_settings.database_url), moment)
    title, text = answer(another_process, "陈立", "remind run", group="eng_weekly")
    assert title == "Try again later"
    assert "at most once every 10 minutes in each group" in text and "after 10:10" in text
    assert len(sandbox.state.requests.matching("/im/v1/messages", "POST")) == sends + 1  # the refusal alone
    assert reads(sandbox, mark) == Counter()  # nobody's OKRs read, no roster walked
    assert answer(bot, "郭芳", "remind run", group="all_hands")[0] == "Reminder run"  # another group may
    moment[0] = NOW + timedelta(minutes=10)
    assert answer(bot, "陈立", "提醒 立即", group="eng_weekly")[0] == "立即提醒"


def test_digest_now_cools_down_per_person(bot, sandbox, moment):
    manager = sandbox.seed.person("wanglei").open_id
    assert any(e["receive_id"] == manager and "团队周报" in card_title(e) for e in bot.say("王磊", "周报 立即"))
    moment[0] = NOW + timedelta(minutes=9)
    title, text = answer(bot, "王磊", "周报 立即")
    assert title == "稍后再试" and "每 10 分钟最多运行一次" in text and "10:10 之后可以再试" in text
    assert len(bot.say("周星河", "digest now")) == 2  # another manager may: the digest and the confirmation
    moment[0] = NOW + timedelta(minutes=10)
    assert any(e["receive_id"] == manager and "团队周报" in card_title(e) for e in bot.say("王磊", "周报 立即"))


def test_the_cooldown_is_one_winner_when_asked_at_once(db_url):
    store = Store(db_url)
    results = at_once(8, lambda i: store.usage.start_cooldown("remind-run:oc_x", now=NOW, seconds=600))
    assert results.count(None) == 1
    assert {r for r in results if r is not None} == {NOW + timedelta(minutes=10)}
    assert store.usage.start_cooldown("remind-run:oc_x", now=NOW + timedelta(minutes=10), seconds=600) is None


# -- reads reused ------------------------------------------------------------------------------------------

def reads(sandbox, mark: int) -> Counter:
    """EHR and OKR reads the bot made since `mark` in the request log."""
    kinds = Counter()
    for request in sandbox.state.requests.entries()[mark:]:
        if "/ehr/v1/employees" in request["path"]:
            kinds["ehr"] += 1
        elif "/okr/v1/users/" in request["path"]:
            kinds["okr"] += 1
    return kinds


def test_remind_runs_and_a_scheduled_run_minutes_apart_reuse_roster_and_okr_reads(bot, store, sandbox, moment,
                                                                                  quota_settings):
    bot.say("陈立", "remind okr fri 17:00", group="eng_weekly")
    bot.say("郭芳", "remind okr fri 17:00", group="product_design")
    mark = len(sandbox.state.requests.entries())
    assert answer(bot, "陈立", "remind run", group="eng_weekly")[0] == "Reminder run"
    first = reads(sandbox, mark)
    assert first["ehr"] >= 1 and first["okr"] >= 1
    moment[0] = NOW + timedelta(minutes=3)
    mark = len(sandbox.state.requests.entries())
    assert answer(bot, "郭芳", "remind run", group="product_design")[0] == "Reminder run"
    assert reads(sandbox, mark)["ehr"] == 0  # the roster read 3 minutes ago, not walked again
    # The scheduler's job right after, on the same clients: everyone was read minutes ago.
    [sub, _] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    clients = bot.client.application.extensions["bot"].clients
    scheduled = NOW + timedelta(minutes=5)
    runtime = Runtime(settings=quota_settings, clients=clients, store=store, clock=lambda: scheduled)
    mark = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, scheduled, jobs.shared_run(runtime, scheduled))
    assert reads(sandbox, mark) == Counter()


def test_the_limits_are_settings_read_from_the_environment():
    from bot.settings import Settings

    base = {"FEISHU_APP_ID": "cli_x", "FEISHU_APP_SECRET": "s"}
    defaults = Settings.from_env(base)
    assert (defaults.min_schedule_minutes, defaults.max_group_reminders, defaults.run_cooldown_minutes) == (60, 5, 10)
    changed = Settings.from_env({**base, "BOT_MIN_SCHEDULE_MINUTES": "1440", "BOT_MAX_GROUP_REMINDERS": "2",
                                 "BOT_RUN_COOLDOWN_MINUTES": "0"})
    assert (changed.min_schedule_minutes, changed.max_group_reminders, changed.run_cooldown_minutes) == (1440, 2, 0)
