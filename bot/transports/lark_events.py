"""lark-oapi's event dispatcher, shared by both transports: SDK objects in, the pipeline's dataclasses out.

The SDK decrypts (Encrypt Key), checks the verification token and the signature, and answers the
url_verification challenge. Here each SDK object becomes a plain dataclass (bot/inbound.py) and goes to the
pipeline; a card click's answer goes back as the SDK's response object. Nothing here calls Feishu, so every
valid event is answered at once.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import lark_oapi as lark
from lark_oapi.core.model import RawRequest, RawResponse
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)

from bot.inbound import BotAdded, CardClick, ChatEntered, ClickAnswer, InboxUnavailable, IncomingMessage, Pipeline
from bot.models import Mention
from bot.settings import Settings

log = logging.getLogger(__name__)

# Events we register; anything else still gets a 200 (see transports/webhook.py), never a 500 Feishu retries.
MESSAGE_EVENT = "im.message.receive_v1"
BOT_ADDED_EVENT = "im.chat.member.bot.added_v1"
P2P_ENTERED_EVENT = "im.chat.access_event.bot_p2p_chat_entered_v1"
CARD_ACTION_EVENT = "card.action.trigger"
MENU_EVENT = "application.bot.menu_v6"
MENU_KEY_CHARS = 30  # Feishu's limit on a menu item's event_key


# -- SDK objects → dataclasses (pure) -------------------------------------------------------------------
def _text_of(message_type: str, content: str) -> str:
    """The plain text of a text or post message; mention placeholders (@_user_N) are kept."""
    try:
        body = json.loads(content or "{}")
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if message_type == "text":
        return str(body.get("text") or "")
    if message_type == "post":
        post = body.get("content") if "content" in body else next(iter(body.values()), {}).get("content", [])
        parts: list[str] = []
        for line in post or []:
            for node in line or []:
                if node.get("tag") == "text":
                    parts.append(str(node.get("text") or ""))
                elif node.get("tag") == "at":
                    parts.append(str(node.get("user_id") or ""))
            parts.append(" ")
        return " ".join("".join(parts).split())
    return ""


def _event_id(data: Any) -> str:
    return (getattr(getattr(data, "header", None), "event_id", "") or "")


def to_incoming_message(data: lark.im.v1.P2ImMessageReceiveV1) -> IncomingMessage:
    event = data.event
    message = event.message
    sender = event.sender
    mentions = tuple(
        Mention(key=m.key or "", open_id=(m.id.open_id if m.id else "") or "", name=m.name or "")
        for m in (message.mentions or ())
    )
    return IncomingMessage(
        event_id=_event_id(data),
        message_id=message.message_id or "",
        chat_id=message.chat_id or "",
        chat_type=message.chat_type or "",
        sender_open_id=(sender.sender_id.open_id if sender and sender.sender_id else "") or "",
        sender_type=(sender.sender_type if sender else "") or "",
        text=_text_of(message.message_type or "", message.content or ""),
        mentions=mentions,
        message_type=message.message_type or "",
    )


def to_menu_message(data: Any) -> IncomingMessage:
    """A click on the bot's menu (application.bot.menu_v6, a menu item whose action is "push event"): the item's
    event_key is read as a command the operator typed in their direct chat with the bot (`okr`, `我的团队`, `help`).
    There is no message to reply to: the answer goes to the person (no chat id)."""
    event = data.event
    operator = event.operator if event else None
    ids = operator.operator_id if operator else None
    event_id = _event_id(data)
    return IncomingMessage(
        event_id=event_id,
        message_id=f"menu-{event_id}",
        chat_id="",
        chat_type="p2p",
        sender_open_id=(ids.open_id if ids else "") or "",
        sender_type="user",
        text=((event.event_key if event else "") or "")[:MENU_KEY_CHARS],
        message_type="menu",
    )


def to_card_click(data: P2CardActionTrigger) -> CardClick:
    event = data.event
    action = event.action if event else None
    context = event.context if event else None
    value = action.value if action else None
    form_value = action.form_value if action else None
    return CardClick(
        event_id=_event_id(data),
        operator_open_id=(event.operator.open_id if event and event.operator else "") or "",
        chat_id=(context.open_chat_id if context else "") or "",
        message_id=(context.open_message_id if context else "") or "",
        value=value if isinstance(value, dict) else None,
        token=(event.token if event else "") or "",
        form_value=form_value if isinstance(form_value, dict) else None,
    )


def to_bot_added(data: lark.im.v1.P2ImChatMemberBotAddedV1) -> BotAdded:
    return BotAdded(event_id=_event_id(data), chat_id=(data.event.chat_id if data.event else "") or "")


def to_chat_entered(data: lark.im.v1.P2ImChatAccessEventBotP2pChatEnteredV1) -> ChatEntered:
    operator = data.event.operator_id if data.event else None
    return ChatEntered(event_id=_event_id(data), open_id=(operator.open_id if operator else "") or "")


def to_callback_answer(answer: ClickAnswer) -> P2CardActionTriggerResponse:
    """The pipeline's answer in the shape Feishu wants ({} keeps the card)."""
    body: dict[str, Any] = {}
    if answer.toast is not None:
        body["toast"] = {"type": answer.toast.kind, "content": answer.toast.text}
        if answer.toast.i18n:
            body["toast"]["i18n"] = dict(answer.toast.i18n)
    if answer.card is not None:
        body["card"] = {"type": "raw", "data": answer.card}
    return P2CardActionTriggerResponse(body)


# -- the dispatcher ---------------------------------------------------------------------------------------
_failure = threading.local()  # what our handler raised during the current dispatch on this thread


def _logged(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Our handler's own failures are logged here with the event id (the webhook silences the SDK's traceback
    for every refused request), and kept for `dispatch` to map: the SDK only passes on their text."""

    @functools.wraps(handler)
    def guarded(data: Any) -> Any:
        try:
            return handler(data)
        except Exception as exc:
            if not isinstance(exc, InboxUnavailable):  # logged where it happened
                log.exception("%s failed on event %s", handler.__name__, _event_id(data) or "?")
            _failure.error = exc
            raise

    return guarded


def build_dispatcher(settings: Settings, pipeline: Pipeline) -> lark.EventDispatcherHandler:
    """The SDK's dispatcher with our credentials (empty on the long connection) and the pipeline's handlers."""

    @_logged
    def message(data: lark.im.v1.P2ImMessageReceiveV1) -> None:
        pipeline.on_message(to_incoming_message(data))

    @_logged
    def bot_added(data: lark.im.v1.P2ImChatMemberBotAddedV1) -> None:
        pipeline.on_bot_added(to_bot_added(data))

    @_logged
    def p2p_entered(data: lark.im.v1.P2ImChatAccessEventBotP2pChatEnteredV1) -> None:
        pipeline.on_chat_entered(to_chat_entered(data))

    @_logged
    def menu(data: Any) -> None:
        pipeline.on_message(to_menu_message(data))

    @_logged
    def card_action(data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        return to_callback_answer(pipeline.on_card_click(to_card_click(data)))

    return (
        lark.EventDispatcherHandler.builder(settings.encrypt_key, settings.verification_token)
        .register_p2_im_message_receive_v1(message)
        .register_p2_im_chat_member_bot_added_v1(bot_added)
        .register_p2_im_chat_access_event_bot_p2p_chat_entered_v1(p2p_entered)
        .register_p2_card_action_trigger(card_action)
        .register_p2_application_bot_menu_v6(menu)
        .build()
    )


def dispatch(dispatcher: lark.EventDispatcherHandler, request: RawRequest) -> tuple[RawResponse, Exception | None]:
    """Run one request through the SDK's dispatcher; its answer, and what our handler raised (None when our
    handler did not fail: the answer is then the SDK's own, a refusal included)."""
    _failure.error = None
    try:
        return dispatcher.do(request), _failure.error
    finally:
        _failure.error = None
