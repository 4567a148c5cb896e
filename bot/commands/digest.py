"""`digest on [when] | on all | off | now | log` / `周报`: a manager's private digest about their reports."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.access import has_reports, is_admin
from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.commands.limits import refuse_during_cooldown, refuse_too_often, same_times
from bot.commands.remind import corrected_when, next_run
from bot.store import KIND_MANAGER_DIGEST, Subscription
from bot.textfold import fold_word
from bot.timephrase import Recurrence, WhenError, parse_when
from cards.components import escape, t
from cards.notices import build_refusal_card
from cards.subscriptions import (
    SubscriptionLine,
    build_confirmation_card,
    build_correction_card,
    build_digest_status_card,
    build_list_card,
)

DEFAULT_WHEN = "mon 09:00"
EXAMPLE = ("周报 开启 周一 9:00", "digest on mon 09:00")  # shown when a time is refused as too frequent
ACTIONS = {
    "on": "on", "开启": "on", "打开": "on", "订阅": "on",
    "off": "off", "关闭": "off", "取消": "off",
    "now": "now", "preview": "now", "立即": "now", "现在": "now", "预览": "now",
    "log": "log", "日志": "log", "记录": "log", "list": "log",
    "status": "status", "状态": "status",
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
    phrase = " ".join(words[1:] if everyone else words)
    try:
        schedule = parse_when(phrase, default_tz=ctx.settings.timezone, default=DEFAULT_WHEN, now=ctx.now)
    except WhenError as exc:
        fixed = [*(["all"] if everyone else []), *corrected_when(exc, phrase, ctx, call.locale).split()]
        label = " ".join([t(call.locale, "周报 开启", "digest on"), *fixed])
        return Reply(build_correction_card(
            title=t(call.locale, "没看懂这个时间", "I could not read that time"),
            text=escape(exc.message(call.locale)), locale=call.locale,
            example=(label, action_value(CommandCall(name="digest", args=("on", *fixed), locale=call.locale)))))
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
        text = t(call.locale, f"周报已改到 **{when}**（原来是 {before}）。改时间不用先关闭。",
                 f"Digest moved to **{when}** (was {before}). No need to turn it off first.")
        return Reply(build_confirmation_card(title=t(call.locale, "周报时间已修改", "Digest moved"), text=text,
                                             locale=call.locale))
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


def _button(call: CommandCall, *args: str) -> dict[str, object]:
    return action_value(CommandCall(name="digest", args=args, locale=call.locale))


def _shown(slot: str, ctx: Context) -> str:
    """A send's scheduled time (stored as UTC) in the bot's time zone."""
    try:
        moment = datetime.fromisoformat(slot)
    except ValueError:
        return escape(slot)
    return moment.astimezone(ZoneInfo(ctx.settings.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def status(call: CommandCall, ctx: Context) -> Reply:
    """Bare `digest`: a manager's digest (on or off, when, the next and last send) with buttons; to someone
    with no direct reports, why there is no digest for them and what they can do instead."""
    locale = call.locale
    if not has_reports(ctx):
        actions = [(t(locale, "我的 OKR", "My OKRs"), action_value(CommandCall(name="okr", locale=locale)))]
        instead = t(locale, "你可以用 **okr** 查看自己的 OKR。", "You can see your own OKRs with **okr**.")
        if is_admin(ctx):
            actions.append((t(locale, "为所有负责人开启", "Turn on for every manager"), _button(call, "on", "all")))
            instead += t(locale, "作为机器人管理员，你也可以为所有负责人开启周报：**周报 开启 全部**。",
                         " As a bot admin you may also turn it on for every manager: **digest on all**.")
        text = t(locale, "你没有直属下属，所以没有给你的团队周报：周报是发给负责人、关于其团队的。",
                 "You have no direct reports, so there is no digest for you: the team digest goes to managers, "
                 "about their teams.") + "\n" + instead
        return Reply(build_digest_status_card(title=t(locale, "没有你的周报", "No digest for you"), text=text,
                                              actions=actions, locale=locale, on=False))
    mine = ctx.store.subscriptions.keep_first(kind=KIND_MANAGER_DIGEST, target=ctx.sender_open_id)
    if mine is None:
        text = t(locale, "你的团队周报**未开启**。开启后每周私信给你（默认周一 09:00）。",
                 "Your team digest is **off**. Turned on, it comes to you privately each week (Mondays 09:00 "
                 "unless you pick a time).")
        actions = [(t(locale, "开启（周一 09:00）", "Turn on (Mon 09:00)"), _button(call, "on")),
                   (t(locale, "现在发一份", "Send one now"), _button(call, "now"))]
    else:
        sent = [s for s in ctx.store.subscriptions.sends(mine.id) if s["status"] == "sent"]
        last = _shown(sent[-1]["scheduled_for"], ctx) if sent else t(locale, "还没有", "not yet")
        text = t(locale, f"你的团队周报**已开启**：{describe(mine, locale)}。\n下次：{next_run(mine, ctx.now, locale)}"
                         f" · 上次发送：{last}\n改时间：**周报 开启 周五 17:00**（不用先关闭）。",
                 f"Your team digest is **on**: {describe(mine, locale)}.\nNext: {next_run(mine, ctx.now, locale)}"
                 f" · last sent: {last}\nTo change the time: **digest on fri 17:00** (no need to turn it off).")
        actions = [(t(locale, "现在发一份", "Send one now"), _button(call, "now")),
                   (t(locale, "关闭", "Turn off"), _button(call, "off")),
                   (t(locale, "发送记录", "Log"), _button(call, "log"))]
    return Reply(build_digest_status_card(title=t(locale, "团队周报", "Team digest"), text=text, actions=actions,
                                          locale=locale, on=mine is not None), private=True)


def describe(sub: Subscription, locale: str) -> str:
    try:
        return Recurrence.from_spec(sub.schedule).describe(locale)
    except ValueError:
        return "—"


def run(call: CommandCall, ctx: Context) -> Reply:
    if ctx.store is None:
        raise RuntimeError("digest needs a store")
    words = list(call.args)
    action = ACTIONS.get(fold_word(words[0]), "") if words else "status"
    if action == "on":
        return turn_on(call, ctx, words[1:])
    if action == "off":
        return turn_off(call, ctx)
    if action == "now":
        return now(call, ctx)
    if action == "status":
        return status(call, ctx)
    if action == "log":
        return log_reply(call, ctx)
    return status(call, ctx)


COMMAND = Command(
    name="digest",
    aliases=("周报", "团队周报", "team digest"),
    usage="digest [on [when] | on all | off | now | log]",
    summary_zh="负责人的团队周报（私信）：先列需要关注的人（没有 OKR、进度过期、有风险），"
               "附进度图、人员变动和考勤覆盖，可一键提醒。",
    summary_en="A manager's private team digest: problems first (no OKR, stale, at risk) with one-click nudges, "
               "a progress chart, roster changes and attendance coverage.",
    examples=("digest on mon 09:00", "周报 开启", "digest now", "digest on all"),
    handler=run,
)
