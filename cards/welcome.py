"""The greeting when the bot joins a group or someone opens a chat with it."""

from __future__ import annotations

from cards.components import Card, card, escape, markdown, t


def build_welcome_card(*, bot_name: str, locale: str, in_group: bool) -> Card:
    if in_group:
        how = t(locale, "在群里 @我 并输入命令，例如 **@{0} 帮助**。",
                "In a group, @-mention me with a command, for example **@{0} help**.").format(escape(bot_name))
    else:
        how = t(locale, "直接给我发命令，例如 **帮助**、**查人 张三**、**团队**。",
                "Just send me a command, for example **help**, **whois Alex**, **team**.")
    body = t(locale, "你好！我可以查 OKR、查人、看团队、花名册和考勤组，还能定时提醒和发团队周报。"
             "发送 **帮助** 查看全部命令。",
             "Hi! I show OKRs, find people, list teams, the roster and attendance groups, and send scheduled "
             "reminders and team digests. Send **help** to see every command.")
    return card(t(locale, f"👋 {bot_name} 来了", f"👋 {bot_name} is here"),
                [markdown(body), markdown(how)], template="turquoise")
