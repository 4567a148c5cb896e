"""`digest on [when] | on all | off | now | log` / `周报`: a manager's private digest about their reports."""

from __future__ import annotations

from bot.access import has_reports, is_admin
from bot.commands.base import Command, CommandCall, Context, Reply
from bot.commands.limits import refuse_during_cooldown, refuse_too_often, same_times
from bot.store import KIND_MANAGER_DIGEST, Subscription
from bot.textfold import fold_word
from bot.timephrase import Recurrence, WhenError, parse_when
from cards.components import escape, t
from cards.notices import build_refusal_card
from cards.subscriptions import SubscriptionLine, build_confirmation_card, build_list_card

DEFAULT_WHEN = "mon 09:00"
EXAMPLE = ("周报 开启 周一 9:00", "digest on mon 09:00")  # shown when a time is refused as too frequent
ACTIONS = {
    "on": "on", "开启": "on", "打开": "on", "订阅": "on",
    "off": "off", "关闭": "off", "取消": "off",
    "now": "now", "preview": "now", "立即": "now", "现在": "now", "预览": "now",
    "log": "log", "日志": "log", "记录": "log", "list": "log",
}



def _refuse(locale: str) -> Reply:
    reason = t(locale, "团队周报是给有直属下属的负责人的。", "The team digest is for managers with direct reports.")
    return Reply(build_refusal_card(reason=reason, locale=locale), refused=True)


def turn_on(call: CommandCall, ctx: Context, words: list[str]) -> Reply:
    """A manager's own digest is one subscription: `digest on <when>` again changes its time. `digest on all`
    (bot admins) adds one for each manager who has none."""
    everyone = bool(words) and fold_word(words[0]) in ("all", "全部", "所有人")
    if everyone and not is_admin(ctx):
        reason = t(call.locale, "只有机器人管理员可以为所有负责人开启周报。",
                   "Only a bot admin may turn it on for every manager.")
        return Reply(build_refusal_card(reason=reason, locale=call.locale), refused=True)
    if not everyone and not has_reports(ctx):
        return _refuse(call.locale)
    try:
        schedule = parse_when(" ".join(words[1:] if everyone else words), default_tz=ctx.settings.timezone,
                              default=DEFAULT_WHEN)
    except WhenError as exc:
        return Reply(build_confirmation_card(title=t(call.locale, "没看懂这个时间", "I could not read that time"),
                                             text=escape(exc.message(call.locale)), locale=call.locale, ok=False))
    refused = refuse_too_often(schedule, ctx, call.locale, example=EXAMPLE)
    if refused:
        return refused
    when = schedule.describe(call.locale)
    if not everyone:
        return _turn_on_mine(call, ctx, schedule)
    managers = [p.open_id for p in ctx.clients.contact.directory().managers() if p.is_active]
    existing = {s.target for s in ctx.store.subscriptions.find(kind=KIND_MANAGER_DIGEST)}
    added = [m for m in dict.fromkeys(managers) if m not in existing]
    for manager in added:
        _add_one(ctx, manager, schedule, call.locale)
    text = t(call.locale, f"已为 {len(added)} 位负责人开启周报（{when}）；{len(managers) - len(added)} 位已开启。",
             f"Digest turned on for {len(added)} managers ({when}); {len(managers) - len(added)} had it already.")
    return Reply(build_confirmation_card(title=t(call.locale, "团队周报", "Team digest"), text=text,
                                         locale=call.locale, ok=bool(added)))


def _add_one(ctx: Context, manager: str, schedule: Recurrence, locale: str) -> Subscription | None:
    """Add `manager`'s digest; should another request have added one at the same moment, the older stays."""
    ctx.store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=ctx.sender_open_id,
                               schedule=schedule.to_spec(), locale=locale)
    return ctx.store.subscriptions.keep_first(kind=KIND_MANAGER_DIGEST, target=manager)


def _turn_on_mine(call: CommandCall, ctx: Context, schedule: Recurrence) -> Reply:
    when = schedule.describe(call.locale)
    mine = ctx.store.subscriptions.keep_first(kind=KIND_MANAGER_DIGEST, target=ctx.sender_open_id)
    if mine is None:
        _add_one(ctx, ctx.sender_open_id, schedule, call.locale)
        text = t(call.locale, f"已开启：{when} 私信给你。发送 `周报 立即` 先预览一份。",
                 f"On: {when}, sent to you privately. Send `digest now` for a preview.")
    elif same_times(mine.schedule, schedule, ctx.now):
        text = t(call.locale, f"你的周报已经是 {when}。", f"Your digest is already on: {when}.")
    else:
        try:
            before = Recurrence.from_spec(mine.schedule).describe(call.locale)
        except ValueError:
            before = "—"
        ctx.store.subscriptions.reschedule(mine.id, schedule.to_spec(), locale=call.locale)
        text = t(call.locale, f"已把你的周报改为 {when}（原来是 {before}）。",
                 f"Your digest now goes out {when} (was {before}).")
    return Reply(build_confirmation_card(title=t(call.locale, "团队周报", "Team digest"), text=text,
                                         locale=call.locale))


def turn_off(call: CommandCall, ctx: Context) -> Reply:
    subs = ctx.store.subscriptions.find(kind=KIND_MANAGER_DIGEST, target=ctx.sender_open_id)
    for sub in subs:
        ctx.store.subscriptions.deactivate(sub.id)
    text = (t(call.locale, "已关闭你的团队周报。", "Your team digest is off.") if subs
            else t(call.locale, "你没有开启团队周报。", "You had no team digest."))
    return Reply(build_confirmation_card(title=t(call.locale, "团队周报", "Team digest"), text=text,
                                         locale=call.locale, ok=bool(subs)))


def now(call: CommandCall, ctx: Context) -> Reply:
    """A digest now, at most once per cool-down per person, through the run shared with the jobs due this
    minute (and the clients' recent reads)."""
    from bot.digests.jobs import shared_run
    from bot.digests.manager_digest import run_digest
    from bot.digests.runtime import Runtime

    if not has_reports(ctx):
        return _refuse(call.locale)
    waiting = refuse_during_cooldown(ctx, f"digest-now:{ctx.sender_open_id}", call.locale,
                                     what=("周报 立即", "digest now"), scope=("对每个人", "for each person"))
    if waiting:
        return waiting
    subs = ctx.store.subscriptions.find(kind=KIND_MANAGER_DIGEST, target=ctx.sender_open_id)
    preview = subs[0] if subs else Subscription(id=0, kind=KIND_MANAGER_DIGEST, target=ctx.sender_open_id,
                                                created_by=ctx.sender_open_id, schedule={}, stale_days=7,
                                                locale=call.locale, active=False)
    runtime = Runtime.for_command(ctx)
    slot = ctx.now.replace(second=0, microsecond=0)
    message_id = run_digest(runtime, preview, slot, shared_run(runtime, slot))
    text = (t(call.locale, "已把团队周报私信发给你。", "I sent you the team digest in a direct message.") if message_id
            else t(call.locale, "这一分钟已经发过一份了。", "One was already sent this minute."))
    return Reply(build_confirmation_card(title=t(call.locale, "团队周报", "Team digest"), text=text,
                                         locale=call.locale, ok=bool(message_id)))


def log_reply(call: CommandCall, ctx: Context) -> Reply:
    subs = ctx.store.subscriptions.find(kind=KIND_MANAGER_DIGEST, target=ctx.sender_open_id)
    lines = []
    for sub in subs:
        for send in ctx.store.subscriptions.sends(sub.id)[-10:]:
            status = {"sent": t(call.locale, "已发送", "sent"), "failed": t(call.locale, "失败", "failed"),
                      "sending": t(call.locale, "发送中", "sending"),
                      "retry": t(call.locale, "失败，稍后重试", "failed, will retry"),
                      }.get(send["status"], send["status"])
            detail = escape(send["error"][:80]) if send["error"] else ""
            lines.append(SubscriptionLine(sub.id, send["scheduled_for"], status, detail))
    return Reply(build_list_card(title=t(call.locale, "周报发送记录", "Digest log"), lines=lines, locale=call.locale,
                                 empty=t(call.locale, "还没有发送记录。", "Nothing sent yet.")))


def run(call: CommandCall, ctx: Context) -> Reply:
    if ctx.store is None:
        raise RuntimeError("digest needs a store")
    words = list(call.args)
    action = ACTIONS.get(fold_word(words[0])) if words else "log"
    if action == "on":
        return turn_on(call, ctx, words[1:])
    if action == "off":
        return turn_off(call, ctx)
    if action == "now":
        return now(call, ctx)
    return log_reply(call, ctx)


COMMAND = Command(
    name="digest",
    aliases=("周报", "团队周报", "team digest"),
    usage="digest on [when] | on all | off | now | log",
    summary_zh="负责人的团队周报（私信）：先列需要关注的人（没有 OKR、进度过期、有风险），"
               "附进度图、人员变动和考勤覆盖，可一键提醒。",
    summary_en="A manager's private team digest: problems first (no OKR, stale, at risk) with one-click nudges, "
               "a progress chart, roster changes and attendance coverage.",
    examples=("digest on mon 09:00", "周报 开启", "digest now", "digest on all"),
    handler=run,
)
