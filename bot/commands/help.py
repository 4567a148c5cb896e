"""`help` / `帮助`: what the bot can do."""

from __future__ import annotations

from bot.commands.base import Command, CommandCall, Context, Reply
from cards.help import HelpEntry, build_help_card


def build_help_reply(locale: str, *, unknown: str = "", suggestion: str | None = None) -> Reply:
    from bot.commands import ALL  # every registered command, in the order listed there

    entries = [
        HelpEntry(usage=c.usage, aliases=c.aliases, summary=c.summary(locale), examples=c.examples)
        for c in ALL
        if not c.hidden
    ]
    return Reply(build_help_card(entries, locale=locale, unknown=unknown, suggestion=suggestion or ""))


def run(call: CommandCall, ctx: Context) -> Reply:
    return build_help_reply(call.locale)


COMMAND = Command(
    name="help",
    aliases=("帮助", "?", "？", "h", "菜单", "menu"),
    usage="help",
    summary_zh="显示这份说明。",
    summary_en="Show this overview.",
    examples=("help", "帮助"),
    handler=run,
)
