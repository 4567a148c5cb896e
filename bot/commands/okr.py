"""`okr [@someone] [period]` / `我的OKR`: OKRs for a period, with buttons to switch periods and refresh."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.access import may_see_okrs, okr_outsiders
from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.models import OkrPeriod, current_period_index
from bot.textfold import fold_spaceless
from cards.components import t
from cards.notices import build_refusal_card
from cards.okr import build_okr_card, build_periods_card

PREVIOUS_WORDS = {"last", "previous", "prev", "上期", "上个周期", "上一周期", "上季度"}
NEXT_WORDS = {"next", "下期", "下个周期", "下一周期", "下季度"}
CURRENT_WORDS = {"current", "this", "本期", "当前", "这期"}


def choose_period(periods: tuple[OkrPeriod, ...], words: str, ctx: Context) -> int | None:
    """Index of the period the person asked for: current by default, last/next, or by name."""
    here = current_period_index(periods, ctx.now)
    if here is None:
        return None
    folded = fold_spaceless(words)
    if not folded or folded in CURRENT_WORDS:
        return here
    if folded in PREVIOUS_WORDS:
        return max(0, here - 1)
    if folded in NEXT_WORDS:
        return min(len(periods) - 1, here + 1)
    for index, period in enumerate(periods):
        if folded in (fold_spaceless(period.zh_name), fold_spaceless(period.en_name), period.id):
            return index
    matches = [i for i, p in enumerate(periods)
               if folded in fold_spaceless(p.zh_name) or folded in fold_spaceless(p.en_name)]
    return matches[-1] if matches else None


def shared_with_outsiders(ctx: Context, target: str) -> bool:
    """True when the answer would be seen by someone OKR_VISIBILITY does not let see the target's OKRs:
    under `team` or `self`, a member of the chat (a group, or the chat of a clicked group card). A click
    that does not say which chat it came from counts as shared."""
    if ctx.settings.okr_visibility == "all":
        return False
    if not ctx.chat.chat_id:
        return True
    members = ctx.clients.chats.list_member_ids(ctx.chat.chat_id)
    return bool(okr_outsiders(ctx, target, members))


def run(call: CommandCall, ctx: Context) -> Reply:
    target = call.mentions[0].open_id if call.mentions else ctx.sender_open_id
    if not may_see_okrs(ctx, target):
        reason = t(call.locale, "按照本公司的设置，你只能查看自己（或同团队）的 OKR。",
                   "By this company's settings you may only see your own (or your team's) OKRs.")
        return Reply(build_refusal_card(reason=reason, locale=call.locale), refused=True)
    # `alone`: the card is seen by the asker alone (a private chat, or sent privately); its buttons say so.
    alone = ctx.chat.chat_type == "p2p" or call.options.get("alone") is True
    private = not alone and shared_with_outsiders(ctx, target)
    if private and ctx.chat.chat_type != "group":
        # A button on a card in a group: its answer would replace the card for every member (cards are
        # shared), so keep the card and say where to ask instead.
        return Reply({}, refused=True, toast=t(
            call.locale, "这个群里有人无权查看这些 OKR。请私聊我发送「okr」。",
            "Some members of this group may not see these OKRs. Send me “okr” in a private chat."))
    contact, okr = ctx.clients.contact, ctx.clients.okr
    person = contact.get_user(target)

    def value(period_id: str, **extra: object) -> dict[str, object]:
        return action_value(CommandCall(name="okr", mentions=call.mentions, locale=call.locale), period=period_id,
                            alone=True if alone or private else None, **extra)

    periods = okr.list_periods()
    wanted = call.options.get("period")
    if isinstance(wanted, str) and wanted:
        index = next((i for i, p in enumerate(periods) if p.id == wanted), None)
    else:
        index = choose_period(periods, call.text, ctx) if periods else None
    if index is None:  # each period a button: okr for it, for the same person
        return Reply(build_periods_card(periods, call.text, locale=call.locale, value_for=lambda p: value(p.id)),
                     private=private)
    period = periods[index]
    fresh = bool(call.options.get("fresh"))
    okrs = okr.list_user_okrs(target, period_ids=(period.id,), lang=call.locale, fresh=fresh)

    # "Update progress" only where the owner is the one who clicks: their own current-period card, seen by them alone.
    own = target == ctx.sender_open_id and (alone or private) and index == current_period_index(periods, ctx.now)
    card = build_okr_card(
        person, okrs, period=period, locale=call.locale, now=ctx.now, tz=ZoneInfo(ctx.settings.timezone),
        previous_value=value(periods[index - 1].id) if index > 0 else None,
        next_value=value(periods[index + 1].id) if index + 1 < len(periods) else None,
        refresh_value=value(period.id, fresh=True),
        progress_value=action_value(CommandCall(name="progress", locale=call.locale), form=True) if own else None,
    )
    return Reply(card, private=private)


COMMAND = Command(
    name="okr",
    aliases=("我的OKR", "my OKR", "my OKRs", "OKRs", "目标"),
    usage="okr [@someone] [period | last | next]",
    summary_zh="查看你（或某人）本周期的 OKR：进度、状态、评分、权重、截止日期和最近更新时间，可切换周期。",
    summary_en="Your (or someone's) OKRs for the period: progress, status, score, weight, deadline, freshness; "
               "switch periods with the buttons.",
    examples=("okr", "我的OKR", "OKR @张伟 上期"),
    handler=run,
)
