"""`stats` / `统计`: API calls this month (admins), for tenants with a monthly API quota."""

from __future__ import annotations

from bot.access import is_admin
from bot.commands.base import Command, CommandCall, Context, Reply
from cards.components import t
from cards.notices import build_refusal_card
from cards.subscriptions import build_stats_card


def run(call: CommandCall, ctx: Context) -> Reply:
    if not is_admin(ctx):
        reason = t(call.locale, "统计只对机器人管理员开放。", "Statistics are for bot admins.")
        return Reply(build_refusal_card(reason=reason, locale=call.locale), refused=True)
    month = ctx.now.strftime("%Y-%m")
    scheduled = ctx.store.usage.api_calls(month) if ctx.store else {}
    return Reply(build_stats_card(month=month, scheduled=scheduled, live=ctx.clients.caller.call_counts,
                                  locale=call.locale))


COMMAND = Command(
    name="stats",
    aliases=("统计",),
    usage="stats",
    summary_zh="（管理员）本月开放平台 API 调用次数。",
    summary_en="(Admins) Open Platform API calls this month.",
    examples=("stats",),
    handler=run,
)
