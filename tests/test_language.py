"""Each person's language is remembered (chosen with `lang`, or learned from what they write) and used for
everything sent to them later: the manager digest, a nudge, their own card of a group reminder, the greeting
of a direct chat, the message after login. A choice beats what is learned; `lang auto` forgets it.

Everything is driven through the webhook and read from what the bot SENT (the sandbox's request log)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import event

from bot.commands import lang
from bot.commands.base import CommandCall
from bot.digests import jobs
from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.settings import new_secret_key
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, callback_value
from devkit.sandbox.event_push import simple_event
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import NOW, VERIFICATION_TOKEN, Chat, admin_settings_of, bot_chat, card_title

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
ANCHOR_1700 = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)  # the seed's leave approvals are on this day
WEEKLY = {"minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "mon", "timezone": "Asia/Shanghai"}
FRIDAY_1700 = {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri",
               "timezone": "Asia/Shanghai"}
# Our own Chinese words on the cards these tests read (never in an English card).
OUR_CHINESE = ("需要关注", "提醒一下", "团队周报", "直属下属", "没有更新进度", "从未更新", "本周期", "人员变动",
               "考勤组", "你的 OKR 提醒", "明天再提醒我", "打开飞书", "OKR 小提醒", "来了", "授权成功", "语言",
               "中文和你")
SEND_PATHS = ("/open-apis/im/v1/messages",)


def _runtime(bot: Chat, store, settings, *, now=NOW) -> Runtime:
    service = bot.client.application.extensions["bot"]
    return Runtime(settings=settings, clients=service.clients, store=store, clock=lambda: now)


@pytest.fixture
def runtime(bot, store, settings, sandbox, tmp_path):
    return _runtime(bot, store, admin_settings_of(settings, sandbox, tmp_path))


def sent_to(sandbox, since: int, receive_id: str) -> list[dict]:
    """The cards the bot sent to `receive_id` since request number `since` (from the request log)."""
    cards = []
    for request in sandbox.state.requests.entries()[since:]:
        body = request["body"] if isinstance(request["body"], dict) else {}
        if (request["method"] == "POST" and request["path"].startswith(SEND_PATHS)
                and body.get("receive_id") == receive_id):
            cards.append(json.loads(body["content"]))
    return cards


def title(card: dict) -> str:
    return card["header"]["title"]["content"]


def is_english(card: dict) -> bool:
    """None of our own Chinese words is on the card (people's names and their OKR texts may still be Chinese)."""
    text = json.dumps(card, ensure_ascii=False)
    return not any(word in text for word in OUR_CHINESE)


def people_queries(store: Store) -> list[str]:
    """SQL statements on the people_prefs table, recorded from now on (store.people's reads and writes)."""
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if "people_prefs" in statement:
            seen.append(statement.split()[0].upper())

    return seen


# -- the store, on SQLite and PostgreSQL ---------------------------------------------------------------------


def test_a_language_is_unknown_then_learned_then_chosen_then_forgotten(db_url):
    people = Store(db_url).people
    assert people.language("ou_a") is None and people.languages(["ou_a"]) == {}
    people.remember_language("ou_a", "en_us", NOW)
    assert people.language("ou_a") == "en_us" and people.setting("ou_a") == ("en_us", False)
    people.remember_language("ou_a", "zh_cn", NOW)  # learned again: the newest wins
    assert people.language("ou_a") == "zh_cn"
    people.set_language("ou_a", "en_us", NOW)
    assert people.setting("ou_a") == ("en_us", True)
    people.clear_language("ou_a")
    assert people.language("ou_a") is None
    people.remember_language("ou_a", "zh_cn", NOW)  # learned again after `lang auto`
    assert people.setting("ou_a") == ("zh_cn", False)


def test_a_chosen_language_beats_what_is_learned(db_url):
    people = Store(db_url).people
    people.set_language("ou_a", "en_us", NOW)
    people.remember_language("ou_a", "zh_cn", NOW + timedelta(minutes=1))
    assert people.setting("ou_a") == ("en_us", True)
    people.set_language("ou_a", "zh_cn", NOW)  # a new choice replaces the old one
    assert people.setting("ou_a") == ("zh_cn", True)


def test_a_learned_language_never_replaces_a_choice_made_after_the_read(db_url):
    """The write itself refuses to touch a chosen language (a choice committed between the read and the write)."""
    people = Store(db_url).people
    people.remember_language("ou_a", "zh_cn", NOW)
    people.set_language("ou_a", "en_us", NOW)
    people._write("ou_a", "zh_cn", NOW, explicit=False)  # what remember_language writes after a stale read
    assert people.setting("ou_a") == ("en_us", True)


def test_remembering_the_same_language_again_only_reads(db_url):
    """A conversation costs one read of the person's language, not one (or two) per message: the process keeps
    what it read or wrote for KNOWN_TTL seconds."""
    store = Store(db_url)
    store.people.remember_language("ou_a", "zh_cn", NOW)
    store.people.set_language("ou_b", "en_us", NOW)
    statements = people_queries(store)
    for _ in range(3):
        store.people.remember_language("ou_a", "zh_cn", NOW)  # the same: no write
        store.people.remember_language("ou_b", "zh_cn", NOW)  # chosen otherwise: no write
        assert store.people.language("ou_a") == "zh_cn" and store.people.language("ou_b") == "en_us"
    assert statements == ["SELECT"]  # ou_a read once after its write; ou_b's choice was made by this process
    store.people.remember_language("ou_a", "en_us", NOW)
    assert statements[-1] != "SELECT" and store.people.language("ou_a") == "en_us"


def test_many_languages_are_read_in_one_query(db_url):
    store = Store(db_url)
    ids = [f"ou_{n}" for n in range(50)]
    for n, open_id in enumerate(ids[:20]):
        store.people.set_language(open_id, "en_us" if n % 2 else "zh_cn", NOW)
    statements = people_queries(store)
    found = store.people.languages(ids)
    assert statements == ["SELECT"]
    assert found == {open_id: "en_us" if n % 2 else "zh_cn" for n, open_id in enumerate(ids[:20])}


def test_an_unknown_locale_is_refused(store):
    with pytest.raises(ValueError):
        store.people.set_language("ou_a", "fr_fr", NOW)
    with pytest.raises(ValueError):
        store.people.remember_language("ou_a", "ja_jp", NOW)


# -- the lang command -----------------------------------------------------------------------------------------

def test_lang_sets_shows_and_forgets_in_the_language_chosen(bot, store, sandbox):
    me = sandbox.seed.person("cto").open_id
    [entry] = bot.say("陈立", "lang en")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "Language set to English" and is_english(entry["content"])
    assert store.people.setting(me) == ("en_us", True)
    [entry] = bot.say("陈立", "语言 中文")
    assert card_title(entry) == "语言已设为中文"
    assert store.people.setting(me) == ("zh_cn", True)
    [entry] = bot.say("陈立", "language")  # bare: the setting, with a button for each choice
    assert_valid_card(entry["content"])
    assert "your choice" in bot.text_of(entry) or "你选择的" in bot.text_of(entry)
    assert [b["text"]["content"] for b in buttons_of(entry["content"])][:2] == ["English", "中文"]
    status, answer = bot.click("陈立", entry, "English")
    assert status == 200 and store.people.setting(me) == ("en_us", True)
    [entry] = bot.say("陈立", "语言 自动")
    assert card_title(entry) == "语言：自动"
    assert store.people.setting(me) in ((None, False), ("zh_cn", False))  # forgotten (or learned again)


@pytest.mark.parametrize("text, expected", [
    ("lang english", "en_us"), ("语言 英文", "en_us"), ("语言英语", "en_us"), ("LANG EN", "en_us"),
    ("lang zh", "zh_cn"), ("语言 chinese", "zh_cn"), ("language 中文", "zh_cn"),
])
def test_lang_words(bot, store, sandbox, text, expected):
    bot.say("陈立", text)
    assert store.people.setting(sandbox.seed.person("cto").open_id) == (expected, True)


def test_an_unknown_language_is_a_card_with_the_choices(bot, store, sandbox):
    [entry] = bot.say("陈立", "lang klingon " + "x" * 200)
    assert_valid_card(entry["content"])
    assert card_title(entry) == "Unknown language"
    assert "x" * 31 not in bot.text_of(entry)  # a short excerpt of what was typed, never all of it
    assert {"English", "中文"} <= {b["text"]["content"] for b in buttons_of(entry["content"])}
    assert store.people.setting(sandbox.seed.person("cto").open_id)[1] is False  # nothing chosen


def test_without_a_store_lang_says_it_cannot_remember(bot):
    router = bot.client.application.extensions["bot"].router
    ctx = replace(router.context(sender="ou_x", chat=None), store=None)  # type: ignore[arg-type]
    reply = lang.run(CommandCall(name="lang", args=("en",), locale="zh_cn"), ctx)
    assert title(reply.card) == "Cannot remember a language"


# -- the manager digest --------------------------------------------------------------------------------------

def test_the_digest_comes_in_the_managers_chosen_language_not_the_subscriptions(bot, runtime, store, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    [entry] = bot.say("王磊", "周报 开启 周一 9:00")
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    assert sub.locale == "zh_cn"
    bot.say("王磊", "lang en")
    mark = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, MONDAY_0900)
    [card] = sent_to(sandbox, mark, manager)
    assert title(card).startswith("Team digest for") and is_english(card)
    assert any(b["text"]["content"] == "Nudge" for b in buttons_of(card))


def test_after_lang_auto_the_digest_is_in_the_subscriptions_language_again(bot, runtime, store, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    bot.say("王磊", "周报 开启 周一 9:00")
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    bot.say("王磊", "lang en")
    bot.say("王磊", "语言 自动")
    mark = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, MONDAY_0900)
    [card] = sent_to(sandbox, mark, manager)
    assert title(card).endswith("的团队周报")


def test_a_chosen_language_beats_one_learned_later_for_the_digest(bot, runtime, store, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    sub = store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager, schedule=WEEKLY,
                                  locale="zh_cn")
    bot.say("王磊", "lang en")
    store.people.remember_language(manager, "zh_cn", NOW)  # as the router does for a message in Chinese
    mark = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, MONDAY_0900)
    [card] = sent_to(sandbox, mark, manager)
    assert title(card).startswith("Team digest for")


def test_a_learned_language_is_used_for_the_digest(bot, runtime, store, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    sub = store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager, schedule=WEEKLY,
                                  locale="zh_cn")
    store.people.remember_language(manager, "en_us", NOW)
    mark = len(sandbox.state.requests.entries())
    assert run_at(runtime, sub, MONDAY_0900)
    [card] = sent_to(sandbox, mark, manager)
    assert title(card).startswith("Team digest for")


def test_a_run_reads_every_digest_recipients_language_in_one_query(bot, runtime, store, sandbox):
    managers = [sandbox.seed.person(m).open_id for m in ("wanglei", "cto")]
    subs = [store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=m, created_by=m, schedule=WEEKLY,
                                    locale="zh_cn") for m in managers]
    store.people.set_language(managers[0], "en_us", NOW)
    statements = people_queries(store)
    mark = len(sandbox.state.requests.entries())
    data = jobs.start_run(runtime, MONDAY_0900)
    for sub in subs:
        assert run_at(runtime, sub, MONDAY_0900, data)
    assert statements == ["SELECT"]
    assert title(sent_to(sandbox, mark, managers[0])[0]).startswith("Team digest for")
    assert title(sent_to(sandbox, mark, managers[1])[0]).endswith("的团队周报")


# -- the nudge ----------------------------------------------------------------------------------------------

def _click_nudge(bot: Chat, entry: dict, target: str, as_person: str):
    card = entry["content"]
    button = next(b for b in buttons_of(card) if (callback_value(b) or {}).get("target") == target)
    return bot.sender.click(operator_open_id=bot.person(as_person).open_id, value=callback_value(button),
                            message_id=entry["message_id"], chat_id=entry.get("chat_id", ""))


def test_a_nudge_reaches_the_report_in_the_reports_language_not_the_managers(bot, store, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    digest = next(e for e in bot.say("王磊", "周报 立即") if e["receive_id"] == manager)
    targets = [callback_value(b)["target"] for b in buttons_of(digest["content"])
               if (callback_value(b) or {}).get("cmd") == "nudge" and "target" in callback_value(b)]
    assert len(targets) >= 2
    english, unknown = targets[0], targets[1]
    bot.say(sandbox.seed.person_by_id(english).name, "lang en")
    store.people.set_language(manager, "zh_cn", NOW)
    mark = len(sandbox.state.requests.entries())
    status, answer = _click_nudge(bot, digest, english, "王磊")
    assert status == 200 and answer["toast"]["content"].startswith("已提醒")  # the manager's toast: theirs
    [dm] = sent_to(sandbox, mark, english)
    assert title(dm) == "A friendly OKR reminder" and is_english(dm)
    # The manager now speaks English; a report whose language is unknown gets the bot's default (Chinese).
    store.people.set_language(manager, "en_us", NOW)
    mark = len(sandbox.state.requests.entries())
    _click_nudge(bot, digest, unknown, "王磊")
    [dm] = sent_to(sandbox, mark, unknown)
    assert title(dm) == "OKR 小提醒"


# -- a group reminder's private cards ------------------------------------------------------------------------

def test_each_persons_own_reminder_card_is_in_their_language_and_the_group_card_in_the_groups(
        settings, sandbox, store, tmp_path):
    restricted = admin_settings_of(settings, sandbox, tmp_path, okr_visibility="team")
    bot = bot_chat(restricted, sandbox, store)
    group = sandbox.seed.chat("eng_weekly").chat_id
    sub = store.subscriptions.add(kind=KIND_OKR_REMINDER, target=group, created_by="ou_x", schedule=FRIDAY_1700,
                                  stale_days=7, locale="zh_cn")
    store.subscriptions.set_options(sub.id, mention="all")  # the stale and the at-risk get their own cards
    sub = store.subscriptions.get(sub.id)
    run_at(_runtime(bot, store, restricted, now=ANCHOR_1700), sub, ANCHOR_1700)
    _, decisions = store.subscriptions.last_decisions(sub.id)
    at_risk = sorted(o for o, d in decisions.items() if d.startswith("mentioned"))
    assert len(at_risk) >= 2
    english, others = at_risk[0], at_risk[1:]
    store.people.set_language(english, "en_us", NOW)
    store.people.remember_language(others[0], "zh_cn", NOW)
    later = ANCHOR_1700 + timedelta(hours=1)
    statements = people_queries(store)
    mark = len(sandbox.state.requests.entries())
    run_at(_runtime(bot, store, restricted, now=later), sub, later)
    assert statements == ["SELECT"]  # everyone's language in one query, not one per person
    [group_card] = sent_to(sandbox, mark, group)
    assert "OKR" in title(group_card) and not is_english(group_card)  # the group's card: the group's language
    [mine] = sent_to(sandbox, mark, english)
    assert title(mine) == "Your OKR reminder" and is_english(mine)
    assert any(b["text"]["content"] == "Remind me tomorrow" for b in buttons_of(mine))
    for other in others:
        [theirs] = sent_to(sandbox, mark, other)
        assert title(theirs) == "你的 OKR 提醒"


# -- the greeting and the message after login ----------------------------------------------------------------

def _open_chat(bot: Chat, name: str, event_id: str):
    person = bot.person(name)
    status, _ = bot.sender.deliver("/webhook/event", simple_event(
        "im.chat.access_event.bot_p2p_chat_entered_v1",
        {"chat_id": p2p_chat_id(person.open_id), "operator_id": {"open_id": person.open_id}},
        token=VERIFICATION_TOKEN, app_id="cli_sandbox_app", event_id=event_id))
    assert status == 200


def test_the_greeting_of_a_direct_chat_is_in_the_persons_language(bot, store, sandbox):
    store.people.set_language(sandbox.seed.person("cto").open_id, "en_us", NOW)
    mark = len(sandbox.state.requests.entries())
    _open_chat(bot, "陈立", "evt-entered-en")
    _open_chat(bot, "刘芳", "evt-entered-default")
    [hello] = sent_to(sandbox, mark, sandbox.seed.person("cto").open_id)
    assert title(hello).endswith("is here") and is_english(hello)
    [hello] = sent_to(sandbox, mark, sandbox.seed.person("liufang").open_id)
    assert title(hello).endswith("来了")  # unknown: the bot's default


def test_the_message_after_login_is_in_the_persons_language(settings, sandbox, tmp_path):
    public = "http://bot.example.test"
    configured = settings.with_(secret_key=new_secret_key(), public_url=public,
                                database_url=f"sqlite:///{tmp_path}/bot.db")
    store = Store(configured.database_url)
    bot = bot_chat(configured, sandbox, store)
    me = sandbox.seed.person("yangfan").open_id
    bot.say("杨帆", "lang en")
    [entry] = bot.say("杨帆", "login")
    [link] = [b["behaviors"][0]["default_url"] for b in buttons_of(entry["content"])]
    answer = requests.get(link + "&auto_approve=" + me, allow_redirects=False, timeout=10)
    target = urlsplit(answer.headers["Location"])
    mark = len(sandbox.state.requests.entries())
    page = bot.client.get("/oauth/callback?" + target.query)
    assert page.status_code == 200 and "Authorised" in page.get_data(as_text=True)
    [dm] = sent_to(sandbox, mark, me)
    assert title(dm) == "Authorised" and is_english(dm)
