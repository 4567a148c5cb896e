"""Humane group reminders (issue 15): the group card is a summary that @-mentions only who needs to act (by
default the stale) and carries no key-result text; each of them gets their own check-in card privately, in
their language, with the "Update progress" button; `remind mention off|stale|all` and `remind details on|off`
per reminder; "Remind me tomorrow" only for those the card was about.

Everything goes through the webhook (chat fixtures) and the jobs; what the bot SENT is read from the sandbox's
request log."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from bot.commands.base import CommandCall, action_value
from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.store import KIND_OKR_REMINDER, Store
from bot.store.base import Base
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, callback_value
from tests.conftest import NOW, Chat, admin_settings_of, bot_chat, card_title
from tests.services import postgres_server

TZ = ZoneInfo("Asia/Shanghai")
ANCHOR_1700 = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)  # the seed's leave approvals are on this day
MESSAGES = "/open-apis/im/v1/messages"


def _runtime(bot: Chat, store) -> Runtime:
    service = bot.client.application.extensions["bot"]
    return Runtime(settings=service.settings, clients=service.clients, store=store, clock=lambda: ANCHOR_1700)


def sent_cards(sandbox, since: int) -> list[tuple[str, dict]]:
    """(receive_id, card) of every message the bot sent since request number `since` (the request log)."""
    out = []
    for request in sandbox.state.requests.entries()[since:]:
        if request["method"] != "POST" or request["path"] != MESSAGES:
            continue
        body = request["body"] if isinstance(request["body"], dict) else {}
        out.append((str(body.get("receive_id")), json.loads(body.get("content") or "{}")))
    return out


def mentioned(card) -> set[str]:
    return set(re.findall(r"<at id=(ou_\w+)></at>", json.dumps(card, ensure_ascii=False)))


def okr_texts(sandbox, open_ids) -> set[str]:
    """Every objective and key-result text of these people (4+ characters), raw and as a card shows it."""
    from cards.components import escape

    texts = set()
    for open_id in open_ids:
        for batch in sandbox.seed.okrs_of(open_id):
            for objective in batch.get("objective_list", []):
                texts.add(str(objective.get("content", "")))
                texts.update(str(kr.get("content", "")) for kr in objective.get("kr_list", []))
    texts = {x for x in texts if len(x) >= 4}
    return texts | {escape(x) for x in texts} | {escape(x[:20]) for x in texts}


def _subscribe(bot: Chat, store, words: str = "提醒 OKR 周五 17:00 stale 3"):
    """陈立 (the group's owner) subscribes 研发周会 through the chat; stale 3 makes several people stale."""
    [entry] = bot.say("陈立", words, group="eng_weekly")
    assert card_title(entry) in ("OKR 提醒已开启", "OKR reminder on")
    return store.subscriptions.find(kind=KIND_OKR_REMINDER)[-1]


def _run(bot, store, sandbox, sub, when=ANCHOR_1700):
    start = len(sandbox.state.requests.entries())
    sub = store.subscriptions.get(sub.id)  # with the options as now stored
    assert run_at(_runtime(bot, store), sub, when)
    sent = sent_cards(sandbox, start)
    [group_card] = [card for to, card in sent if to == sub.target]
    private: dict[str, list[dict]] = {}
    for to, card in sent:
        if to != sub.target:
            private.setdefault(to, []).append(card)
    _, decisions = store.subscriptions.last_decisions(sub.id)
    return group_card, private, decisions


def _entry(card, sandbox, receive_id, message_id="om_x") -> dict:
    """A sent card as bot.click wants it."""
    return {"content": card, "message_id": message_id, "receive_id": receive_id}


def _group_entry(sandbox, sub):
    return next(e for e in reversed(sandbox.state.outbox.entries()) if e["receive_id"] == sub.target)


def _private_entry(sandbox, open_id):
    return next(e for e in reversed(sandbox.state.outbox.entries()) if e["receive_id"] == open_id)


# -- the default: mention the stale, details privately -------------------------------------------------------

def test_the_group_card_mentions_only_the_stale_and_lists_no_key_result(bot, store, sandbox):
    sub = _subscribe(bot, store)
    assert (sub.mention, sub.details) == ("stale", False)
    group_card, private, decisions = _run(bot, store, sandbox, sub)
    assert_valid_card(group_card)
    stale = {o for o, d in decisions.items() if d in ("mentioned_stale", "mentioned_stale_and_risk")}
    flagged = {o for o, d in decisions.items() if d == "flagged_risk"}
    assert stale and flagged  # someone to mention, and someone at risk who updated in time
    assert mentioned(group_card) == stale
    members = sandbox.seed.chat("eng_weekly").member_open_ids
    raw = json.dumps(group_card, ensure_ascii=False)
    for text_ in okr_texts(sandbox, members):
        assert text_ not in raw
    # The summary: how many are up to date, the average progress, and the spread as a chart.
    assert "已及时更新" in raw and "平均进度" in raw
    assert any(e.get("tag") == "chart" for e in group_card["body"]["elements"])
    assert set(private) == stale  # the at-risk who updated in time get nothing


def test_each_mentioned_person_gets_one_private_check_in_card_in_their_language(bot, store, sandbox):
    sub = _subscribe(bot, store)
    _, _, decisions = _run(bot, store, sandbox, sub)  # a first run to learn who is stale
    stale = sorted(o for o, d in decisions.items() if d.startswith("mentioned"))
    assert len(stale) >= 2
    english = stale[0]
    store.people.set_language(english, "en_us", NOW)
    group_card, private, decisions = _run(bot, store, sandbox, sub, ANCHOR_1700 + timedelta(hours=1))
    assert set(private) == set(stale) == mentioned(group_card)
    for open_id, cards in private.items():
        assert len(cards) == 1, open_id  # exactly one card each
        [card] = cards
        assert_valid_card(card)
        locale = "en_us" if open_id == english else "zh_cn"
        label = "Update progress" if locale == "en_us" else "更新进度"
        assert card["header"]["title"]["content"] == ("Your OKR reminder" if locale == "en_us" else "你的 OKR 提醒")
        [update] = [b for b in buttons_of(card) if b["text"]["content"] == label]
        assert callback_value(update) == action_value(CommandCall(name="progress", locale=locale), form=True)
        raw = json.dumps(card, ensure_ascii=False)
        assert any(s in raw for s in okr_texts(sandbox, [open_id]))  # their own key results
    # Run again for the same time: nothing more to anyone.
    start = len(sandbox.state.requests.entries())
    run_at(_runtime(bot, store), store.subscriptions.get(sub.id), ANCHOR_1700 + timedelta(hours=1))
    assert sent_cards(sandbox, start) == []


# -- remind mention off|stale|all ------------------------------------------------------------------------

def test_mention_all_mentions_the_at_risk_too_and_off_mentions_nobody(bot, store, sandbox):
    sub = _subscribe(bot, store)
    [entry] = bot.say("陈立", "提醒 提及 全部", group="eng_weekly")
    assert card_title(entry) == "已设置 @ 谁"
    assert store.subscriptions.get(sub.id).mention == "all"
    group_card, private, decisions = _run(bot, store, sandbox, sub)
    acting = {o for o, d in decisions.items() if d.startswith("mentioned")}
    assert {d for o, d in decisions.items() if o in acting} >= {"mentioned_risk", "mentioned_stale"}
    assert mentioned(group_card) == acting == set(private)

    [entry] = bot.say("陈立", "remind mention off", group="eng_weekly")
    assert card_title(entry) == "Mentions set" and store.subscriptions.get(sub.id).mention == "off"
    group_card, private, decisions = _run(bot, store, sandbox, sub, ANCHOR_1700 + timedelta(hours=1))
    assert mentioned(group_card) == set()
    privately = {o for o, d in decisions.items() if d.startswith("private_")}
    assert privately and set(private) == privately  # the stale still hear about it, privately

    bot.say("陈立", "提醒 提及 过期", group="eng_weekly")
    assert store.subscriptions.get(sub.id).mention == "stale"


def test_only_who_may_subscribe_changes_the_options(bot, store):
    sub = _subscribe(bot, store)
    [entry] = bot.say("刘芳", "提醒 提及 全部", group="eng_weekly")  # a member, not owner, manager or admin
    assert "只有群主" in bot.text_of(entry)
    [entry] = bot.say("刘芳", "提醒 详情 开启", group="eng_weekly")
    assert "只有群主" in bot.text_of(entry)
    assert (store.subscriptions.get(sub.id).mention, store.subscriptions.get(sub.id).details) == ("stale", False)


def test_options_take_a_reminder_number_and_ask_which_when_there_are_several(bot, store, sandbox):
    first = _subscribe(bot, store)
    second = _subscribe(bot, store, "提醒 OKR 周一 10:00")
    [entry] = bot.say("陈立", "提醒 提及 全部", group="eng_weekly")
    assert card_title(entry) == "要修改哪一个？"
    assert store.subscriptions.get(first.id).mention == store.subscriptions.get(second.id).mention == "stale"
    in_group = {**entry, "chat_id": first.target}  # the callback names the chat
    status, answer = bot.click("陈立", in_group, f"设置 #{second.id}")
    assert status == 200
    assert store.subscriptions.get(second.id).mention == "all"
    assert store.subscriptions.get(first.id).mention == "stale"
    bot.say("陈立", f"提醒 提及 关闭 {first.id}", group="eng_weekly")
    assert store.subscriptions.get(first.id).mention == "off"
    [entry] = bot.say("陈立", "提醒 提及 #99", group="eng_weekly")  # no choice: asked, keeping the number
    labels = [b["text"]["content"] for b in buttons_of(entry["content"])]
    assert labels == ["提醒 提及 关闭 99", "提醒 提及 过期 99", "提醒 提及 全部 99"]
    [entry] = bot.say("陈立", "提醒 提及 大家", group="eng_weekly")
    assert "「大家」不是一个选项" in bot.text_of(entry)
    # remind list shows each reminder's options.
    [entry] = bot.say("陈立", "提醒 列表", group="eng_weekly")
    listed = bot.text_of(entry)
    assert "不 @ 任何人" in listed and "@ 所有需要行动的人" in listed and "详情只私聊" in listed


# -- remind details on|off -----------------------------------------------------------------------------------

def test_details_on_is_refused_unless_everyone_may_see_every_okr(settings, sandbox, store, tmp_path):
    team = bot_chat(admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team"), sandbox, store)
    sub = _subscribe(team, store)
    [entry] = team.say("陈立", "提醒 详情 开启", group="eng_weekly")
    assert card_title(entry) == "不能在群里列出详情"
    assert store.subscriptions.get(sub.id).details is False
    [entry] = team.say("陈立", "remind details off", group="eng_weekly")  # off is always allowed
    assert card_title(entry) == "Details set"


def test_details_on_lists_the_at_risk_items_in_the_group(bot, store, sandbox):
    sub = _subscribe(bot, store)
    [entry] = bot.say("陈立", "提醒 详情 开启", group="eng_weekly")
    assert card_title(entry) == "已设置详情" and store.subscriptions.get(sub.id).details is True
    group_card, _, decisions = _run(bot, store, sandbox, sub)
    at_risk = {o for o, d in decisions.items() if d in ("flagged_risk", "mentioned_stale_and_risk")}
    raw = json.dumps(group_card, ensure_ascii=False)
    assert any(s in raw for s in okr_texts(sandbox, at_risk))
    flagged = {o for o, d in decisions.items() if d == "flagged_risk"}
    assert not mentioned(group_card) & flagged  # listed by name, not @-mentioned (mention stale)
    bot.say("陈立", "提醒 详情 关闭", group="eng_weekly")
    assert store.subscriptions.get(sub.id).details is False


def test_details_stored_on_are_not_shown_once_the_policy_is_no_longer_all(settings, sandbox, store, tmp_path, bot):
    sub = _subscribe(bot, store)
    bot.say("陈立", "提醒 详情 开启", group="eng_weekly")
    team = bot_chat(admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team"), sandbox, store)
    group_card, _, _ = _run(team, store, sandbox, sub)
    raw = json.dumps(group_card, ensure_ascii=False)
    assert not any(s in raw for s in okr_texts(sandbox, sandbox.seed.chat("eng_weekly").member_open_ids))


# -- remind me tomorrow ----------------------------------------------------------------------------------------

def test_remind_me_tomorrow_from_someone_the_card_was_not_about(bot, store, sandbox):
    sub = _subscribe(bot, store)
    _run(bot, store, sandbox, sub)
    _, decisions = store.subscriptions.last_decisions(sub.id)
    outsider = next(o for o, d in decisions.items() if d == "up_to_date")
    entry = _group_entry(sandbox, sub)
    status, answer = bot.click(sandbox.seed.person_by_id(outsider).name, entry, "明天再提醒我")
    assert status == 200 and answer["toast"]["content"] == "这个提醒不是给你的。"
    status, answer = bot.click("郭芳", entry, "明天再提醒我")  # not even in the group
    assert answer["toast"]["content"] == "这个提醒不是给你的。"
    assert store.subscriptions.snoozed(sub.id, ANCHOR_1700) == set()


def test_remind_me_tomorrow_from_someone_it_was_about_snoozes_them(bot, store, sandbox):
    sub = _subscribe(bot, store)
    _, _, decisions = _run(bot, store, sandbox, sub)
    stale = sorted(o for o, d in decisions.items() if d.startswith("mentioned"))
    flagged = next(o for o, d in decisions.items() if d == "flagged_risk")
    status, answer = bot.click(sandbox.seed.person_by_id(stale[0]).name, _group_entry(sandbox, sub), "明天再提醒我")
    assert answer["toast"]["content"] == "好的，明天再提醒你。"
    # from their own private card, too; and someone flagged at risk (counted on the card) may as well
    status, answer = bot.click(sandbox.seed.person_by_id(stale[1]).name, _private_entry(sandbox, stale[1]),
                               "明天再提醒我")
    assert answer["toast"]["content"] == "好的，明天再提醒你。"
    bot.click(sandbox.seed.person_by_id(flagged).name, _group_entry(sandbox, sub), "明天再提醒我")
    assert store.subscriptions.snoozed(sub.id, ANCHOR_1700) == {stale[0], stale[1], flagged}
    group_card, private, decisions = _run(bot, store, sandbox, sub, ANCHOR_1700 + timedelta(hours=1))
    assert decisions[stale[0]] == "skipped_snoozed" and stale[0] not in mentioned(group_card)
    assert stale[0] not in private


def test_remind_why_tells_the_flagged_person_why_and_the_group_only_whether(bot, store, sandbox):
    sub = _subscribe(bot, store)
    _, _, decisions = _run(bot, store, sandbox, sub)
    flagged = next(o for o, d in decisions.items() if d == "flagged_risk")
    name = sandbox.seed.person_by_id(flagged).name
    entries = bot.say(name, "提醒 为什么", group="eng_weekly")
    [dm] = [e for e in entries if e["receive_id"] == flagged]
    assert "有风险或延期" in bot.text_of(dm)
    asker = next(p for p in ("周杰", "刘芳") if sandbox.seed.find_person(p).open_id != flagged)
    entries = bot.say(asker, "提醒 为什么 {0}", group="eng_weekly", mentions=(name,))
    [answer] = entries  # in the group, to everyone
    assert "未被提醒" in bot.text_of(answer) and "风险" not in bot.text_of(answer)


# -- existing databases --------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def old_db(request, tmp_path):
    """A database made before the options existed: the subscriptions table without its mention and details."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
        yield url
        return
    with postgres_server() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        yield url


def test_an_existing_database_gets_the_options_with_their_defaults(old_db):
    engine = create_engine(old_db)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE subscriptions DROP COLUMN mention"))
        conn.execute(text("ALTER TABLE subscriptions DROP COLUMN details"))
        conn.execute(text("INSERT INTO subscriptions (kind, target, created_by, schedule, stale_days, locale, active, "
                          "created_at) VALUES ('okr_reminder', 'oc_1', 'ou_1', '{}', 7, 'zh_cn', :yes, :now)"),
                     {"yes": True, "now": NOW})
    engine.dispose()
    store = Store(old_db)
    [sub] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    assert (sub.mention, sub.details) == ("stale", False)
    assert store.subscriptions.set_options(sub.id, mention="off", details=True)
    assert (store.subscriptions.get(sub.id).mention, store.subscriptions.get(sub.id).details) == ("off", True)
    store.engine.dispose()


def test_update_progress_on_the_private_card_opens_the_persons_update_form(bot, store, sandbox):
    """The loop's next step is the `progress` command's (bot/commands/progress.py): the button opens the form."""
    sub = _subscribe(bot, store)
    _, private, _ = _run(bot, store, sandbox, sub)
    open_id = sorted(private)[0]
    status, answer = bot.click(sandbox.seed.person_by_id(open_id).name, _private_entry(sandbox, open_id), "更新进度")
    assert status == 200 and answer["card"]["data"]["header"]["title"]["content"] == "更新 OKR 进度"
