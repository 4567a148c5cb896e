"""The scoring reminder (issue 15, cadences): `remind score [N] [at HH:MM]` / `提醒 评分 [N]` subscribes a group;
its job fires daily and posts only on the day N days before the current OKR period's last day, @-mentioning the
members whose current-period OKRs carry no score — once per group and period; `remind run` posts it at once.

The tests' seed has no scores in the current period (2026-10-01 – 2026-12-31): the tests score a few people's
OKRs in the sandbox's data for the test (restored after it). Everything goes through the webhook (chat fixtures)
and the jobs; what the bot SENT is read from the sandbox's request log."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from bot.digests import jobs
from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.inbound import InlineExecutor
from bot.store import Store
from bot.store.base import Base
from bot.store.subscriptions import KIND_OKR_SCORE
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of
from tests.conftest import NOW, Chat, card_title

TZ = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 24, 10, 0, tzinfo=TZ)  # 7 days before the current period's last day, 2026-12-31
MESSAGES = "/open-apis/im/v1/messages"


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/bot.db")


def _bot(settings, sandbox, store, tmp_path, **changes) -> Chat:
    settings = settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                              database_url=f"sqlite:///{tmp_path}/bot.db", **changes)
    app = create_app(settings, executor=InlineExecutor(), clock=lambda: NOW, store=store)
    return Chat(app.test_client(), sandbox, settings)


@pytest.fixture
def bot(settings, sandbox, store, tmp_path):
    return _bot(settings, sandbox, store, tmp_path)


def _runtime(bot: Chat, store, when: datetime) -> Runtime:
    service = bot.client.application.extensions["bot"]
    return Runtime(settings=service.settings, clients=service.clients, store=store, clock=lambda: when)


def sent(sandbox, since: int) -> list[tuple[str, dict]]:
    """(receive_id, card) of every message the bot POSTed since request number `since` (the request log)."""
    out = []
    for request in sandbox.state.requests.entries()[since:]:
        if request["method"] == "POST" and request["path"] == MESSAGES:
            body = request["body"] if isinstance(request["body"], dict) else {}
            out.append((str(body.get("receive_id")), json.loads(body.get("content") or "{}")))
    return out


def mentioned(card) -> set[str]:
    return set(re.findall(r"<at id=(ou_\w+)></at>", json.dumps(card, ensure_ascii=False)))


def _current(sandbox, open_id) -> list[dict]:
    period = sandbox.seed.current_period
    return [b for b in sandbox.seed.okrs_of(open_id) if str(b["period_id"]) == period.id]


def _eligible(sandbox) -> list[str]:
    """The group's members the reminder looks at on DUE: in the directory, active and not leaving, with current
    objectives the bot may see (nobody in the seed is on leave that day)."""
    out = []
    for open_id in sandbox.seed.chat("eng_weekly").member_open_ids:
        person = sandbox.seed.person_by_id(open_id)
        if person is None or person.ehr_status != 2:
            continue
        batches = [b for b in _current(sandbox, open_id) if b.get("permission") == 1]
        if any(o.get("permission") == 1 for b in batches for o in b["objective_list"]):
            out.append(open_id)
    return out


@pytest.fixture
def scored(sandbox, monkeypatch) -> set[str]:
    """Three of 研发周会's members scored this period (two on an objective, one only on a key result); the
    sandbox's data is put back after the test."""
    people = _eligible(sandbox)[:3]
    for index, open_id in enumerate(people):
        [batch] = _current(sandbox, open_id)
        objective = next(o for o in batch["objective_list"] if o.get("permission") == 1)
        if index < 2:
            monkeypatch.setitem(objective, "score", 70)
        else:
            monkeypatch.setitem(objective["kr_list"][0], "score", 60)
    return set(people)


def _subscribe(bot: Chat, store, words: str = "提醒 评分"):
    [entry] = bot.say("陈立", words, group="eng_weekly")  # the group's owner
    assert card_title(entry) in ("评分提醒已开启", "Scoring reminder on"), bot.text_of(entry)
    [sub] = store.subscriptions.find(kind=KIND_OKR_SCORE)
    return sub


def _run(bot, store, sandbox, when, **kwargs) -> tuple[str | None, list[tuple[str, dict]]]:
    start = len(sandbox.state.requests.entries())
    [sub] = store.subscriptions.find(kind=KIND_OKR_SCORE)
    message_id = run_at(_runtime(bot, store, when), sub, when, **kwargs)
    return message_id, sent(sandbox, start)


# -- subscribing -----------------------------------------------------------------------------------------------

def test_subscribe_list_and_change_n_and_time(bot, store, sandbox):
    sub = _subscribe(bot, store)
    assert (sub.days_before_end, sub.schedule["hour"], sub.schedule["minute"]) == (7, "10", "0")
    assert sub.target == sandbox.seed.chat("eng_weekly").chat_id
    [entry] = bot.say("陈立", "提醒 列表", group="eng_weekly")
    listed = bot.text_of(entry)
    assert "评分提醒：周期结束前 7 天 10:00" in listed and "2026-12-24 10:00" in listed
    # A second one changes N and the time: still one per group.
    [entry] = bot.say("陈立", "remind score 5 at 9:30", group="eng_weekly")
    assert card_title(entry) == "Scoring reminder changed"
    assert "2026-12-26 09:30" in bot.text_of(entry)
    [again] = store.subscriptions.find(kind=KIND_OKR_SCORE)
    assert again.id == sub.id and again.days_before_end == 5 and again.schedule["hour"] == "9"
    [entry] = bot.say("陈立", "remind list", group="eng_weekly")
    assert "Scoring reminder: 5 days before the period ends, at 09:30" in bot.text_of(entry)
    [entry] = bot.say("陈立", "提醒 评分 3", group="eng_weekly")  # the time stays
    assert store.subscriptions.get(sub.id).days_before_end == 3
    assert store.subscriptions.get(sub.id).schedule["minute"] == "30"


@pytest.mark.parametrize(("words", "says", "example"), [
    ("提醒 评分 31", "不是 1–30 之间的天数", "提醒 评分 30 10:00"),
    ("提醒 评分 0", "不是 1–30 之间的天数", "提醒 评分 1 10:00"),
    ("提醒 评分 5 25:00", "不是一天里的时间", "提醒 评分 7 10:00"),
    ("提醒 评分 5 香蕉", "没看懂「香蕉」", "提醒 评分 5 10:00"),
    ("提醒 评分 5 6", "只能写一个天数", "提醒 评分 7 10:00"),
])
def test_a_bad_n_or_time_gets_a_correction_and_stores_nothing(bot, store, words, says, example):
    [entry] = bot.say("陈立", words, group="eng_weekly")
    assert card_title(entry) == "没看懂评分提醒"
    assert says in bot.text_of(entry)
    assert [b["text"]["content"] for b in buttons_of(entry["content"])] == ["试试：" + example]
    assert store.subscriptions.find() == []


def test_only_owner_managers_or_admins_subscribe_change_run_or_turn_it_off(bot, store, sandbox):
    [entry] = bot.say("刘芳", "提醒 评分", group="eng_weekly")  # a member
    assert "只有群主" in bot.text_of(entry) and store.subscriptions.find() == []
    [entry] = bot.say("郭芳", "remind score", group="eng_weekly")  # a bot admin
    assert card_title(entry) == "Scoring reminder on"
    [sub] = store.subscriptions.find(kind=KIND_OKR_SCORE)
    start = len(sandbox.state.requests.entries())
    for words in ("提醒 评分 3", "提醒 立即", f"提醒 关闭 {sub.id}", "提醒 评分 关闭"):
        [entry] = bot.say("刘芳", words, group="eng_weekly")
        assert "只有群主" in bot.text_of(entry), words
    assert sent(sandbox, start) == []  # answered in reply to each; no reminder went out
    assert store.subscriptions.get(sub.id).days_before_end == 7 and store.subscriptions.get(sub.id).active
    [entry] = bot.say("陈立", "提醒 评分 关闭", group="eng_weekly")
    assert card_title(entry) == "评分提醒已关闭" and store.subscriptions.find() == []


def test_it_counts_toward_the_groups_reminders(settings, sandbox, store, tmp_path):
    bot = _bot(settings, sandbox, store, tmp_path, max_group_reminders=2)
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    _subscribe(bot, store)
    [entry] = bot.say("陈立", "提醒 OKR 周一 9:30", group="eng_weekly")
    assert card_title(entry) == "提醒太多了"
    [sub] = store.subscriptions.find(kind=KIND_OKR_SCORE)
    bot.say("陈立", f"提醒 关闭 {sub.id}", group="eng_weekly")
    bot.say("陈立", "提醒 OKR 周一 9:30", group="eng_weekly")
    [entry] = bot.say("陈立", "提醒 评分", group="eng_weekly")
    assert card_title(entry) == "提醒太多了" and store.subscriptions.find(kind=KIND_OKR_SCORE) == []


# -- the job ----------------------------------------------------------------------------------------------------

def test_on_other_days_the_job_sends_nothing(bot, store, sandbox, scored):
    _subscribe(bot, store)
    for when in (DUE - timedelta(days=1), DUE + timedelta(days=1), datetime(2026, 11, 25, 10, 0, tzinfo=TZ)):
        message_id, posts = _run(bot, store, sandbox, when)
        assert message_id is None and posts == [], when
    [sub] = store.subscriptions.find(kind=KIND_OKR_SCORE)
    assert store.subscriptions.sends(sub.id) == []  # nothing claimed either


def test_on_its_day_one_card_mentions_exactly_the_unscored(bot, store, sandbox, scored):
    sub = _subscribe(bot, store)
    message_id, posts = _run(bot, store, sandbox, DUE)
    assert message_id
    [(to, card)] = posts
    assert to == sub.target
    assert_valid_card(card)
    assert card["header"]["title"]["content"] == "OKR 评分提醒"
    eligible = set(_eligible(sandbox))
    assert scored <= eligible and len(eligible - scored) >= 5
    assert mentioned(card) == eligible - scored  # not the scored, not the leaving, not the hidden
    zhaoqiang = sandbox.seed.person("zhaoqiang").open_id
    assert zhaoqiang in sandbox.seed.chat("eng_weekly").member_open_ids and zhaoqiang not in mentioned(card)
    raw = json.dumps(card, ensure_ascii=False)
    assert "将于 **2026-12-31** 结束" in raw and "请给自己的 OKR 评分" in raw
    assert f"{len(eligible)} 人中 **{len(scored)}** 人已评分" in raw
    [button] = buttons_of(card)
    assert button["text"]["content"] == "打开飞书 OKR" and "okr.feishu.cn" in json.dumps(button)
    _, decisions = store.subscriptions.last_decisions(sub.id)
    assert decisions[zhaoqiang] == "skipped_left_or_leaving"
    assert {o for o, d in decisions.items() if d == "scored"} == scored
    # The same day again, another scheduler's run, the next day: nothing more (once per group and period).
    assert _run(bot, store, sandbox, DUE) == (None, [])
    assert _run(bot, store, sandbox, DUE + timedelta(minutes=5)) == (None, [])
    bot.say("陈立", "提醒 评分 6", group="eng_weekly")  # its day moves to 12-25, in the same period
    assert _run(bot, store, sandbox, DUE + timedelta(days=1)) == (None, [])
    assert [s["status"] for s in store.subscriptions.sends(sub.id)] == ["sent"]


def test_the_scheduler_path_reads_ahead_only_on_its_day(bot, store, sandbox, scored):
    """jobs.start_run (what the scheduler's job runs first) on another day reads no member and no OKR."""
    sub = _subscribe(bot, store)
    runtime = _runtime(bot, store, DUE - timedelta(days=1))
    start = len(sandbox.state.requests.entries())
    data = jobs.start_run(runtime, DUE - timedelta(days=1))
    assert run_at(runtime, sub, DUE - timedelta(days=1), data) is None
    for thread in threading.enumerate():  # wait until the run's read-ahead threads have ended
        if thread.name.startswith(f"{data.label} read-ahead"):
            thread.join(timeout=60)
    paths = {r["path"] for r in sandbox.state.requests.entries()[start:]}
    assert not any("/okrs" in p or "/members" in p for p in paths), paths
    runtime = _runtime(bot, store, DUE)
    start = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, DUE, jobs.start_run(runtime, DUE))
    assert len(sent(sandbox, start)) == 1


def test_when_everyone_has_scored_the_group_gets_a_thank_you(bot, store, sandbox, monkeypatch):
    for open_id in _eligible(sandbox):
        for batch in _current(sandbox, open_id):
            for objective in batch["objective_list"]:
                if objective.get("permission") == 1:
                    monkeypatch.setitem(objective, "score", 80)
    _subscribe(bot, store)
    _, [(_, card)] = _run(bot, store, sandbox, DUE)
    raw = json.dumps(card, ensure_ascii=False)
    assert mentioned(card) == set() and "大家都已评分" in raw and card["header"]["template"] == "green"


# -- remind run, why -----------------------------------------------------------------------------------------

def test_remind_run_posts_now_whatever_the_day(bot, store, sandbox, scored):
    """NOW is 2026-11-25, five weeks before the end; 刘芳 and 冯超 are on leave that day."""
    sub = _subscribe(bot, store)
    start = len(sandbox.state.requests.entries())
    entries = bot.say("陈立", "提醒 立即", group="eng_weekly")
    [answer] = [e for e in entries if card_title(e) == "立即提醒"]
    assert f"#{sub.id}" in bot.text_of(answer)
    [(to, card)] = sent(sandbox, start)  # one POST: the reminder (the answer is a reply)
    assert to == sub.target and card["header"]["title"]["content"] == "OKR 评分提醒"
    on_leave = {sandbox.seed.person(k).open_id for k in ("liufang", "fengchao")}
    assert mentioned(card) == set(_eligible(sandbox)) - scored - on_leave
    assert "还有 36 天" in json.dumps(card, ensure_ascii=False)


def test_remind_why_gives_the_scoring_reason(bot, store, sandbox, scored):
    _subscribe(bot, store)
    _run(bot, store, sandbox, DUE)
    unscored = sorted(set(_eligible(sandbox)) - scored)[0]
    name = sandbox.seed.person_by_id(unscored).name
    entries = bot.say(name, "提醒 为什么", group="eng_weekly")
    [dm] = [e for e in entries if e["receive_id"] == unscored]
    assert "还没有评分" in bot.text_of(dm)


# -- existing databases ------------------------------------------------------------------------------------------

def test_an_existing_database_gets_the_days_column(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE subscriptions DROP COLUMN days_before_end"))
        conn.execute(text("INSERT INTO subscriptions (kind, target, created_by, schedule, stale_days, locale, active, "
                          "created_at) VALUES ('okr_reminder', 'oc_1', 'ou_1', '{}', 7, 'zh_cn', 1, :now)"),
                     {"now": NOW})
    engine.dispose()
    store = Store(url)
    [sub] = store.subscriptions.find()
    assert sub.days_before_end == 7
    assert store.subscriptions.set_options(sub.id, days_before_end=3)
    assert store.subscriptions.get(sub.id).days_before_end == 3
    store.engine.dispose()
