"""Feishu's side of the webhook: build events and callbacks, encrypt and sign them as Feishu does,
and deliver them to the bot. Used by the demo, the tests and the benchmarks."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from Crypto.Cipher import AES

Post = Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]


def encrypt(plaintext: bytes, encrypt_key: str) -> str:
    """AES-256-CBC with key sha256(encrypt_key), random IV, PKCS7; base64(iv + ciphertext)."""
    key = hashlib.sha256(encrypt_key.encode("utf-8")).digest()
    iv = os.urandom(16)
    pad = 16 - len(plaintext) % 16
    cipher = AES.new(key, AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(plaintext + bytes([pad]) * pad)).decode("ascii")


def sign(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode("utf-8") + body).hexdigest()


TENANT_KEY = "sandbox_tenant"


def _header(event_type: str, *, token: str, app_id: str, event_id: str | None = None,
            create_time_ms: int | None = None, tenant_key: str = TENANT_KEY) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "event_type": event_type,
        "create_time": str(create_time_ms if create_time_ms is not None else int(time.time() * 1000)),
        "token": token,
        "app_id": app_id,
        "tenant_key": tenant_key,
    }


@dataclass(frozen=True, slots=True)
class At:
    """Someone @-mentioned in a simulated message (or the sender / clicker: their three ids)."""

    open_id: str
    name: str = ""
    union_id: str = ""
    user_id: str = ""

    def ids(self) -> dict[str, str]:
        return {"open_id": self.open_id, "union_id": self.union_id, "user_id": self.user_id}


def message_event(
    *,
    sender_open_id: str,
    chat_id: str,
    chat_type: str,
    text: str = "",
    mentions: Iterable[At] = (),
    token: str,
    app_id: str,
    message_id: str | None = None,
    event_id: str | None = None,
    sender_type: str = "user",
    sender: At | None = None,
    content: dict[str, Any] | None = None,
    message_type: str = "text",
    parent_id: str = "",
    root_id: str = "",
    create_time_ms: int | None = None,
    tenant_key: str = TENANT_KEY,
) -> dict[str, Any]:
    """An im.message.receive_v1 event: the one shape every simulated message has.

    `text` may contain `{0}`, `{1}`… where each mention goes; or pass the message's `content` as it is
    (its text already holding the `@_user_N` keys, in mention order). `sender` gives the sender's three ids
    (else only `sender_open_id`)."""
    mention_list = list(mentions)
    keys = [f"@_user_{i + 1}" for i in range(len(mention_list))]
    if content is None:
        content = {"text": text.format(*keys) if mention_list else text}
    now_ms = str(create_time_ms if create_time_ms is not None else int(time.time() * 1000))
    return {
        "schema": "2.0",
        "header": _header("im.message.receive_v1", token=token, app_id=app_id, event_id=event_id,
                          create_time_ms=create_time_ms, tenant_key=tenant_key),
        "event": {
            "sender": {
                "sender_id": (sender or At(sender_open_id)).ids(),
                "sender_type": sender_type,
                "tenant_key": tenant_key,
            },
            "message": {
                "message_id": message_id or "om_" + uuid.uuid4().hex,
                "root_id": root_id,
                "parent_id": parent_id,
                "create_time": now_ms,
                "update_time": now_ms,
                "chat_id": chat_id,
                "chat_type": chat_type,
                "message_type": message_type,
                "content": json.dumps(content, ensure_ascii=False),
                "mentions": [{"key": key, "id": m.ids(), "name": m.name, "tenant_key": tenant_key}
                             for key, m in zip(keys, mention_list, strict=True)],
                "user_agent": "Mozilla/5.0 Lark/7.30.0 (sandbox)",
            },
        },
    }


def card_action_event(
    *,
    operator_open_id: str,
    value: dict[str, Any],
    message_id: str,
    chat_id: str,
    token: str,
    app_id: str,
    event_id: str | None = None,
    operator: At | None = None,
    card_token: str | None = None,
    action: dict[str, Any] | None = None,
    create_time_ms: int | None = None,
    tenant_key: str = TENANT_KEY,
) -> dict[str, Any]:
    """A card.action.trigger callback for a button whose behaviors carried `value`: the one shape every
    simulated click has. `action` adds fields to the event's action (tag, name, form_value, option…);
    `card_token` is the delayed-update token (a random one if not given)."""
    return {
        "schema": "2.0",
        "header": _header("card.action.trigger", token=token, app_id=app_id, event_id=event_id,
                          create_time_ms=create_time_ms, tenant_key=tenant_key),
        "event": {
            "operator": {"tenant_key": tenant_key, **(operator or At(operator_open_id)).ids()},
            "token": card_token or "c-" + uuid.uuid4().hex,
            "action": {"value": value, "tag": "button", **(action or {})},
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": chat_id},
        },
    }


def simple_event(event_type: str, event: dict[str, Any], *, token: str, app_id: str,
                 event_id: str | None = None) -> dict[str, Any]:
    return {"schema": "2.0", "header": _header(event_type, token=token, app_id=app_id, event_id=event_id),
            "event": event}


def url_verification(challenge: str, *, token: str) -> dict[str, Any]:
    return {"challenge": challenge, "token": token, "type": "url_verification"}


class EventSender:
    """Delivers payloads to the bot exactly as Feishu does: encrypted and signed when an Encrypt
    Key is configured, plain JSON otherwise."""

    def __init__(self, post: Post, *, encrypt_key: str, verification_token: str, app_id: str) -> None:
        self._post = post
        self.encrypt_key = encrypt_key
        self.token = verification_token
        self.app_id = app_id

    def envelope(self, payload: dict[str, Any], *, encrypt_key: str | None = None) -> tuple[bytes, dict[str, str]]:
        key = self.encrypt_key if encrypt_key is None else encrypt_key
        plain = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if not key:
            return plain, {"Content-Type": "application/json; charset=utf-8"}
        body = json.dumps({"encrypt": encrypt(plain, key)}).encode("utf-8")
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
        return body, {
            "Content-Type": "application/json; charset=utf-8",
            "X-Lark-Request-Timestamp": timestamp,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": sign(timestamp, nonce, key, body),
        }

    def deliver(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        body, headers = self.envelope(payload)
        return self._post(path, body, headers)

    def say(self, *, sender_open_id: str, chat_id: str, chat_type: str, text: str,
            mentions: Iterable[At] = (), message_id: str | None = None,
            event_id: str | None = None) -> tuple[int, bytes, dict[str, Any]]:
        payload = message_event(sender_open_id=sender_open_id, chat_id=chat_id, chat_type=chat_type, text=text,
                                mentions=mentions, token=self.token, app_id=self.app_id,
                                message_id=message_id, event_id=event_id)
        status, body = self.deliver("/webhook/event", payload)
        return status, body, payload

    def click(self, *, operator_open_id: str, value: dict[str, Any], message_id: str,
              chat_id: str) -> tuple[int, dict[str, Any]]:
        payload = card_action_event(operator_open_id=operator_open_id, value=value, message_id=message_id,
                                    chat_id=chat_id, token=self.token, app_id=self.app_id)
        status, body = self.deliver("/webhook/card", payload)
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {"raw": body.decode("utf-8", "replace")}
        return status, answer


def http_post(base_url: str, *, timeout: float = 10.0) -> Post:
    """A Post that sends over real HTTP (requests)."""
    import requests

    session = requests.Session()

    def post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = session.post(base_url.rstrip("/") + path, data=body, headers=headers, timeout=timeout)
        return response.status_code, response.content

    return post
