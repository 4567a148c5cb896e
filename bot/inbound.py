"""The inbound pipeline: one path for everything Feishu sends the bot, whichever transport brought it.

The transports (bot/transports/) turn lark-oapi's objects into the plain dataclasses below (`IncomingMessage`,
`CardClick`, `BotAdded`, `ChatEntered`) and call the pipeline on their request thread. Recording a message
needs only the store: the router (and the commands, cards and clients it imports) is fetched when a reply
is worked on, so this module imports none of them. Every handler follows the same steps: ignore bots →
record durably (the inbox table: a replay after a restart runs once) → dedup (the shared or in-memory
seen keys) → run the work on the executor.
Only card clicks wait for the work, since Feishu wants the new card in the callback's answer. With
`defer_replies` (BOT_REPLY_WORKER=separate) messages are only recorded: a worker process (bot/worker.py)
takes them from the inbox table.

A record that fails raises `InboxUnavailable` before any key is marked as seen: the webhook answers 503
and Feishu delivers again later.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.dedup import MemorySeenStore, SeenStore
from bot.models import Chat, Mention

if TYPE_CHECKING:  # imported by the router's build (bot/app.py), not by what acknowledges an event
    from bot.router import Router
    from bot.settings import Settings
    from bot.store import Store

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0  # seconds between deletions of inbox messages older than the retention
GREETING_MEMORY_SECONDS = 30 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """An im.message.receive_v1 event, reduced to what the bot uses."""

    event_id: str
    message_id: str
    chat_id: str
    chat_type: str  # "p2p" | "group"
    sender_open_id: str
    sender_type: str  # "user" | "app"
    text: str
    mentions: tuple[Mention, ...] = ()
    message_type: str = "text"


@dataclass(frozen=True, slots=True)
class CardClick:
    """A card.action.trigger callback: someone pressed a button (or submitted a form) on one of our cards."""

    event_id: str
    operator_open_id: str
    chat_id: str
    message_id: str
    value: dict[str, Any] | None  # the button's value, sent back as we built it
    token: str = ""  # the callback's token for a delayed card update (30 min, 2 uses)
    form_value: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BotAdded:
    """im.chat.member.bot.added_v1: the bot was added to a group."""

    event_id: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class ChatEntered:
    """im.chat.access_event.bot_p2p_chat_entered_v1: someone opened a direct chat with the bot."""

    event_id: str
    open_id: str


@dataclass(frozen=True, slots=True)
class Toast:
    kind: str  # "success" | "info" | "warning" | "error"
    text: str
    i18n: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClickAnswer:
    """What a card click is answered with: nothing (the card stays), a toast, a new card, or both."""

    card: dict[str, Any] | None = None
    toast: Toast | None = None


class InboxUnavailable(Exception):
    """The inbox could not record an event; nothing was marked as seen, so Feishu's retry will be taken."""


class InlineExecutor(Executor):
    """Runs each job at once, in the caller's thread (tests and one-shot scripts)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the future like a pool would
            future.set_exception(exc)
        return future


def message_from_payload(payload: dict[str, Any]) -> IncomingMessage:
    """An inbox row's payload back into the message it was recorded from."""
    fields = dict(payload)
    fields["mentions"] = tuple(Mention(**m) for m in fields.get("mentions", ()))
    return IncomingMessage(**fields)


_INVALID_BUTTON = Toast("error", "This button is no longer valid.",
                        {"zh_cn": "这个按钮已失效。", "en_us": "This button is no longer valid."})


class Pipeline:
    def __init__(self, router: Router | Callable[[], Router], seen: SeenStore, executor: Executor, *,
                 store: Store | None = None, settings: Settings | None = None, defer_replies: bool = False,
                 instance_id: str = "") -> None:
        """`router`: the router, or a function returning it (built on first use, bot/app.py); then `store`
        and `settings` are given, since recording a message must not wait for the router."""
        if callable(router):
            self._router_of = router
        else:
            self._router_of = lambda: router
            store = store if store is not None else router.store
            settings = settings or router.settings
        self.store = store
        self.settings = settings
        self._seen = seen
        self._executor = executor
        self.defer_replies = defer_replies
        self.instance_id = instance_id
        self._greeted = MemorySeenStore(ttl=GREETING_MEMORY_SECONDS, maxsize=50_000)
        self._purged = float("-inf")  # monotonic time of the last purge

    @property
    def router(self) -> Router:
        return self._router_of()

    # -- the steps every event shares -------------------------------------------------------------
    def _is_new(self, *keys: str) -> bool:
        """True when none of the keys was seen before; records them all. Empty keys are ignored."""
        fresh = True
        for key in keys:
            if key and not self._seen.add_if_absent(key):
                fresh = False
        return fresh

    def _submit(self, label: str, job: Callable[[], object]) -> Future:
        """Run `job` on the executor; any exception is logged with `label` (the event id)."""

        def guarded() -> object:
            try:
                return job()
            except Exception:
                log.exception("worker failed on %s", label)
                return None

        return self._executor.submit(guarded)

    # -- messages ---------------------------------------------------------------------------------
    def on_message(self, msg: IncomingMessage) -> None:
        if msg.sender_type != "user":
            log.debug("message %s from a %s dropped", msg.message_id, msg.sender_type or "non-user")
            return
        store = self.store
        try:
            # Record first: if that fails Feishu must retry (503), so nothing may be marked as seen yet.
            claimed_by = "" if self.defer_replies else self.instance_id
            if store is not None and not store.inbox.record(msg.message_id, msg.event_id, asdict(msg),
                                                              claimed_by=claimed_by):
                log.info("message %s was recorded before; dropped", msg.message_id)
                return
            fresh = self._is_new(f"evt:{msg.event_id}", f"msg:{msg.message_id}")
        except Exception as exc:
            log.exception("could not record message %s", msg.message_id)
            raise InboxUnavailable(msg.event_id) from exc
        if not fresh:  # another instance (shared dedup) has it
            log.info("duplicate delivery of %s / %s dropped", msg.event_id, msg.message_id)
            if store is not None:
                store.inbox.finish(msg.message_id, ok=True)
            return
        if self.defer_replies and store is not None:
            return  # recorded: a worker process takes it from the inbox table
        self._submit(msg.event_id, lambda: self.answer(msg))

    def answer(self, msg: IncomingMessage, *, finish: bool = True) -> bool:
        """Answer a recorded message and mark it done, or failed (kept, to be retried). With `finish=False`
        the caller marks it (the reply worker does, batched with its next claim); True when it was answered."""
        store = self.store
        finished = False
        try:
            finished = self.router.handle_message(msg)
        finally:
            if finish and store is not None:
                store.inbox.finish(msg.message_id, ok=finished)
        return finished

    def resume(self, *, statuses: tuple[str, ...] = ("pending", "failed")) -> int:
        """Hand unfinished messages (a crash, or replies Feishu would not take) to the executor again.
        Replies reuse the uuid derived from the message id, so Feishu drops any that did go out."""
        store = self.store
        if store is None:
            return 0
        unfinished = [message_from_payload(p) for p in store.inbox.unfinished(statuses=statuses)]
        for msg in unfinished:
            self._submit(msg.event_id, lambda msg=msg: self.answer(msg))
        if unfinished:
            log.info("resumed %d unfinished message(s)", len(unfinished))
        return len(unfinished)

    # -- greetings --------------------------------------------------------------------------------
    def on_bot_added(self, event: BotAdded) -> None:
        if event.chat_id and self._is_new(f"evt:{event.event_id}") and self._greeted.add_if_absent(event.chat_id):
            self._submit(event.event_id, lambda: self._send_welcome(event.chat_id, in_group=True))

    def on_chat_entered(self, event: ChatEntered) -> None:
        if event.open_id and self._is_new(f"evt:{event.event_id}") and self._greeted.add_if_absent(event.open_id):
            self._submit(event.event_id, lambda: self._send_welcome(event.open_id, in_group=False))

    def _send_welcome(self, receive_id: str, *, in_group: bool) -> None:
        router = self.router  # built first: it imports the outbox
        from bot.outbox import Key
        from cards.welcome import build_welcome_card

        remembered = None if in_group or self.store is None else self.store.people.language(receive_id)
        card = build_welcome_card(bot_name=router.clients.bot.name() or "OKR bot",
                                  locale=remembered or router.settings.default_locale, in_group=in_group)
        router.outbox.send(receive_id, card, Key.welcome(receive_id))

    # -- card clicks ------------------------------------------------------------------------------
    def on_card_click(self, click: CardClick) -> ClickAnswer:
        """Re-run the button's command as the person who clicked, and answer with the new card.

        If that takes longer than Feishu's budget, answer with a toast now and update the card later
        with the callback's delayed-update token.
        """
        store = self.store
        try:  # durable first (a replay after a restart runs once), then the shared/in-memory seen keys
            recorded = store is None or store.inbox.record_click(click.event_id)
            fresh = recorded and self._is_new(f"evt:{click.event_id}")
        except Exception as exc:
            log.exception("could not record card click %s", click.event_id)
            raise InboxUnavailable(click.event_id) from exc
        if not fresh:
            log.info("card click %s delivered again; dropped", click.event_id)
            return ClickAnswer()
        router = self.router  # built first (or waited for): it imports the commands and the cards
        from bot.commands.base import Reply, call_from_action
        from cards.components import t

        call = call_from_action(click.value) if isinstance(click.value, dict) else None
        if call is None or not click.operator_open_id:
            return ClickAnswer(toast=_INVALID_BUTTON)
        if click.form_value is not None:  # a submitted form: what was entered reaches the command
            call.options["form_value"] = click.form_value
        ctx = router.context(sender=click.operator_open_id, chat=Chat(click.chat_id, "unknown"),
                             message_id=click.message_id, event_id=click.event_id)
        future: Future = self._submit(click.event_id, lambda: router.run(call, ctx))
        try:
            reply = future.result(timeout=self.settings.callback_budget)
        except FutureTimeout:
            future.add_done_callback(lambda f: self._update_later(f, click))
            return ClickAnswer(toast=Toast("info", t(call.locale, "正在更新…", "Updating…")))
        if not isinstance(reply, Reply):
            return ClickAnswer(toast=Toast("error", t(call.locale, "出错了，请重试。", "Something went wrong.")))
        if reply.toast and not reply.card:
            return ClickAnswer(toast=Toast("warning" if reply.refused else "success", reply.toast))
        if reply.refused:
            # The clicker may not see this; keep the card as it is for everyone else in the chat.
            return ClickAnswer(toast=Toast("warning", t(call.locale, "你没有权限查看这些内容。",
                                                        "You are not allowed to see this.")))
        return ClickAnswer(card=reply.card, toast=Toast("success", reply.toast) if reply.toast else None)

    def _update_later(self, future: Future, click: CardClick) -> None:
        from bot.commands.base import Reply  # loaded: the click's command ran

        reply = future.result()
        if not isinstance(reply, Reply) or reply.refused or not reply.card or not click.token:
            return
        try:
            self.router.outbox.delayed_update(click.token, reply.card)
        except Exception:
            log.exception("delayed card update failed for %s", click.event_id)

    # -- upkeep -----------------------------------------------------------------------------------
    def purge(self) -> tuple[int, int]:
        """Delete the inbox's answered messages older than BOT_INBOX_RETENTION_DAYS, and failed ones Feishu
        never took in that time (logged); the (done, failed) counts."""
        store = self.store
        if store is None:
            return 0, 0
        before = self.router.now() - timedelta(seconds=self.settings.inbox_retention)
        done, failed = store.inbox.purge(before=before)
        if failed:
            log.error("gave up %d message(s) received before %s: Feishu never took their replies", failed, before)
        if done:
            log.info("deleted %d answered message(s) received before %s", done, before)
        return done, failed

    def purge_if_due(self) -> None:
        """Purge at most every PURGE_INTERVAL (the first call always does)."""
        if time.monotonic() - self._purged >= PURGE_INTERVAL:
            self._purged = time.monotonic()
            self.purge()

    def retry_loop(self, interval: float, stop: threading.Event) -> None:
        """Until `stop` is set: every `interval` seconds, try again the replies Feishu did not take (an outage),
        and delete messages older than the retention. Run on its own thread by `Bot.start()`."""
        while not stop.wait(interval):
            for step in (lambda: self.resume(statuses=("failed",)), self.purge_if_due):
                try:
                    step()
                except Exception:
                    log.exception("inbox upkeep failed")
