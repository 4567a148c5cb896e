"""Commands reached only from card buttons: snooze a reminder, nudge a report. Hidden from help."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from bot.access import is_admin, manages
from bot.commands.base import Command, CommandCall, Context, Reply
from bot.outbox import Key, Outgoing
from cards.components import t
from cards.digest import build_nudge_card


def snooze(call: CommandCall, ctx: Context) -> Reply:
    """'Remind me tomorrow' on a group reminder or a private check-in card: skip the clicker until tomorrow
    ends, when the run the card came from (its `slot`; a card from before slots, the last run) was about them
    (mentioned or flagged); anyone else is told so and nothing is stored."""
    from bot.digests.okr_reminder import ABOUT  # the digests import the commands' base: not at import time

    sub, slot = call.options.get("sub"), call.options.get("slot")
    if not isinstance(sub, int) or ctx.store is None:
        return Reply({}, toast=t(call.locale, "这个按钮已失效。", "This button is no longer valid."), refused=True)
    decisions = (ctx.store.subscriptions.decisions_at(sub, slot) if isinstance(slot, str)
                 else ctx.store.subscriptions.last_decisions(sub)[1])
    if decisions.get(ctx.sender_open_id) not in ABOUT:
        return Reply({}, toast=t(call.locale, "这个提醒不是给你的。", "This reminder wasn't for you."), refused=True)
    until = datetime.combine(ctx.now.date() + timedelta(days=2), time.min, tzinfo=ctx.now.tzinfo)
    ctx.store.subscriptions.snooze(sub, ctx.sender_open_id, until)
    return Reply({}, toast=t(call.locale, "好的，明天再提醒你。", "OK, I'll remind you tomorrow."))


def _nudge_message(ctx: Context, target: str, key: str, *, language: str | None) -> Outgoing:
    """The friendly DM to `target`, from the clicker, in the report's language (remembered, else English for
    someone with only an English name, else the bot's default), not the manager's. Names come from the
    directory snapshot (no API call), else from the contact API (cached)."""
    directory = ctx.clients.contact.directory()
    person = directory.person(target) or ctx.clients.contact.get_user(target)
    manager = directory.person(ctx.sender_open_id) or ctx.clients.contact.get_user(ctx.sender_open_id)
    locale = language or ("en_us" if person.en_name and not person.name else ctx.settings.default_locale)
    card = build_nudge_card(manager_name=manager.display_name(locale), locale=locale)
    return Outgoing(target, card, Key.nudge(key))


def _digest_view(call: CommandCall, ctx: Context) -> dict[str, Any] | None:
    """What the clicked digest showed (kept by its run), or None (an older card, or a value not the bot's)."""
    sub, slot, manager = call.options.get("sub"), call.options.get("slot"), call.options.get("manager")
    if ctx.store is None or not (isinstance(sub, int) and isinstance(slot, str) and isinstance(manager, str)):
        return None
    return ctx.store.subscriptions.view(sub, slot, manager)


def _redrawn(ctx: Context, view: dict[str, Any] | None) -> dict[str, Any]:
    """The digest as its manager sees it, with everyone nudged from it so far shown as nudged ({} without a
    view: the card stays as it is). From the store only: no OKR is read again."""
    if view is None or ctx.store is None:
        return {}
    from bot.digests.manager_digest import card_from_view

    return card_from_view(view, nudged=ctx.store.subscriptions.nudged(view["sub"], view["slot"]))


def nudge(call: CommandCall, ctx: Context) -> Reply:
    """'Nudge' on a manager digest: one friendly DM to that report, once per digest (the router sends it);
    with `everyone`, "Nudge everyone with a problem": one to each report the digest lists with a problem and
    not nudged from it yet. The answer is the digest redrawn in place, the nudged buttons disabled."""
    invalid = Reply({}, toast=t(call.locale, "这个按钮已失效。", "This button is no longer valid."), refused=True)
    if call.options.get("everyone") is True:
        return _nudge_everyone(call, ctx, invalid)
    target, sub, slot = call.options.get("target"), call.options.get("sub"), call.options.get("slot")
    if not isinstance(target, str) or ctx.store is None:
        return invalid
    if not (is_admin(ctx) or manages(ctx, target)):
        return Reply({}, toast=t(call.locale, "只有这位同事的上级可以提醒。", "Only their manager may nudge them."),
                     refused=True)
    key = f"{sub}:{slot}:{target}"
    if not ctx.store.subscriptions.claim_nudge(key):
        return Reply(_redrawn(ctx, _digest_view(call, ctx)), toast=t(call.locale, "已经提醒过了。", "Already nudged."))
    message = _nudge_message(ctx, target, key, language=ctx.store.people.language(target))
    person = ctx.clients.contact.directory().person(target) or ctx.clients.contact.get_user(target)
    return Reply(_redrawn(ctx, _digest_view(call, ctx)),
                 toast=t(call.locale, f"已提醒 {person.display_name(call.locale)}。",
                         f"Nudged {person.display_name(call.locale)}."),
                 outgoing=(message,))


def _nudge_everyone(call: CommandCall, ctx: Context, invalid: Reply) -> Reply:
    view = _digest_view(call, ctx)
    if view is None or ctx.store is None:
        return invalid
    manager = view["manager"]
    if not (is_admin(ctx) or ctx.sender_open_id == manager or manages(ctx, manager)):
        return Reply({}, toast=t(call.locale, "只有这份周报的收件人或其上级可以提醒。",
                                 "Only the digest's manager (or theirs) may nudge."), refused=True)
    subscriptions = ctx.store.subscriptions
    targets = [open_id for open_id, *_ in view["problems"]
               if is_admin(ctx) or manages(ctx, open_id)]  # each report checked as a single nudge is
    keys = {open_id: f"{view['sub']}:{view['slot']}:{open_id}" for open_id in targets}
    # The claim is what makes each nudge once per digest, however often or concurrently clicked (one row each).
    fresh = [open_id for open_id in targets if subscriptions.claim_nudge(keys[open_id])]
    languages = ctx.store.people.languages(fresh) if fresh else {}
    outgoing = tuple(_nudge_message(ctx, o, keys[o], language=languages.get(o)) for o in fresh)
    toast = (t(call.locale, f"已提醒 {len(fresh)} 人。", f"Nudged {len(fresh)}.") if fresh
             else t(call.locale, "已经都提醒过了。", "Everyone was already nudged."))
    return Reply(_redrawn(ctx, view), toast=toast, outgoing=outgoing)


SNOOZE = Command(name="snooze", aliases=(), usage="", summary_zh="", summary_en="", examples=(), handler=snooze,
                 hidden=True)
NUDGE = Command(name="nudge", aliases=(), usage="", summary_zh="", summary_en="", examples=(), handler=nudge,
                hidden=True)
