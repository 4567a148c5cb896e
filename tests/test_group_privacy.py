"""Groups never learn what their members may not see: `remind why` gives the reason (leave, leaving, snoozed)
only privately to those who may know it, and under OKR_VISIBILITY=team|self neither the group reminder nor
`okr @someone` posts objective or key-result text where the policy would refuse someone.

Every check reads what the bot SENT (the sandbox's request log), not what the sandbox kept."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.store import KIND_OKR_REMINDER
from cards.components import escape
from tests.conftest import NOW, Chat, admin_settings_of, bot_chat, card_title

TZ = ZoneInfo("Asia/Shanghai")
ANCHOR_1700 = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)  # the seed's leave approvals are on this day
FRIDAY_1700 = {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri",
               "timezone": "Asia/Shanghai"}
# Words that would tell the group why someone was not mentioned.
PRIVATE_WORDS = ("请假", "离职", "明天再提醒", "通讯录", "leave", "leaving", "tomorrow", "directory")
SEND_PATHS = ("/open-apis/im/v1/messages", "/open-apis/interactive/v1/card/update")


def _runtime(bot: Chat, store, settings) -> Runtime:
    service = bot.client.application.extensions["bot"]
    return Runtime(settings=settings, clients=service.clients, store=store, clock=lambda: NOW)


def sends(sandbox, since: int) -> list[tuple[str, str]]:
    """(to, raw content) of every message the bot sent or updated since request number `since`. A reply
    answers the message it replies to: in these tests always a message in a group, so `to` is "reply"."""
    out = []
    for request in sandbox.state.requests.entries()[since:]:
        if request["method"] not in ("POST", "PATCH", "PUT") or not request["path"].startswith(SEND_PATHS):
            continue
        body = request["body"] if isinstance(request["body"], dict) else {}
        if request["path"].endswith("/reply"):
            to = "reply"
        elif request["path"].startswith("/open-apis/interactive"):
            to = "update"
        else:
            to = str(body.get("receive_id", "patch"))
        content = body.get("content") or body.get("card") or ""
        out.append((to, content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)))
    return out


def to_group(sent: list[tuple[str, str]], chat_id: str) -> list[str]:
    return [content for to, content in sent if to in ("reply", chat_id)]


def to_person(sent: list[tuple[str, str]], open_id: str) -> list[str]:
    return [content for to, content in sent if to == open_id]


def okr_texts(sandbox, open_id: str) -> set[str]:
    """Every objective and key-result text of a person, in every period, raw and as shown on a card."""
    texts = set()
    for batch in sandbox.seed.okrs_of(open_id):
        for objective in batch.get("objective_list", []):
            texts.add(str(objective.get("content", "")))
            texts.update(str(kr.get("content", "")) for kr in objective.get("kr_list", []))
    texts = {text for text in texts if len(text) >= 4}
    # As a card would carry them: escaped for markdown, and cut (the reminder shows the first 60 characters).
    return texts | {escape(text) for text in texts} | {escape(text[:20]) for text in texts}


def _subscribe(store, sandbox, group: str, created_by: str):
    return store.subscriptions.add(kind=KIND_OKR_REMINDER, target=sandbox.seed.chat(group).chat_id,
                                  created_by=sandbox.seed.person(created_by).open_id, schedule=FRIDAY_1700,
                                  stale_days=7, locale="zh_cn")


def _ask_why(bot, sandbox, asker: str, group: str, about: str | None):
    start = len(sandbox.state.requests.entries())
    if about:
        bot.say(asker, "提醒 为什么 {0}", group=group, mentions=(about,))
    else:
        bot.say(asker, "提醒 为什么", group=group)
    return sends(sandbox, start)


# -- remind why ------------------------------------------------------------------------------------------

def test_why_asked_by_an_ordinary_member_says_only_whether_and_never_why(bot, store, sandbox, settings, tmp_path):
    sub = _subscribe(store, sandbox, "eng_weekly", "cto")
    run_at(_runtime(bot, store, admin_settings_of(settings, sandbox, tmp_path)), sub, ANCHOR_1700)
    _, decisions = store.subscriptions.last_decisions(sub.id)
    seed = sandbox.seed
    assert decisions[seed.person("liufang").open_id] == "skipped_on_leave"
    assert decisions[seed.person("zhaoqiang").open_id] == "skipped_left_or_leaving"
    chat_id = seed.chat("eng_weekly").chat_id
    for about in ("刘芳", "赵强"):
        sent = _ask_why(bot, sandbox, "周杰", "eng_weekly", about)  # a DBA: no manager, owner, admin, subscriber
        assert len(sent) == 1
        [answer] = to_group(sent, chat_id)
        assert "未被提醒" in answer, about
        for word in PRIVATE_WORDS:
            assert word not in answer, (about, word)
    mentioned = next(open_id for open_id, d in decisions.items() if d.startswith("mentioned"))
    sent = _ask_why(bot, sandbox, "周杰", "eng_weekly", seed.person_by_id(mentioned).name)
    [answer] = to_group(sent, chat_id)
    assert "被提醒了" in answer and "未被提醒" not in answer


def test_why_of_a_snoozed_member_is_not_told_to_the_group(bot, store, sandbox, settings, tmp_path):
    sub = _subscribe(store, sandbox, "eng_weekly", "cto")
    seed = sandbox.seed
    store.subscriptions.snooze(sub.id, seed.person("yangfan").open_id, datetime(2026, 11, 27, tzinfo=TZ))
    run_at(_runtime(bot, store, admin_settings_of(settings, sandbox, tmp_path)), sub, ANCHOR_1700)
    assert store.subscriptions.last_decisions(sub.id)[1][seed.person("yangfan").open_id] == "skipped_snoozed"
    sent = _ask_why(bot, sandbox, "周杰", "eng_weekly", "杨帆")
    [answer] = to_group(sent, seed.chat("eng_weekly").chat_id)
    assert "未被提醒" in answer and not any(word in answer for word in PRIVATE_WORDS)
    sent = _ask_why(bot, sandbox, "杨帆", "eng_weekly", None)  # their own snooze is theirs to know
    [dm] = to_person(sent, seed.person("yangfan").open_id)
    assert "明天再提醒" in dm


@pytest.mark.parametrize(("asker", "group", "about", "reason"), [
    ("杨帆", "eng_weekly", "刘芳", "当天请假"),  # the subscriber (the subscription is 杨帆's below)
    ("王磊", "eng_weekly", "刘芳", "当天请假"),  # her manager
    ("郭芳", "eng_weekly", "赵强", "已离职或待离职"),  # a bot admin (HR, no line to him)
    ("孙悦", "product_design", "邓琳", "没有可见的 OKR"),  # the group's owner, not her manager
    ("刘芳", "eng_weekly", None, "当天请假"),  # herself
], ids=["subscriber", "manager", "admin", "group-owner", "self"])
def test_why_goes_privately_to_those_who_may_know(bot, store, sandbox, settings, tmp_path, asker, group, about,
                                                  reason):
    sub = _subscribe(store, sandbox, group, "yangfan")
    run_at(_runtime(bot, store, admin_settings_of(settings, sandbox, tmp_path)), sub, ANCHOR_1700)
    sent = _ask_why(bot, sandbox, asker, group, about)
    [dm] = to_person(sent, sandbox.seed.find_person(asker).open_id)
    assert reason in dm
    [note] = to_group(sent, sandbox.seed.chat(group).chat_id)
    assert "已私信发送" in note
    assert not any(word in note for word in PRIVATE_WORDS)


# -- the group reminder under OKR_VISIBILITY ---------------------------------------------------------------

@pytest.mark.parametrize("policy", ["team", "self"])
def test_restricted_reminder_card_has_names_and_counts_and_each_mentioned_person_gets_their_items(
        settings, sandbox, store, tmp_path, policy):
    restricted = admin_settings_of(settings, sandbox, tmp_path, okr_visibility=policy)
    bot = bot_chat(restricted, sandbox, store)
    runtime = _runtime(bot, store, restricted)
    sub = _subscribe(store, sandbox, "eng_weekly", "cto")
    seed = sandbox.seed
    chat = seed.chat("eng_weekly")
    start = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, ANCHOR_1700)
    sent = sends(sandbox, start)
    [group_card] = to_group(sent, chat.chat_id)
    for member in chat.member_open_ids:
        for text in okr_texts(sandbox, member):
            assert text not in group_card, (seed.person_by_id(member).name, text)
    _, decisions = store.subscriptions.last_decisions(sub.id)
    mentioned = {o for o, d in decisions.items() if d.startswith("mentioned")}  # by default: the stale
    assert mentioned
    assert {to for to, _ in sent if to != chat.chat_id} == mentioned
    for open_id in mentioned:
        [dm] = to_person(sent, open_id)
        assert any(text in dm for text in okr_texts(sandbox, open_id)), seed.person_by_id(open_id).name
        assert f"<at id={open_id}></at>" in group_card
    # Run again for the same time: nothing more goes out, to the group or to anyone.
    again = len(sandbox.state.requests.entries())
    run_at(runtime, sub, ANCHOR_1700)
    assert sends(sandbox, again) == []


def test_reminder_under_visibility_all_lists_the_items_in_the_group_only_with_details_on(
        bot, store, sandbox, settings, tmp_path):
    """Issue 15: by default no key-result text in the group even when everyone may see it; `details on` (allowed
    under OKR_VISIBILITY=all) lists the at-risk and delayed items on the group card."""
    sub = _subscribe(store, sandbox, "eng_weekly", "cto")
    chat = sandbox.seed.chat("eng_weekly")
    runtime = _runtime(bot, store, admin_settings_of(settings, sandbox, tmp_path))
    texts = set().union(*(okr_texts(sandbox, m) for m in chat.member_open_ids))
    start = len(sandbox.state.requests.entries())
    run_at(runtime, sub, ANCHOR_1700)
    [group_card] = to_group(sends(sandbox, start), chat.chat_id)
    assert not any(text in group_card for text in texts)
    store.subscriptions.set_options(sub.id, details=True)
    [sub] = [s for s in store.subscriptions.find(kind=KIND_OKR_REMINDER) if s.id == sub.id]
    start = len(sandbox.state.requests.entries())
    run_at(runtime, sub, ANCHOR_1700.replace(hour=18))
    [group_card] = to_group(sends(sandbox, start), chat.chat_id)
    assert any(text in group_card for text in texts)


def test_a_private_card_whose_process_died_is_sent_by_the_retry_job_once(settings, sandbox, store, tmp_path):
    from datetime import timedelta

    from bot.digests.jobs import retry_sends

    restricted = admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team")
    bot = bot_chat(restricted, sandbox, store)
    clients = _runtime(bot, store, restricted).clients

    def at(when):
        return Runtime(settings=restricted, clients=clients, store=store, clock=lambda: when)

    first = _subscribe(store, sandbox, "eng_weekly", "cto")
    run_at(at(ANCHOR_1700), first, ANCHOR_1700)
    person = next(o for o, d in store.subscriptions.last_decisions(first.id)[1].items() if d.startswith("mentioned"))
    store.subscriptions.deactivate(first.id)
    sub = _subscribe(store, sandbox, "eng_weekly", "cto")
    # A process claimed this person's card, then died before sending it.
    assert store.subscriptions.claim_send(sub.id, ANCHOR_1700, person, now=ANCHOR_1700)
    start = len(sandbox.state.requests.entries())
    run_at(at(ANCHOR_1700), sub, ANCHOR_1700)
    assert to_person(sends(sandbox, start), person) == []
    retry_sends(at(ANCHOR_1700 + timedelta(minutes=11)))
    retry_sends(at(ANCHOR_1700 + timedelta(minutes=22)))
    sent = sends(sandbox, start)
    assert len(to_group(sent, sub.target)) == 1
    assert len(to_person(sent, person)) == 1
    assert all(s["status"] == "sent" for s in store.subscriptions.sends(sub.id))


# -- okr @someone in a group ---------------------------------------------------------------------------------

def test_okr_of_a_teammate_in_a_group_with_outsiders_is_answered_privately(settings, sandbox, store, tmp_path):
    bot = bot_chat(admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team"), sandbox, store)
    seed = sandbox.seed
    chat_id = seed.chat("eng_weekly").chat_id
    start = len(sandbox.state.requests.entries())
    entries = bot.say("刘芳", "okr {0}", group="eng_weekly", mentions=("杨帆",))  # same team; frontend may not
    sent = sends(sandbox, start)
    [dm] = to_person(sent, seed.person("liufang").open_id)
    [note] = to_group(sent, chat_id)
    assert "Fan Yang's OKRs" in dm and "Sent to you privately" in note
    for text in okr_texts(sandbox, seed.person("yangfan").open_id):
        assert text not in note
    # Its buttons work in the private chat and post nothing anywhere else.
    private_card = next(e for e in entries if e["receive_id"] == seed.person("liufang").open_id)
    start = len(sandbox.state.requests.entries())
    status, answer = bot.click("刘芳", private_card, "◀ Previous period")
    assert status == 200 and card_title({"content": answer["card"]["data"]}) == "Fan Yang's OKRs"
    assert sends(sandbox, start) == []
    # The card says it is private, so the click does not list any chat's members.
    assert not [r for r in sandbox.state.requests.entries()[start:] if r["path"].startswith("/open-apis/im/v1/chats")]


def test_okr_that_every_member_may_see_stays_in_the_group(settings, sandbox, store, tmp_path):
    bot = bot_chat(admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team"), sandbox, store)
    start = len(sandbox.state.requests.entries())
    [entry] = bot.say("刘芳", "okr {0}", group="eng_weekly", mentions=("陈立",))  # everyone's line leads to the CTO
    assert card_title(entry) == "Li Chen's OKRs"
    assert [to for to, _ in sends(sandbox, start)] == ["reply"]  # in the group, not privately


def test_okr_under_visibility_all_stays_in_the_group(bot, sandbox):
    [entry] = bot.say("刘芳", "okr {0}", group="eng_weekly", mentions=("杨帆",))
    assert card_title(entry) == "Fan Yang's OKRs"


def test_a_button_on_a_group_card_does_not_show_outsiders_what_they_may_not_see(settings, sandbox, store, tmp_path):
    """A card posted when the policy was `all`, clicked after it became `team`: the answer would replace the
    card for the whole group, so the card stays and the clicker is told where to ask."""
    open_bot = bot_chat(admin_settings_of(settings, sandbox, tmp_path), sandbox, store)
    [entry] = open_bot.say("刘芳", "okr {0}", group="eng_weekly", mentions=("杨帆",))
    team_bot = bot_chat(admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team"), sandbox, store)
    group_card = {**entry, "chat_id": sandbox.seed.chat("eng_weekly").chat_id}  # the callback names the chat
    status, answer = team_bot.click("王磊", group_card, "◀ Previous period")  # he may; frontend members may not
    assert status == 200 and "card" not in answer
    assert answer["toast"]["type"] == "warning" and "private chat" in answer["toast"]["content"]
