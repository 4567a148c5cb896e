"""Inbound events (im.message.receive_v1, card.action.trigger) for people and cards of the seeded company.

The payload shape is built in one place, `delivery.message_event` / `delivery.card_action_event`; this
module adds what only the sandbox knows: the people's ids, the tenant, the event ids and times.

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
from .event_push import At, message_event
from .event_push import card_action_event as card_action_event_for
from .records import Person

if TYPE_CHECKING:
    from .state import SandboxState

DEFAULT_VERIFICATION_TOKEN = "sandbox-verification-token"
_event_seq = itertools.count(1)


def _person(state: SandboxState, who: Person | str) -> Person:
    if isinstance(who, Person):
        return who
    person = state.seed.person_by_id(who) or state.seed.find_person(who)
    return person


def _event_id(state: SandboxState) -> str:
    return "sbx-" + ids.short_hex(f"event:{state.app_id}:{next(_event_seq)}:{state.clock.now()}", 28)


def _at(person: Person) -> At:
    return At(person.open_id, person.name, person.union_id, person.user_id)


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
    if chat is None:
        chat_id, chat_type = ids.p2p_chat_id(person.open_id), "p2p"
        mention_bot = bool(mention_bot)
    else:
        found = state.seed.chat(chat)
        if found is None:
            raise KeyError(f"unknown chat {chat!r}")
        chat_id, chat_type = found.chat_id, "group"
        mention_bot = True if mention_bot is None else mention_bot
    ats = [At(state.seed.bot_open_id, state.seed.bot_app_name)] if mention_bot else []
    ats += [_at(_person(state, other)) for other in mentions]
    if content is None:
        prefix = [f"@_user_{i + 1}" for i in range(len(ats))]
        content = {"text": " ".join([*prefix, text or ""]).strip() if prefix else (text or "")}
    stored = state.messages.register_inbound(
        sender_open_id=person.open_id,
        chat_id=chat_id,
        chat_type=chat_type,
        msg_type=message_type,
        content=json.dumps(dict(content), ensure_ascii=False),
        parent_id=parent_id,
        root_id=parent_id,
    )
    return message_event(
        sender_open_id=person.open_id, sender=_at(person), chat_id=chat_id, chat_type=chat_type, mentions=ats,
        content=dict(content), message_type=message_type, message_id=stored["message_id"],
        parent_id=stored["parent_id"], root_id=stored["root_id"], create_time_ms=int(stored["create_time"]),
        token=verification_token, app_id=state.app_id, event_id=_event_id(state), tenant_key=state.seed.tenant_key,
    )


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
    message = state.messages.get(message_id)
    action: dict[str, Any] = {"tag": tag, "timezone": "Asia/Shanghai"}
    extras = {"name": name, "form_value": dict(form_value) if form_value is not None else None,
              "input_value": input_value, "option": option}
    action.update({key: extra for key, extra in extras.items() if extra is not None})
    return card_action_event_for(
        operator_open_id=person.open_id, operator=_at(person), value=dict(value or {}), message_id=message_id,
        chat_id=message["chat_id"] if message else ids.p2p_chat_id(person.open_id),
        card_token=state.card_tokens.issue(message_id, person.open_id), action=action,
        token=verification_token, app_id=state.app_id, event_id=_event_id(state), create_time_ms=state.clock.now_ms(),
        tenant_key=state.seed.tenant_key,
    )
