"""The one place that sends: replies, messages to a chat or a person, and delayed card updates.

Every message carries a typed idempotency `Key`; Feishu drops a second message with the same key (its
`uuid`) for an hour, so a retried event, a retried job or a restarted process cannot post twice. The
per-chat and per-person send limits (5 messages a second to one chat or one person) are kept here as well.
Commands and digests do not send: they return what to say (`Reply`, `Outgoing`) and this module sends it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

from bot.feishu.errors import FeishuApiError
from bot.feishu.messenger import Messenger
from bot.feishu.ratelimit import IM_PER_TARGET_LIMITS, SlidingWindowLimiter, scaled
from bot.store.subscriptions import to_slot
from cards import notices as error_cards

if TYPE_CHECKING:
    from bot.commands.base import Context, Reply

log = logging.getLogger(__name__)

UUID_MAX = 50  # Feishu's limit for the idempotency field


class Purpose(Enum):
    """Why a message is sent. The values are the parts the uuids have always been made of: changing one
    would let a message retried across an upgrade go out twice."""

    REPLY = "r"  # the answer to a message, in its thread
    DM = "dm"  # a private answer to a message sent in a group
    PRIVATE_NOTE = "note"  # "sent you privately", in the group
    ERROR = "err"  # the error card when the answer could not be sent
    WELCOME = "welcome"  # the greeting when the bot joins a chat or a person opens its chat
    SCHEDULED = "sub"  # a reminder or digest of a subscription, at one scheduled time, to one recipient
    NUDGE = "nudge"  # a manager's nudge to a report, from a digest's button
    LOGIN_DONE = "oauth-ok"  # "authorised", after the OAuth callback


# Keys made from an inbound message put the message id first ("<message_id>:r"), the others their purpose.
_MESSAGE_FIRST = frozenset({Purpose.REPLY, Purpose.DM, Purpose.PRIVATE_NOTE, Purpose.ERROR})


def to_uuid(*parts: str) -> str:
    """A stable idempotency string of at most 50 characters for the given parts."""
    key = ":".join(parts)
    if len(key) <= UUID_MAX:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:UUID_MAX]


@dataclass(frozen=True, slots=True)
class Key:
    """The idempotency key of one message the bot sends. Make it with a constructor (`Key.reply(...)`)."""

    purpose: Purpose
    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.parts or not all(isinstance(p, str) and p for p in self.parts):
            # An empty part would make one key for many messages, and Feishu would drop all but the first.
            raise ValueError(f"a {self.purpose.name} key needs every part, got {self.parts!r}")

    @property
    def uuid(self) -> str:
        if self.purpose in _MESSAGE_FIRST:
            return to_uuid(*self.parts, self.purpose.value)
        return to_uuid(self.purpose.value, *self.parts)

    @classmethod
    def reply(cls, message_id: str) -> Key:
        return cls(Purpose.REPLY, (message_id,))

    @classmethod
    def dm(cls, message_id: str) -> Key:
        return cls(Purpose.DM, (message_id,))

    @classmethod
    def private_note(cls, message_id: str) -> Key:
        return cls(Purpose.PRIVATE_NOTE, (message_id,))

    @classmethod
    def error(cls, message_id: str) -> Key:
        return cls(Purpose.ERROR, (message_id,))

    @classmethod
    def welcome(cls, receive_id: str) -> Key:
        return cls(Purpose.WELCOME, (receive_id,))

    @classmethod
    def scheduled(cls, subscription_id: int, scheduled_for: datetime, recipient: str) -> Key:
        return cls(Purpose.SCHEDULED, (str(subscription_id), to_slot(scheduled_for), recipient))

    @classmethod
    def nudge(cls, key: str) -> Key:
        """`key` is the nudge's claim in the store ("<subscription>:<slot>:<report>")."""
        return cls(Purpose.NUDGE, (key,))

    @classmethod
    def login_done(cls, state: str) -> Key:
        return cls(Purpose.LOGIN_DONE, (state,))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message a command asks to send besides its answer (a nudge to someone else)."""

    receive_id: str  # a chat (oc_…) or a person (ou_…)
    card: dict[str, Any]
    key: Key


_outboxes: weakref.WeakKeyDictionary[Messenger, Outbox] = weakref.WeakKeyDictionary()
_outboxes_lock = threading.Lock()


class Outbox:
    def __init__(self, messenger: Messenger, *, scale: float = 1.0) -> None:
        self._messenger = messenger
        self._scale = scale
        self._targets: TTLCache[str, SlidingWindowLimiter] = TTLCache(maxsize=10_000, ttl=60)
        self._targets_lock = threading.Lock()

    @classmethod
    def of(cls, messenger: Messenger) -> Outbox:
        """The one outbox of these clients: the router, the digests and the OAuth callback of a process share
        it, and with it the per-chat limits."""
        with _outboxes_lock:
            outbox = _outboxes.get(messenger)
            if outbox is None:
                outbox = _outboxes[messenger] = cls(messenger, scale=messenger.scale)
            return outbox

    def _limit(self, target: str) -> None:
        """Feishu allows 5 messages per second to one person and to one chat."""
        with self._targets_lock:
            limiter = self._targets.get(target)
            if limiter is None:
                limiter = SlidingWindowLimiter(scaled(IM_PER_TARGET_LIMITS, self._scale))
            self._targets[target] = limiter  # (re)set: the entry lives while the target is written to
        limiter.acquire()

    # -- sending --------------------------------------------------------------------------------------
    def reply(self, message_id: str, card: dict[str, Any], key: Key, *, chat_id: str = "") -> str:
        """Reply to a message with a card, in its chat (`chat_id`, for the chat's limit); the new message's id."""
        if chat_id:
            self._limit(chat_id)
        return self._messenger.reply(message_id, card, uuid=key.uuid)

    def send(self, receive_id: str, card: dict[str, Any], key: Key) -> str:
        """Send a card to a chat (oc_…) or a person (ou_…); the new message's id."""
        self._limit(receive_id)
        return self._messenger.send(receive_id, card, uuid=key.uuid)

    def send_all(self, outgoing: Iterable[Outgoing]) -> list[str]:
        return [self.send(o.receive_id, o.card, o.key) for o in outgoing]

    def delayed_update(self, token: str, card: dict[str, Any]) -> None:
        """Update a clicked card after its callback was answered, with the callback's token (30 min, 2 uses)."""
        self._messenger.delayed_update(token, card)

    def _to_person(self, reply: Reply, ctx: Context,
                   error_card: Callable[[FeishuApiError], dict[str, Any]] | None) -> str | None:
        try:
            return self.send(ctx.sender_open_id, reply.card, Key.dm(ctx.message_id))
        except FeishuApiError as exc:
            log.error("could not send the answer for event %s: %s", ctx.event_id, exc)
            if error_card is None or reply.card.get("header", {}).get("template") == "red":
                return None
            try:
                return self.send(ctx.sender_open_id, error_card(exc), Key.error(ctx.message_id))
            except FeishuApiError as again:
                log.error("could not send the error card for event %s either: %s", ctx.event_id, again)
                return None

    def deliver(self, reply: Reply, ctx: Context, *, locale: str,
                error_card: Callable[[FeishuApiError], dict[str, Any]] | None = None) -> str | None:
        """Send a command's answer: in the thread of the asking message, or privately to the asker (with a
        note in the group); the messages a command asks to send besides (`reply.outgoing`) went out already in
        `Router.run`, the one path of messages and clicks. When the answer cannot be sent,
        try `error_card(exc)` in its place. The id of the message sent, or None when nothing could be.

        Every key is made from the inbound message id, so a retried event or a retried send cannot post twice.
        """
        log.debug("sending the reply to %s (event %s)", ctx.message_id, ctx.event_id)
        if not ctx.chat.chat_id:  # a click on the bot's menu: no message to answer, the answer goes to the person
            return self._to_person(reply, ctx, error_card)
        try:
            if reply.private and ctx.chat.chat_type != "p2p":
                sent = self.send(ctx.sender_open_id, reply.card, Key.dm(ctx.message_id))
                self.reply(ctx.message_id, error_cards.build_sent_privately_card(locale=locale),
                           Key.private_note(ctx.message_id), chat_id=ctx.chat.chat_id)
                return sent
            return self.reply(ctx.message_id, reply.card, Key.reply(ctx.message_id), chat_id=ctx.chat.chat_id)
        except FeishuApiError as exc:
            log.error("could not send the reply for event %s: %s", ctx.event_id, exc)
            if error_card is None or reply.card.get("header", {}).get("template") == "red":
                return None  # already an error card; don't loop
            try:
                return self.reply(ctx.message_id, error_card(exc), Key.error(ctx.message_id),
                                  chat_id=ctx.chat.chat_id)
            except FeishuApiError as again:
                log.error("could not send the error card for event %s either: %s", ctx.event_id, again)
                return None
