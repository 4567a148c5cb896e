"""Opaque page tokens, page-size validation and list slicing shared by the paged endpoints."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .api_errors import ApiError

T = TypeVar("T")


def encode_token(scope: str, offset: int) -> str:
    raw = f"{scope}|{offset}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(scope: str, token: str | None, error: Callable[[], ApiError]) -> int:
    """Offset encoded in `token` (0 for no token); raises `error()` for tokens of another list or garbage."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        token_scope, _, offset_text = text.rpartition("|")
        offset = int(offset_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise error() from None
    if token_scope != scope or offset < 0:
        raise error()
    return offset


def page_size(
    value: str | None, *, default: int, maximum: int, error: Callable[[], ApiError], minimum: int = 1
) -> int:
    if value is None or value == "":
        return capped(default)
    try:
        size = int(value)
    except ValueError:
        raise error() from None
    if not minimum <= size <= maximum:
        raise error()
    return capped(size)


def capped(size: int) -> int:
    """`size`, or fewer when the sandbox's `page_cap` says so (only inside a request)."""
    from flask import current_app, has_app_context

    cap = current_app.extensions["sandbox"].page_cap if has_app_context() else None
    return min(size, cap) if cap else size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_more: bool
    page_token: str | None

    def fields(self, items_key: str = "items", rendered: list[object] | None = None) -> dict[str, object]:
        """The page as Feishu's list answers carry it: the items (as `rendered` for the API, if given) under
        `items_key`, `has_more`, and `page_token` only when there is a next page."""
        data: dict[str, object] = {items_key: self.items if rendered is None else rendered, "has_more": self.has_more}
        if self.page_token:
            data["page_token"] = self.page_token
        return data


def paginate(
    items: Sequence[T], *, scope: str, token: str | None, size: int, token_error: Callable[[], ApiError]
) -> Page[T]:
    offset = decode_token(scope, token, token_error)
    if offset > len(items):
        raise token_error()
    chunk = list(items[offset : offset + size])
    end = offset + len(chunk)
    has_more = end < len(items)
    return Page(chunk, has_more, encode_token(scope, end) if has_more else None)
