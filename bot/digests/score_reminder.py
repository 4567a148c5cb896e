"""The group's scoring reminder (`remind score N`): a daily job that posts only on the day N days before the
current OKR period's last day, @-mentioning the members whose OKRs of that period carry no score yet — once per
group and period (the sent-log's slot is the period's end, so a retry, a restart or a second scheduler never sends
it twice, and neither does a later day of the same period). `remind run` posts it at once, for its own minute."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digests.delivery import deliver_once
from bot.digests.okr_reminder import NO_OKR, skip_reason
from bot.digests.runtime import Prepare, RunData, Runtime
from bot.models import Okr, OkrPeriod, current_period_index
from bot.store import Subscription, to_slot
from bot.timephrase import Recurrence
from cards.reminder import build_score_reminder_card

log = logging.getLogger(__name__)

# Decisions recorded per person (answer `remind why`).
MENTIONED_UNSCORED = "mentioned_unscored"
SCORED = "scored"


def last_day(period: OkrPeriod, tz: ZoneInfo) -> date:
    """The period's last day in the bot's time zone: Feishu's end is the last millisecond of it (23:59:59.999);
    an end at midnight sharp is read as the day before."""
    return (period.end.astimezone(tz) - timedelta(seconds=1)).date()


def reminder_day(period: OkrPeriod, days_before_end: int, tz: ZoneInfo) -> date:
    return last_day(period, tz) - timedelta(days=days_before_end)


def period_slot(period: OkrPeriod) -> datetime:
    """The sent-log's time for a period's scheduled scoring reminder: one per subscription and period."""
    return period.end.replace(microsecond=0)


def is_due(sub: Subscription, period: OkrPeriod | None, scheduled_for: datetime, tz: ZoneInfo) -> bool:
    """Whether a scheduled run at `scheduled_for` is the one that posts: on the day N days before the end."""
    return period is not None and scheduled_for.astimezone(tz).date() == reminder_day(period, sub.days_before_end, tz)


def is_scored(okrs: tuple[Okr, ...]) -> bool:
    """Whether the person scored their OKRs of the period: some objective they let us see, or one of its key
    results, has a score. Feishu's OKR list answers `score` 0 for what nobody scored (scores are 0–100, shown
    as 0.0–1.0), so 0 counts as no score; "no score" is every visible objective unscored."""
    objectives = [o for okr in okrs if not okr.hidden for o in okr.objectives if not o.hidden]
    return any((o.score or 0) > 0 or any((kr.score or 0) > 0 for kr in o.key_results) for o in objectives)


def has_visible_okr(okrs: tuple[Okr, ...]) -> bool:
    return any(not o.hidden for okr in okrs if not okr.hidden for o in okr.objectives)


def next_post(sub: Subscription, periods: tuple[OkrPeriod, ...], now: datetime, tz: ZoneInfo) -> datetime | None:
    """When the reminder will next post: its time on the day N days before the end of the current period, else
    of the next period that has one ahead; None when no known period has its day ahead."""
    schedule = Recurrence.from_spec(sub.schedule)
    index = current_period_index(periods, now)
    for period in periods[index or 0:]:
        day = reminder_day(period, sub.days_before_end, tz)
        moment = datetime(day.year, day.month, day.day, int(schedule.hour), int(schedule.minute), tzinfo=tz)
        if moment > now:
            return moment
    return None


def prepare_score(sub: Subscription, scheduled_for: datetime) -> Prepare:
    """What a due scoring reminder reads before its members' OKRs, for the start of a shared run: nothing on
    the other days (one period list, cached)."""

    def prepare(data: RunData) -> tuple[list[str], str] | None:
        if not is_due(sub, data.period(), scheduled_for, data.runtime.tz):
            return None
        members = data.chat_members(sub.target)
        people = data.clients.contact.directory().people(members)
        day = scheduled_for.astimezone(data.runtime.tz).date()
        on_leave = data.on_leave([p.user_id for p in people if p and p.user_id], day)
        return [m for m, p in zip(members, people, strict=True)
                if skip_reason(m, p, None, on_leave, ()) is None], sub.locale

    return prepare


def plan_score(data: RunData, sub: Subscription, on: datetime) -> tuple[dict | None, dict[str, str]]:
    """The group's card for the day of `on` (None: nobody in the group has OKRs the bot can see) and each
    member's decision."""
    tz = data.runtime.tz
    members = data.chat_members(sub.target)
    roster = data.roster()
    people = data.clients.contact.directory().people(members)
    day = on.astimezone(tz).date()
    on_leave = data.on_leave([p.user_id for p in people if p and p.user_id], day)
    decisions: dict[str, str] = {}

    def skipped(open_id, person) -> str | None:
        return skip_reason(open_id, person, roster.get(open_id), on_leave, ())

    data.read_okrs([m for m, p in zip(members, people, strict=True) if skipped(m, p) is None], locale=sub.locale)
    unscored: list[str] = []
    for open_id, person in zip(members, people, strict=True):
        if reason := skipped(open_id, person):
            decisions[open_id] = reason
            continue
        okrs = data.okrs(open_id, locale=sub.locale)
        if not has_visible_okr(okrs):
            decisions[open_id] = NO_OKR
        elif is_scored(okrs):
            decisions[open_id] = SCORED
        else:
            decisions[open_id] = MENTIONED_UNSCORED
            unscored.append(open_id)
    period = data.period()
    assessed = sum(1 for d in decisions.values() if d in (SCORED, MENTIONED_UNSCORED))
    if period is None or not assessed:
        return None, decisions
    end = last_day(period, tz)
    card = build_score_reminder_card(
        period_name=period.display_name(sub.locale), last_day=end.isoformat(), days_left=(end - day).days,
        assessed=assessed, unscored=unscored, locale=sub.locale,
        skipped=sum(1 for d in decisions.values() if d.startswith("skipped")))
    return card, decisions


def run_score_reminder(runtime: Runtime, sub: Subscription, scheduled_for: datetime, data: RunData | None = None,
                       *, retry: bool = False, now: bool = False) -> str | None:
    """A scheduled run (the daily job) posts only when due (is_due), for the period's slot; `now` (`remind run`)
    posts for `scheduled_for` itself whatever the day; `retry` tries again the send of `scheduled_for`."""
    data = data or RunData(runtime, scheduled_for, label=f"score reminder {sub.id}")
    slot = scheduled_for
    if not (now or retry):
        period = data.period()
        if not is_due(sub, period, scheduled_for, runtime.tz):
            return None
        slot = period_slot(period)  # type: ignore[union-attr] - is_due saw a period

    def build():
        card, decisions = plan_score(data, sub, runtime.now() if retry else scheduled_for)
        runtime.store.subscriptions.record_decisions(sub.id, slot, decisions)
        return card

    message_id = deliver_once(runtime, subscription_id=sub.id, scheduled_for=slot, recipient=sub.target,
                              build=build, retry=retry)
    runtime.store.usage.add_api_calls(data.api_calls(), at=scheduled_for)
    log.info("score reminder %s for %s at %s: %s", sub.id, sub.target, to_slot(slot),
             "sent " + message_id if message_id else "not sent")
    return message_id
