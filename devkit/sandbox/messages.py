"""Messages the sandbox keeps: the outbox of what the bot sent, stored messages, uuid idempotency, card tokens.

- `Outbox`: every send, reply, PATCH and delayed update the bot made, oldest first (what the demo page and
  tests watch; wait on it with `wait_for`, no polling).
- `Messages`: every message by id (user messages registered by simulated events, bot messages as sent and
  later updated), with its current content.
- `Uuids`: the `uuid` of a send or reply remembered for an hour: a repeat is answered with the first answer and
  nothing is sent again.
- `CardTokens`: the delayed-update tokens of card callbacks ("c-...", 30 minutes, 2 updates).

All classes are thread-safe.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import ids
from .api_errors import CARD_TOKEN_EXPIRED, CARD_TOKEN_FORMAT, CARD_TOKEN_OVERUSED, ApiError
from .clock import Clock

log = logging.getLogger(__name__)

UUID_TTL = 3600.0
CARD_TOKEN_TTL = 1800.0
CARD_TOKEN_MAX_USES = 2


class Outbox:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._changed = threading.Condition(threading.Lock())
        self._entries: list[dict[str, Any]] = []

    def record(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Append what the bot sent or updated; the entry with its `index` and `created_at`."""
        with self._changed:
            stored = dict(entry)
            stored["index"] = len(self._entries)
            stored.setdefault("created_at", self._clock.now())
            self._entries.append(stored)
            self._changed.notify_all()
            log.debug("sandbox outbox: %s %s -> %s", stored.get("kind"), stored.get("message_id"),
                      stored.get("chat_id"))
            return stored

    def __len__(self) -> int:
        with self._changed:
            return len(self._entries)

    def entries(self) -> list[dict[str, Any]]:
        """Snapshot of everything the bot sent/updated, oldest first."""
        with self._changed:
            return list(self._entries)

    def since(self, index: int) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._entries[index:])

    def wait_for(self, count: int, timeout: float = 5.0, *, since: int = 0) -> list[dict[str, Any]]:
        """Block (on a Condition, no polling) until at least `count` entries exist after index `since`.

        Returns the entries after `since` - fewer than `count` if `timeout` seconds passed first (callers
        assert on the length; nothing is raised).
        """
        with self._changed:
            self._changed.wait_for(lambda: len(self._entries) - since >= count, timeout)
            return list(self._entries[since:])

    def clear(self) -> None:
        with self._changed:
            self._entries.clear()
            self._changed.notify_all()


class Messages:
    def __init__(self, *, clock: Clock, outbox: Outbox, app_id: str, tenant_key: str) -> None:
        self._clock = clock
        self._outbox = outbox
        self._app_id = app_id
        self._tenant_key = tenant_key
        self._lock = threading.Lock()
        self._messages: dict[str, dict[str, Any]] = {}
        self._seq = 0

    def next_id(self) -> str:
        """A fresh "om_..." message id."""
        with self._lock:
            self._seq += 1
            return ids.message_id(self._seq, self._app_id)

    def store(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._messages[message["message_id"]] = message

    def get(self, message_id: str) -> dict[str, Any] | None:
        """A copy of the stored message, or None."""
        with self._lock:
            found = self._messages.get(message_id)
            return copy.deepcopy(found) if found else None

    def content(self, message_id: str) -> Any:
        """Current parsed content of a message (after PATCHes / delayed updates); None if unknown."""
        with self._lock:
            found = self._messages.get(message_id)
            return copy.deepcopy(found["parsed"]) if found else None

    def update(self, message_id: str, **changes: Any) -> dict[str, Any] | None:
        """Change fields of a stored message; a copy of it after the change, or None if unknown."""
        with self._lock:
            found = self._messages.get(message_id)
            if found is None:
                return None
            found.update(changes)
            return copy.deepcopy(found)

    def in_chat(self, chat_id: str) -> list[dict[str, Any]]:
        """Every stored message of one chat (user and bot, current content), oldest first; ephemeral cards
        are left out (they are shown only to one person, and the demo page shows them through the outbox)."""
        with self._lock:
            found = [m for m in self._messages.values() if m.get("chat_id") == chat_id and not m.get("ephemeral")]
            return copy.deepcopy(sorted(found, key=lambda m: (int(m.get("create_time") or 0), m["message_id"])))

    def register_inbound(
        self,
        *,
        sender_open_id: str,
        chat_id: str,
        chat_type: str,
        msg_type: str,
        content: str,
        message_id: str | None = None,
        parent_id: str = "",
        root_id: str = "",
    ) -> dict[str, Any]:
        """Remember a user-sent message so the bot can reply to it (see seeded_events.user_message_event)."""
        now_ms = self._clock.now_ms()
        message = {
            "message_id": message_id or self.next_id(),
            "root_id": root_id,
            "parent_id": parent_id,
            "thread_id": "",
            "msg_type": msg_type,
            "create_time": str(now_ms),
            "update_time": str(now_ms),
            "deleted": False,
            "updated": False,
            "chat_id": chat_id,
            "chat_type": chat_type,
            "sender": {
                "id": sender_open_id,
                "id_type": "open_id",
                "sender_type": "user",
                "tenant_key": self._tenant_key,
            },
            "body": {"content": content},
            "parsed": json.loads(content),
            "origin": "user",
            "sent_at": self._clock.now(),
        }
        self.store(message)
        return copy.deepcopy(message)

    def apply_callback_card(self, message_id: str, card: dict[str, Any]) -> dict[str, Any] | None:
        """What Feishu does with a card returned in a callback's response: the message shows it at once.

        Recorded in the outbox as kind "callback_update" so that watchers of the outbox see the change."""
        message = self.update(
            message_id, parsed=card, updated=True, update_time=str(self._clock.now_ms()),
            body={"content": json.dumps(card, ensure_ascii=False)},
        )
        if message is not None:
            self._outbox.record({"message_id": message_id, "kind": "callback_update",
                                 "chat_id": message.get("chat_id"), "chat_type": message.get("chat_type"),
                                 "reply_to": None, "msg_type": "interactive", "content": card, "uuid": None})
        return message

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


class Uuids:
    """The answers of sends and replies by their `uuid`, for an hour (Feishu's de-duplication window)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, dict[str, Any]]] = {}

    def hit(self, uuid: str | None) -> dict[str, Any] | None:
        """The answer of an earlier call with this uuid within the hour, or None."""
        if not uuid:
            return None
        with self._lock:
            found = self._answers.get(uuid)
            if found and self._clock() - found[0] < UUID_TTL:
                return copy.deepcopy(found[1])
            return None

    def remember(self, uuid: str | None, response_data: Mapping[str, Any]) -> None:
        if uuid:
            with self._lock:
                self._answers[uuid] = (self._clock(), copy.deepcopy(dict(response_data)))

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


@dataclass
class CardToken:
    message_id: str | None
    open_id: str | None
    issued_at: float
    uses: int = 0


class CardTokens:
    """Delayed-update tokens: each valid CARD_TOKEN_TTL seconds for CARD_TOKEN_MAX_USES updates."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, CardToken] = {}

    def issue(self, message_id: str | None = None, open_id: str | None = None) -> str:
        """A card-callback token ("c-...") for delayed updates of `message_id`."""
        with self._lock:
            token = "c-" + ids.short_hex(f"card:{message_id}:{open_id}:{len(self._tokens)}", 32)
            self._tokens[token] = CardToken(message_id, open_id, self._clock())
            return token

    def use(self, token: object) -> CardToken:
        """Count one update with `token`; ApiError for a malformed, expired or used-up token. A well-formed
        token the sandbox never issued (events built outside it) is accepted, for no message."""
        if not isinstance(token, str) or not re.fullmatch(r"c-[0-9A-Za-z_-]{8,}", token):
            raise ApiError(CARD_TOKEN_FORMAT, "token format is invalid", 400)
        with self._lock:
            state = self._tokens.setdefault(token, CardToken(None, None, self._clock()))
            if self._clock() - state.issued_at > CARD_TOKEN_TTL:
                raise ApiError(CARD_TOKEN_EXPIRED, "token is expired", 400)
            if state.uses >= CARD_TOKEN_MAX_USES:
                raise ApiError(CARD_TOKEN_OVERUSED, "token has been used too many times", 400)
            state.uses += 1
            return copy.copy(state)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
