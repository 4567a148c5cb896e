"""The bot's menu (application.bot.menu_v6): an item whose action is "push event" runs its event_key as a command the
person typed in their direct chat; the answer goes to them, once, however often Feishu delivers the event."""

from __future__ import annotations

from devkit.sandbox.event_push import simple_event
from tests.conftest import card_title


def menu_event(chat, who: str, key: str, event_id: str = "") -> dict:
    person = chat.person(who)
    return simple_event("application.bot.menu_v6", {
        "operator": {"operator_name": person.name,
                     "operator_id": {"open_id": person.open_id, "user_id": person.user_id, "union_id": ""}},
        "event_key": key, "timestamp": "1764036000"}, token=chat.sender.token, app_id=chat.sender.app_id,
        event_id=event_id or None)


def sends_to(sandbox, open_id: str) -> list[dict]:
    return [r for r in sandbox.state.requests.matching("/open-apis/im/v1/messages", "POST")
            if (r["body"] or {}).get("receive_id") == open_id]


def test_a_menu_item_runs_its_key_as_a_command_and_answers_the_person(chat, sandbox):
    me = chat.person("杨帆")
    before = len(sandbox.state.outbox.entries())
    status, _ = chat.sender.deliver("/webhook/event", menu_event(chat, "杨帆", "我的OKR"))
    assert status == 200
    [entry] = sandbox.state.outbox.entries()[before:]
    assert entry["receive_id"] == me.open_id and card_title(entry).startswith("杨帆")
    assert len(sends_to(sandbox, me.open_id)) == 1


def test_a_menu_event_delivered_again_is_answered_once(chat, sandbox):
    me = chat.person("杨帆")
    event = menu_event(chat, "杨帆", "help", event_id="evt-menu-1")
    for _ in range(3):
        assert chat.sender.deliver("/webhook/event", event)[0] == 200
    assert len(sends_to(sandbox, me.open_id)) == 1


def test_a_menu_key_that_is_no_command_gets_the_short_answer(chat, sandbox):
    before = len(sandbox.state.outbox.entries())
    chat.sender.deliver("/webhook/event", menu_event(chat, "杨帆", "do_something"))
    [entry] = sandbox.state.outbox.entries()[before:]
    assert card_title(entry) in ("Not sure what you mean", "没看懂")
