"""Deterministic Feishu-looking identifiers derived from stable keys (no randomness)."""

from __future__ import annotations

import hashlib


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def open_id(key: str) -> str:
    """`ou_` + 32 hex chars, like a real open_id."""
    return "ou_" + _md5("open:" + key)


def union_id(key: str) -> str:
    return "on_" + _md5("union:" + key)


def user_id(key: str) -> str:
    """Tenant-level user_id (8 hex chars), also used as the attendance employee_id."""
    return _md5("user:" + key)[:8]


def open_department_id(key: str) -> str:
    return "od-" + _md5("dept:" + key)


def chat_id(key: str) -> str:
    return "oc_" + _md5("chat:" + key)


def p2p_chat_id(person_open_id: str) -> str:
    """Deterministic id of the bot's one-to-one chat with a user."""
    return "oc_p2p_" + _md5("p2p:" + person_open_id)[:25]


def message_id(seq: int, salt: str = "") -> str:
    return "om_" + _md5(f"message:{salt}:{seq}")


def numeric_id(key: str, prefix: int = 73) -> str:
    """A 19-digit numeric id string (OKR / period / attendance style)."""
    return str(prefix * 10**17 + int(_md5("num:" + key), 16) % 10**17)


def short_hex(key: str, length: int = 16) -> str:
    return _md5("hex:" + key)[:length]
