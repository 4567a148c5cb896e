"""lark-oapi's event dispatcher, wired to the bot: SDK event objects in, our handlers called.

The SDK decrypts (Encrypt Key), checks the verification token and the signature, and answers the
url_verification challenge. Our handlers only convert, deduplicate and hand off; they never call
Feishu on the request thread, so every valid event is answered at once.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import lark_oapi as lark
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)

from bot.models import Mention
from bot.router import IncomingMessage
from bot.settings import Settings

log = logging.getLogger(__name__)

# Events we register; anything else still gets a 200 (see web.py), never a 500 that Feishu retries.
MESSAGE_EVENT = "im.message.receive_v1"
BOT_ADDED_EVENT = "im.chat.member.bot.added_v1"
P2P_ENTERED_EVENT = "im.chat.access_event.bot_p2p_chat_entered_v1"
CARD_ACTION_EVENT = "card.action.trigger"


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


def to_incoming_message(data: lark.im.v1.P2ImMessageReceiveV1) -> IncomingMessage:
    header = data.header
    event = data.event
    message = event.message
    sender = event.sender
    mentions = tuple(
        Mention(key=m.key or "", open_id=(m.id.open_id if m.id else "") or "", name=m.name or "")
        for m in (message.mentions or ())
    )
    return IncomingMessage(
        event_id=(header.event_id if header else "") or "",
        message_id=message.message_id or "",
        chat_id=message.chat_id or "",
        chat_type=message.chat_type or "",
        sender_open_id=(sender.sender_id.open_id if sender and sender.sender_id else "") or "",
        sender_type=(sender.sender_type if sender else "") or "",
        text=_text_of(message.message_type or "", message.content or ""),
        mentions=mentions,
        message_type=message.message_type or "",
    )


HANDLER_FAILED = "handler failed"


def _logged(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Our handler's own failures are logged here, with the event id (the web layer silences the SDK's
    traceback for every refused request). "inbox unavailable" passes as it is (→ 503, Feishu retries);
    anything else becomes HANDLER_FAILED (→ a short 500)."""

    @functools.wraps(handler)
    def guarded(data: Any) -> Any:
        try:
            return handler(data)
        except Exception as exc:
            if isinstance(exc, RuntimeError) and str(exc) == "inbox unavailable":
                raise  # logged where it happened; → 503
            event_id = getattr(getattr(data, "header", None), "event_id", "?")
            log.exception("%s failed on event %s", handler.__name__, event_id)
            raise RuntimeError(HANDLER_FAILED) from exc

    return guarded


def build_dispatcher(
    settings: Settings,
    *,
    on_message: Callable[[IncomingMessage], None],
    on_bot_added: Callable[[str, str], None],
    on_p2p_entered: Callable[[str, str], None],
    on_card_action: Callable[[P2CardActionTrigger], dict[str, Any]],
) -> lark.EventDispatcherHandler:
    """The SDK's dispatcher with our credentials and handlers.

    `on_bot_added(event_id, chat_id)`, `on_p2p_entered(event_id, open_id)`; `on_card_action` returns
    the callback answer as a dict ({} keeps the card, {"card": …} replaces it, {"toast": …}).
    """

    @_logged
    def message(data: lark.im.v1.P2ImMessageReceiveV1) -> None:
        on_message(to_incoming_message(data))

    @_logged
    def bot_added(data: lark.im.v1.P2ImChatMemberBotAddedV1) -> None:
        on_bot_added(data.header.event_id or "", data.event.chat_id or "")

    @_logged
    def p2p_entered(data: lark.im.v1.P2ImChatAccessEventBotP2pChatEnteredV1) -> None:
        operator = data.event.operator_id
        on_p2p_entered(data.header.event_id or "", (operator.open_id if operator else "") or "")

    @_logged
    def card_action(data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        return P2CardActionTriggerResponse(on_card_action(data))

    return (
        lark.EventDispatcherHandler.builder(settings.encrypt_key, settings.verification_token)
        .register_p2_im_message_receive_v1(message)
        .register_p2_im_chat_member_bot_added_v1(bot_added)
        .register_p2_im_chat_access_event_bot_p2p_chat_entered_v1(p2p_entered)
        .register_p2_card_action_trigger(card_action)
        .build()
    )
