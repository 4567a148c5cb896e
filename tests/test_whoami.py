"""`whoami`: the asker's own ids (the open_id is what BOT_ADMINS takes) and whether they are an admin; privately in a
group."""

from __future__ import annotations

from bot.inbound import InlineExecutor
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from tests.conftest import NOW, Chat, card_title


def test_whoami_shows_your_open_id_and_that_you_are_not_an_admin(chat):
    me = chat.person("杨帆")
    [entry] = chat.say("杨帆", "whoami")
    assert_valid_card(entry["content"])
    text = chat.text_of(entry)
    assert card_title(entry) == "杨帆"
    assert me.open_id in text and me.user_id in text
    assert "not an admin" in text and "BOT_ADMINS is not set" in text
    assert entry["content"]["config"]["enable_forward"] is False


def test_whoami_of_an_admin_says_so(settings, sandbox):
    ceo = sandbox.seed.find_person("周星河")
    app = create_app(settings.with_(admins=frozenset({ceo.open_id})), executor=InlineExecutor(), clock=lambda: NOW)
    chat = Chat(app.test_client(), sandbox, settings)
    [entry] = chat.say("周星河", "我是谁")
    text = chat.text_of(entry)
    assert "机器人管理员" in text and "不是管理员" not in text
    assert "直属下属" in text


def test_whoami_in_a_group_answers_privately(chat, sandbox):
    entries = chat.say("杨帆", "whoami", group="eng_weekly")
    me = chat.person("杨帆")
    private = [e for e in entries if e.get("receive_id") == me.open_id]
    assert len(private) == 1 and me.open_id in chat.text_of(private[0])
    assert all(me.open_id not in chat.text_of(e) for e in entries if e is not private[0])
