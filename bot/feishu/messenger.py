"""The IM calls that send cards: reply, send to a chat or a person, delayed update of a clicked card.

Only bot/outbox.py calls these: it owns the idempotency keys and the per-chat limits."""

from __future__ import annotations

import json
import logging
from typing import Any

from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.core.enum import AccessTokenType, HttpMethod
from lark_oapi.core.model import BaseRequest

from bot.feishu.caller import ApiCaller
from bot.feishu.ratelimit import Limiter

log = logging.getLogger(__name__)


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
        self.scale = scale  # rate-limit time scale of these clients (the outbox's per-chat windows use it)

    def reply(self, message_id: str, card: dict[str, Any], *, uuid: str) -> str:
        """Reply to a message with a card; returns the new message's id."""
        body = (
            ReplyMessageRequestBody.builder().msg_type("interactive")
            .content(json.dumps(card, ensure_ascii=False)).uuid(uuid).build()
        )
        request = ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()
        resp = self._caller.call("im.message.reply", self._api.reply, request, limiter=self._limiter)
        return resp.data.message_id if resp.data else ""

    def send(self, receive_id: str, card: dict[str, Any], *, uuid: str) -> str:
        """Send a card to a chat (oc_…) or a person (ou_…); returns the new message's id."""
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

    def delayed_update(self, token: str, card: dict[str, Any]) -> None:
        """Update a card after its callback was answered, with the callback's token (30 min, 2 uses)."""
        request = _raw(HttpMethod.POST, "/open-apis/interactive/v1/card/update", {"token": token, "card": card})
        self._caller.call("interactive.card.update", self._caller.client.request, request, limiter=self._limiter)

