"""The inbound pipeline (bot/inbound.py) behind the webhook: a card click reaches it as a plain `CardClick`; its
typed `InboxUnavailable` becomes a 503 Feishu retries; any other failure of our handler a short 500."""

from __future__ import annotations

import json
import logging

import lark_oapi as lark
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTrigger
from sqlalchemy import text

from bot.inbound import CardClick, ClickAnswer, InlineExecutor
from bot.store import Base
from bot.transports.lark_events import to_callback_answer, to_card_click
from bot.transports.webhook import create_app
from devkit.cardtext import buttons_of, callback_value
from devkit.sandbox.event_push import card_action_event, simple_event
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import NOW, Chat


def _view_button(chat: Chat) -> tuple[dict, dict]:
    """A pick list from `查人 张伟` and the value of its first 查看 button."""
    [entry] = chat.say("周星河", "查人 张伟")
    button = next(b for b in buttons_of(entry["content"]) if b["text"]["content"] == "查看")
    return entry, callback_value(button)


def test_a_card_click_reaches_the_pipeline_as_a_card_click_and_its_answer_is_the_new_card(chat, sandbox):
    entry, value = _view_button(chat)
    clicker, chat_id = chat.person("陈立").open_id, p2p_chat_id(chat.person("周星河").open_id)
    payload = card_action_event(operator_open_id=clicker, value=value, message_id=entry["message_id"],
                                chat_id=chat_id, token=chat.sender.token, app_id=chat.sender.app_id,
                                event_id="ev_click_plain", card_token="c-delayed", action={"form_value": {"a": "1"}})
    status, body = chat.sender.deliver("/webhook/card", payload)
    assert status == 200
    over_the_webhook = json.loads(body)
    assert over_the_webhook["card"]["data"]["header"]["title"]["content"] == "张伟"

    # What the transport hands the pipeline: the SDK object (as lark-oapi's dispatcher parses it) as plain data.
    sdk_object = lark.JSON.unmarshal(json.dumps(payload), P2CardActionTrigger)
    assert to_card_click(sdk_object) == CardClick(
        event_id="ev_click_plain", operator_open_id=clicker, chat_id=chat_id,
        message_id=entry["message_id"], value=value, token="c-delayed", form_value={"a": "1"})

    # The pipeline needs nothing from the SDK: a click made of plain data gets the same answer.
    pipeline = chat.client.application.extensions["bot"].pipeline
    answer = pipeline.on_card_click(CardClick(event_id="ev_click_by_hand", operator_open_id=clicker,
                                              chat_id=chat_id, message_id=entry["message_id"], value=value))
    assert isinstance(answer, ClickAnswer) and answer.card == over_the_webhook["card"]["data"]
    assert to_callback_answer(answer).card.data == answer.card
    # …and the same click again is dropped (durable click dedup): the card stays as it is.
    assert pipeline.on_card_click(CardClick(event_id="ev_click_by_hand", operator_open_id=clicker,
                                            chat_id=chat_id, message_id=entry["message_id"],
                                            value=value)) == ClickAnswer()


def test_a_click_the_inbox_cannot_record_gets_503_and_feishus_retry_is_answered(settings, sandbox, caplog):
    app = create_app(settings, executor=InlineExecutor(), clock=lambda: NOW, retry_interval=None)
    chat = Chat(app.test_client(), sandbox, settings)
    entry, value = _view_button(chat)
    store = app.extensions["bot"].store
    payload = card_action_event(operator_open_id=chat.person("陈立").open_id, value=value,
                                message_id=entry["message_id"], chat_id="", token=chat.sender.token,
                                app_id=chat.sender.app_id, event_id="ev_click_db_down")
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE card_clicks"))  # the database fails under the bot
    status, body = chat.sender.deliver("/webhook/card", payload)
    assert status == 503 and json.loads(body) == {"msg": "temporarily unavailable"}
    assert any("ev_click_db_down" in r.getMessage() and r.exc_info for r in caplog.records)  # logged with its id

    Base.metadata.create_all(store.engine)  # the database is back; Feishu's retry arrives
    status, body = chat.sender.deliver("/webhook/card", payload)
    assert status == 200 and json.loads(body)["card"]["data"]["header"]["title"]["content"] == "张伟"


def test_a_failure_of_our_handler_other_than_the_inbox_is_a_short_500_logged_with_the_event_id(app, sandbox, caplog):
    chat = Chat(app.test_client(), sandbox, app.extensions["bot"].settings)
    broken = simple_event("im.message.receive_v1", {"sender": {"sender_type": "user"}}, token=chat.sender.token,
                          app_id=chat.sender.app_id, event_id="ev_without_message")  # no "message": cannot convert
    with caplog.at_level(logging.ERROR):
        status, body = chat.sender.deliver("/webhook/event", broken)
    assert status == 500 and json.loads(body) == {"msg": "internal error"}
    assert any("ev_without_message" in r.getMessage() and r.exc_info for r in caplog.records)
    assert sandbox.state.requests.matching("/im/v1/messages", "POST") == []
