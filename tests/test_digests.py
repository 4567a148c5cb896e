"""Group OKR reminders and manager digests: subscribing, who gets mentioned, exactly-once delivery,
persistence across restarts, nudges and snoozes. Time is driven explicitly, never by sleeping."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from bot.digests import jobs
from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.feishu.clients import FeishuClients
from bot.scheduler import configure_scheduler
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of
from tests.conftest import card_title

TZ = ZoneInfo("Asia/Shanghai")
FRIDAY_1700 = datetime(2026, 11, 27, 17, 0, tzinfo=TZ)
ANCHOR_1700 = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)  # the seed's leave approvals are on this day


def run_at_once(runtimes, sub, when) -> list:
    """The same subscription and scheduled time run by several schedulers at the same moment."""
    barrier = threading.Barrier(len(runtimes))
    results = []

    def run(rt):
        barrier.wait()
        results.append(run_at(rt, sub, when))

    threads = [threading.Thread(target=run, args=(rt,)) for rt in runtimes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def mentioned(card) -> set[str]:
    return set(re.findall(r"<at id=(ou_\w+)></at>", str(card)))


def to_group(sandbox, sub) -> list:
    """The outbox entries sent to the reminder's group (each person who needs to act also gets a private card)."""
    return [e for e in sandbox.state.outbox.entries() if e["receive_id"] == sub.target]


def group_sends(store, sub) -> list[str]:
    """The sent-log statuses of the reminder's group card (its private check-in cards are logged too)."""
    return [s["status"] for s in store.subscriptions.sends(sub.id) if s["recipient"] == sub.target]


# -- subscribing --------------------------------------------------------------------------------------

def test_group_owner_subscribes_and_lists_with_next_run(bot, store):
    [entry] = bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    assert card_title(entry) == "OKR 提醒已开启"
    assert "2026-11-27 17:00" in bot.text_of(entry)
    [sub] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    assert sub.target == bot.sandbox.seed.chat("eng_weekly").chat_id and sub.stale_days == 7
    [entry] = bot.say("陈立", "remind list", group="eng_weekly")
    assert f"#{sub.id}" in bot.text_of(entry) and "2026-11-27 17:00" in bot.text_of(entry)


def test_stale_days_are_settable_and_english_phrases_work(bot, store):
    bot.say("陈立", "remind okr weekdays 9:30 stale 3", group="eng_weekly")
    [sub] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    assert sub.stale_days == 3


def test_only_owner_managers_or_admins_change_reminders(bot, store):
    [entry] = bot.say("刘芳", "提醒 OKR 周五 17:00", group="eng_weekly")
    assert card_title(entry) == "无法查看"
    assert store.subscriptions.find() == []
    [entry] = bot.say("郭芳", "remind okr fri 17:00", group="eng_weekly")  # a bot admin
    assert card_title(entry) == "OKR reminder on"


def test_a_bad_time_gets_a_clear_correction(bot, store):
    [entry] = bot.say("陈立", "提醒 OKR 周五 25:00", group="eng_weekly")
    assert card_title(entry) == "没看懂这个时间"
    assert "25:00" in bot.text_of(entry)
    assert store.subscriptions.find() == []


def test_reminders_belong_to_groups(bot):
    [entry] = bot.say("陈立", "remind okr fri 17:00")
    assert card_title(entry) == "Use this in a group"


def test_remind_off(bot, store):
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find()
    [entry] = bot.say("陈立", f"提醒 关闭 {sub.id}", group="eng_weekly")
    assert card_title(entry) == "OKR 提醒已关闭"
    assert store.subscriptions.find() == []


# -- the reminder card ---------------------------------------------------------------------------------

def _seed_latest_update(sandbox, person, period_id):
    batch = next(b for b in sandbox.seed.okrs_of(person) if str(b["period_id"]) == period_id)
    times = []
    for o in batch.get("objective_list", []):
        times.append(int(o.get("progress_rate_percent_last_updated_time") or 0))
        times += [int(kr.get("progress_rate_percent_last_updated_time") or 0) for kr in o.get("kr_list", [])]
    return datetime.fromtimestamp(max(times) / 1000, tz=TZ) if any(times) else None


def _seed_has_risk(sandbox, person, period_id):
    batch = next(b for b in sandbox.seed.okrs_of(person) if str(b["period_id"]) == period_id)
    items = list(batch.get("objective_list", [])) + [kr for o in batch.get("objective_list", [])
                                                     for kr in o.get("kr_list", [])]
    return any(str(i.get("progress_rate", {}).get("status")) in ("1", "2") for i in items if i.get("permission") != 0)


def test_reminder_mentions_exactly_the_stale(bot, runtime, store, sandbox):
    """By default (mention stale) the group card @-mentions those with no progress update in N days, and not
    those who updated but marked something at risk (issue 15: humane reminders)."""
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find()
    sandbox.state.outbox.clear()
    message_id = run_at(runtime, sub, ANCHOR_1700)
    assert message_id
    [entry] = to_group(sandbox, sub)
    card = entry["content"]
    assert_valid_card(card)
    assert entry["receive_id"] == sub.target
    assert card_title(entry) == "OKR 进度提醒"
    got = mentioned(card)
    seed = sandbox.seed
    period = next(p for p in seed.periods if p.key == "current")
    on_leave = {seed.person(k).open_id for k in ("liufang", "fengchao")}
    for open_id in seed.chat("eng_weekly").member_open_ids:
        person = seed.person_by_id(open_id)
        okrs = [b for b in seed.okrs_of(person) if str(b["period_id"]) == period.id]
        should = False
        if person.ehr_status == 2 and open_id not in on_leave and okrs and okrs[0].get("permission") == 1:
            latest = _seed_latest_update(sandbox, person, period.id)
            should = latest is None or (ANCHOR_1700 - latest).days >= 7
        assert (open_id in got) == should, person.name
    assert got and not got & on_leave
    assert seed.person("zhaoqiang").open_id not in got  # leaving
    _, decisions = store.subscriptions.last_decisions(sub.id)
    assert decisions[seed.person("liufang").open_id] == "skipped_on_leave"
    assert decisions[seed.person("zhaoqiang").open_id] == "skipped_left_or_leaving"
    labels = [b["text"]["content"] for b in buttons_of(card)]
    assert labels == ["打开飞书 OKR", "明天再提醒我"]


def test_the_same_scheduled_time_twice_sends_once(runtime, store, sandbox, bot):
    sub = store.subscriptions.add(kind=KIND_OKR_REMINDER, target=sandbox.seed.chat("eng_weekly").chat_id,
                                 created_by="ou_x", schedule={"minute": "0", "hour": "17", "day": "*", "month": "*",
                                                             "day_of_week": "fri", "timezone": "Asia/Shanghai"})
    sandbox.state.outbox.clear()
    assert run_at(runtime, sub, FRIDAY_1700)
    sent = len(sandbox.state.outbox)
    assert run_at(runtime, sub, FRIDAY_1700) is None
    assert len(sandbox.state.outbox) == sent and len(to_group(sandbox, sub)) == 1
    assert group_sends(store, sub) == ["sent"]
    assert all(s["status"] == "sent" for s in store.subscriptions.sends(sub.id))


def test_two_schedulers_on_one_database_send_once(admin_settings, sandbox, tmp_path):
    url = f"sqlite:///{tmp_path}/shared.db"
    first = Runtime(settings=admin_settings, clients=FeishuClients.create(admin_settings), store=Store(url))
    second = Runtime(settings=admin_settings, clients=FeishuClients.create(admin_settings), store=Store(url))
    sub = first.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=sandbox.seed.chat("eng_weekly").chat_id,
                                       created_by="ou_x", schedule={})
    sandbox.state.outbox.clear()
    results = run_at_once((first, second), sub, FRIDAY_1700)
    assert results.count(None) == 1 and len([r for r in results if r]) == 1
    recipients = [e["receive_id"] for e in sandbox.state.outbox.entries()]
    assert recipients.count(sub.target) == 1 and len(recipients) == len(set(recipients))


def _runtime_at(bot, store, settings, moment) -> Runtime:
    return Runtime(settings=settings, clients=bot.client.application.extensions["bot"].clients, store=store,
                   clock=lambda: moment)


def _reminder(store, sandbox):
    return store.subscriptions.add(kind=KIND_OKR_REMINDER, target=sandbox.seed.chat("eng_weekly").chat_id,
                                  created_by="ou_x", schedule={})


def test_a_send_feishu_would_not_take_is_tried_again_and_goes_out_once(bot, store, sandbox, admin_settings):
    sub = _reminder(store, sandbox)
    sandbox.state.outbox.clear()
    sandbox.state.faults.inject("/open-apis/im/v1/messages", times=None, http_status=503, code=1, msg="down",
                               method="POST")
    assert run_at(_runtime_at(bot, store, admin_settings, FRIDAY_1700), sub, FRIDAY_1700) is None
    assert group_sends(store, sub) == ["retry"]
    assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=5))) == 0
    sandbox.state.faults.clear()  # Feishu is back
    assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=10))) == 1
    assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=15))) == 0
    recipients = [e["receive_id"] for e in sandbox.state.outbox.entries()]
    assert recipients.count(sub.target) == 1 and len(recipients) == len(set(recipients))
    assert all(s["status"] == "sent" for s in store.subscriptions.sends(sub.id))


def test_a_send_whose_process_died_is_tried_again_without_a_second_message(bot, store, sandbox, admin_settings):
    from bot.outbox import Key

    sub = _reminder(store, sandbox)
    sandbox.state.outbox.clear()
    # The process claimed the send and sent the card, then died before recording that it had.
    assert store.subscriptions.claim_send(sub.id, FRIDAY_1700, sub.target, now=FRIDAY_1700)
    _runtime_at(bot, store, admin_settings, FRIDAY_1700).outbox.send(
        sub.target, {"schema": "2.0", "body": {"elements": []}}, Key.scheduled(sub.id, FRIDAY_1700, sub.target))
    assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=5))) == 0
    assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=11))) == 1
    assert len(to_group(sandbox, sub)) == 1  # the uuid made Feishu drop the copy
    assert group_sends(store, sub) == ["sent"]


def test_sends_are_given_up_after_the_uuid_window_or_when_feishu_refuses(bot, store, sandbox, admin_settings):
    outage, refused = _reminder(store, sandbox), _reminder(store, sandbox)
    sandbox.state.outbox.clear()
    sandbox.state.faults.inject("/open-apis/im/v1/messages", times=1, http_status=400, code=230002,
                               msg="Bot is not in the chat", method="POST")
    assert run_at(_runtime_at(bot, store, admin_settings, FRIDAY_1700), refused, FRIDAY_1700) is None
    assert group_sends(store, refused) == ["failed"]  # no use trying again
    sandbox.state.faults.inject("/open-apis/im/v1/messages", times=None, http_status=503, code=1, msg="down",
                               method="POST")
    assert run_at(_runtime_at(bot, store, admin_settings, FRIDAY_1700), outage, FRIDAY_1700) is None
    for minutes in (5, 10, 15):  # three more attempts: four in all
        assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=minutes))) == 0
    sandbox.state.faults.clear()
    assert jobs.retry_sends(_runtime_at(bot, store, admin_settings, FRIDAY_1700 + timedelta(minutes=20))) == 0
    assert to_group(sandbox, outage) == []
    given_up = store.subscriptions.sends(outage.id)
    assert given_up and all(s["status"] == "failed" and s["error"].endswith("(given up)") for s in given_up)
    assert group_sends(store, refused) == ["failed"]


def test_jobs_survive_a_scheduler_restart(admin_settings, store, bot, runtime, sandbox):
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find()
    first = configure_scheduler(BackgroundScheduler(), admin_settings)
    first.start(paused=True)
    assert jobs.sync_jobs(runtime, first) == 1
    job = first.get_job(f"sub:{sub.id}")
    next_run = job.next_run_time
    assert next_run.weekday() == 4 and (next_run.hour, next_run.minute) == (17, 0)
    first.shutdown()

    second = configure_scheduler(BackgroundScheduler(), admin_settings)
    second.start(paused=True)
    job = second.get_job(f"sub:{sub.id}")
    assert job is not None and job.next_run_time == next_run  # loaded from the job store, not re-added
    assert job.func_ref == "bot.digests.jobs:run_subscription" and job.args == (sub.id,)
    store.subscriptions.deactivate(sub.id)
    assert jobs.sync_jobs(runtime, second) == 0 and second.get_job(f"sub:{sub.id}") is None
    second.shutdown()


def test_the_scheduler_keeps_plain_jobs_in_its_job_store_and_its_own_jobs_in_memory(admin_settings, store, bot,
                                                                                      sandbox):
    """A subscription's job is an importable function and the subscription's id (in the SQLAlchemy store), and
    runs with the Runtime the process registered; the sync and retry jobs live in memory and are handed the
    runtime and scheduler; a sync job an earlier version left in the job store is taken out."""
    from bot.scheduler import start_scheduler

    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find()
    earlier = configure_scheduler(BackgroundScheduler(), admin_settings)
    earlier.start(paused=True)
    # (its function then took no arguments; any importable one stands in for it in the job store)
    earlier.add_job("bot.digests.jobs:run_subscription", "interval", args=[0], seconds=60, id="sync-subscriptions")
    earlier.shutdown()
    scheduler, runtime = start_scheduler(admin_settings, clock=lambda: FRIDAY_1700)
    try:
        job = scheduler.get_job(f"sub:{sub.id}", jobstore="default")
        assert job.func_ref == jobs.JOB_FUNC and job.args == (sub.id,)
        assert scheduler.get_job("sync-subscriptions", jobstore="default") is None
        sync = scheduler.get_job("sync-subscriptions", jobstore="memory")
        retry = scheduler.get_job("retry-sends", jobstore="memory")
        assert sync.args == (runtime, scheduler) and retry.args == (runtime,)
        sandbox.state.outbox.clear()
        assert job.func(*job.args)  # the registered runtime, at the scheduled Friday 17:00
        assert len(sandbox.state.requests.matching("/im/v1/messages", "POST")) >= 1
    finally:
        scheduler.shutdown()


def test_snooze_skips_the_clicker_until_tomorrow(bot, runtime, store, sandbox):
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find()
    sandbox.state.outbox.clear()
    run_at(runtime, sub, ANCHOR_1700)
    [entry] = to_group(sandbox, sub)
    someone = next(iter(mentioned(entry["content"])))
    name = sandbox.seed.person_by_id(someone).name
    status, answer = bot.click(name, entry, "明天再提醒我")
    assert answer == {"toast": {"type": "success", "content": "好的，明天再提醒你。"}}
    run_at(runtime, sub, ANCHOR_1700 + timedelta(hours=1))
    assert someone not in mentioned(to_group(sandbox, sub)[-1]["content"])
    _, decisions = store.subscriptions.last_decisions(sub.id)
    assert decisions[someone] == "skipped_snoozed"


def test_remind_why_answers_from_the_delivery_log(bot, runtime, store, sandbox):
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find()
    run_at(runtime, sub, ANCHOR_1700)
    entries = bot.say("陈立", "提醒 为什么 {0}", group="eng_weekly", mentions=("刘芳",))
    [entry] = [e for e in entries if e["receive_id"] == sandbox.seed.person("cto").open_id]  # the owner, privately
    assert "当天请假" in bot.text_of(entry) and "sent" in bot.text_of(entry)


# -- manager digests -----------------------------------------------------------------------------------

def test_digest_now_sends_the_manager_a_private_card_with_problems_first(bot, sandbox, store):
    manager = sandbox.seed.person("wanglei")
    entries = bot.say("王磊", "周报 立即")
    private = [e for e in entries if e["receive_id"] == manager.open_id]
    assert len(private) == 1
    card = private[0]["content"]
    assert_valid_card(card)
    assert card_title(private[0]) == "王磊 的团队周报"
    elements = card["body"]["elements"]
    tags = [e["tag"] for e in elements]
    assert "chart" in tags
    first_problem = next(i for i, e in enumerate(elements) if "需要关注" in str(e))
    assert first_problem < tags.index("chart")  # problems lead, the status report follows
    assert any(b["text"]["content"] == "提醒一下" for b in buttons_of(card))
    text = bot.text_of(private[0])
    reports = [p for p in sandbox.seed.people if p.leader_key == "wanglei" and p.is_active]
    assert f"直属下属 {len(reports)} 人" in text
    assert "<at " not in str(card)  # a digest notifies nobody


def test_nudge_sends_once_and_only_for_the_manager(bot, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    digest = next(e for e in bot.say("王磊", "digest now") if e["receive_id"] == manager)
    nudge = next(b for b in buttons_of(digest["content"]) if b["text"]["content"] == "Nudge")
    target = nudge["behaviors"][0]["value"]["target"]
    before = len(sandbox.state.outbox)
    status, answer = bot.click("刘芳", digest, "Nudge")
    assert answer["toast"]["type"] == "warning"
    status, answer = bot.click("王磊", digest, "Nudge")
    assert answer["toast"]["content"].startswith("Nudged")
    dm = sandbox.state.outbox.entries()[before:]
    assert [e["receive_id"] for e in dm] == [target]
    assert "OKR" in card_title(dm[0])
    status, answer = bot.click("王磊", digest, "Nudge")
    assert answer["toast"]["content"] == "Already nudged."
    assert len(sandbox.state.outbox) == before + 1


def test_digest_on_for_managers_and_on_all_for_admins(bot, store, sandbox):
    [entry] = bot.say("刘芳", "digest on")
    assert card_title(entry) == "Not available to you"
    [entry] = bot.say("王磊", "周报 开启 周一 9:00")
    assert card_title(entry) == "团队周报"
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    assert sub.target == sandbox.seed.person("wanglei").open_id
    [entry] = bot.say("郭芳", "digest on all")
    managers = {p.leader_key for p in sandbox.seed.people if p.leader_key and p.is_active}
    assert len(store.subscriptions.find(kind=KIND_MANAGER_DIGEST)) >= len(managers) - 1
    [entry] = bot.say("王磊", "周报 关闭")
    assert sandbox.seed.person("wanglei").open_id not in {s.target for s in store.subscriptions.find()}


def test_scheduled_digest_goes_out_once_and_is_logged(bot, runtime, store, sandbox):
    bot.say("王磊", "digest on mon 09:00")
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    sandbox.state.outbox.clear()
    assert run_at(runtime, sub, monday)
    assert run_at(runtime, sub, monday) is None
    assert len(sandbox.state.outbox) == 1
    [entry] = bot.say("王磊", "digest log")
    assert "2026-11-30T01:00:00Z" in bot.text_of(entry) and "sent" in bot.text_of(entry)


def test_stats_for_admins(bot, runtime, store, sandbox):
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    run_at(runtime, store.subscriptions.find()[0], ANCHOR_1700)
    [entry] = bot.say("郭芳", "stats")
    text = bot.text_of(entry)
    assert "okr.user_okr.list" in text
    [entry] = bot.say("刘芳", "统计")
    assert card_title(entry) == "无法查看"
