"""`whoami` / `我是谁`: your Feishu ids and what the bot lets you do — the open_id is the value BOT_ADMINS takes."""

from __future__ import annotations

from bot.access import is_admin
from bot.commands.base import Command, CommandCall, Context, Reply
from cards.people import build_whoami_card


def run(call: CommandCall, ctx: Context) -> Reply:
    person = ctx.clients.contact.get_user(ctx.sender_open_id)
    reports = len(ctx.clients.contact.directory().direct_reports(ctx.sender_open_id))
    card = build_whoami_card(person, admin=is_admin(ctx), reports=reports, admins_configured=bool(ctx.settings.admins),
                             locale=call.locale)
    return Reply(card, private=ctx.chat.chat_type != "p2p")  # ids are nobody else's business: privately in a group


COMMAND = Command(
    name="whoami",
    aliases=("我是谁", "who am i", "my id", "我的id"),
    usage="whoami",
    summary_zh="你的 open_id、user_id，以及你是不是机器人管理员（BOT_ADMINS 填的就是 open_id）。",
    summary_en="Your open_id and user_id, and whether you are a bot admin (BOT_ADMINS takes open_ids).",
    examples=("whoami", "我是谁"),
    handler=run,
)
