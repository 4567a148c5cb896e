"""`progress 1.2 60% at risk <note>` / `进度 …`: check in on your own OKRs; bare `progress` (or the OKR card's
"Update progress" button) answers with an update form, whose submit writes one progress record per changed key
result and turns the form back into the OKR card.

Only the owner writes: every text command, button and form submit reads the sender's own current-period OKRs
afresh and writes only objectives and key results found there; numbers are the OKR card's ("1", "1.2")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.feishu.errors import FeishuApiError
from bot.feishu.okr import MAX_NOTE
from bot.models import (
    OKR_STATUS_AT_RISK,
    OKR_STATUS_DELAYED,
    OKR_STATUS_NORMAL,
    Okr,
    OkrPeriod,
    current_period_index,
)
from cards.components import escape, excerpt, t
from cards.notices import build_refusal_card
from cards.okr import (
    STATUS_CHOICES,
    Numbered,
    build_okr_card,
    build_progress_correction_card,
    build_progress_form_card,
    numbered,
    status_label,
)
from cards.reminder import FEISHU_OKR_URL

# Status words in both languages, folded (casefold, no spaces); the longest is tried first.
STATUS_WORDS = {
    "normal": OKR_STATUS_NORMAL, "ontrack": OKR_STATUS_NORMAL, "正常": OKR_STATUS_NORMAL,
    "atrisk": OKR_STATUS_AT_RISK, "risk": OKR_STATUS_AT_RISK, "risky": OKR_STATUS_AT_RISK,
    "有风险": OKR_STATUS_AT_RISK, "风险": OKR_STATUS_AT_RISK,
    "delayed": OKR_STATUS_DELAYED, "late": OKR_STATUS_DELAYED, "behind": OKR_STATUS_DELAYED,
    "已延期": OKR_STATUS_DELAYED, "延期": OKR_STATUS_DELAYED, "延迟": OKR_STATUS_DELAYED,
}
# One person's progress writes through the bot, across processes (store.checkins): enough for a whole form (at most
# 25 key results) and a few corrections, never enough for one person to take a real share of the app's OKR budget
# (100 calls a minute for everyone: a text check-in is a write and two reads).
MAX_WRITES = 30
WRITES_WINDOW = timedelta(minutes=10)

_TARGET = re.compile(r"(?:kr|o)?(\d{1,4})(?:[.。．](\d{1,4}))?", re.IGNORECASE)
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)(?:\s*[%％])?")
_STATUS = re.compile(r"(on\s*track\b|at\s*risk\b|[a-z]+\b|[\u4e00-\u9fff]{1,3})", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Checkin:
    number: str  # "1" or "1.2"
    percent: int
    status: str | None  # None: keep the current status
    note: str


@dataclass(frozen=True, slots=True)
class BadCheckin:
    problem: str  # "target" | "percent" | "range" | "integer"
    number: str = ""
    given: str = ""


def parse_checkin(text: str) -> Checkin | BadCheckin:
    """`<objective>[.<kr>] <percent>[%] [status] [note]`, pure. The text is already capped (500 characters)."""
    rest = text.strip()
    target = _TARGET.match(rest)
    if target is None:
        return BadCheckin("target", given=rest)
    number = target.group(1) + (f".{target.group(2)}" if target.group(2) else "")
    rest = rest[target.end():]
    if rest and not rest[0].isspace():  # "1.2x" or "1.2.3": not a number the card shows
        return BadCheckin("target", given=text.strip().split()[0])
    rest = rest.lstrip()
    percent = _PERCENT.match(rest)
    if percent is None:
        return BadCheckin("percent", number=number, given=rest)
    given = percent.group(1)
    rest = rest[percent.end():]
    if rest and not rest[0].isspace() and not _CJK.match(rest):  # 60%有风险 reads; 60abc does not
        return BadCheckin("percent", number=number, given=(given + rest).split()[0])
    if "." in given:
        return BadCheckin("integer", number=number, given=given)
    value = int(given)
    if not 0 <= value <= 100:
        return BadCheckin("range", number=number, given=given)
    rest = rest.lstrip()
    status = None
    word = _STATUS.match(rest)
    if word is not None:
        folded = "".join(word.group(1).casefold().split())
        sizes = range(len(folded), 0, -1) if _CJK.match(folded) else (len(folded),)  # a Latin word whole
        for size in sizes:  # 有风险灰度… : the longest status word at the start
            if folded[:size] in STATUS_WORDS:
                status = STATUS_WORDS[folded[:size]]
                consumed = word.group(1)[:_consumed(word.group(1), size)]
                rest = rest[len(consumed):].lstrip()
                break
    return Checkin(number=number, percent=value, status=status, note=rest[:MAX_NOTE])


def _consumed(original: str, folded_size: int) -> int:
    """How many characters of `original` (which may hold spaces) make `folded_size` folded ones."""
    count = 0
    for index, char in enumerate(original):
        if not char.isspace():
            count += 1
        if count == folded_size:
            return index + 1
    return len(original)


# -- the owner's OKRs ------------------------------------------------------------------------------------

def _current(ctx: Context, locale: str) -> tuple[OkrPeriod, tuple[Okr, ...]] | None:
    """The sender's own OKRs for the current period, read afresh (what is written must be theirs now)."""
    periods = ctx.clients.okr.list_periods()
    index = current_period_index(periods, ctx.now)
    if index is None:
        return None
    period = periods[index]
    return period, ctx.clients.okr.list_user_okrs(ctx.sender_open_id, period_ids=(period.id,), lang=locale,
                                                  fresh=True)


def _form_value(locale: str) -> dict[str, object]:
    return action_value(CommandCall(name="progress", locale=locale), form=True)


def _okr_value(locale: str, period: OkrPeriod, **extra: object) -> dict[str, object]:
    return action_value(CommandCall(name="okr", locale=locale), period=period.id, alone=True, **extra)


def _no_period(locale: str) -> Reply:
    return Reply(build_refusal_card(reason=t(locale, "飞书 OKR 里还没有周期，无法更新进度。",
                                             "Feishu OKR has no periods yet, so there is nothing to update."),
                                    locale=locale), private=True, refused=True)


def _okr_card(ctx: Context, locale: str, period: OkrPeriod, okrs: tuple[Okr, ...], banner: str) -> dict:
    periods = ctx.clients.okr.list_periods()
    index = next((i for i, p in enumerate(periods) if p.id == period.id), None)
    before = periods[index - 1] if index else None
    after = periods[index + 1] if index is not None and index + 1 < len(periods) else None
    return build_okr_card(
        ctx.clients.contact.get_user(ctx.sender_open_id), okrs, period=period, locale=locale, now=ctx.now,
        tz=ZoneInfo(ctx.settings.timezone),
        previous_value=_okr_value(locale, before) if before else None,
        next_value=_okr_value(locale, after) if after else None,
        refresh_value=_okr_value(locale, period, fresh=True), progress_value=_form_value(locale), banner=banner)


def _write(ctx: Context, locale: str, entry: Numbered, percent: int, status: str, note: str) -> None:
    ctx.clients.okr.create_progress_record(
        entry.item.id, entry.kind, percent, status, note, owner_open_id=ctx.sender_open_id, locale=locale,
        source_url=ctx.settings.public_url or FEISHU_OKR_URL)
    if ctx.store is not None:
        ctx.store.checkins.add(ctx.sender_open_id, entry.item.id, percent, status, ctx.now)


def _written(entry: Numbered, percent: int, status: str, locale: str) -> str:
    return f"**{entry.number}** → **{percent}%** {status_label(status, locale)}"


def _failed(entry: Numbered, exc: FeishuApiError, locale: str) -> str:
    return t(locale, f"**{entry.number}** 未写入：飞书返回 {exc.code} {escape(exc.msg)}",
             f"**{entry.number}** not written: Feishu said {exc.code} {escape(exc.msg)}")


# -- typed ---------------------------------------------------------------------------------------------

def _correction(call: CommandCall, bad: BadCheckin, listing: list[Numbered]) -> Reply:
    loc = call.locale
    word = "进度" if loc == "zh_cn" else "progress"
    form = _form_value(loc)
    example_number = next((e.number for e in listing if e.kind == "key_result"), "1")
    if bad.problem == "target":
        reason = t(loc, "先写目标或关键结果的编号（你的 OKR 卡片上的 1、1.2），再写进度。"
                        f"没看懂「{excerpt(bad.given)}」。",
                   f"Start with the number of the objective or key result as your OKR card shows it (1, 1.2), "
                   f"then the percent. I could not read “{excerpt(bad.given)}”.")
        if not bad.given:
            reason = t(loc, "要更新哪一项？写编号和进度，或者用表单。",
                       "Which one? Give its number and the percent, or use the form.")
        return Reply(build_progress_correction_card(reason, locale=loc, form_value=form,
                                                    example=f"{word} {example_number} 60%", listing=listing),
                     private=True)
    if bad.problem == "missing":
        reason = t(loc, f"你本周期的 OKR 里没有 **{bad.number}**。你的编号：",
                   f"Your OKRs for this period have no **{bad.number}**. Your numbers:")
        return Reply(build_progress_correction_card(reason, locale=loc, form_value=form,
                                                    example=f"{word} {example_number} 60%", listing=listing),
                     private=True)
    if bad.problem == "percent":
        reason = t(loc, f"**{bad.number}** 后面要写进度百分比（0 到 100 的整数）。",
                   f"After **{bad.number}** give the percent (a whole number from 0 to 100).")
        if bad.given:
            reason += t(loc, f"没看懂「{excerpt(bad.given)}」。", f" I could not read “{excerpt(bad.given)}”.")
        example = f"{word} {bad.number} 60%"
        return Reply(build_progress_correction_card(reason, locale=loc, form_value=form, example=example),
                     private=True)
    # "range" / "integer": a number, but not a whole one from 0 to 100; the nearest one is offered as a button
    try:
        nearest = max(0, min(100, round(float(bad.given))))
    except ValueError:
        nearest = 0
    reason = t(loc, f"进度是 0 到 100 的整数，「{excerpt(bad.given)}%」不行。",
               f"Progress is a whole number from 0 to 100, not {excerpt(bad.given)}%.")
    example = f"{word} {bad.number} {nearest}%"
    value = action_value(CommandCall(name="progress", args=(bad.number, f"{nearest}%"), locale=loc))
    return Reply(build_progress_correction_card(reason, locale=loc, form_value=form, example=example,
                                                example_value=value), private=True)


def _typed(call: CommandCall, ctx: Context) -> Reply:
    loc = call.locale
    current = _current(ctx, loc)
    if current is None:
        return _no_period(loc)
    period, okrs = current
    listing = numbered(okrs)
    parsed = parse_checkin(call.text)
    if isinstance(parsed, BadCheckin):
        return _correction(call, parsed, listing)
    entry = next((e for e in listing if e.number == parsed.number and not e.objective.hidden), None)
    if entry is None:
        return _correction(call, BadCheckin("missing", number=parsed.number), listing)
    status = parsed.status or entry.item.status
    too_many = _over_budget(ctx, loc, 1)
    if too_many:
        return Reply(build_refusal_card(reason=too_many, locale=loc), refused=True, private=True)
    try:
        _write(ctx, loc, entry, parsed.percent, status, parsed.note)
    except FeishuApiError as exc:
        okrs = ctx.clients.okr.list_user_okrs(ctx.sender_open_id, period_ids=(period.id,), lang=loc)
        return Reply(_okr_card(ctx, loc, period, okrs, "⚠️ " + _failed(entry, exc, loc)), private=True)
    okrs = ctx.clients.okr.list_user_okrs(ctx.sender_open_id, period_ids=(period.id,), lang=loc)
    banner = "✅ " + t(loc, "刚刚更新：", "Updated just now: ") + _written(entry, parsed.percent, status, loc)
    return Reply(_okr_card(ctx, loc, period, okrs, banner), private=True)


# -- the form --------------------------------------------------------------------------------------------

def _form(call: CommandCall, ctx: Context) -> Reply:
    loc = call.locale
    current = _current(ctx, loc)
    if current is None:
        return _no_period(loc)
    period, okrs = current
    key_results = [e for e in numbered(okrs) if e.kind == "key_result" and not e.objective.hidden]
    card = build_progress_form_card(
        ctx.clients.contact.get_user(ctx.sender_open_id), key_results, period=period, locale=loc,
        submit_value=action_value(CommandCall(name="progress", locale=loc), submit=True),
        cancel_value=_okr_value(loc, period), max_note=MAX_NOTE)
    return Reply(card, private=True)


def _refuse(loc: str, zh: str, en: str) -> Reply:
    return Reply({}, refused=True, toast=t(loc, zh, en))


def _over_budget(ctx: Context, loc: str, writes: int) -> str:
    """A reason when `writes` more progress records would pass MAX_WRITES in WRITES_WINDOW for the sender."""
    if ctx.store is None or writes <= 0:
        return ""
    done = ctx.store.checkins.count_since(ctx.sender_open_id, ctx.now - WRITES_WINDOW)
    if done + writes <= MAX_WRITES:
        return ""
    minutes = int(WRITES_WINDOW.total_seconds() // 60)
    return t(loc, f"你 {minutes} 分钟内已经更新了 {done} 次进度（最多 {MAX_WRITES} 次），这次没有写入。请稍后再试。",
             f"You updated progress {done} times in the last {minutes} minutes (at most {MAX_WRITES}); nothing "
             "was written this time. Try again in a few minutes.")


def _submit(call: CommandCall, ctx: Context) -> Reply:
    loc = call.locale
    values = call.options.get("form_value")
    if not isinstance(values, dict) or not values:
        return _refuse(loc, "表单是空的，没有写入任何内容。", "The form was empty; nothing was written.")
    fields: dict[str, dict[str, str]] = {}
    for name, value in values.items():
        kind, _, kr_id = str(name).partition("_")
        if kind in ("p", "s") and kr_id:
            fields.setdefault(kr_id, {})[kind] = str(value if value is not None else "").strip()
    current = _current(ctx, loc)
    if current is None:
        return _no_period(loc)
    period, okrs = current
    own = {e.item.id: e for e in numbered(okrs) if e.kind == "key_result" and not e.objective.hidden}
    if not fields or any(kr_id not in own for kr_id in fields):
        # Someone else's key results (a forwarded or forged form), or a form of another period: nothing is written.
        return _refuse(loc, "这张表单里有不属于你本周期 OKR 的关键结果，没有写入任何内容。只能更新你自己的 OKR。",
                       "This form holds key results that are not in your OKRs for this period; nothing was "
                       "written. You can only update your own OKRs.")
    note = str(values.get("note") or "").strip()[:MAX_NOTE]
    changes: list[tuple[Numbered, int, str]] = []
    problems: list[str] = []
    for kr_id, given in fields.items():
        entry = own[kr_id]
        raw = given.get("p", str(entry.item.progress)).rstrip("%％").strip()
        status = given.get("s") or entry.item.status
        if not re.fullmatch(r"\d{1,3}", raw) or int(raw) > 100:
            problems.append(t(loc, f"**{entry.number}**：「{excerpt(raw)}」不是 0 到 100 的整数",
                              f"**{entry.number}**: “{excerpt(raw)}” is not a whole number from 0 to 100"))
            continue
        if status not in STATUS_CHOICES:
            problems.append(t(loc, f"**{entry.number}**：状态无效", f"**{entry.number}**: not a status"))
            continue
        if int(raw) != entry.item.progress or status != entry.item.status:
            changes.append((entry, int(raw), status))
    if problems:  # nothing written until every number can be read
        return Reply({}, refused=True, toast=t(loc, "没有写入：", "Nothing written: ") + "; ".join(
            p.replace("**", "") for p in problems))
    too_many = _over_budget(ctx, loc, len(changes))
    if too_many:
        return _refuse(loc, too_many, too_many)
    written: list[str] = []
    failed: list[str] = []
    for entry, percent, status in sorted(changes, key=lambda c: c[0].number):
        try:
            _write(ctx, loc, entry, percent, status, note)
            written.append(_written(entry, percent, status, loc))
        except FeishuApiError as exc:
            failed.append(_failed(entry, exc, loc))
    if not changes:
        banner = t(loc, "没有改动，没有写入任何内容。", "Nothing changed, so nothing was written.")
    else:
        done = ["✅ " + t(loc, "刚刚更新：", "Updated just now: ") + "; ".join(written)] if written else []
        banner = "\n".join(done + ["⚠️ " + f for f in failed])
    okrs = ctx.clients.okr.list_user_okrs(ctx.sender_open_id, period_ids=(period.id,), lang=loc)
    return Reply(_okr_card(ctx, loc, period, okrs, banner))


def run(call: CommandCall, ctx: Context) -> Reply:
    if any(m.open_id != ctx.sender_open_id for m in call.mentions):
        reason = t(call.locale, "只能更新你自己的 OKR 进度。", "You can only update your own OKR progress.")
        return Reply(build_refusal_card(reason=reason, locale=call.locale), private=True, refused=True)
    if call.options.get("submit"):
        return _submit(call, ctx)
    if call.options.get("form") or not call.args:
        return _form(call, ctx)
    return _typed(call, ctx)


COMMAND = Command(
    name="progress",
    aliases=("进度", "更新进度", "check in", "checkin"),
    usage="progress <objective>.<kr> <percent>[%] [normal | at risk | delayed] [note]",
    summary_zh="更新你自己的 OKR 进度：「进度 1.2 60% 有风险 灰度完成一半」（编号按你的 OKR 卡片）；"
               "只发「进度」会给你一张表单，一次更新多个关键结果。",
    summary_en="Update your own OKR progress: “progress 1.2 60% at risk halfway” (numbers as your OKR card shows "
               "them); “progress” alone gives you a form to update several key results at once.",
    examples=("progress 1.1 65 halfway through the rollout", "进度 1.2 60% 有风险 灰度完成一半", "进度"),
    handler=run,
)
