"""One sandbox instance's mutable state: the parts, each in the module named for its job, and what spans them.

    state.clock        Clock: now(), now_ms(), monotonic()                           (clock.py)
    state.tokens       TenantTokens: tenant/app access tokens                         (tenant_tokens.py)
    state.user_auth    UserAuth: OAuth codes, user access and refresh tokens          (userauth.py)
    state.profiles     ProfileChanges: fields people changed about themselves         (profiles.py)
    state.outbox       Outbox: what the bot sent or updated, to wait on               (messages.py)
    state.messages     Messages: stored messages by id, their current content        (messages.py)
    state.uuids        Uuids: uuid idempotency of sends and replies                   (messages.py)
    state.card_tokens  CardTokens: delayed-update tokens of card callbacks            (messages.py)
    state.faults       Faults: injected errors and delays                             (faults.py)
    state.requests     RequestLog: every API call answered, and the log ids           (request_log.py)
    state.limiter      FixedWindowLimiter: the documented rate limits                 (server_limits.py)
    state.progress     ProgressRecords: OKR progress records and what they changed    (progress.py)

Every part is thread-safe (the sandbox is served by a threaded WSGI server while tests inspect it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import seeded_events as events
from .app_scopes import AppScopes
from .clock import Clock
from .faults import Faults
from .messages import CardTokens, Messages, Outbox, Uuids
from .profiles import ProfileChanges
from .progress import ProgressRecords
from .records import Period
from .request_log import RequestLog
from .seed import Seed, build_seed
from .server_limits import FixedWindowLimiter
from .tenant_tokens import TenantTokens
from .userauth import UserAuth


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
        withheld_scopes: Iterable[str] = (),
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
        self.bot_chat_ids: set[str] = self._seeded_bot_chats()
        self.clock = Clock(clock)
        self.limiter = FixedWindowLimiter(self.clock.monotonic, rate_scale)
        self.tokens = TenantTokens(app_id, app_secret, self.clock.monotonic)
        self.user_auth = UserAuth(self.seed, app_id, self.clock.monotonic)
        self.profiles = ProfileChanges()
        self.outbox = Outbox(self.clock)
        self.messages = Messages(clock=self.clock, outbox=self.outbox, app_id=app_id, tenant_key=self.seed.tenant_key)
        self.uuids = Uuids(self.clock.monotonic)
        self.card_tokens = CardTokens(self.clock.monotonic)
        self.faults = Faults()
        self.requests = RequestLog()
        self.scopes = AppScopes(withheld_scopes)
        self.progress = ProgressRecords(lambda: self.seed.okrs, id_salt=app_id)

    def _seeded_bot_chats(self) -> set[str]:
        return {c.chat_id for c in self.seed.chats if c.bot_member}

    def set_clock(self, clock: Callable[[], float] | None) -> None:
        """Replace the clock (None = real time): rate windows are cleared, token and code lifetimes restart."""
        self.clock.replace(clock)
        self.tokens.rebase()
        self.limiter.reset()
        self.user_auth.rebase()

    def current_period(self) -> Period | None:
        """The OKR period containing the clock's now."""
        return self.seed.period_at(self.clock.now_ms())

    def simulate_user_message(self, sender: Any, text: str | None = None, **options: Any) -> dict[str, Any]:
        """Register a message from `sender` (Person, name or id) and return its im.message.receive_v1 event.

        Options: chat (group chat key/id/name; default p2p), mention_bot, mentions, message_type, content,
        parent_id, verification_token. See seeded_events.user_message_event.
        """
        return events.user_message_event(self, sender, text, **options)

    def simulate_card_action(
        self, operator: Any, message_id: str, value: Mapping[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        """A card.action.trigger event for `message_id` with a fresh delayed-update token."""
        return events.card_action_event(self, operator, message_id, value, **options)

    def reset(self) -> None:
        """Forget outbox, messages, uuids, faults, request log, card tokens, rate windows, chat membership, page
        cap, unused OAuth codes, profile changes, withheld scopes and OKR progress records (not tenant or user
        tokens)."""
        self.faults.clear(hits=True)
        self.scopes.grant_all()
        self.outbox.clear()
        self.messages.clear()
        self.uuids.clear()
        self.card_tokens.clear()
        self.requests.clear()
        self.limiter.reset()
        self.profiles.clear()
        self.progress.clear()
        self.user_auth.forget_codes()
        self.bot_chat_ids = self._seeded_bot_chats()
        self.page_cap = None
