"""Sending cards: reply, send to a chat or user, update in place, ephemeral, delayed update."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any

from cachetools import TTLCache
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.enum import AccessTokenType, HttpMethod
from lark_oapi.core.model import BaseRequest

from bot.feishu.caller import ApiCaller
from bot.feishu.ratelimit import IM_PER_TARGET_LIMITS, Limiter, SlidingWindowLimiter, scaled

log = logging.getLogger(__name__)

UUID_MAX = 50  # Feishu's limit for the idempotency field


def to_uuid(*parts: str) -> str:
    """A stable idempotency key of at most 50 characters for the given parts."""
    key = ":".join(parts)
    if len(key) <= UUID_MAX:
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:UUID_MAX]


def _raw(method: HttpMethod, uri: str, body: dict[str, Any], queries: list[tuple[str, str]] | None = None):
    return (
        BaseRequest.builder().http_method(method).uri(uri).token_types({AccessTokenType.TENANT})
        .queries(queries or []).body(body).build()
    )


def _receive_id_type(receive_id: str) -> str:
    if receive_id.startswith("oc_"):
        return "chat_id"
    if receive_id.startswith("ou_"):
        return "open_id"
    if receive_id.startswith("on_"):
        return "union_id"
    return "email" if "@" in receive_id else "user_id"


class Messenger:
    def __init__(self, caller: ApiCaller, *, limiter: Limiter, scale: float = 1.0) -> None:
        self._caller = caller
        self._api = caller.client.im.v1.message
        self._limiter = limiter
        self._scale = scale
        self._targets: TTLCache[str, SlidingWindowLimiter] = TTLCache(maxsize=10_000, ttl=60)
        self._targets_lock = threading.Lock()

    def _target_limit(self, target: str) -> None:
        """Feishu allows 5 messages per second to one user and to one group."""
        with self._targets_lock:
            limiter = self._targets.get(target)
            if limiter is None:
                limiter = SlidingWindowLimiter(scaled(IM_PER_TARGET_LIMITS, self._scale))
            self._targets[target] = limiter
        limiter.acquire()

    def reply(self, message_id: str, card: dict[str, Any], *, uuid: str, chat_id: str = "") -> str:
        """Reply to a message with a card; returns the new message's id."""
        if chat_id:
            self._target_limit(chat_id)
        body = (
            ReplyMessageRequestBody.builder().msg_type("interactive")
            .content(json.dumps(card, ensure_ascii=False)).uuid(uuid).build()
        )
        request = ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()
        resp = self._caller.call("im.message.reply", self._api.reply, request, limiter=self._limiter)
        return resp.data.message_id if resp.data else ""

    def send(self, receive_id: str, card: dict[str, Any], *, uuid: str) -> str:
        """Send a card to a chat (oc_…) or a person (ou_…); returns the new message's id."""
        self._target_limit(receive_id)
        body = (
            CreateMessageRequestBody.builder().receive_id(receive_id).msg_type("interactive")
            .content(json.dumps(card, ensure_ascii=False)).uuid(uuid).build()
        )
        request = (
            CreateMessageRequest.builder().receive_id_type(_receive_id_type(receive_id))
            .request_body(body).build()
        )
        resp = self._caller.call("im.message.create", self._api.create, request, limiter=self._limiter)
        return resp.data.message_id if resp.data else ""

    def update(self, message_id: str, card: dict[str, Any]) -> None:
        """Replace a card the bot sent, in place (the card must have update_multi, 2.0's default)."""
        body = PatchMessageRequestBody.builder().content(json.dumps(card, ensure_ascii=False)).build()
        request = PatchMessageRequest.builder().message_id(message_id).request_body(body).build()
        self._caller.call("im.message.patch", self._api.patch, request, limiter=self._limiter)

    def send_ephemeral(self, chat_id: str, open_id: str, card: dict[str, Any]) -> str:
        """A card in a group that only `open_id` can see."""
        self._target_limit(chat_id)
        request = _raw(HttpMethod.POST, "/open-apis/ephemeral/v1/send",
                       {"chat_id": chat_id, "open_id": open_id, "msg_type": "interactive", "card": card})
        resp = self._caller.call("ephemeral.send", self._caller.client.request, request, limiter=self._limiter)
        return _raw_data(resp).get("message_id", "")

    def delayed_update(self, token: str, card: dict[str, Any]) -> None:
        """Update a card after its callback was answered, with the callback's token (30 min, 2 uses)."""
        request = _raw(HttpMethod.POST, "/open-apis/interactive/v1/card/update", {"token": token, "card": card})
        self._caller.call("interactive.card.update", self._caller.client.request, request, limiter=self._limiter)


def _raw_data(resp: Any) -> dict[str, Any]:
    try:
        payload = json.loads(resp.raw.content)
    except (AttributeError, ValueError, TypeError):
        return {}
    data = payload.get("data")
    return data if isinstance(data, dict) else {}
