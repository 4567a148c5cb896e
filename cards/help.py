"""The help card: short and grouped, each group with buttons that run an example; `help <command>` shows one
command in full. And the short answers to what is not a command: small talk, text not understood, too long."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.components import Card, Element, button, button_row, card, escape, excerpt, markdown, note, t

GROUPS = (
    ("okr", "🎯 OKR", "🎯 OKRs"),
    ("people", "👥 找人和团队", "👥 People and teams"),
    ("you", "🙋 你的设置", "🙋 You and settings"),
)


@dataclass(frozen=True, slots=True)
class Example:
    """A button that runs a command as the person who presses it."""

    label: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HelpEntry:
    name: str
    usage: str
    aliases: tuple[str, ...]
    summary: str
    examples: tuple[str, ...]
    group: str = ""
    buttons: tuple[Example, ...] = ()


def _buttons(examples: tuple[Example, ...] | list[Example], *, first_primary: bool = False) -> Element:
    return button_row([button(e.label, e.value, kind="primary" if first_primary and i == 0 else "default")
                       for i, e in enumerate(examples)])


def build_help_card(entries: list[HelpEntry], *, locale: str) -> Card:
    """What the bot can do, by group: one line per command, and a few buttons per group that run examples."""
    elements: list[Element] = []
    for group, zh, en in GROUPS:
        members = [e for e in entries if e.group == group]
        if not members:
            continue
        lines = "\n".join(f"**{escape(e.name)}** {e.summary}" for e in members)
        elements.append(markdown(f"**{t(locale, zh, en)}**\n{lines}"))
        examples = [b for e in members for b in e.buttons][:4]
        if examples:
            elements.append(_buttons(examples))
    tip = t(locale, "发送「帮助 命令」看某个命令的全部用法，例如「帮助 提醒」。群聊里请先 @我。中英文都可以。",
            "Send “help <command>” for a command's full usage, e.g. “help remind”. In a group, @-mention me first. "
            "Chinese and English both work.")
    elements.append(note(tip))
    return card(t(locale, "我能做什么", "What I can do"), elements, template="blue", summary=t(locale, "帮助", "Help"))


def build_command_help_card(entry: HelpEntry, *, locale: str) -> Card:
    """One command in full: usage, other names, what it does, examples."""
    text = f"**{escape(entry.usage)}**\n{entry.summary}"
    if entry.aliases:
        text += "\n" + t(locale, "也可以说：", "Also: ") + " · ".join(escape(a) for a in entry.aliases)
    if entry.examples:
        text += "\n" + t(locale, "例如：", "For example: ") + " · ".join(f"**{escape(e)}**" for e in entry.examples)
    elements: list[Element] = [markdown(text)]
    if entry.buttons:
        elements.append(_buttons(entry.buttons, first_primary=True))
    return card(t(locale, f"用法：{entry.name}", f"How to use: {entry.name}"), elements, template="blue",
                summary=t(locale, "帮助", "Help"))


_SMALL_TALK = {
    "hello": ("你好！我是 OKR 助手，可以帮你看 OKR、找人、看团队。想做什么？",
              "Hi! I'm the OKR bot: I show OKRs, find people and list teams. What would you like?"),
    "thanks": ("不客气！还需要什么，随时叫我。", "You're welcome! Anything else, just ask."),
    "bye": ("再见！需要时随时找我。", "Bye! I'm here whenever you need me."),
    "emoji": ("😊 需要我做什么？", "😊 What can I do for you?"),
    "who": ("我是 OKR 助手：查 OKR、找人、看团队和花名册，还能定时提醒和给经理发周报。",
            "I'm the OKR bot: OKRs, people, teams and the roster, plus scheduled reminders and managers' digests."),
}


def build_small_talk_card(kind: str, suggestions: list[Example], *, locale: str) -> Card:
    """A short friendly answer to 你好 / thanks / bye, with a few things to try."""
    zh, en = _SMALL_TALK.get(kind, _SMALL_TALK["hello"])
    elements: list[Element] = [markdown(t(locale, zh, en))]
    if suggestions:
        elements.append(_buttons(suggestions, first_primary=True))
    return card(t(locale, "OKR 助手", "OKR bot"), elements, template="turquoise", summary=t(locale, zh, en))


def build_not_understood_card(text: str, suggestions: list[Example], *, locale: str) -> Card:
    """Text that is no command: a short "didn't understand", an excerpt of it, the closest commands as buttons."""
    line = t(locale, "我没看懂「{0}」。你是想要下面哪个？", "I didn't understand “{0}”. Did you mean one of these?")
    elements: list[Element] = [markdown(line.format(excerpt(text)))]
    if suggestions:
        elements.append(_buttons(suggestions, first_primary=True))
    elements.append(note(t(locale, "发送「帮助」查看全部命令。", "Send “help” to see everything I can do.")))
    return card(t(locale, "没看懂", "Not sure what you mean"), elements, template="wathet",
                summary=t(locale, "没看懂", "Not understood"))


def build_too_long_card(length: int, suggestions: list[Example], *, locale: str) -> Card:
    """A message far longer than any command: say so, without quoting it."""
    line = t(locale, "这条消息有 {0} 个字，太长了，我只看得懂简短的命令，例如「我的OKR」「查人 张伟」。",
             "That message is {0} characters long; I understand short commands such as “my okr” or "
             "“whois Alex”.").format(length)
    elements: list[Element] = [markdown(line)]
    if suggestions:
        elements.append(_buttons(suggestions, first_primary=True))
    return card(t(locale, "消息太长", "Message too long"), elements, template="wathet",
                summary=t(locale, "消息太长", "Message too long"))


def build_no_such_person_card(name: str, *, locale: str) -> Card:
    """`张三的OKR` when no one is called 张三."""
    text = t(locale, "通讯录里没有叫「{0}」的人。可以 @TA，或试试「查人 {0}」按名字开头查找。",
             "No one in the directory is called “{0}”. @-mention them, or try “whois {0}” to search by the start "
             "of a name.").format(excerpt(name))
    return card(t(locale, "没有这个人", "No such person"), [markdown(text)], template="grey")


__all__ = ["Example", "HelpEntry", "build_command_help_card", "build_help_card", "build_no_such_person_card",
           "build_not_understood_card", "build_small_talk_card", "build_too_long_card"]
