"""Exactly once, counted where it matters: the requests the bot SENT to Feishu (the sandbox's request log).

The sandbox's outbox keeps one message per uuid for an hour, like Feishu, so counting the outbox hides a
duplicate the bot sent. In production Feishu retries an event after 15 s, 5 min, 1 h and 6 h: the last two
fall outside the uuid's hour, and only the bot's own dedup (the durable inbox row and the seen store) stands
between a retry and a second answer to the person.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.inbound import InlineExecutor
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from bot.transports.webhook import create_app
from devkit.cardtext import buttons_of, callback_value
from devkit.sandbox.event_push import card_action_event
from devkit.sandbox.messages import UUID_TTL
from tests.conftest import NOW, Chat

TZ = ZoneInfo("Asia/Shanghai")
FRIDAY_1700 = datetime(2026, 11, 27, 17, 0, tzinfo=TZ)
MONDAY_0900 = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)


def sent(sandbox: Any) -> list[dict[str, Any]]:
    """Every send and reply the bot asked Feishu for, duplicates included: {to, reply_to, uuid, status}."""
    found = []
    for r in sandbox.state.requests.matching("/im/v1/messages", "POST"):
        path = r["path"].removeprefix("/open-apis")
        body = r["body"] if isinstance(r["body"], dict) else {}
        reply_to = path.split("/")[-2] if path.endswith("/reply") else None
        found.append({"to": body.get("receive_id"), "reply_to": reply_to, "uuid": body.get("uuid"),
                      "status": r["status"]})
    return found


def replies_to(sandbox: Any, message_id: str) -> list[dict[str, Any]]:
    return [s for s in sent(sandbox) if s["reply_to"] == message_id]


@pytest.fixture
def sandbox_clock(sandbox):
    """The sandbox's clock, frozen at the real time and moved by the test (restored afterwards)."""
    now = {"t": time.time()}
    sandbox.state.set_clock(lambda: now["t"])
    yield now
    sandbox.state.set_clock(None)


@pytest.fixture
def db_settings(settings, sandbox, tmp_path):
    """A database on disk, so that an app rebuilt on it (a restart, another instance) shares its inbox."""
    return settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db",
                          admins=frozenset({sandbox.seed.person("guofang").open_id}))


def _chat(settings, sandbox) -> Chat:
    return Chat(create_app(settings, executor=InlineExecutor(), clock=lambda: NOW).test_client(), sandbox, settings)


# -- messages --------------------------------------------------------------------------------------------

def test_the_same_event_delivered_twice_sends_one_reply(chat, sandbox):
    chat.say("周星河", "help", event_id="evt-once-1", message_id="om_once_a")
    chat.say("周星河", "help", event_id="evt-once-1", message_id="om_once_a")
    assert len(replies_to(sandbox, "om_once_a")) == 1
    assert len(sent(sandbox)) == 1


def test_the_same_message_under_a_new_event_id_sends_one_reply(chat, sandbox):
    chat.say("周星河", "help", event_id="evt-once-2a", message_id="om_once_b")
    chat.say("周星河", "help", event_id="evt-once-2b", message_id="om_once_b")
    assert len(sent(sandbox)) == 1


def test_a_redelivery_after_the_uuid_hour_sends_no_second_reply(chat, sandbox, sandbox_clock):
    chat.say("周星河", "help", event_id="evt-once-3a", message_id="om_once_c")
    [first] = replies_to(sandbox, "om_once_c")
    sandbox_clock["t"] += UUID_TTL + 60  # Feishu's 1 h retry: its uuid dedup has forgotten the reply
    assert sandbox.state.uuids.hit(first["uuid"]) is None  # so a second send would reach the person
    chat.say("周星河", "help", event_id="evt-once-3b", message_id="om_once_c")
    chat.say("周星河", "help", event_id="evt-once-3a", message_id="om_once_c")
    assert len(replies_to(sandbox, "om_once_c")) == 1
    assert len(sent(sandbox)) == 1


def test_a_redelivery_to_a_restarted_bot_after_the_uuid_hour_sends_no_second_reply(db_settings, sandbox,
                                                                                    sandbox_clock):
    """The 6 h retry reaches a process started since (its in-memory seen keys are gone): the inbox row
    recorded before the first answer is what refuses it."""
    _chat(db_settings, sandbox).say("周星河", "help", event_id="evt-once-4a", message_id="om_once_d")
    assert len(replies_to(sandbox, "om_once_d")) == 1
    sandbox_clock["t"] += 6 * 3600
    restarted = _chat(db_settings, sandbox)
    restarted.say("周星河", "help", event_id="evt-once-4b", message_id="om_once_d")
    restarted.say("周星河", "help", event_id="evt-once-4a", message_id="om_once_d")
    assert len(sent(sandbox)) == 1


# -- card clicks -----------------------------------------------------------------------------------------

def _next_page_click(chat: Chat, sandbox: Any, entry: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    button = next(b for b in buttons_of(entry["content"]) if b["text"]["content"] == "下一页")
    payload = card_action_event(operator_open_id=sandbox.seed.person("guofang").open_id,
                                value=callback_value(button), message_id=entry["message_id"],
                                chat_id=entry.get("chat_id", ""), token=chat.sender.token,
                                app_id=chat.sender.app_id, event_id=event_id)
    status, body = chat.sender.deliver("/webhook/card", payload)
    assert status == 200, body
    return json.loads(body) if body else {}


def test_a_click_delivered_twice_runs_once(db_settings, sandbox):
    admin = _chat(db_settings, sandbox)
    [entry] = admin.say("郭芳", "花名册 全部")
    assert "card" in _next_page_click(admin, sandbox, entry, event_id="evt-click-1")
    mark = len(sandbox.state.requests.entries())
    assert "card" not in _next_page_click(admin, sandbox, entry, event_id="evt-click-1")
    assert [r["path"] for r in sandbox.state.requests.entries()[mark:]] == []  # nothing re-read, nothing sent


def test_a_click_replayed_after_the_app_is_rebuilt_on_the_same_database_runs_once(db_settings, sandbox):
    admin = _chat(db_settings, sandbox)
    [entry] = admin.say("郭芳", "花名册 全部")
    assert "card" in _next_page_click(admin, sandbox, entry, event_id="evt-click-2")
    restarted = _chat(db_settings, sandbox)  # a restart, or another instance behind the load balancer
    mark = len(sandbox.state.requests.entries())
    assert "card" not in _next_page_click(restarted, sandbox, entry, event_id="evt-click-2")
    assert [r["path"] for r in sandbox.state.requests.entries()[mark:]] == []


def test_a_nudge_clicked_again_after_a_restart_sends_one_dm(db_settings, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    bot = _chat(db_settings, sandbox)
    digest = next(e for e in bot.say("王磊", "digest now") if e["receive_id"] == manager)
    nudge = next(b for b in buttons_of(digest["content"]) if b["text"]["content"] == "Nudge")
    target = nudge["behaviors"][0]["value"]["target"]
    bot.click("王磊", digest, "Nudge")
    _chat(db_settings, sandbox).click("王磊", digest, "Nudge")  # a new click (new event id), after a restart
    assert [s["to"] for s in sent(sandbox) if s["to"] == target] == [target]


# -- scheduled sends -------------------------------------------------------------------------------------

@pytest.fixture
def runtime(db_settings, sandbox):
    store = Store(db_settings.database_url)
    app = create_app(db_settings, executor=InlineExecutor(), clock=lambda: NOW, store=store)
    return Runtime(settings=db_settings, clients=app.extensions["bot"].clients, store=store, clock=lambda: NOW)


def test_a_reminder_run_twice_for_the_same_slot_sends_once(runtime, sandbox, sandbox_clock):
    group = sandbox.seed.chat("eng_weekly").chat_id
    sub = runtime.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=group, created_by="ou_x", schedule={})
    assert run_at(runtime, sub, FRIDAY_1700)
    first = [s["to"] for s in sent(sandbox)]  # the group's card, and a private check-in card to each stale member
    sandbox_clock["t"] += UUID_TTL + 60  # even when Feishu would take the copy
    assert run_at(runtime, sub, FRIDAY_1700) is None
    assert [s["to"] for s in sent(sandbox)] == first
    assert first.count(group) == 1 and len(first) == len(set(first))


def test_a_digest_run_twice_for_the_same_slot_sends_once(runtime, sandbox, sandbox_clock):
    manager = sandbox.seed.person("wanglei").open_id
    sub = runtime.store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager,
                                         schedule={})
    assert run_at(runtime, sub, MONDAY_0900)
    sandbox_clock["t"] += UUID_TTL + 60
    assert run_at(runtime, sub, MONDAY_0900) is None
    assert [s["to"] for s in sent(sandbox)] == [manager]


def test_remind_run_and_digest_now_twice_in_one_minute_send_once(db_settings, sandbox):
    bot = _chat(db_settings, sandbox)
    group = sandbox.seed.chat("eng_weekly").chat_id
    manager = sandbox.seed.person("wanglei").open_id
    bot.say("陈立", "提醒 OKR 周五 17:00", group="eng_weekly")
    for _ in range(2):
        bot.say("陈立", "remind run", group="eng_weekly")
        bot.say("王磊", "digest now")
    assert [s["to"] for s in sent(sandbox) if s["to"] == group] == [group]
    assert [s["to"] for s in sent(sandbox) if s["to"] == manager] == [manager]
