"""Commands reached only from card buttons: snooze a reminder, nudge a report. Hidden from help."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.access import is_admin, manages
from bot.commands.base import Command, CommandCall, Context, Reply
from bot.outbox import Key, Outgoing
from cards.components import t
from cards.digest import build_nudge_card


def snooze(call: CommandCall, ctx: Context) -> Reply:
    """'Remind me tomorrow' on a group reminder: skip the clicker until tomorrow ends."""
    sub = call.options.get("sub")
    if not isinstance(sub, int) or ctx.store is None:
        return Reply({}, toast=t(call.locale, "这个按钮已失效。", "This button is no longer valid."), refused=True)
    until = datetime.combine(ctx.now.date() + timedelta(days=2), time.min, tzinfo=ctx.now.tzinfo)
    ctx.store.subscriptions.snooze(sub, ctx.sender_open_id, until)
    return Reply({}, toast=t(call.locale, "好的，明天再提醒你。", "OK, I'll remind you tomorrow."))


def nudge(call: CommandCall, ctx: Context) -> Reply:
    """'Nudge' on a manager digest: one friendly DM to that report, once (the router sends it)."""
    target, sub, slot = call.options.get("target"), call.options.get("sub"), call.options.get("slot")
    if not isinstance(target, str) or ctx.store is None:
        return Reply({}, toast=t(call.locale, "这个按钮已失效。", "This button is no longer valid."), refused=True)
    if not (is_admin(ctx) or manages(ctx, target)):
        return Reply({}, toast=t(call.locale, "只有这位同事的上级可以提醒。", "Only their manager may nudge them."),
                     refused=True)
    key = f"{sub}:{slot}:{target}"
    if not ctx.store.subscriptions.claim_nudge(key):
        return Reply({}, toast=t(call.locale, "已经提醒过了。", "Already nudged."))
    manager = ctx.clients.contact.get_user(ctx.sender_open_id)
    person = ctx.clients.contact.get_user(target)
    # In the report's language (remembered, else English for someone with only an English name, else the
    # bot's default), not the manager's.
    locale = ctx.store.people.language(target) or (
        "en_us" if person.en_name and not person.name else ctx.settings.default_locale)
    card = build_nudge_card(manager_name=manager.display_name(locale), locale=locale)
    return Reply({}, toast=t(call.locale, f"已提醒 {person.display_name(call.locale)}。",
                             f"Nudged {person.display_name(call.locale)}."),
                 outgoing=(Outgoing(target, card, Key.nudge(key)),))


SNOOZE = Command(name="snooze", aliases=(), usage="", summary_zh="", summary_en="", examples=(), handler=snooze,
                 hidden=True)
NUDGE = Command(name="nudge", aliases=(), usage="", summary_zh="", summary_en="", examples=(), handler=nudge,
                hidden=True)
