"""The `lang` cards: which language the bot speaks to you in, and the buttons to change it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cards.components import Card, button, button_row, card, escape, markdown, note, t

# Each language is named in itself on its button, as language pickers do.
CHOICES = (("en_us", "English"), ("zh_cn", "中文"))


def _name(locale: str, of: str) -> str:
    return t(locale, "英文", "English") if of == "en_us" else t(locale, "中文", "Chinese")


def _buttons(current: str | None, explicit: bool, value_for: Callable[[str], dict[str, Any]], *,
             locale: str) -> dict[str, Any]:
    chosen = current if explicit else None
    return button_row([
        *(button(label, value_for(code), kind="primary" if code == chosen else "default") for code, label in CHOICES),
        button(t(locale, "自动", "Automatic"), value_for("auto"), kind="primary" if chosen is None else "default"),
    ])


def _what_auto_means(locale: str) -> str:
    return t(locale, "自动：我按你发消息用的语言回复，并记住它，用于之后发给你的周报、提醒和私信。",
             "Automatic: I answer in the language you write in, and remember it for the digests, reminders and "
             "direct messages I send you later.")


def build_language_card(*, current: str | None, explicit: bool, value_for: Callable[[str], dict[str, Any]],
                        locale: str) -> Card:
    """Bare `lang`: the setting now, and a button for each choice. `current` is the remembered language."""
    if current is None:
        now = t(locale, "当前：**自动**（还没有记住你的语言）",
                "Now: **automatic** (I have not learned your language yet)")
    elif explicit:
        now = t(locale, f"当前：**{_name(locale, current)}**（你选择的）",
                f"Now: **{_name(locale, current)}** (your choice)")
    else:
        now = t(locale, f"当前：**自动**，目前用{_name(locale, current)}（从你发的消息学到的）",
                f"Now: **automatic**, currently {_name(locale, current)} (learned from what you write)")
    return card(t(locale, "语言", "Language"), [
        markdown(now),
        _buttons(current, explicit, value_for, locale=locale),
        note(_what_auto_means(locale)),
    ], template="blue")


def build_language_chosen_card(*, chosen: str, value_for: Callable[[str], dict[str, Any]]) -> Card:
    """`lang en` / `lang zh`: said in the language chosen."""
    text = t(chosen, "好的，之后我都用中文和你说话：回复、周报、提醒和私信。"
             "发送 **语言 自动** 可改回按你发的消息决定。",
             "OK, from now on I speak English to you: answers, digests, reminders and direct messages. "
             "Send **lang auto** to go back to following the language you write in.")
    return card(t(chosen, "语言已设为中文", "Language set to English"),
                [markdown(text), _buttons(chosen, True, value_for, locale=chosen)], template="green")


def build_language_auto_card(*, value_for: Callable[[str], dict[str, Any]], locale: str) -> Card:
    """`lang auto`: the choice is forgotten; the language is learned again from what they write."""
    return card(t(locale, "语言：自动", "Language: automatic"),
                [markdown(_what_auto_means(locale)), _buttons(None, False, value_for, locale=locale)],
                template="green")


def build_unknown_language_card(typed: str, *, value_for: Callable[[str], dict[str, Any]], locale: str) -> Card:
    """`lang fr`: which languages there are, as buttons. Shows at most a short excerpt of what was typed."""
    excerpt = typed if len(typed) <= 30 else typed[:29] + "…"
    text = t(locale, f"我还不会说「{escape(excerpt)}」。可以选择：",
             f"I don't speak “{escape(excerpt)}” yet. Choose one:")
    return card(t(locale, "没有这种语言", "Unknown language"),
                [markdown(text), _buttons(None, False, value_for, locale=locale)], template="orange")


def build_language_unavailable_card(*, locale: str) -> Card:
    """No store: nothing can be remembered."""
    return card(t(locale, "无法记住语言", "Cannot remember a language"),
                [markdown(t(locale, "这个机器人没有配置数据库，所以记不住你的语言；我会按你每条消息用的语言回复。",
                            "This bot has no database configured, so it cannot remember your language; I answer "
                            "in the language of each message."))], template="orange")
