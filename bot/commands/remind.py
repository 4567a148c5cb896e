"""`remind okr <when> | score [N] [at HH:MM] | list | off [id] | why @someone | run [id] | mention off|stale|all [id]
| details on|off [id]` / `提醒`: a group's OKR reminders (progress, and scoring before the period ends)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.access import is_admin, manages
from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.commands.limits import refuse_during_cooldown, refuse_too_often, same_times
from bot.feishu.errors import FeishuApiError
from bot.store import KIND_OKR_REMINDER, Subscription
from bot.store.subscriptions import DEFAULT_DAYS_BEFORE_END, GROUP_KINDS, KIND_OKR_SCORE
from bot.textfold import fold_word
from bot.timephrase import MAX_PHRASE_CHARS, Recurrence, WhenError, parse_when
from cards.components import escape, excerpt, t
from cards.notices import build_refusal_card
from cards.subscriptions import (
    SubscriptionLine,
    build_choice_card,
    build_confirmation_card,
    build_correction_card,
    build_list_card,
    build_why_card,
)

DEFAULT_STALE_DAYS = 7
MIN_STALE_DAYS, MAX_STALE_DAYS = 1, 90  # `stale N`: a day to a quarter
DEFAULT_WHEN = ("周五 17:00", "fri 17:00")  # the time in a corrected example when the person's own is unreadable
EXAMPLE = ("提醒 OKR 工作日 9:30", "remind okr weekdays 9:30")  # shown when a time is refused as too frequent
ACTIONS = {
    "okr": "add", "add": "add", "on": "add", "订阅": "add", "开启": "add",
    "list": "list", "ls": "list", "列表": "list", "查看": "list",
    "off": "off", "remove": "off", "stop": "off", "关闭": "off", "取消": "off", "删除": "off",
    "why": "why", "为什么": "why",
    "run": "run", "now": "run", "立即": "run", "现在": "run",
    "mention": "mention", "mentions": "mention", "提及": "mention",
    "details": "details", "detail": "details", "详情": "details",
    "score": "score", "scores": "score", "scoring": "score", "评分": "score", "打分": "score",
}
# A reminder's options: the words for each choice, and the choice as a button's command word.
MENTION_WORDS = {"off": "off", "none": "off", "nobody": "off", "关闭": "off", "不提及": "off",
                 "stale": "stale", "过期": "stale", "all": "all", "全部": "all"}
DETAILS_WORDS = {"on": "on", "开启": "on", "打开": "on", "off": "off", "关闭": "off"}
MENTION_NAMES = {"off": ("不 @ 任何人", "nobody"), "stale": ("只 @ 进度过期的人", "the stale only"),
                 "all": ("@ 所有需要行动的人", "everyone who needs to act")}
REASONS = {
    "mentioned_stale": ("被提醒：超过设定天数没有更新进度", "mentioned: no progress update within the set days"),
    "mentioned_risk": ("被提醒：有风险或延期的目标/关键结果", "mentioned: something at risk or delayed"),
    "mentioned_stale_and_risk": ("被提醒：进度过期，且有风险或延期", "mentioned: stale progress and something at risk"),
    "private_stale": ("未在群里 @（这个提醒不 @ 人）：超过设定天数没有更新进度，已私聊提醒",
                      "not mentioned (this reminder mentions nobody): no progress update within the set days; "
                      "reminded privately"),
    "private_stale_and_risk": ("未在群里 @（这个提醒不 @ 人）：进度过期，且有风险或延期，已私聊提醒",
                               "not mentioned (this reminder mentions nobody): stale progress and something at "
                               "risk; reminded privately"),
    "flagged_risk": ("未提醒：进度按时更新了，但有风险或延期的目标/关键结果（这个提醒只 @ 进度过期的人）",
                     "not mentioned: progress updated in time, with something at risk or delayed (this reminder "
                     "mentions only the stale)"),
    "up_to_date": ("未提醒：进度是最新的", "not mentioned: up to date"),
    "skipped_on_leave": ("未提醒：当天请假", "not mentioned: on approved leave that day"),
    "skipped_left_or_leaving": ("未提醒：已离职或待离职", "not mentioned: has left or is leaving"),
    "skipped_no_okr_visible": ("未提醒：没有可见的 OKR", "not mentioned: no OKR visible to the bot"),
    "skipped_snoozed": ("未提醒：选择了明天再提醒", "not mentioned: asked to be reminded tomorrow"),
    "skipped_not_in_directory": ("未提醒：不在通讯录范围内", "not mentioned: outside the app's directory"),
    "mentioned_unscored": ("被提醒：这个周期的 OKR 还没有评分", "mentioned: no score on this period's OKRs yet"),
    "scored": ("未提醒：已经评分", "not mentioned: already scored"),
}
# What everyone else in the group is told: whether, never why (leave, leaving, snoozed, directory are private).
NEUTRAL_REASONS = {
    True: ("被提醒了", "mentioned"),
    False: ("未被提醒", "not mentioned"),
}
WHY_PRIVATE_HINT = ("原因只告诉这个提醒的订阅人、群主或群管理员、机器人管理员和 TA 的上级（私聊发送）。",
                    "The reason goes privately to the reminder's subscriber, the group's owner or managers, "
                    "bot admins and their managers.")



def describe(sub: Subscription, locale: str) -> str:
    if sub.kind == KIND_OKR_SCORE:
        return score_text(sub.days_before_end, _clock(Recurrence.from_spec(sub.schedule)), locale)
    return Recurrence.from_spec(sub.schedule).describe(locale)


def next_run(sub: Subscription, now: datetime, locale: str, ctx: Context | None = None) -> str:
    if sub.kind == KIND_OKR_SCORE:
        return _next_score_post(sub, ctx, locale) if ctx is not None else "—"
    runs = Recurrence.from_spec(sub.schedule).next_runs(now, 1)
    return runs[0].strftime("%Y-%m-%d %H:%M %Z") if runs else t(locale, "无", "none")


def _clock(schedule: Recurrence) -> str:
    return f"{int(schedule.hour):02d}:{int(schedule.minute):02d}"


def score_text(days: int, clock: str, locale: str) -> str:
    return t(locale, f"评分提醒：周期结束前 {days} 天 {clock}",
             f"Scoring reminder: {days} days before the period ends, at {clock}")


def _next_score_post(sub: Subscription, ctx: Context, locale: str) -> str:
    """The day a scoring reminder next posts (from the OKR periods, read once an hour); "—" if unknown."""
    from bot.digests.score_reminder import next_post

    tz = ZoneInfo(ctx.settings.timezone)
    try:
        moment = next_post(sub, ctx.clients.okr.list_periods(), ctx.now.astimezone(tz), tz)
    except FeishuApiError:
        return "—"
    if moment is None:
        return t(locale, "无（没有已知的周期）", "none (no known period)")
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def may_change(ctx: Context) -> bool:
    """Group owner or manager, or a BOT_ADMINS member."""
    return is_admin(ctx) or ctx.clients.chats.get_chat(ctx.chat.chat_id).is_owner_or_manager(ctx.sender_open_id)


def _not_allowed(locale: str) -> Reply:
    reason = t(locale, "只有群主、群管理员或机器人管理员可以修改这个群的提醒。",
               "Only the group's owner or managers, or a bot admin, may change this group's reminders.")
    return Reply(build_refusal_card(reason=reason, locale=locale), refused=True)


# `stale 5`, `stale 5 days`, `超过5天`, `5天未更新`, `5 days stale`: a whole run of ASCII digits (`stale 100` is a
# hundred, to be refused, never `10` with a `0` left over for the time phrase), each part matched once (linear),
# the unit whole (`days`, not `d` + `ays`). `stale` with no number after it is caught by _STALE_WORD.
_STALE = re.compile(r"(?:stale|超过|未更新)\s*([0-9]+)\s*(?:天|days?(?![a-z])|d(?![a-z]))?"
                    r"|(?<![0-9])([0-9]+)\s*(?:天未更新|days?\s*stale(?![a-z]))", re.ASCII | re.IGNORECASE)
_STALE_WORD = re.compile(r"(?<![a-z])stale(?![a-z])\s*(\S*)", re.IGNORECASE)  # and the word after it
# A reminder's number as people type it (`3`, `#3`): ASCII digits, at most nine (ids are small; `int()` refuses
# 4,300 digits and more, and `'᧚'.isdigit()` is True but `int('᧚')` fails).
_ID = re.compile(r"[0-9]{1,9}", re.ASCII)


class StaleDaysError(ValueError):
    """`stale N` with N not a whole number of days from MIN_STALE_DAYS to MAX_STALE_DAYS (or no N at all).
    `given` is what was typed for N, `rest` the phrase without it, `nearest` the allowed number to suggest."""

    def __init__(self, given: str, rest: list[str], nearest: int) -> None:
        super().__init__(f"stale days {given!r} not in {MIN_STALE_DAYS}-{MAX_STALE_DAYS}")
        self.given, self.rest, self.nearest = given, rest, nearest


def _stale_days(words: list[str]) -> tuple[list[str], int]:
    """Pull `stale 5` / `5天` / `5d` out of the phrase, before the time is read (so `stale 100` is never
    taken for a second time of day). Raises StaleDaysError for a number outside MIN..MAX_STALE_DAYS or a
    `stale` with no number."""
    text = " ".join(words)
    match = _STALE.search(text)
    if not match:
        word = _STALE_WORD.search(text)
        if word:  # `stale` with no number, or a number in other digits (`stale ٣`): say what N may be
            rest = (text[:word.start()] + text[word.end():]).split()
            raise StaleDaysError(word.group(1) or "stale", rest, DEFAULT_STALE_DAYS)
        return words, DEFAULT_STALE_DAYS
    digits = match.group(1) or match.group(2)
    rest = (text[:match.start()] + text[match.end():]).split()
    # more than three digits is out of range without reading it (`int()` refuses 4,300 digits and more)
    days = int(digits) if len(digits) <= 3 else MAX_STALE_DAYS + 1
    if not MIN_STALE_DAYS <= days <= MAX_STALE_DAYS:
        raise StaleDaysError(digits, rest, MIN_STALE_DAYS if days < MIN_STALE_DAYS else MAX_STALE_DAYS)
    return rest, days


def _first_that_reads(candidates: list[str], ctx: Context, locale: str) -> str:
    """The first candidate time phrase that reads and is short enough to echo, else the default one."""
    for candidate in candidates:
        if candidate and len(candidate) <= 30:
            try:
                parse_when(candidate, default_tz=ctx.settings.timezone)
                return candidate
            except WhenError:
                continue
    return t(locale, *DEFAULT_WHEN)


def _readable_when(words: list[str], ctx: Context, locale: str) -> str:
    """The person's own time phrase when it reads and is short enough to echo, else the default one."""
    return _first_that_reads([" ".join(words)], ctx, locale)


def corrected_when(exc: WhenError, phrase: str, ctx: Context, locale: str) -> str:
    """A time phrase that reads, for a corrected example: the error's own example when it is a whole phrase,
    else the person's phrase with the bad part replaced by it (a time zone), else the default one."""
    example = exc.example.en if locale == "en_us" else exc.example.zh
    candidates = [example]
    if exc.fragment and exc.fragment in phrase:
        candidates.append(phrase.replace(exc.fragment, example, 1))
    return _first_that_reads(candidates, ctx, locale)


def _example(call: CommandCall, when: str, stale_days: int) -> tuple[str, dict[str, object]]:
    """The button that runs `remind okr <when> [stale N]`: its label (as one would type it) and its value."""
    stale = [] if stale_days == DEFAULT_STALE_DAYS else [f"stale {stale_days}"]
    words = [*when.split(), *" ".join(stale).split()]
    label = " ".join([t(call.locale, "提醒 OKR", "remind okr"), *words])
    return label, action_value(CommandCall(name="remind", args=("okr", *words), locale=call.locale))


def _stale_refusal(call: CommandCall, ctx: Context, exc: StaleDaysError) -> Reply:
    locale = call.locale
    given = excerpt(exc.given)
    allowed = f"{MIN_STALE_DAYS}–{MAX_STALE_DAYS}"
    text = t(locale,
             f"「{given}」不是 {allowed} 之间的天数。**stale N** 表示提醒超过 N 天没有更新进度的成员"
             f"（不写就是 {DEFAULT_STALE_DAYS} 天），N 可以是 {allowed}。",
             f"“{given}” is not a number of days from {MIN_STALE_DAYS} to {MAX_STALE_DAYS}. **stale N** "
             f"mentions members with no progress update in N days (default {DEFAULT_STALE_DAYS}); N may be "
             f"{allowed}.")
    return Reply(build_correction_card(
        title=t(locale, f"过期天数要在 {allowed} 之间", f"Stale days must be {allowed}"), text=text, locale=locale,
        example=_example(call, _readable_when(exc.rest, ctx, locale), exc.nearest)))


def add(call: CommandCall, ctx: Context, words: list[str]) -> Reply:
    if not may_change(ctx):
        return _not_allowed(call.locale)
    stale_days = DEFAULT_STALE_DAYS
    if len(" ".join(words)) <= MAX_PHRASE_CHARS:  # longer: parse_when says it is too long, whatever it holds
        try:
            words, stale_days = _stale_days(words)
        except StaleDaysError as exc:
            return _stale_refusal(call, ctx, exc)
    phrase = " ".join(words)
    try:
        schedule = parse_when(phrase, default_tz=ctx.settings.timezone, now=ctx.now)
    except WhenError as exc:
        return Reply(build_correction_card(
            title=t(call.locale, "没看懂这个时间", "I could not read that time"),
            text=escape(exc.message(call.locale)), locale=call.locale,
            example=_example(call, corrected_when(exc, phrase, ctx, call.locale), stale_days)))
    refused = refuse_too_often(schedule, ctx, call.locale, example=EXAMPLE) or _refuse_crowded(call, ctx, schedule)
    if refused:
        return refused
    sub = ctx.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=ctx.chat.chat_id,
                                     created_by=ctx.sender_open_id, schedule=schedule.to_spec(),
                                     stale_days=stale_days, locale=call.locale)
    text = t(call.locale,
             f"已订阅 **#{sub.id}**：{schedule.describe(call.locale)}，"
             f"@ 超过 {stale_days} 天未更新进度的成员，并私聊发给每人自己的关键结果。\n"
             f"下次：{next_run(sub, ctx.now, call.locale)}",
             f"Subscribed **#{sub.id}**: {schedule.describe(call.locale)}, mentioning members with no progress "
             f"update in {stale_days} days and sending each their own key results privately.\n"
             f"Next: {next_run(sub, ctx.now, call.locale)}")
    return Reply(build_confirmation_card(title=t(call.locale, "OKR 提醒已开启", "OKR reminder on"), text=text,
                                         locale=call.locale))


def _group_subs(ctx: Context, kinds: tuple[str, ...] = GROUP_KINDS) -> list[Subscription]:
    """The group's active reminders of `kinds` (progress and scoring reminders by default), oldest first."""
    subs = [s for kind in kinds for s in ctx.store.subscriptions.find(kind=kind, target=ctx.chat.chat_id)]
    return sorted(subs, key=lambda s: s.id)


def _refuse_crowded(call: CommandCall, ctx: Context, schedule: Recurrence | None) -> Reply | None:
    """No second progress reminder at the same times in a group (`schedule` None: a scoring reminder, which
    posts once a period whatever its time), and at most BOT_MAX_GROUP_REMINDERS reminders of any kind."""
    locale = call.locale
    subs = _group_subs(ctx)
    same = None if schedule is None else next(
        (s for s in subs if s.kind == KIND_OKR_REMINDER and same_times(s.schedule, schedule, ctx.now)), None)
    if same is not None:
        text = t(locale, f"**#{same.id}** 已经在 {describe(same, locale)} 提醒这个群了。换一个时间，"
                         f"或先关闭它：`提醒 关闭 {same.id}`。",
                 f"**#{same.id}** already reminds this group at that time ({describe(same, locale)}). Pick another "
                 f"time, or turn it off first: `remind off {same.id}`.")
        return _crowded(locale, t(locale, "已有相同时间的提醒", "Same time already taken"), text)
    cap = ctx.settings.max_group_reminders
    if len(subs) >= cap:
        ids = "、".join(f"#{s.id}" for s in subs)
        text = t(locale, f"这个群已有 {len(subs)} 个提醒（{ids}），每个群最多 {cap} 个。"
                         "先关闭一个：`提醒 关闭 <编号>`。",
                 f"This group already has {len(subs)} reminders ({ids.replace('、', ', ')}); a group may hold at "
                 f"most {cap}. Turn one off first: `remind off <id>`.")
        return _crowded(locale, t(locale, "提醒太多了", "Too many reminders"), text)
    return None


def _crowded(locale: str, title: str, text: str) -> Reply:
    return Reply(build_confirmation_card(title=title, text=text, locale=locale, ok=False), refused=True)


def list_reply(call: CommandCall, ctx: Context) -> Reply:
    lines = [SubscriptionLine(s.id, describe(s, call.locale), next_run(s, ctx.now, call.locale, ctx),
                              t(call.locale, "@ 还没有评分的成员", "@-mentions who has not scored")
                              if s.kind == KIND_OKR_SCORE else
                              t(call.locale, f"{s.stale_days} 天未更新算过期", f"stale after {s.stale_days} days")
                              + " · " + options_text(s, call.locale))
             for s in _group_subs(ctx)]
    return Reply(build_list_card(
        title=t(call.locale, "这个群的 OKR 提醒", "This group's OKR reminders"), lines=lines,
        empty=t(call.locale, "还没有提醒。试试 **@我 提醒 OKR 周五 17:00**。",
                "No reminders yet. Try **@me remind okr fri 17:00**."),
        hint=t(call.locale, "关闭：提醒 关闭 <编号> · @ 谁：提醒 提及 关闭|过期|全部 · "
                            "群里列出风险：提醒 详情 开启|关闭 · 周期结束前提醒评分：提醒 评分 7",
               "Turn one off: remind off <id> · whom to @: remind mention off|stale|all · list risks in the "
               "group: remind details on|off · a scoring reminder before the period ends: remind score 7"),
        locale=call.locale))


def options_text(sub: Subscription, locale: str) -> str:
    """A reminder's options as `remind list` shows them."""
    zh, en = MENTION_NAMES.get(sub.mention, MENTION_NAMES["stale"])
    details = t(locale, "群里列出风险详情", "risk details in the group") if sub.details else \
        t(locale, "详情只私聊", "details privately only")
    return t(locale, f"{zh} · {details}", f"@-mentions {en} · {details}")


def _pick(ctx: Context, words: list[str], kinds: tuple[str, ...] = GROUP_KINDS,
          ) -> tuple[Subscription | None, list[Subscription]]:
    """The reminder a person named (`3`, `#3`), else, when they named none, the group's only one. A number that
    is not one of ours (`᧚`, 5,000 digits) or a word that is no number (`abc`) names no reminder: it never
    falls back to the only one. `mention` and `details` are about progress reminders only."""
    subs = _group_subs(ctx, kinds)
    number = next((w.lstrip("#") for w in words if w.lstrip("#").isdigit()), None)
    if number is not None:
        wanted = int(number) if _ID.fullmatch(number) else None
        return next((s for s in subs if s.id == wanted), None), subs
    return (subs[0] if len(subs) == 1 and not words else None), subs


def _which(call: CommandCall, ctx: Context, words: list[str], action: str,
           extra: tuple[str, ...] = ()) -> Subscription | Reply:
    """The reminder `off` / `run` / `mention …` / `details …` is about, or the question to ask: which one
    (several and none named), no such number here, or not a number; each with this group's reminders as buttons
    (whose command is `action`, then `extra`, then the reminder's number)."""
    sub, subs = _pick(ctx, words, (KIND_OKR_REMINDER,) if action in ("mention", "details") else GROUP_KINDS)
    if sub is not None:
        return sub
    locale = call.locale
    if not subs:
        return Reply(build_confirmation_card(
            title=t(locale, "没有提醒", "No reminder"), ok=False, locale=locale,
            text=t(locale, "这个群还没有 OKR 提醒。试试 **@我 提醒 OKR 周五 17:00**。",
                   "This group has no OKR reminder yet. Try **@me remind okr fri 17:00**.")))
    number = next((w.lstrip("#") for w in words if w.lstrip("#").isdigit()), None)
    verb = {"off": ("关闭", "turn off"), "run": ("立即发送", "run now"), "mention": ("修改", "change"),
            "details": ("修改", "change")}[action]
    if not words:
        title = t(locale, f"要{verb[0]}哪一个？", f"Which reminder to {verb[1]}?")
        text = t(locale, f"这个群有 {len(subs)} 个 OKR 提醒，点一个{verb[0]}：",
                 f"This group has {len(subs)} OKR reminders; pick the one to {verb[1]}:")
    elif number is None:
        title = t(locale, "不是提醒编号", "Not a reminder number")
        typed = excerpt(" ".join(words))
        text = t(locale, f"「{typed}」不是提醒编号。这个群的提醒：", f"“{typed}” is not a reminder number. "
                 "This group's reminders:")
    else:
        title = t(locale, "没有这个提醒", "No such reminder")
        typed = excerpt(number)
        text = t(locale, f"这个群里没有提醒 #{typed}。这个群的提醒：",
                 f"There is no reminder #{typed} in this group. This group's reminders:")
    label = {"off": ("关闭", "Turn off"), "run": ("立即发送", "Run now"), "mention": ("设置", "Set"),
             "details": ("设置", "Set")}[action]
    lines = [SubscriptionLine(s.id, describe(s, locale), next_run(s, ctx.now, locale, ctx)) for s in subs]
    actions = [(t(locale, f"{label[0]} #{s.id}", f"{label[1]} #{s.id}"),
                action_value(CommandCall(name="remind", args=(action, *extra, str(s.id)), locale=locale)))
               for s in subs]
    return Reply(build_choice_card(title=title, text=text, lines=lines, actions=actions, locale=locale))


def off(call: CommandCall, ctx: Context, words: list[str]) -> Reply:
    if not may_change(ctx):
        return _not_allowed(call.locale)
    sub = _which(call, ctx, words, "off")
    if isinstance(sub, Reply):
        return sub
    ctx.store.subscriptions.deactivate(sub.id)
    title = (t(call.locale, "评分提醒已关闭", "Scoring reminder off") if sub.kind == KIND_OKR_SCORE
             else t(call.locale, "OKR 提醒已关闭", "OKR reminder off"))
    return Reply(build_confirmation_card(
        title=title, locale=call.locale,
        text=t(call.locale, f"已关闭 **#{sub.id}**（{describe(sub, call.locale)}）。",
               f"Turned off **#{sub.id}** ({describe(sub, call.locale)}).")))


def set_option(call: CommandCall, ctx: Context, option: str, words: list[str]) -> Reply:
    """`remind mention off|stale|all [id]` and `remind details on|off [id]`: a reminder's options, changed by
    those who may subscribe. `details on` only while OKR_VISIBILITY is `all`."""
    locale = call.locale
    if not may_change(ctx):
        return _not_allowed(locale)
    table = MENTION_WORDS if option == "mention" else DETAILS_WORDS
    picked = {table[fold_word(w)] for w in words if fold_word(w) in table}
    rest = [w for w in words if fold_word(w) not in table]
    if len(picked) != 1:
        return _option_question(call, option, rest, several=len(picked) > 1)
    [choice] = picked
    if option == "details" and choice == "on" and ctx.settings.okr_visibility != "all":
        return Reply(build_confirmation_card(
            title=t(locale, "不能在群里列出详情", "Details stay private"), ok=False, locale=locale,
            text=t(locale, "这个机器人设置为只让有权限的人看到 OKR（" + escape("OKR_VISIBILITY") + " 不是 all），"
                           "所以不会在群里列出任何人的目标或关键结果：每个人只会私聊收到自己的。"
                           "如需开启，请机器人管理员先把它设为 all。",
                   "This bot shows OKRs only to those allowed to see them (" + escape("OKR_VISIBILITY")
                   + " is not all), so it never lists anyone's objectives or key results in a group: each "
                   "person gets their own privately. A bot admin can set it to all first.")), refused=True)
    sub = _which(call, ctx, rest, option, (choice,))
    if isinstance(sub, Reply):
        return sub
    if option == "mention":
        ctx.store.subscriptions.set_options(sub.id, mention=choice)
        days = sub.stale_days
        text = {
            "off": t(locale, f"**#{sub.id}** 不再在群里 @ 任何人；超过 {days} 天没有更新进度的成员"
                             "仍会私聊收到自己的关键结果。",
                     f"**#{sub.id}** will @-mention nobody in the group; members with no progress update in {days} "
                     "days still get their own key results privately."),
            "stale": t(locale, f"**#{sub.id}** 只 @ 超过 {days} 天没有更新进度的成员（默认）。",
                       f"**#{sub.id}** @-mentions only members with no progress update in {days} days "
                       "(the default)."),
            "all": t(locale, f"**#{sub.id}** 会 @ 所有需要行动的成员：超过 {days} 天没有更新进度的，"
                             "以及有风险或延期的；每人私聊收到自己的关键结果。",
                     f"**#{sub.id}** @-mentions everyone who needs to act: no progress update in {days} days, or "
                     "something at risk or delayed; each gets their own key results privately."),
        }[choice]
        title = t(locale, "已设置 @ 谁", "Mentions set")
    else:
        ctx.store.subscriptions.set_options(sub.id, details=choice == "on")
        text = (t(locale, f"**#{sub.id}** 会在群里列出有风险或延期的目标和关键结果。",
                  f"**#{sub.id}** will list at-risk and delayed objectives and key results in the group.")
                if choice == "on" else
                t(locale, f"**#{sub.id}** 不在群里列出目标和关键结果，只有人数和平均进度；每人私聊收到自己的。",
                  f"**#{sub.id}** lists no objectives or key results in the group, only counts and the average "
                  "progress; each person gets their own privately."))
        title = t(locale, "已设置详情", "Details set")
    return Reply(build_confirmation_card(title=title, text=text, locale=locale))


def _option_question(call: CommandCall, option: str, rest: list[str], *, several: bool) -> Reply:
    """`remind mention` without a choice (or with an unknown one, or two): the choices as buttons (keeping the
    reminder's number when one was given)."""
    locale = call.locale
    ids = tuple(w.lstrip("#") for w in rest if _ID.fullmatch(w.lstrip("#")))[:1]
    unknown = excerpt(" ".join(w for w in rest if not _ID.fullmatch(w.lstrip("#"))))
    said = (t(locale, f"「{unknown}」不是一个选项。", f"“{unknown}” is not a choice. ") if unknown
            else t(locale, "只能选一个。", "Pick one. ") if several else "")
    if option == "mention":
        title = t(locale, "在群里 @ 谁？", "Whom to @-mention in the group?")
        text = said + t(locale, "**关闭**：不 @ 任何人；**过期**：只 @ 超过设定天数没有更新进度的人（默认）；"
                                "**全部**：也 @ 有风险或延期的人。需要行动的人都会私聊收到自己的关键结果。",
                        "**off**: nobody; **stale**: those with no progress update in the set days (the default); "
                        "**all**: those with something at risk or delayed too. Whoever needs to act gets their own "
                        "key results privately.")
        choices = [("off", "关闭"), ("stale", "过期"), ("all", "全部")]
    else:
        title = t(locale, "在群里列出风险详情吗？", "List risk details in the group?")
        text = said + t(locale, "**开启**：在群里列出有风险或延期的目标和关键结果（仅当所有人都能看所有 OKR 时）；"
                                "**关闭**：群里只有人数和平均进度（默认）。",
                        "**on**: list at-risk and delayed objectives and key results in the group (only when "
                        "everyone may see every OKR); **off**: only counts and the average progress (the default).")
        choices = [("on", "开启"), ("off", "关闭")]
    command = ("提醒", "提及" if option == "mention" else "详情") if locale != "en_us" else ("remind", option)
    actions = [(" ".join((*command, t(locale, zh, en), *ids)),
                action_value(CommandCall(name="remind", args=(option, en, *ids), locale=locale)))
               for en, zh in choices]
    return Reply(build_choice_card(title=title, text=text, lines=[], actions=actions, locale=locale))


# `remind score [N] [at HH:MM]`: N days before the period's end (`7`, `7天`, `7 days`), a time (`9:30`, `9：30`).
MIN_DAYS_BEFORE_END, MAX_DAYS_BEFORE_END = 1, 30
DEFAULT_SCORE_TIME = (10, 0)
_SCORE_TIME = re.compile(r"([0-9]{1,2})[:：]([0-9]{1,2})", re.ASCII)
_SCORE_DAYS = re.compile(r"[0-9]+", re.ASCII)
_SCORE_FILLERS = {"at", "在", "于", "天", "day", "days", "d", "before", "end", "the", "前", "提前", "结束前",
                  "周期结束前", "ends", "period"}
_SCORE_UNITS = re.compile(r"(?:天|days?|d)?(?:前)?", re.IGNORECASE)


class ScoreWordsError(ValueError):
    """What `remind score …` could not read: `what` to say (zh, en), `days` and `clock` for the example."""

    def __init__(self, what: tuple[str, str], days: int, clock: tuple[int, int]) -> None:
        super().__init__(what[1])
        self.what, self.days, self.clock = what, days, clock


def read_score_words(words: list[str]) -> tuple[int | None, tuple[int, int] | None]:
    """N and the time of `remind score [N] [at HH:MM]` (None: not given). Raises ScoreWordsError."""
    text = " ".join(words)
    if len(text) > MAX_PHRASE_CHARS:
        raise ScoreWordsError(("太长了", "too long"), DEFAULT_DAYS_BEFORE_END, DEFAULT_SCORE_TIME)
    clock = None
    times = list(_SCORE_TIME.finditer(text))
    if len(times) > 1:
        raise ScoreWordsError(("只能写一个时间", "give one time only"), DEFAULT_DAYS_BEFORE_END, DEFAULT_SCORE_TIME)
    if times:
        hour, minute = (int(g) if len(g) <= 2 else 99 for g in times[0].groups())
        text = text[:times[0].start()] + " " + text[times[0].end():]
        if hour > 23 or minute > 59:
            raise ScoreWordsError((f"「{excerpt(times[0].group(0))}」不是一天里的时间",
                                   f"“{excerpt(times[0].group(0))}” is not a time of day"),
                                  DEFAULT_DAYS_BEFORE_END, DEFAULT_SCORE_TIME)
        clock = (hour, minute)
    days = None
    numbers = list(_SCORE_DAYS.finditer(text))
    if len(numbers) > 1:
        raise ScoreWordsError(("只能写一个天数", "give one number of days only"), DEFAULT_DAYS_BEFORE_END,
                              clock or DEFAULT_SCORE_TIME)
    if numbers:
        digits = numbers[0].group(0)
        days = int(digits) if len(digits) <= 3 else MAX_DAYS_BEFORE_END + 1
        unit = _SCORE_UNITS.match(text, numbers[0].end())
        text = text[:numbers[0].start()] + " " + text[unit.end() if unit else numbers[0].end():]
        if not MIN_DAYS_BEFORE_END <= days <= MAX_DAYS_BEFORE_END:
            nearest = MIN_DAYS_BEFORE_END if days < MIN_DAYS_BEFORE_END else MAX_DAYS_BEFORE_END
            raise ScoreWordsError((f"「{excerpt(digits)}」不是 {MIN_DAYS_BEFORE_END}–{MAX_DAYS_BEFORE_END} 之间的天数",
                                   f"“{excerpt(digits)}” is not a number of days from {MIN_DAYS_BEFORE_END} to "
                                   f"{MAX_DAYS_BEFORE_END}"), nearest, clock or DEFAULT_SCORE_TIME)
    unknown = [w for w in text.split() if fold_word(w) not in _SCORE_FILLERS]
    if unknown:
        typed = excerpt(" ".join(unknown))
        raise ScoreWordsError((f"没看懂「{typed}」", f"I could not read “{typed}”"), days or DEFAULT_DAYS_BEFORE_END,
                              clock or DEFAULT_SCORE_TIME)
    return days, clock


def _score_example(locale: str, days: int, clock: tuple[int, int]) -> tuple[str, dict[str, object]]:
    words = (str(days), f"{clock[0]}:{clock[1]:02d}")
    label = " ".join([t(locale, "提醒 评分", "remind score"), *words])
    return label, action_value(CommandCall(name="remind", args=("score", *words), locale=locale))


def score(call: CommandCall, ctx: Context, words: list[str]) -> Reply:
    """`remind score [N] [at HH:MM]`: the group's scoring reminder, N days (default 7) before the current OKR
    period's last day at the time (default 10:00, BOT_TIMEZONE). One per group: a second one changes N and the
    time. `remind score off` turns it off."""
    locale = call.locale
    if not may_change(ctx):
        return _not_allowed(locale)
    existing = next(iter(_group_subs(ctx, (KIND_OKR_SCORE,))), None)
    if words and ACTIONS.get(fold_word(words[0])) == "off":
        if existing is None:
            return Reply(build_confirmation_card(
                title=t(locale, "没有评分提醒", "No scoring reminder"), ok=False, locale=locale,
                text=t(locale, "这个群没有评分提醒。", "This group has no scoring reminder.")))
        return off(call, ctx, [str(existing.id)])
    try:
        days, clock = read_score_words(words)
    except ScoreWordsError as exc:
        allowed = f"{MIN_DAYS_BEFORE_END}–{MAX_DAYS_BEFORE_END}"
        text = t(locale, f"{exc.what[0]}。**提醒 评分 N HH:MM**：在 OKR 周期结束前 N 天（{allowed}，默认 "
                         f"{DEFAULT_DAYS_BEFORE_END}）的这个时间（默认 10:00）@ 还没有评分的成员。",
                 f"{exc.what[1]}. **remind score N HH:MM**: N days ({allowed}, default {DEFAULT_DAYS_BEFORE_END}) "
                 "before the OKR period ends, at that time (default 10:00), @-mention who has not scored.")
        return Reply(build_correction_card(title=t(locale, "没看懂评分提醒", "I could not read that scoring reminder"),
                                           text=text, locale=locale,
                                           example=_score_example(locale, exc.days, exc.clock)), refused=True)
    if existing is not None:
        days = days or existing.days_before_end
        old = Recurrence.from_spec(existing.schedule)
        clock = clock or (int(old.hour), int(old.minute))
    days, clock = days or DEFAULT_DAYS_BEFORE_END, clock or DEFAULT_SCORE_TIME
    schedule = Recurrence(minute=str(clock[1]), hour=str(clock[0]), day="*", month="*", day_of_week="*",
                          timezone=ctx.settings.timezone)
    if existing is not None:
        ctx.store.subscriptions.reschedule(existing.id, schedule.to_spec(), locale=locale)
        ctx.store.subscriptions.set_options(existing.id, days_before_end=days)
        sub = ctx.store.subscriptions.get(existing.id) or existing
        title = t(locale, "评分提醒已更新", "Scoring reminder changed")
    else:
        refused = _refuse_crowded(call, ctx, None)
        if refused:
            return refused
        ctx.store.subscriptions.add(kind=KIND_OKR_SCORE, target=ctx.chat.chat_id, created_by=ctx.sender_open_id,
                                    schedule=schedule.to_spec(), locale=locale, days_before_end=days)
        sub = ctx.store.subscriptions.keep_first(kind=KIND_OKR_SCORE, target=ctx.chat.chat_id)  # one per group
        assert sub is not None
        if sub.days_before_end != days or sub.schedule != schedule.to_spec():  # two at once: the first stays
            ctx.store.subscriptions.reschedule(sub.id, schedule.to_spec(), locale=locale)
            ctx.store.subscriptions.set_options(sub.id, days_before_end=days)
            sub = ctx.store.subscriptions.get(sub.id) or sub
        title = t(locale, "评分提醒已开启", "Scoring reminder on")
    text = t(locale,
             f"**#{sub.id}** {describe(sub, locale)}，@ 还没有给 OKR 评分的成员，每个周期一次。\n"
             f"下次：{next_run(sub, ctx.now, locale, ctx)}",
             f"**#{sub.id}** {describe(sub, locale)}, @-mentioning who has not scored their OKRs, once a period."
             f"\nNext: {next_run(sub, ctx.now, locale, ctx)}")
    return Reply(build_confirmation_card(title=title, text=text, locale=locale))


def may_see_why(ctx: Context, sub: Subscription, open_id: str) -> bool:
    """Who may learn why someone was or was not mentioned (it can say they are on leave or leaving): the
    person themselves, the subscriber, a bot admin, the person's managers, the group's owner or managers."""
    return (ctx.sender_open_id in (open_id, sub.created_by) or is_admin(ctx) or manages(ctx, open_id)
            or ctx.clients.chats.get_chat(ctx.chat.chat_id).is_owner_or_manager(ctx.sender_open_id))


def why(call: CommandCall, ctx: Context) -> Reply:
    """The reason privately to those who may see it (may_see_why); to everyone else, in the group, only
    whether the person was mentioned."""
    target = call.mentions[0] if call.mentions else None
    open_id = target.open_id if target else ctx.sender_open_id
    name = target.name if target else ctx.clients.contact.get_user(open_id).display_name(call.locale)
    for sub in [*_group_subs(ctx, (KIND_OKR_REMINDER,)), *_group_subs(ctx, (KIND_OKR_SCORE,))]:
        slot, decisions = ctx.store.subscriptions.last_decisions(sub.id)
        if slot and open_id in decisions:
            sends = [s for s in ctx.store.subscriptions.sends(sub.id)
                     if s["scheduled_for"] == slot and s["recipient"] == sub.target]
            status = sends[-1]["status"] if sends else "?"
            sent = t(call.locale, f"（那次发送：{status}）", f" (that send: {status})")
            if may_see_why(ctx, sub, open_id):
                zh, en = REASONS.get(decisions[open_id], (decisions[open_id], decisions[open_id]))
                return Reply(build_why_card(name=name, when=slot, reason=t(call.locale, zh, en) + sent,
                                            locale=call.locale), private=True)
            zh, en = NEUTRAL_REASONS[decisions[open_id].startswith("mentioned")]
            reason = t(call.locale, zh, en) + sent + "\n\n" + t(call.locale, *WHY_PRIVATE_HINT)
            return Reply(build_why_card(name=name, when=slot, reason=reason, locale=call.locale))
    nothing = t(call.locale, "最近一次提醒里没有这个人的记录。", "not in the last reminder run.")
    return Reply(build_why_card(name=name, when="—", locale=call.locale, reason=nothing))


def run_now(call: CommandCall, ctx: Context, words: list[str]) -> Reply:
    """Run a reminder now, at most once per cool-down per group, through the run shared with every job due
    this minute (and the clients' recent roster and OKR reads)."""
    from bot.digests.jobs import run_at, shared_run
    from bot.digests.runtime import Runtime

    if not may_change(ctx):
        return _not_allowed(call.locale)
    sub = _which(call, ctx, words, "run")
    if isinstance(sub, Reply):
        return sub
    waiting = refuse_during_cooldown(ctx, f"remind-run:{ctx.chat.chat_id}", call.locale,
                                     what=("提醒 立即", "remind run"), scope=("在每个群里", "in each group"))
    if waiting:
        return waiting
    runtime = Runtime.for_command(ctx)
    slot = ctx.now.replace(second=0, microsecond=0)
    message_id = run_at(runtime, sub, slot, shared_run(runtime, slot), now=True)  # a scoring one whatever the day
    text = (t(call.locale, f"已发送 **#{sub.id}** 的提醒。", f"Sent reminder **#{sub.id}**.") if message_id
            else t(call.locale, "这一分钟已经发送过了。", "Already sent for this minute."))
    return Reply(build_confirmation_card(title=t(call.locale, "立即提醒", "Reminder run"), text=text,
                                         locale=call.locale, ok=bool(message_id)))


def run(call: CommandCall, ctx: Context) -> Reply:
    words = list(call.args)
    action = ACTIONS.get(fold_word(words[0])) if words else "list"
    if action is None:
        action, words = "add", ["okr", *words]
    # a card button's click does not say the chat's type, only its id: reminder buttons are on group cards
    in_group = ctx.chat.chat_type == "group" or (ctx.chat.chat_type == "unknown" and bool(ctx.chat.chat_id))
    if not in_group and action != "why":
        return Reply(build_confirmation_card(
            title=t(call.locale, "请在群里使用", "Use this in a group"), ok=False, locale=call.locale,
            text=t(call.locale, "OKR 提醒是按群订阅的：在群里 @我 并输入 **提醒 OKR 周五 17:00**。",
                   "OKR reminders belong to a group: @-mention me there with **remind okr fri 17:00**.")))
    if ctx.store is None:
        raise RuntimeError("remind needs a store")
    if action == "add":
        return add(call, ctx, words[1:])
    if action == "off":
        return off(call, ctx, words[1:])
    if action == "why":
        return why(call, ctx)
    if action == "run":
        return run_now(call, ctx, words[1:])
    if action in ("mention", "details"):
        return set_option(call, ctx, action, words[1:])
    if action == "score":
        return score(call, ctx, words[1:])
    return list_reply(call, ctx)


COMMAND = Command(
    name="remind",
    aliases=("提醒", "reminder", "reminders"),
    usage="remind okr <when> [stale N] | score [N] [at HH:MM] | list | off [id] | why @someone | run [id] "
          "| mention off|stale|all [id] | details on|off [id]",
    summary_zh="在群里订阅 OKR 进度提醒：到点发团队进度，@ 进度过期的成员，并私聊发给每人自己的关键结果。"
               "时间如「周五 17:00」「工作日 9:30」「每天 18:00」「每月 1 10:00」或 cron。"
               "「提醒 评分 7」：周期结束前 7 天 @ 还没有给 OKR 评分的成员。",
    summary_en="Subscribe a group to OKR reminders: the team's progress, @-mentioning members whose progress is "
               "stale, each sent their own key results privately. "
               "Times like `fri 17:00`, `weekdays 9:30`, `daily 18:00`, `monthly 1 10:00`, or cron. "
               "**remind score 7**: 7 days before the period ends, @-mention who has not scored their OKRs.",
    examples=("remind okr fri 17:00", "提醒 OKR 周五 17:00", "remind list", "remind why @张伟"),
    handler=run,
)
