"""Validation of outgoing message content: JSON string, size limits, card shape, mentions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .. import api_errors as errors
from ..api_errors import ApiError

MSG_TYPES = frozenset(
    {
        "text",
        "post",
        "image",
        "file",
        "audio",
        "media",
        "sticker",
        "interactive",
        "share_chat",
        "share_user",
        "system",
    }
)
TEXT_LIMIT = 150 * 1024
CARD_LIMIT = 30 * 1024
MAX_COMPONENTS = 200
_AT_RE = re.compile(r"<at\s+(id|ids|user_id|open_id|email)\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


def _invalid(detail: str) -> ApiError:
    return ApiError(
        errors.IM_INVALID_PARAM, f"Your request contains an invalid request parameter: {detail}", 400
    )


def _card_error(ext_code: int, detail: str) -> ApiError:
    return ApiError(
        errors.IM_CARD_CONTENT,
        f"Failed to create card content, ext=ErrCode: {ext_code}; ErrMsg: {detail}",
        400,
    )


def too_long() -> ApiError:
    return ApiError(errors.IM_CONTENT_TOO_LONG, "The message content exceeds the size limit.", 400)


def parse_content(msg_type: object, content: object) -> dict[str, Any]:
    """Parse and validate `content` (must be a JSON *string*) for `msg_type`."""
    if not isinstance(msg_type, str) or msg_type not in MSG_TYPES:
        raise _invalid(f"msg_type {msg_type!r}")
    if not isinstance(content, str):
        raise _invalid("content must be a JSON string")
    limit = TEXT_LIMIT if msg_type == "text" else CARD_LIMIT
    if len(content.encode("utf-8")) > limit:
        raise too_long()
    try:
        parsed = json.loads(content)
    except ValueError:
        raise _invalid("content is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise _invalid("content must be a JSON object")
    if msg_type == "text" and not isinstance(parsed.get("text"), str):
        raise _invalid("text content needs a string 'text'")
    if msg_type == "interactive":
        validate_card(parsed)
    return parsed


def card_size_ok(card: dict[str, Any]) -> None:
    if len(json.dumps(card, ensure_ascii=False).encode("utf-8")) > CARD_LIMIT:
        raise too_long()


def _components(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "tag" in node:
            yield node
        for value in node.values():
            yield from _components(value)
    elif isinstance(node, list):
        for value in node:
            yield from _components(value)


def validate_card(card: Any) -> None:
    """Light JSON 2.0 structure check (templates pass through)."""
    if not isinstance(card, dict):
        raise _card_error(200621, "card content must be a JSON object")
    if card.get("type") == "template":
        data = card.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("template_id"), str):
            raise _card_error(200380, "template_id is missing")
        return
    schema = card.get("schema")
    if schema is not None and schema != "2.0":
        raise _card_error(200621, f"unsupported schema {schema!r}")
    if schema == "2.0":
        if "elements" in card or "i18n_elements" in card:
            raise _card_error(200861, "schema 2.0 cards put elements under body.elements")
        body = card.get("body", {})
        if not isinstance(body, dict) or not isinstance(body.get("elements", []), list):
            raise _card_error(200621, "body.elements must be a list")
    count = sum(1 for _ in _components(card.get("body", card.get("elements", []))))
    if count > MAX_COMPONENTS:
        raise _card_error(11310, f"card has {count} components (max {MAX_COMPONENTS})")


def is_v2(card: Any) -> bool:
    return isinstance(card, dict) and card.get("schema") == "2.0"


def _mention_texts(msg_type: str, parsed: dict[str, Any]) -> Iterator[str]:
    """Strings in which Feishu interprets <at ...> tags (markdown / lark_md / text / post at-elements)."""
    if msg_type == "text":
        yield str(parsed.get("text", ""))
        return
    for node in _components(parsed):
        tag = node.get("tag")
        if tag in ("markdown", "lark_md", "md"):
            for key in ("content", "text"):
                if isinstance(node.get(key), str):
                    yield node[key]
            i18n = node.get("i18n_content")
            if isinstance(i18n, dict):
                yield from (v for v in i18n.values() if isinstance(v, str))
        elif tag == "at":
            yield f'<at user_id="{node.get("user_id", "")}">'


def check_mentions(
    msg_type: str, parsed: dict[str, Any], known_ids: set[str], *, card_only_unknown: bool = True
) -> None:
    """@all is refused (the bot owns no chat; at_all_permission is only_owner); unknown ids in cards fail."""
    for text in _mention_texts(msg_type, parsed):
        for kind, value in _AT_RE.findall(text):
            values = value.split(",") if kind.lower() == "ids" else [value]
            for target in values:
                if target.lower() in ("all", "@_all"):
                    raise ApiError(
                        errors.IM_NO_PERMISSION,
                        "Lack of necessary permissions: only the chat owner can @all",
                        400,
                    )
                if target not in known_ids and (msg_type == "interactive" or not card_only_unknown):
                    raise _card_error(100290, f"invalid user id in at tag: {target}")
