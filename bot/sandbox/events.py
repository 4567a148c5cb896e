"""Builders for inbound events (im.message.receive_v1, card.action.trigger) as Feishu would push them.

The sandbox does not deliver events itself: tests / the demo POST the returned envelope to the bot's webhook
(or feed it to the dispatcher). Building an event registers the user message (so the bot can reply to it)
or issues the delayed-update token (so /interactive/v1/card/update accepts it).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import ids
from .models import Person

if TYPE_CHECKING:
    from .state import SandboxState

DEFAULT_VERIFICATION_TOKEN = "sandbox-verification-token"
_event_seq = itertools.count(1)


def _person(state: SandboxState, who: Person | str) -> Person:
    if isinstance(who, Person):
        return who
    person = state.seed.person_by_id(who) or state.seed.find_person(who)
    return person


def _header(state: SandboxState, event_type: str, verification_token: str) -> dict[str, str]:
    seq = next(_event_seq)
    return {
        "event_id": "sbx-" + ids.short_hex(f"event:{state.app_id}:{seq}:{state.now()}", 28),
        "event_type": event_type,
        "create_time": str(state.now_ms()),
        "token": verification_token,
        "app_id": state.app_id,
        "tenant_key": state.seed.tenant_key,
    }


def _user_ids(person: Person) -> dict[str, str]:
    return {"union_id": person.union_id, "user_id": person.user_id, "open_id": person.open_id}


def user_message_event(
    state: SandboxState,
    sender: Person | str,
    text: str | None = None,
    *,
    chat: str | None = None,
    mention_bot: bool | None = None,
    mentions: Iterable[Person | str] = (),
    message_type: str = "text",
    content: Mapping[str, Any] | None = None,
    parent_id: str = "",
    verification_token: str = DEFAULT_VERIFICATION_TOKEN,
) -> dict[str, Any]:
    """An im.message.receive_v1 envelope from `sender` (p2p unless `chat` names a group chat).

    In groups the bot is @-mentioned by default (placeholder "@_user_1" prepended to the text); `mentions`
    adds further @people as "@_user_2"... For message types other than text pass `content`.
    """
    person = _person(state, sender)
    mention_list: list[dict[str, Any]] = []
    prefix: list[str] = []
    if chat is None:
        chat_id, chat_type = ids.p2p_chat_id(person.open_id), "p2p"
        mention_bot = bool(mention_bot)
    else:
        found = state.seed.chat(chat)
        if found is None:
            raise KeyError(f"unknown chat {chat!r}")
        chat_id, chat_type = found.chat_id, "group"
        mention_bot = True if mention_bot is None else mention_bot
    if mention_bot:
        key = f"@_user_{len(mention_list) + 1}"
        mention_list.append(
            {
                "key": key,
                "id": {"union_id": "", "user_id": "", "open_id": state.seed.bot_open_id},
                "name": state.seed.bot_app_name,
                "tenant_key": state.seed.tenant_key,
            }
        )
        prefix.append(key)
    for other in mentions:
        target = _person(state, other)
        key = f"@_user_{len(mention_list) + 1}"
        mention_list.append(
            {"key": key, "id": _user_ids(target), "name": target.name, "tenant_key": state.seed.tenant_key}
        )
        prefix.append(key)
    if content is None:
        body_text = " ".join([*prefix, text or ""]).strip() if prefix else (text or "")
        content = {"text": body_text}
    raw = json.dumps(dict(content), ensure_ascii=False)
    stored = state.register_inbound_message(
        sender_open_id=person.open_id,
        chat_id=chat_id,
        chat_type=chat_type,
        msg_type=message_type,
        content=raw,
        parent_id=parent_id,
        root_id=parent_id,
    )
    message: dict[str, Any] = {
        "message_id": stored["message_id"],
        "root_id": stored["root_id"],
        "parent_id": stored["parent_id"],
        "create_time": stored["create_time"],
        "update_time": stored["update_time"],
        "chat_id": chat_id,
        "chat_type": chat_type,
        "message_type": message_type,
        "content": raw,
        "mentions": mention_list,
        "user_agent": "Mozilla/5.0 Lark/7.30.0 (sandbox)",
    }
    return {
        "schema": "2.0",
        "header": _header(state, "im.message.receive_v1", verification_token),
        "event": {
            "sender": {
                "sender_id": _user_ids(person),
                "sender_type": "user",
                "tenant_key": state.seed.tenant_key,
            },
            "message": message,
        },
    }


def card_action_event(
    state: SandboxState,
    operator: Person | str,
    message_id: str,
    value: Mapping[str, Any] | None = None,
    *,
    tag: str = "button",
    name: str | None = None,
    form_value: Mapping[str, Any] | None = None,
    input_value: str | None = None,
    option: str | None = None,
    verification_token: str = DEFAULT_VERIFICATION_TOKEN,
) -> dict[str, Any]:
    """A card.action.trigger envelope for a click on the card `message_id` (issues a fresh "c-" token)."""
    person = _person(state, operator)
    message = state.message(message_id)
    token = state.issue_card_token(message_id, person.open_id)
    action: dict[str, Any] = {"value": dict(value or {}), "tag": tag, "timezone": "Asia/Shanghai"}
    if name is not None:
        action["name"] = name
    if form_value is not None:
        action["form_value"] = dict(form_value)
    if input_value is not None:
        action["input_value"] = input_value
    if option is not None:
        action["option"] = option
    return {
        "schema": "2.0",
        "header": _header(state, "card.action.trigger", verification_token),
        "event": {
            "operator": {"tenant_key": state.seed.tenant_key, **_user_ids(person)},
            "token": token,
            "action": action,
            "host": "im_message",
            "context": {
                "open_message_id": message_id,
                "open_chat_id": message["chat_id"] if message else ids.p2p_chat_id(person.open_id),
            },
        },
    }
