"""Exactly-once delivery of a scheduled card: claim in the sent-log, then send through the outbox with the
subscription's scheduled key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.digests.runtime import Runtime
from bot.feishu.errors import FeishuApiError, RateLimited, Unavailable
from bot.outbox import Key
from bot.store import to_slot

log = logging.getLogger(__name__)

RETRY_SECONDS = 300  # how often the scheduler's retry job looks for sends to try again (bot.store.SendRetry)


def deliver_once(runtime: Runtime, *, subscription_id: int, scheduled_for: datetime, recipient: str,
                 build: Callable[[], dict[str, Any] | None], retry: bool = False) -> str | None:
    """Send the card `build()` makes to `recipient`, unless this (subscription, time, recipient) was sent
    or claimed before. The claim is written before sending, so a retried job, a restart or a second
    scheduler never sends twice; the uuid makes Feishu drop a repeated send as well. With `retry`, take
    back a send that may be tried again (see bot.store.SendRetry) instead. Returns the message id, or
    None when skipped or failed (failures are kept in the sent-log)."""
    store = runtime.store
    if retry:
        claimed = store.subscriptions.reclaim_send(subscription_id, scheduled_for, recipient, now=runtime.now())
    else:
        claimed = store.subscriptions.claim_send(subscription_id, scheduled_for, recipient, now=runtime.now())
    if not claimed:
        log.info("subscription %s at %s to %s: already sent or claimed; skipped",
                 subscription_id, to_slot(scheduled_for), recipient)
        return None
    try:
        card = build()
        if card is None:
            store.subscriptions.finish_send(subscription_id, scheduled_for, recipient, error="nothing to send")
            return None
        message_id = runtime.outbox.send(recipient, card, Key.scheduled(subscription_id, scheduled_for, recipient))
    except FeishuApiError as exc:
        log.error("subscription %s at %s to %s failed: %s", subscription_id, to_slot(scheduled_for), recipient, exc)
        store.subscriptions.finish_send(subscription_id, scheduled_for, recipient, error=str(exc),
                          retry=isinstance(exc, (Unavailable, RateLimited)))
        return None
    except Exception as exc:
        log.exception("subscription %s at %s to %s crashed", subscription_id, to_slot(scheduled_for), recipient)
        store.subscriptions.finish_send(subscription_id, scheduled_for, recipient, error=f"{type(exc).__name__}: {exc}")
        return None
    store.subscriptions.finish_send(subscription_id, scheduled_for, recipient, message_id=message_id)
    return message_id
