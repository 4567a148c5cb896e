"""The manager digest after a click: a nudge redraws the digest in place (the button becomes "Nudged ✓"),
"Nudge everyone with a problem" nudges each listed report once per digest, only the digest's manager (or theirs,
or an admin) may nudge, a click reads no OKR again; the chart names one bar per person, worst first, at most ten,
then "and N more"; reports who checked in through the bot since the last digest are shown. Digests are run by the
jobs (run_at) and through the chat; every nudge is counted in the sandbox's request log, not in what it kept."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digests.jobs import run_at
from bot.store import KIND_MANAGER_DIGEST
from cards.components import chat_link
from cards.digest import MAX_CHART_BARS
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, callback_value
from devkit.sandbox.event_push import card_action_event
from tests.conftest import NOW, Chat

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
NEXT_MONDAY = MONDAY + timedelta(days=7)
NUDGE, NUDGED = "提醒一下", "已提醒 ✓"
EVERYONE, EVERYONE_NUDGED = "提醒所有有问题的人", "已全部提醒 ✓"


def open_id(sandbox, key: str) -> str:
    return sandbox.seed.person(key).open_id


def scheduled_digest(bot: Chat, runtime, store, sandbox, when: datetime = MONDAY, *, manager: str = "王磊") -> dict:
    """Subscribe `manager` (in Chinese) and run the digest job at `when`; the message the manager got."""
    if not store.subscriptions.find(kind=KIND_MANAGER_DIGEST):
        bot.say(manager, "周报 开启 周一 9:00")
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    mark = len(sandbox.state.outbox)
    assert run_at(runtime, sub, when)
    [entry] = [e for e in sandbox.state.outbox.entries()[mark:] if e["receive_id"] == sub.target]
    return entry


def nudge_buttons(card: dict) -> dict[str, dict]:
    """target -> its button, for the problem lines' buttons."""
    return {value["target"]: b for b in buttons_of(card)
            if (value := callback_value(b) or {}).get("cmd") == "nudge" and "target" in value}


def everyone_button(card: dict) -> dict:
    [button] = [b for b in buttons_of(card) if (callback_value(b) or {}).get("everyone") is True]
    return button


def click(bot: Chat, as_person: str, entry: dict, value: dict, *, event_id: str | None = None):
    """A click on the button carrying `value`; the same `event_id` twice is Feishu delivering it again."""
    payload = card_action_event(operator_open_id=bot.person(as_person).open_id, value=value,
                                message_id=entry["message_id"], chat_id=entry.get("chat_id", ""),
                                token=bot.sender.token, app_id=bot.sender.app_id, event_id=event_id)
    status, body = bot.sender.deliver("/webhook/card", payload)
    assert status == 200, body
    return json.loads(body) if body else {}


def nudges_sent(sandbox, mark: int = 0) -> list[str]:
    """Whom the bot sent a message since `mark` (after a digest, only nudges go out): the request log, every
    POST, even one the sandbox dropped as a repeat."""
    return [r["body"]["receive_id"] for r in sandbox.state.requests.entries()[mark:]
            if r["method"] == "POST" and r["path"].startswith("/open-apis/im/v1/messages")
            and isinstance(r["body"], dict)]


def answered_card(answer: dict) -> dict:
    card = answer["card"]["data"]
    assert_valid_card(card)
    return card


def label(button: dict) -> str:
    return button["text"]["content"]


# -- one nudge --------------------------------------------------------------------------------------------------

def test_a_nudge_redraws_the_digest_with_that_button_disabled(bot, runtime, store, sandbox):
    digest = scheduled_digest(bot, runtime, store, sandbox)
    buttons = nudge_buttons(digest["content"])
    assert len(buttons) >= 3 and all(label(b) == NUDGE for b in buttons.values())
    first, second, *_ = buttons
    mark = len(sandbox.state.requests.entries())
    answer = click(bot, "王磊", digest, callback_value(buttons[first]))
    assert answer["toast"]["content"].startswith("已提醒")
    assert nudges_sent(sandbox, mark) == [first]
    card = answered_card(answer)
    after = nudge_buttons(card)
    assert set(after) == set(buttons)  # the same digest, redrawn
    assert label(after[first]) == NUDGED and after[first].get("disabled") is True
    assert all(label(b) == NUDGE and not b.get("disabled") for t, b in after.items() if t != first)
    assert card["header"] == digest["content"]["header"]
    # A second nudge from the same (old) card: the first stays shown as nudged.
    answer = click(bot, "王磊", digest, callback_value(buttons[second]))
    after = nudge_buttons(answered_card(answer))
    assert {t for t, b in after.items() if b.get("disabled")} == {first, second}
    assert nudges_sent(sandbox, mark) == [first, second]


def test_a_second_click_or_a_replay_sends_no_second_nudge(bot, runtime, store, sandbox):
    digest = scheduled_digest(bot, runtime, store, sandbox)
    target, button = next(iter(nudge_buttons(digest["content"]).items()))
    mark = len(sandbox.state.requests.entries())
    click(bot, "王磊", digest, callback_value(button), event_id="evt-nudge-once")
    replay = click(bot, "王磊", digest, callback_value(button), event_id="evt-nudge-once")
    assert replay == {}  # delivered again: dropped, the card stays
    again = click(bot, "王磊", digest, callback_value(button))  # a new click on the old card
    assert again["toast"]["content"] == "已经提醒过了。"
    assert label(nudge_buttons(answered_card(again))[target]) == NUDGED
    assert nudges_sent(sandbox, mark) == [target]


# -- nudge everyone -------------------------------------------------------------------------------------------------

def test_nudge_everyone_nudges_each_problem_report_once_and_shows_all_nudged(bot, runtime, store, sandbox):
    digest = scheduled_digest(bot, runtime, store, sandbox)
    buttons = nudge_buttons(digest["content"])
    headline = bot.text_of(digest)
    assert f"{len(buttons)} 项需要关注" in headline  # every report with a problem has a button (under 25 here)
    assert label(everyone_button(digest["content"])) == EVERYONE
    first = next(iter(buttons))
    mark = len(sandbox.state.requests.entries())
    click(bot, "王磊", digest, callback_value(buttons[first]))
    answer = click(bot, "王磊", digest, callback_value(everyone_button(digest["content"])), event_id="evt-everyone")
    assert answer["toast"]["content"] == f"已提醒 {len(buttons) - 1} 人。"
    sent = nudges_sent(sandbox, mark)
    assert sorted(sent) == sorted(buttons) and len(sent) == len(set(sent))  # each once, the first not twice
    card = answered_card(answer)
    assert all(label(b) == NUDGED and b.get("disabled") for b in nudge_buttons(card).values())
    assert label(everyone_button(card)) == EVERYONE_NUDGED and everyone_button(card).get("disabled") is True
    # Again (a new click on the old card), and the same click delivered again: nothing new is sent.
    again = click(bot, "王磊", digest, callback_value(everyone_button(digest["content"])))
    assert again["toast"]["content"] == "已经都提醒过了。"
    assert click(bot, "王磊", digest, callback_value(everyone_button(digest["content"])), event_id="evt-everyone") == {}
    assert len(nudges_sent(sandbox, mark)) == len(buttons)


def test_nudges_are_in_each_reports_language(bot, runtime, store, sandbox):
    digest = scheduled_digest(bot, runtime, store, sandbox)
    english, chinese, *_ = nudge_buttons(digest["content"])
    store.people.set_language(english, "en_us", NOW)
    store.people.set_language(chinese, "zh_cn", NOW)
    mark = len(sandbox.state.outbox)
    click(bot, "王磊", digest, callback_value(everyone_button(digest["content"])))
    titles = {e["receive_id"]: e["content"]["header"]["title"]["content"]
              for e in sandbox.state.outbox.entries()[mark:]}
    assert titles[english] == "A friendly OKR reminder" and titles[chinese] == "OKR 小提醒"


def test_only_the_digests_manager_or_theirs_may_nudge(bot, runtime, store, sandbox):
    digest = scheduled_digest(bot, runtime, store, sandbox)
    everyone = callback_value(everyone_button(digest["content"]))
    target, button = next(iter(nudge_buttons(digest["content"]).items()))
    mark = len(sandbox.state.requests.entries())
    for outsider in ("刘芳", "何静"):  # a report of the manager; another department's manager
        for value in (everyone, callback_value(button)):
            answer = click(bot, outsider, digest, value)
            assert answer["toast"]["type"] == "warning" and "card" not in answer
    assert nudges_sent(sandbox, mark) == []
    answer = click(bot, "陈立", digest, everyone)  # the manager's manager
    assert "card" in answer and target in nudges_sent(sandbox, mark)


def test_a_button_naming_another_digest_nudges_nobody_the_clicker_does_not_manage(bot, runtime, store, sandbox):
    """The value names the digest; the clicker is checked against it and against each report, every click."""
    digest = scheduled_digest(bot, runtime, store, sandbox)
    forged = {**callback_value(everyone_button(digest["content"])), "manager": open_id(sandbox, "hejing")}
    mark = len(sandbox.state.requests.entries())
    answer = click(bot, "王磊", digest, forged)  # no digest of 何静's at that time: a clear toast
    assert answer["toast"]["content"] == "这个按钮已失效。" and "card" not in answer
    assert nudges_sent(sandbox, mark) == []


def test_nudge_everyone_checks_the_clicker_against_each_report(bot, runtime, store, sandbox):
    """A digest kept from before a reorganisation lists someone the manager no longer manages: not nudged."""
    digest = scheduled_digest(bot, runtime, store, sandbox)
    value = callback_value(everyone_button(digest["content"]))
    view = store.subscriptions.view(value["sub"], value["slot"], value["manager"])
    outsider = open_id(sandbox, "hejing")
    view["problems"].append([outsider, "何静", 3, "moved away"])
    store.subscriptions.keep_view(value["sub"], value["slot"], value["manager"], view)
    mark = len(sandbox.state.requests.entries())
    click(bot, "王磊", digest, value)
    sent = nudges_sent(sandbox, mark)
    assert outsider not in sent and sorted(sent) == sorted(nudge_buttons(digest["content"]))


# -- what a click costs ---------------------------------------------------------------------------------------------

def test_a_click_reads_no_okrs_and_calls_feishu_only_to_send_the_nudges(bot, runtime, store, sandbox):
    digest = scheduled_digest(bot, runtime, store, sandbox)
    buttons = nudge_buttons(digest["content"])
    first = next(iter(buttons))
    mark = len(sandbox.state.requests.entries())
    click(bot, "王磊", digest, callback_value(buttons[first]))
    calls = [r["path"] for r in sandbox.state.requests.entries()[mark:]]
    assert calls == ["/open-apis/im/v1/messages"]  # the nudge, nothing read
    mark = len(sandbox.state.requests.entries())
    click(bot, "王磊", digest, callback_value(everyone_button(digest["content"])))
    calls = [r["path"] for r in sandbox.state.requests.entries()[mark:]]
    assert calls == ["/open-apis/im/v1/messages"] * (len(buttons) - 1)
    assert not [r for r in sandbox.state.requests.entries()[mark:] if "/okr/" in r["path"]]


# -- the chart --------------------------------------------------------------------------------------------------------

def expected_bars(sandbox, manager_key: str) -> list[tuple[int, str]]:
    """(average progress, name) of each active report not leaving with objectives the app may see this period,
    from the seed's raw OKR data: the average of their visible objectives' progress, worst first."""
    seed = sandbox.seed
    now_ms = NOW.timestamp() * 1000
    [period] = [p for p in seed.periods if p.start_ms <= now_ms <= p.end_ms]
    leaving = {e["open_id"] for e in seed.employees if e["system_fields"]["status"] in (4, 5)}
    bars = []
    for person in seed.active_people:
        if person.leader_key != manager_key or person.open_id in leaving:
            continue
        objectives = [o for batch in seed.okrs.get(person.open_id, ()) if batch["period_id"] == period.id
                      and batch.get("permission", 1) for o in batch.get("objective_list") or ()
                      if o.get("permission", 1)]
        if objectives:
            bars.append((round(sum(o["progress_rate"]["percent"] for o in objectives) / len(objectives)),
                         person.name))
    return sorted(bars)


def chart_of(card: dict) -> tuple[dict, str]:
    elements = card["body"]["elements"]
    [index] = [i for i, e in enumerate(elements) if e["tag"] == "chart"]
    after = elements[index + 1] if index + 1 < len(elements) else {}
    return elements[index], after.get("content", "") if after.get("tag") == "markdown" else ""


def test_the_chart_names_one_bar_per_person_worst_first_then_how_many_more(bot, runtime, store, sandbox):
    expected = expected_bars(sandbox, "wanglei")
    assert len(expected) > MAX_CHART_BARS  # 王磊's team is bigger than the chart
    digest = scheduled_digest(bot, runtime, store, sandbox)
    assert_valid_card(digest["content"])
    chart, below = chart_of(digest["content"])
    spec = chart["chart_spec"]
    shown = [(v["progress"], v["name"]) for v in spec["data"]["values"]]
    assert shown == expected[:MAX_CHART_BARS]  # one bar per person, worst first
    assert len({name for _, name in shown}) == len(shown)  # each bar its own name on the axis
    assert {"orient": "left", "type": "band", "sampling": False} in spec["axes"]  # no name dropped
    assert chart["height"] == f"{60 + 28 * MAX_CHART_BARS}px" and "aspect_ratio" not in chart
    assert f"另有 {len(expected) - MAX_CHART_BARS} 人" in below
    # In English, after a nudge redraws it, the same chart.
    store.people.set_language(open_id(sandbox, "wanglei"), "en_us", NOW)
    english = scheduled_digest(bot, runtime, store, sandbox, NEXT_MONDAY)
    answer = click(bot, "王磊", english, callback_value(next(iter(nudge_buttons(english["content"]).values()))))
    chart, below = chart_of(answered_card(answer))
    in_english = sorted((progress, sandbox.seed.find_person(name).en_name) for progress, name in expected)
    assert [(v["progress"], v["name"]) for v in chart["chart_spec"]["data"]["values"]] == in_english[:MAX_CHART_BARS]
    assert f"and {len(expected) - MAX_CHART_BARS} more" in below


def test_a_small_team_has_every_bar_and_no_more_line(bot, runtime, store, sandbox):
    expected = expected_bars(sandbox, "hejing")
    assert 0 < len(expected) <= MAX_CHART_BARS
    digest = scheduled_digest(bot, runtime, store, sandbox, manager="何静")
    chart, below = chart_of(digest["content"])
    assert [(v["progress"], v["name"]) for v in chart["chart_spec"]["data"]["values"]] == expected
    assert "另有" not in below and chart["height"] == f"{60 + 28 * len(expected)}px"


# -- checked in via chat ----------------------------------------------------------------------------------------------

def test_reports_who_checked_in_via_chat_since_the_last_digest_are_shown(bot, runtime, store, sandbox):
    first = scheduled_digest(bot, runtime, store, sandbox)
    reports = [p for p in sandbox.seed.active_people if p.leader_key == "wanglei"]
    early, late, problem = reports[0], reports[1], next(iter(nudge_buttons(first["content"])))
    store.checkins.add(early.open_id, "7001", 50, "normal", MONDAY - timedelta(days=1))  # before the last digest
    store.checkins.add(late.open_id, "7002", 60, "normal", MONDAY + timedelta(days=2))
    store.checkins.add(problem, "7003", 70, "risk", MONDAY + timedelta(days=3))
    assert "已在聊天中更新进度" not in bot.text_of(first)
    second = scheduled_digest(bot, runtime, store, sandbox, MONDAY + timedelta(days=14))  # since the last, not a week
    text = bot.text_of(second)
    section = next(line for line in text.splitlines() if "自上次周报以来已在聊天中更新进度" in line)
    names = set(section.split("：", 1)[1].split("、"))
    assert names == {late.name, sandbox.seed.person_by_id(problem).name}
    problem_line = next(line for line in text.splitlines()
                        if line.strip().startswith(sandbox.seed.person_by_id(problem).name) and "提醒一下" in line)
    assert "✓ 已在聊天中更新进度" in problem_line
    # The redrawn card after a nudge still says so.
    answer = click(bot, "王磊", second, callback_value(nudge_buttons(second["content"])[problem]))
    assert "自上次周报以来已在聊天中更新进度" in json.dumps(answered_card(answer), ensure_ascii=False)


def test_digest_now_is_redrawn_in_place_too(bot, sandbox):
    manager = open_id(sandbox, "wanglei")
    digest = next(e for e in bot.say("王磊", "周报 立即") if e["receive_id"] == manager)
    target, button = next(iter(nudge_buttons(digest["content"]).items()))
    answer = click(bot, "王磊", digest, callback_value(button))
    assert label(nudge_buttons(answered_card(answer))[target]) == NUDGED


def test_each_line_names_a_person_as_a_link_to_a_chat_with_them(bot, runtime, store, sandbox):
    """Each digest line links to whom it is about (Feishu's documented AppLink opens a chat with them); the OKR
    problems link to Feishu OKR (no link to one person's OKRs is documented)."""
    entry = scheduled_digest(bot, runtime, store, sandbox)
    markdown = json.dumps(entry["content"], ensure_ascii=False)
    links = set(re.findall(r"applink\.feishu\.cn/client/chat/open\?openId=(ou_\w+)", markdown))
    problem_people = set(nudge_buttons(entry["content"]))
    assert problem_people and problem_people <= links
    assert "okr.feishu.cn" in markdown
    assert chat_link("x", "not-an-open-id") == "x"  # only an open_id becomes a link
