"""`lang en|zh|auto` / `语言 英文|中文|自动`: the language the bot speaks to you in, remembered for everything it
sends you later (digests, nudges, your own reminder cards, greetings, DMs). Bare `lang` shows the setting."""

from __future__ import annotations

from typing import Any

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from cards.language import (
    build_language_auto_card,
    build_language_card,
    build_language_chosen_card,
    build_language_unavailable_card,
    build_unknown_language_card,
)

AUTO = "auto"
WORDS = {
    "en_us": ("en", "english", "英文", "英语", "en_us", "en-us", "eng"),
    "zh_cn": ("zh", "中文", "chinese", "汉语", "简体中文", "zh_cn", "zh-cn", "cn"),
    AUTO: ("auto", "自动", "automatic", "reset", "默认"),
}
_CHOICE = {word: choice for choice, words in WORDS.items() for word in words}


def to_choice(text: str) -> str | None:
    """"en_us", "zh_cn", "auto", or None for a word that names none of them."""
    return _CHOICE.get(" ".join(text.split()).casefold())


def run(call: CommandCall, ctx: Context) -> Reply:
    def value_for(choice: str, locale: str = call.locale) -> dict[str, Any]:
        return action_value(CommandCall(name="lang", args=(choice.split("_")[0],), locale=locale))

    typed = call.text.strip()
    choice = to_choice(typed) if typed else None
    if ctx.store is None:
        return Reply(build_language_unavailable_card(locale=choice if choice in ("en_us", "zh_cn") else call.locale))
    people = ctx.store.people
    if not typed:
        current, explicit = people.setting(ctx.sender_open_id)
        return Reply(build_language_card(current=current, explicit=explicit, value_for=value_for,
                                         locale=call.locale))
    if choice is None:
        return Reply(build_unknown_language_card(typed, value_for=value_for, locale=call.locale))
    if choice == AUTO:
        people.clear_language(ctx.sender_open_id)
        return Reply(build_language_auto_card(value_for=value_for, locale=call.locale))
    people.set_language(ctx.sender_open_id, choice, ctx.now)
    return Reply(build_language_chosen_card(chosen=choice, value_for=lambda c: value_for(c, choice)))


COMMAND = Command(
    name="lang",
    aliases=("语言", "language"),
    usage="lang [en | zh | auto]",
    summary_zh="设置我和你说话用的语言（英文、中文或自动），之后的周报、提醒和私信都用它。",
    summary_en="Set the language I speak to you in (English, Chinese or automatic), for digests, reminders and "
               "DMs too.",
    examples=("lang en", "语言 中文", "lang auto"),
    handler=run,
)
