"""Mutable sandbox state: tokens, clock, outbox, message store, uuid idempotency, faults, request log.

All public methods are thread-safe (the sandbox is served by a threaded WSGI server while tests inspect it).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import ids
from . import seeded_events as events
from .api_errors import (
    AUTH_INVALID_PARAM,
    AUTH_SECRET_INVALID,
    CARD_TOKEN_EXPIRED,
    CARD_TOKEN_FORMAT,
    CARD_TOKEN_OVERUSED,
    ApiError,
)
from .faults import Fault, compile_pattern
from .records import Period, Person
from .seed import Seed, build_seed
from .server_limits import FixedWindowLimiter
from .userauth import UserAuth

log = logging.getLogger(__name__)

TOKEN_TTL = 7200.0  # seconds a tenant/app token lives
TOKEN_RENEW_WINDOW = 1800.0  # a fetch within the last 30 min of a token's life issues a new one
UUID_TTL = 3600.0
CARD_TOKEN_TTL = 1800.0
CARD_TOKEN_MAX_USES = 2
_TOKEN_RE = re.compile(r"^([ta])-sbx-([0-9a-f]{24})-g(\d+)$")


@dataclass
class _CardToken:
    message_id: str | None
    open_id: str | None
    issued_at: float
    uses: int = 0


class SandboxState:
    """State of one sandbox instance, available as ``app.extensions["sandbox"]``."""

    def __init__(
        self,
        *,
        seed: Seed | None = None,
        app_id: str = "cli_sandbox_app",
        app_secret: str = "sandbox-secret",
        rate_scale: float | None = 1.0,
        clock: Callable[[], float] | None = None,
        strict_cards: bool = True,
        strict_replies: bool = False,
    ) -> None:
        self.seed = seed or build_seed()
        self.app_id = app_id
        self.app_secret = app_secret
        self.strict_cards = strict_cards
        # False: replies to "om_..." ids the sandbox never saw (events built outside it) are accepted
        self.strict_replies = strict_replies
        # Feishu may answer a page with fewer items than asked for; tests set this to make every list
        # span several pages (None: pages are as large as the request's page_size / limit).
        self.page_cap: int | None = None
        self._clock = clock
        self._lock = threading.RLock()
        self._outbox_changed = threading.Condition(self._lock)
        self._fault_taken = threading.Condition(self._lock)
        self._fault_hits: dict[int, int] = {}  # fault id -> requests it caught, kept after it is used up
        self._cancel_delays = threading.Event()
        self.limiter = FixedWindowLimiter(self.monotonic, rate_scale)
        self._token_generation = 0
        self._token_issued: dict[int, float] = {}
        self._outbox: list[dict[str, Any]] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._uuids: dict[str, tuple[float, dict[str, Any]]] = {}
        self._faults: list[Fault] = []
        self._fault_seq = 0
        self._requests: list[dict[str, Any]] = []
        self._card_tokens: dict[str, _CardToken] = {}
        self._message_seq = 0
        self._log_seq = 0
        self.bot_chat_ids: set[str] = {c.chat_id for c in self.seed.chats if c.bot_member}
        self.user_auth = UserAuth(self.seed, app_id, self.monotonic)
        self._profile_changes: dict[str, dict[str, str]] = {}  # open_id -> fields people changed themselves

    # ---- clock ----------------------------------------------------------------------------------------
    def now(self) -> float:
        """Wall-clock epoch seconds (the injected clock if any, else time.time())."""
        return self._clock() if self._clock else time.time()

    def monotonic(self) -> float:
        """Seconds for rate-limit windows and TTLs (the injected clock if any, else time.monotonic())."""
        return self._clock() if self._clock else time.monotonic()

    def set_clock(self, clock: Callable[[], float] | None) -> None:
        """Replace the clock (None = real time). Clears rate-limit windows."""
        with self._lock:
            self._clock = clock
            self._token_issued = dict.fromkeys(self._token_issued, self.monotonic())
            self.limiter.reset()
            self.user_auth.rebase()

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def current_period(self) -> Period | None:
        """The OKR period containing `now()`."""
        return self.seed.period_at(self.now_ms())

    def set_rate_scale(self, scale: float | None) -> None:
        """None disables rate limiting; otherwise limits are multiplied by `scale`."""
        self.limiter.set_scale(scale)

    # ---- tokens ---------------------------------------------------------------------------------------
    def _token(self, kind: str, app_id: str, generation: int) -> str:
        digest = hashlib.sha256(f"{kind}:{app_id}:{self.app_secret}".encode()).hexdigest()[:24]
        return f"{kind}-sbx-{digest}-g{generation}"

    def issue_token(self, app_id: str | None, app_secret: str | None, kind: str = "t") -> tuple[str, int]:
        """(token, expire seconds) for the app credentials; ApiError 10003/10014 on bad credentials.

        Tokens are stable per app_id/secret (lark-oapi caches them process-wide by app_id): a token stays
        valid in any sandbox instance with the same credentials until that instance revokes it.
        """
        if not app_id or not app_secret:
            raise ApiError(AUTH_INVALID_PARAM, "app_id or app_secret is empty", 400)
        if app_id != self.app_id:
            raise ApiError(AUTH_INVALID_PARAM, "app_id is invalid", 400)
        if app_secret != self.app_secret:
            raise ApiError(AUTH_SECRET_INVALID, "app secret invalid", 400)
        with self._lock:
            now = self.monotonic()
            issued = self._token_issued.setdefault(self._token_generation, now)
            remaining = TOKEN_TTL - (now - issued)
            if remaining < TOKEN_RENEW_WINDOW:
                self._token_generation += 1
                self._token_issued[self._token_generation] = now
                remaining = TOKEN_TTL
            return self._token(kind, app_id, self._token_generation), int(remaining)

    def token_valid(self, token: str, kinds: str = "t") -> bool:
        match = _TOKEN_RE.match(token or "")
        if not match or match.group(1) not in kinds:
            return False
        generation = int(match.group(3))
        if token != self._token(match.group(1), self.app_id, generation):
            return False
        with self._lock:
            if generation < self._token_generation:
                return False
            issued = self._token_issued.get(generation)
            if issued is None:  # minted by another sandbox instance with the same credentials
                self._token_issued[generation] = self.monotonic()
                self._token_generation = generation
                return True
            return self.monotonic() - issued < TOKEN_TTL

    def revoke_tokens(self) -> None:
        """Invalidate every issued token: calls get 99991663 until a new token is fetched."""
        with self._lock:
            self._token_generation += 1
            self._token_issued = {self._token_generation: self.monotonic()}
            log.info("sandbox: tokens revoked, generation %d", self._token_generation)

    # ---- user authorisation (OAuth codes, user access tokens) ----------------------------------------------
    def issue_auth_code(
        self, open_id: str, *, scope: str | None = None, redirect_uri: str = "", app_id: str | None = None
    ) -> str:
        """A fresh authorisation code, as if `open_id` approved the consent page: random, single use, valid
        5 minutes on the sandbox clock, bound to the app. KeyError for unknown or resigned people."""
        return self.user_auth.issue_code(open_id, app_id=app_id, scope=scope, redirect_uri=redirect_uri)

    def issue_user_token(self, open_id: str, scope: str | None = None) -> dict[str, Any]:
        """A user token pair for `open_id` without the code dance: the `data` the oidc endpoints answer
        (access_token "u-...", refresh_token "ur-...", token_type, expires_in, refresh_expires_in, scope)."""
        return self.user_auth.issue_tokens(open_id, scope)

    def user_for_token(self, access_token: str) -> Person:
        """The person a user access token speaks for; ApiError 99991668 (unknown) or 99991677 (expired)."""
        return self.user_auth.person_for(access_token)

    def expire_user_tokens(self, open_id: str | None = None) -> int:
        """Expire the user access tokens of `open_id` (None: all); calls then get 99991677. Returns the count."""
        return self.user_auth.expire(open_id)

    def revoke_refresh_tokens(self, open_id: str | None = None) -> int:
        """Revoke the refresh tokens of `open_id` (None: all); refreshing then gets 20064. Returns the count."""
        return self.user_auth.revoke_refresh(open_id)

    def user_token_refreshes(self, open_id: str | None = None) -> int:
        """How many successful refreshes happened (for `open_id`, or in total)."""
        return self.user_auth.refreshes(open_id)

    def reset_user_auth(self) -> None:
        """Forget every code, user token, refresh count and profile change."""
        self.user_auth.reset()
        with self._lock:
            self._profile_changes.clear()

    # ---- profile changes made with a user token ---------------------------------------------------------
    def profile_changes(self, open_id: str) -> dict[str, str]:
        """Fields `open_id` changed about themselves (PATCH contact/v3/users with their user token)."""
        with self._lock:
            return dict(self._profile_changes.get(open_id, {}))

    def update_profile(self, open_id: str, changes: Mapping[str, str]) -> dict[str, str]:
        with self._lock:
            current = self._profile_changes.setdefault(open_id, {})
            current.update(changes)
            return dict(current)

    # ---- ids / log ids --------------------------------------------------------------------------------
    def next_log_id(self) -> str:
        with self._lock:
            self._log_seq += 1
            return f"2026sandbox{self._log_seq:08d}" + ids.short_hex(f"log{self._log_seq}", 8).upper()

    def next_message_id(self) -> str:
        with self._lock:
            self._message_seq += 1
            return ids.message_id(self._message_seq, self.app_id)

    # ---- outbox ---------------------------------------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._outbox_changed:
            entry = dict(entry)
            entry["index"] = len(self._outbox)
            entry.setdefault("created_at", self.now())
            self._outbox.append(entry)
            self._outbox_changed.notify_all()
            log.debug(
                "sandbox outbox: %s %s -> %s",
                entry.get("kind"),
                entry.get("message_id"),
                entry.get("chat_id"),
            )
            return entry

    @property
    def outbox(self) -> list[dict[str, Any]]:
        """Snapshot of everything the bot sent/updated, oldest first."""
        with self._lock:
            return list(self._outbox)

    def outbox_since(self, index: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._outbox[index:])

    def wait_for_outbox(self, count: int, timeout: float = 5.0, *, since: int = 0) -> list[dict[str, Any]]:
        """Block (on a Condition, no polling) until at least `count` entries exist after index `since`.

        Returns the entries after `since` - fewer than `count` if `timeout` seconds passed first (callers
        assert on the length; nothing is raised).
        """
        with self._outbox_changed:
            self._outbox_changed.wait_for(lambda: len(self._outbox) - since >= count, timeout)
            return list(self._outbox[since:])

    def reset_outbox(self) -> None:
        with self._outbox_changed:
            self._outbox.clear()
            self._outbox_changed.notify_all()

    # ---- messages -------------------------------------------------------------------------------------
    def store_message(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._messages[message["message_id"]] = message

    def message(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._messages.get(message_id)
            return copy.deepcopy(found) if found else None

    def update_message(self, message_id: str, **changes: Any) -> dict[str, Any] | None:
        with self._lock:
            found = self._messages.get(message_id)
            if found is None:
                return None
            found.update(changes)
            return copy.deepcopy(found)

    def messages_in(self, chat_id: str) -> list[dict[str, Any]]:
        """Every stored message of one chat (user and bot, current content), oldest first; ephemeral cards
        are left out (they are shown only to one person, and the demo page shows them through the outbox)."""
        with self._lock:
            found = [m for m in self._messages.values() if m.get("chat_id") == chat_id and not m.get("ephemeral")]
            return copy.deepcopy(sorted(found, key=lambda m: (int(m.get("create_time") or 0), m["message_id"])))

    def apply_callback_card(self, message_id: str, card: dict[str, Any]) -> dict[str, Any] | None:
        """What Feishu does with a card returned in a callback's response: the message shows it at once.

        Recorded in the outbox as kind "callback_update" so that watchers of the outbox see the change."""
        message = self.update_message(
            message_id, parsed=card, updated=True, update_time=str(self.now_ms()),
            body={"content": json.dumps(card, ensure_ascii=False)},
        )
        if message is not None:
            self.record({"message_id": message_id, "kind": "callback_update", "chat_id": message.get("chat_id"),
                         "chat_type": message.get("chat_type"), "reply_to": None, "msg_type": "interactive",
                         "content": card, "uuid": None})
        return message

    def message_content(self, message_id: str) -> Any:
        """Current parsed content of a message (after PATCHes / delayed updates)."""
        with self._lock:
            found = self._messages.get(message_id)
            return copy.deepcopy(found["parsed"]) if found else None

    def register_inbound_message(
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
        """Remember a user-sent message so the bot can reply to it (see events.simulate_user_message)."""
        now_ms = self.now_ms()
        message = {
            "message_id": message_id or self.next_message_id(),
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
                "tenant_key": self.seed.tenant_key,
            },
            "body": {"content": content},
            "parsed": json.loads(content),
            "origin": "user",
            "sent_at": self.now(),
        }
        self.store_message(message)
        return copy.deepcopy(message)

    def simulate_user_message(self, sender: Any, text: str | None = None, **options: Any) -> dict[str, Any]:
        """Register a message from `sender` (Person, name or id) and return its im.message.receive_v1 event.

        Options: chat (group chat key/id/name; default p2p), mention_bot, mentions, message_type, content,
        parent_id, verification_token. See events.user_message_event.
        """
        return events.user_message_event(self, sender, text, **options)

    def simulate_card_action(
        self, operator: Any, message_id: str, value: Mapping[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        """A card.action.trigger event for `message_id` with a fresh delayed-update token."""
        return events.card_action_event(self, operator, message_id, value, **options)

    # ---- uuid idempotency -----------------------------------------------------------------------------
    def uuid_hit(self, uuid: str | None) -> dict[str, Any] | None:
        if not uuid:
            return None
        with self._lock:
            found = self._uuids.get(uuid)
            if found and self.monotonic() - found[0] < UUID_TTL:
                return copy.deepcopy(found[1])
            return None

    def remember_uuid(self, uuid: str | None, response_data: Mapping[str, Any]) -> None:
        if uuid:
            with self._lock:
                self._uuids[uuid] = (self.monotonic(), copy.deepcopy(dict(response_data)))

    # ---- delayed-update card tokens -------------------------------------------------------------------
    def issue_card_token(self, message_id: str | None = None, open_id: str | None = None) -> str:
        """A card-callback token ("c-...") valid 30 min for 2 delayed updates of `message_id`."""
        with self._lock:
            token = "c-" + ids.short_hex(f"card:{message_id}:{open_id}:{len(self._card_tokens)}", 32)
            self._card_tokens[token] = _CardToken(message_id, open_id, self.monotonic())
            return token

    def use_card_token(self, token: object) -> _CardToken:
        if not isinstance(token, str) or not re.fullmatch(r"c-[0-9A-Za-z_-]{8,}", token):
            raise ApiError(CARD_TOKEN_FORMAT, "token format is invalid", 400)
        with self._lock:
            state = self._card_tokens.setdefault(token, _CardToken(None, None, self.monotonic()))
            if self.monotonic() - state.issued_at > CARD_TOKEN_TTL:
                raise ApiError(CARD_TOKEN_EXPIRED, "token is expired", 400)
            if state.uses >= CARD_TOKEN_MAX_USES:
                raise ApiError(CARD_TOKEN_OVERUSED, "token has been used too many times", 400)
            state.uses += 1
            return copy.copy(state)

    # ---- chat membership ------------------------------------------------------------------------------
    def remove_bot_from_chat(self, chat_id: str) -> None:
        with self._lock:
            self.bot_chat_ids.discard(chat_id)

    def add_bot_to_chat(self, chat_id: str) -> None:
        with self._lock:
            self.bot_chat_ids.add(chat_id)

    # ---- faults ---------------------------------------------------------------------------------------
    def inject_fault(
        self,
        path_prefix_or_regex: str | re.Pattern[str],
        *,
        times: int | None = 1,
        http_status: int | None = None,
        code: int | None = None,
        msg: str | None = None,
        delay: float = 0.0,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        regex: bool | None = None,
    ) -> int:
        """Answer the next `times` matching requests with an error (or just delay them).

        The pattern is a path prefix ("/okr/v1" or "/open-apis/okr/v1") or a regex (an re.Pattern, a string
        starting with "^", or regex=True). With only `delay` set the request is delayed, then served normally;
        with `code`/`http_status` it is answered with that error (after the delay). Neither set = HTTP 500,
        code 1. `times=None` keeps the fault until clear_faults(). Returns the fault id.
        """
        with self._lock:
            self._fault_seq += 1
            status = http_status
            if status is None and (code is not None or delay <= 0):
                status = 400 if code is not None else 500
            fault = Fault(
                id=self._fault_seq,
                pattern=compile_pattern(path_prefix_or_regex, regex),
                remaining=times,
                http_status=status,
                code=code,
                msg=msg,
                delay=delay,
                headers=dict(headers or {}),
                method=method,
            )
            self._faults.append(fault)
            self._cancel_delays.clear()
            return fault.id

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._cancel_delays.set()

    @property
    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    self._fault_hits[fault.id] = fault.hits
                    self._fault_taken.notify_all()
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return copy.copy(fault)
            return None

    def wait_for_fault(self, fault_id: int, hits: int = 1, timeout: float = 10.0) -> int:
        """Block (on a Condition) until the fault has caught `hits` requests; how many it caught."""
        with self._fault_taken:
            self._fault_taken.wait_for(lambda: self._fault_hits.get(fault_id, 0) >= hits, timeout)
            return self._fault_hits.get(fault_id, 0)

    def sleep(self, seconds: float) -> None:
        """Server-side delay for delay faults; cut short by clear_faults() / reset()."""
        if seconds > 0:
            self._cancel_delays.wait(seconds)

    # ---- request log ----------------------------------------------------------------------------------
    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["seq"] = len(self._requests)
            self._requests.append(entry)

    @property
    def requests_log(self) -> list[dict[str, Any]]:
        """Snapshot of {seq, method, path, endpoint, query, body, status, code, log_id, time} per API call."""
        with self._lock:
            return list(self._requests)

    def requests_matching(self, path_prefix: str, method: str | None = None) -> list[dict[str, Any]]:
        """API calls whose path (with or without /open-apis) starts with `path_prefix`."""
        with self._lock:
            return [
                r
                for r in self._requests
                if (
                    r["path"].startswith(path_prefix)
                    or r["path"].removeprefix("/open-apis").startswith(path_prefix)
                )
                and (method is None or r["method"] == method.upper())
            ]

    def count_requests(self, path_prefix: str, method: str | None = None) -> int:
        return len(self.requests_matching(path_prefix, method))

    # ---- reset ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget outbox, messages, uuids, faults, request log, card tokens, rate windows, unused OAuth codes and
        profile changes (not tenant or user tokens: see reset_user_auth())."""
        with self._outbox_changed:
            self._outbox.clear()
            self._messages.clear()
            self._uuids.clear()
            self._faults.clear()
            self._fault_hits.clear()
            self._cancel_delays.set()
            self._requests.clear()
            self._card_tokens.clear()
            self.bot_chat_ids = {c.chat_id for c in self.seed.chats if c.bot_member}
            self.limiter.reset()
            self.page_cap = None
            self._profile_changes.clear()
            self.user_auth.forget_codes()
            self._outbox_changed.notify_all()
