"""The help card: what the bot can do, with examples, in the asker's language."""

from __future__ import annotations

from dataclasses import dataclass

from cards.components import Card, card, escape, hr, markdown, note, t


@dataclass(frozen=True, slots=True)
class HelpEntry:
    usage: str
    aliases: tuple[str, ...]
    summary: str
    examples: tuple[str, ...]


def build_help_card(entries: list[HelpEntry], *, locale: str, unknown: str = "", suggestion: str = "",
                    in_group: bool = False) -> Card:
    elements = []
    if unknown:
        line = t(locale, "我不认识「{0}」这个命令。", "I don't know the command “{0}”.").format(escape(unknown))
        if suggestion:
            line += " " + t(locale, "你是不是想用 **{0}**？", "Did you mean **{0}**?").format(escape(suggestion))
        elements += [markdown(line), hr()]
    for entry in entries:
        aliases = " · ".join(escape(a) for a in entry.aliases)
        examples = "  ".join(f"`{escape(e)}`" for e in entry.examples)
        text = f"**{escape(entry.usage)}**  <font color='grey'>{aliases}</font>\n{entry.summary}"
        if examples:
            text += "\n" + t(locale, "例：", "e.g. ") + examples
        elements.append(markdown(text))
    tip = t(locale, "群聊里请先 @我 再输入命令；私聊直接输入即可。中英文命令都可以。",
            "In a group, @-mention me first; in a direct chat just type. Chinese and English both work.")
    elements.append(note(tip))
    title = t(locale, "我能做什么", "What I can do")
    return card(title, elements, template="blue" if not unknown else "wathet",
                summary=t(locale, "帮助", "Help"))
