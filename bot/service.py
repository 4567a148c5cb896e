"""The bot's event handlers: what happens to a message, a card click, a greeting.

Each handler runs on the webhook's request thread, so it only filters, deduplicates and hands work
to the inbox's executor, except card clicks, which Feishu wants answered with the new card. With
`defer_replies` (BOT_REPLY_WORKER=separate) messages are only recorded: a worker process
(bot/worker.py) takes them from the inbox table and answers them.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTrigger

from bot.commands.base import Reply, call_from_action
from bot.feishu.messenger import to_uuid
from bot.inbox import Inbox, MemorySeenStore
from bot.models import Chat, Mention
from bot.router import IncomingMessage, Router
from cards.components import t
from cards.welcome import build_welcome_card

log = logging.getLogger(__name__)

PURGE_INTERVAL = 3600.0  # seconds between deletions of inbox messages older than the retention

GREETING_MEMORY_SECONDS = 30 * 24 * 3600.0


def to_message(payload: dict[str, Any]) -> IncomingMessage:
    """An inbox row's payload back into the message it was recorded from."""
    fields = dict(payload)
    fields["mentions"] = tuple(Mention(**m) for m in fields.get("mentions", ()))
    return IncomingMessage(**fields)


class BotService:
    def __init__(self, router: Router, inbox: Inbox, *, defer_replies: bool = False, instance_id: str = "") -> None:
        self.router = router
        self.inbox = inbox
        self.defer_replies = defer_replies
        self.instance_id = instance_id
        self._greeted = MemorySeenStore(ttl=GREETING_MEMORY_SECONDS, maxsize=50_000)
        self._stop = threading.Event()
        self._purged = float("-inf")  # monotonic time of the last purge

    @property
    def clients(self):
        return self.router.clients

    # -- messages ---------------------------------------------------------------------------------
    def on_message(self, msg: IncomingMessage) -> None:
        if msg.sender_type != "user":
            log.debug("message %s from a %s dropped", msg.message_id, msg.sender_type or "non-user")
            return
        store = self.router.store
        try:
            # Record first: if that fails Feishu must retry (503), so nothing may be marked as seen yet.
            claimed_by = "" if self.defer_replies else self.instance_id
            if store is not None and not store.inbox.record(msg.message_id, msg.event_id, asdict(msg),
                                                              claimed_by=claimed_by):
                log.info("message %s was recorded before; dropped", msg.message_id)
                return
            fresh = self.inbox.is_new(f"evt:{msg.event_id}", f"msg:{msg.message_id}")
        except Exception as exc:  # the SDK turns this into a 500, mapped to 503: Feishu retries later
            log.exception("could not record message %s", msg.message_id)
            raise RuntimeError("inbox unavailable") from exc
        if not fresh:  # another instance (shared dedup) has it
            log.info("duplicate delivery of %s / %s dropped", msg.event_id, msg.message_id)
            if store is not None:
                store.inbox.finish(msg.message_id, ok=True)
            return
        if self.defer_replies and store is not None:
            return  # recorded: a worker process takes it from the inbox table
        self._work_on(msg)

    def answer(self, msg: IncomingMessage) -> bool:
        """Answer a recorded message and mark it done, or failed (kept, to be retried)."""
        store = self.router.store
        finished = False
        try:
            finished = self.router.handle_message(msg)
        finally:
            if store is not None:
                store.inbox.finish(msg.message_id, ok=finished)
        return finished

    def _work_on(self, msg: IncomingMessage) -> None:
        self.inbox.submit(msg.event_id, lambda: self.answer(msg))

    def resume(self, *, statuses: tuple[str, ...] = ("pending", "failed")) -> int:
        """Hand unfinished messages (a crash, or replies Feishu would not take) to the workers again.
        Replies reuse the uuid derived from the message id, so Feishu drops any that did go out."""
        store = self.router.store
        if store is None:
            return 0
        unfinished = store.inbox.unfinished(statuses=statuses)
        for payload in unfinished:
            self._work_on(to_message(payload))
        if unfinished:
            log.info("resumed %d unfinished message(s)", len(unfinished))
        return len(unfinished)

    # -- greetings --------------------------------------------------------------------------------
    def _send_welcome(self, receive_id: str, *, in_group: bool) -> None:
        locale = self.router.settings.default_locale
        card = build_welcome_card(bot_name=self.clients.bot.name() or "OKR bot", locale=locale, in_group=in_group)
        self.clients.messenger.send(receive_id, card, uuid=to_uuid("welcome", receive_id))

    def on_bot_added(self, event_id: str, chat_id: str) -> None:
        if chat_id and self.inbox.is_new(f"evt:{event_id}") and self._greeted.add_if_absent(chat_id):
            self.inbox.submit(event_id, lambda: self._send_welcome(chat_id, in_group=True))

    def on_p2p_entered(self, event_id: str, open_id: str) -> None:
        if open_id and self.inbox.is_new(f"evt:{event_id}") and self._greeted.add_if_absent(open_id):
            self.inbox.submit(event_id, lambda: self._send_welcome(open_id, in_group=False))

    # -- card buttons -----------------------------------------------------------------------------
    def on_card_action(self, data: P2CardActionTrigger) -> dict[str, Any]:
        """Re-run the button's command as the person who clicked, and answer with the new card.

        If that takes longer than Feishu's budget, answer with a toast now and update the card later
        with the callback's delayed-update token.
        """
        event = data.event
        event_id = (data.header.event_id if data.header else "") or ""
        store = self.router.store
        try:  # durable first (a replay after a restart runs once), then the shared/in-memory seen keys
            fresh = (store is None or store.inbox.record_click(event_id)) and self.inbox.is_new(f"evt:{event_id}")
        except Exception as exc:
            log.exception("could not record card click %s", event_id)
            raise RuntimeError("inbox unavailable") from exc
        if not fresh:
            log.info("card click %s delivered again; dropped", event_id)
            return {}
        value = event.action.value if event and event.action else None
        call = call_from_action(value) if isinstance(value, dict) else None
        operator = (event.operator.open_id if event and event.operator else "") or ""
        if call is None or not operator:
            return {"toast": {"type": "error", "content": "This button is no longer valid.",
                              "i18n": {"zh_cn": "这个按钮已失效。", "en_us": "This button is no longer valid."}}}
        context = event.context
        ctx = self.router.context(
            sender=operator,
            chat=Chat((context.open_chat_id if context else "") or "", "unknown"),
            message_id=(context.open_message_id if context else "") or "",
            event_id=event_id,
        )
        future: Future = self.inbox.submit(event_id, lambda: self.router.run(call, ctx))
        try:
            reply = future.result(timeout=self.router.settings.callback_budget)
        except FutureTimeout:
            token = event.token or ""
            future.add_done_callback(lambda f: self._update_later(f, token, event_id))
            text = t(call.locale, "正在更新…", "Updating…")
            return {"toast": {"type": "info", "content": text}}
        if not isinstance(reply, Reply):
            return {"toast": {"type": "error", "content": t(call.locale, "出错了，请重试。", "Something went wrong.")}}
        if reply.toast and not reply.card:
            return {"toast": {"type": "success" if not reply.refused else "warning", "content": reply.toast}}
        if reply.refused:
            # The clicker may not see this; keep the card as it is for everyone else in the chat.
            return {"toast": {"type": "warning", "content": t(call.locale, "你没有权限查看这些内容。",
                                                              "You are not allowed to see this.")}}
        answer: dict[str, Any] = {"card": {"type": "raw", "data": reply.card}}
        if reply.toast:
            answer["toast"] = {"type": "success", "content": reply.toast}
        return answer

    def _update_later(self, future: Future, token: str, event_id: str) -> None:
        reply = future.result()
        if not isinstance(reply, Reply) or reply.refused or not reply.card or not token:
            return
        try:
            self.clients.messenger.delayed_update(token, reply.card)
        except Exception:
            log.exception("delayed card update failed for %s", event_id)

    def purge(self) -> tuple[int, int]:
        """Delete the inbox's answered messages older than BOT_INBOX_RETENTION_DAYS, and failed ones Feishu
        never took in that time (logged); the (done, failed) counts."""
        store = self.router.store
        if store is None:
            return 0, 0
        before = self.router.now() - timedelta(seconds=self.router.settings.inbox_retention)
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

    def start_retrying(self, interval: float) -> threading.Thread:
        """Every `interval` seconds, try again the replies Feishu did not take (an outage), and delete
        messages older than the retention."""

        def loop() -> None:
            while not self._stop.wait(interval):
                for step in (lambda: self.resume(statuses=("failed",)), self.purge_if_due):
                    try:
                        step()
                    except Exception:
                        log.exception("inbox upkeep failed")

        thread = threading.Thread(target=loop, name="reply-retry", daemon=True)
        thread.start()
        return thread
