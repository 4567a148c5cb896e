"""Cards as plain text: what a person would read, for the demo's terminal and for tests."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

_AT = re.compile(r"<at (?:id|user_id|open_id)=['\"]?([\w-]+)['\"]?>\s*</at>")
_TAG = re.compile(r"</?(?:font|text_tag|link|a|local_datetime|number_tag)[^>]*>")
_LINK = re.compile(r"\[([^\]]*)\]\(https?://[^)\s]*\)")  # a markdown link reads as its text


def _markdown(content: str, names: Mapping[str, str]) -> str:
    text = _AT.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), content)
    text = _LINK.sub(r"\1", _TAG.sub("", text)).replace("**", "")
    return html.unescape(text)


def _buttons(element: dict[str, Any]) -> str:
    label = element.get("text", {}).get("content", "")
    return f"[ {label}{' (disabled)' if element.get('disabled') else ''} ]"


def _lines(elements: list[dict[str, Any]], names: Mapping[str, str], indent: str = "") -> list[str]:
    out: list[str] = []
    for element in elements:
        tag = element.get("tag")
        if tag == "markdown":
            out += [indent + line for line in _markdown(element.get("content", ""), names).splitlines()]
        elif tag == "div":
            text = element.get("text", {}).get("content", "")
            out.append(indent + _markdown(text, names))
        elif tag == "hr":
            out.append(indent + "─" * 30)
        elif tag == "person":
            out.append(indent + "👤 " + names.get(element.get("user_id", ""), element.get("user_id", "")))
        elif tag == "person_list":
            out.append(indent + "👥 " + ", ".join(names.get(p.get("id", ""), p.get("id", ""))
                                                 for p in element.get("persons", [])))
        elif tag == "button":
            out.append(indent + _buttons(element))
        elif tag == "column_set":
            cells = [" ".join(_lines(col.get("elements", []), names)).strip() for col in element.get("columns", [])]
            out.append(indent + "  ".join(c for c in cells if c))
        elif tag == "collapsible_panel":
            title = element.get("header", {}).get("title", {}).get("content", "")
            out.append(indent + "▸ " + _markdown(title, names))
            out += _lines(element.get("elements", []), names, indent + "  ")
        elif tag == "table":
            cols = element.get("columns", [])
            out.append(indent + " | ".join(c.get("display_name", c.get("name", "")) for c in cols))
            for row in element.get("rows", []):
                out.append(indent + " | ".join(_markdown(str(row.get(c.get("name"), "")), names) for c in cols))
        elif tag == "chart":
            out.append(indent + "[chart]")
        else:
            out.append(indent + f"[{tag}]")
    return out


def render_text(card: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """The card's header, text, people and buttons, one line each."""
    names = names or {}
    header = card.get("header", {})
    title = header.get("title", {}).get("content", "")
    subtitle = header.get("subtitle", {}).get("content", "")
    lines = [f"■ {title}" + (f" — {subtitle}" if subtitle else "")]
    lines += _lines(card.get("body", {}).get("elements", []), names, "  ")
    return "\n".join(lines)


def elements_of(card: Mapping[str, Any], *tags: str) -> list[dict[str, Any]]:
    """Every element of the card's body (of `tags`, when given), depth first, nested ones included."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "tag" in node and (not tags or node["tag"] in tags):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", {}))
    return found


def buttons_of(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every button in the card, depth first, for tests and the demo to click."""
    return elements_of(card, "button")


def form_fields(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The named inputs and selects of a card's forms, by name."""
    return {e["name"]: e for e in elements_of(card, "input", "select_static") if e.get("name")}


def callback_value(button: Mapping[str, Any]) -> dict[str, Any] | None:
    for behavior in button.get("behaviors", []):
        if behavior.get("type") == "callback":
            return behavior.get("value")
    return None
