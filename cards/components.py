"""Small shared pieces of card JSON 2.0. Pure functions: values in, dicts out."""

from __future__ import annotations

import re
from typing import Any

Card = dict[str, Any]
Element = dict[str, Any]

EN = "en_us"

# Characters that Feishu markdown would read as syntax, with their HTML entities
# (FEISHU_FACTS.md §5 "Escaping"). `&` first so existing entities are neutralised too.
_ESCAPES = {
    "&": "&#38;", "<": "&#60;", ">": "&#62;", "*": "&#42;", "_": "&#95;", "~": "&#126;",
    "[": "&#91;", "]": "&#93;", "(": "&#40;", ")": "&#41;", "#": "&#35;", "`": "&#96;",
    "!": "&#33;", "-": "&#45;", "+": "&#43;", "\\": "&#92;", "/": "&#47;", ":": "&#58;",
    '"': "&#34;", "'": "&#39;", "$": "&#36;", "|": "&#124;",
}
_TABLE = str.maketrans(_ESCAPES)


def escape(text: object) -> str:
    """Make any user-supplied string inert inside markdown: no mention, link, tag or formatting."""
    flat = " ".join(str(text).split())  # newlines would start new markdown blocks
    return flat.translate(_TABLE)


EXCERPT_CHARS = 30


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of what someone typed, escaped, with an ellipsis when cut: a card quotes
    a person's words, it never echoes them whole."""
    flat = " ".join(str(text).split())
    return escape(flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…")


_OPEN_ID = re.compile(r"ou_[0-9a-zA-Z_]{1,64}")


def chat_link(name: str, open_id: str) -> str:
    """A person's name (given escaped) as a link that opens a chat with them in Feishu (the documented AppLink
    `client/chat/open?openId=`); the bare name when the id is not an open_id."""
    if not _OPEN_ID.fullmatch(open_id or ""):
        return name
    return f"[{name}](https://applink.feishu.cn/client/chat/open?openId={open_id})"


def t(locale: str, zh: str, en: str) -> str:
    """Pick the text for the asker's language."""
    return en if locale == EN else zh


def card(
    title: str,
    elements: list[Element],
    *,
    template: str = "blue",
    subtitle: str = "",
    summary: str = "",
    forwardable: bool = True,
) -> Card:
    """A whole schema 2.0 card. Titles are plain_text, so they need no escaping. A card about people that only
    its recipient may see (roster, attendance, digest, one's own profile) is not forwardable."""
    header: dict[str, Any] = {"title": {"tag": "plain_text", "content": title}, "template": template}
    if subtitle:
        header["subtitle"] = {"tag": "plain_text", "content": subtitle}
    config: dict[str, Any] = {"update_multi": True, "enable_forward": forwardable}
    if summary:
        config["summary"] = {"content": summary}
    return {"schema": "2.0", "config": config, "header": header, "body": {"elements": elements}}


def markdown(content: str, *, size: str = "") -> Element:
    element: Element = {"tag": "markdown", "content": content}
    if size:
        element["text_size"] = size
    return element


def note(content: str) -> Element:
    """Small grey print (2.0 has no `note` component)."""
    return markdown(f"<font color='grey'>{content}</font>", size="notation")


def hr() -> Element:
    return {"tag": "hr"}


def person(open_id: str, *, size: str = "small") -> Element:
    """Shows a person (avatar and name, opens their profile) without notifying them, unlike <at>."""
    return {"tag": "person", "user_id": open_id, "size": size, "show_avatar": True, "show_name": True}


def fields(rows: list[tuple[str, str]]) -> Element:
    """Label/value lines. Labels are ours; values must already be escaped."""
    lines = [f"**{label}**: {value}" for label, value in rows if value]
    return markdown("\n".join(lines))


def columns(*cols: list[Element], weights: tuple[int, ...] = ()) -> Element:
    return {
        "tag": "column_set",
        "flex_mode": "none",
        "horizontal_spacing": "8px",
        "columns": [
            {
                "tag": "column",
                "width": "weighted",
                "weight": weights[i] if i < len(weights) else 1,
                "vertical_align": "center",
                "elements": col,
            }
            for i, col in enumerate(cols)
        ],
    }


def button(label: str, value: dict[str, Any], *, kind: str = "default", disabled: bool = False) -> Element:
    """A button that sends `value` back to /webhook/card (card.action.trigger)."""
    element: Element = {
        "tag": "button",
        "text": {"tag": "plain_text", "content": label},
        "type": kind,
        "size": "small",
        "behaviors": [{"type": "callback", "value": value}],
    }
    if disabled:
        element["disabled"] = True
    return element


def link_button(label: str, url: str) -> Element:
    return {
        "tag": "button",
        "text": {"tag": "plain_text", "content": label},
        "type": "default",
        "size": "small",
        "behaviors": [{"type": "open_url", "default_url": url}],
    }


def button_row(buttons: list[Element]) -> Element:
    """Buttons side by side (2.0 removed the `action` module)."""
    return {
        "tag": "column_set",
        "flex_mode": "flow",
        "horizontal_spacing": "8px",
        "columns": [{"tag": "column", "width": "auto", "elements": [b]} for b in buttons],
    }


def progress_bar(percent: float, *, width: int = 10) -> str:
    filled = max(0, min(width, round(percent / 100 * width)))
    return "▓" * filled + "░" * (width - filled)


def page_window(total: int, page: int, page_size: int) -> tuple[int, int]:
    """(page clamped to the existing pages, number of pages) for `total` items."""
    pages = max(1, -(-total // page_size))
    return max(0, min(page, pages - 1)), pages


def pager(page: int, pages: int, total: int, value_for_page: Any, *, locale: str, extra: str = "") -> list[Element]:
    """Previous/next buttons (when there is more than one page) and a 'page N of M, X people' line."""
    elements: list[Element] = []
    if pages > 1:
        elements += [hr(), button_row([
            button(t(locale, "上一页", "Previous"), value_for_page(page - 1), disabled=page == 0),
            button(t(locale, "下一页", "Next"), value_for_page(page + 1), disabled=page >= pages - 1),
        ])]
        footer = t(locale, f"第 {page + 1}/{pages} 页，共 {total} 人", f"Page {page + 1} of {pages}, {total} people")
    else:
        footer = t(locale, f"共 {total} 人", f"{total} people")
    return elements + [note(footer + (" · " + extra if extra else ""))]


def with_source(built: Card, source: str) -> Card:
    """The same card with a small-print line saying where its data came from (our own text)."""
    body = dict(built.get("body", {}))
    body["elements"] = [*body.get("elements", []), note(source)]
    return {**built, "body": body}
