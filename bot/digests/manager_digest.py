"""The manager digest: a private card about a manager's direct reports."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot.digests.delivery import deliver_once
from bot.digests.okr_health import assess
from bot.digests.runtime import Prepare, RunData, Runtime
from bot.models import OKR_STATUS_DELAYED, Employee
from bot.store import Subscription, from_slot, to_slot
from cards.components import escape, t
from cards.digest import ChangeLine, ProblemLine, build_digest_card
from cards.okr import status_label

log = logging.getLogger(__name__)

WINDOW_DAYS = 30


def _roster_changes(employees: list[tuple[str, Employee]], since: date, today: date, locale: str) -> list[ChangeLine]:
    lines = []
    for name, e in employees:
        if e.hire_date and since <= e.hire_date <= today:
            lines.append(ChangeLine(t(locale, f"🆕 {escape(name)} 于 {e.hire_date} 入职",
                                      f"🆕 {escape(name)} joined on {e.hire_date}")))
        if e.status in (4, 5) and e.last_day and e.last_day >= since:
            lines.append(ChangeLine(t(locale, f"👋 {escape(name)} 最后工作日 {e.last_day}",
                                      f"👋 {escape(name)} leaves (last day {e.last_day})")))
        if e.status == 2 and e.conversion_date and today <= e.conversion_date <= today + timedelta(days=WINDOW_DAYS):
            lines.append(ChangeLine(t(locale, f"✅ {escape(name)} 将于 {e.conversion_date} 转正",
                                      f"✅ {escape(name)}'s probation ends on {e.conversion_date}")))
    return lines


def prepare_digest(sub: Subscription) -> Prepare:
    """Whose OKRs the digest will want, for the start of a shared run (RunData.start): the manager's active
    direct reports, from the directory snapshot (those the roster shows leaving are passed over once it is in)."""

    def prepare(data: RunData) -> tuple[list[str], str]:
        return [p.open_id for p in data.clients.contact.directory().direct_reports(sub.target) if p.is_active], \
            sub.locale

    return prepare


def prepare_attendance(data: RunData) -> None:
    """The attendance groups' members (the digests' "not in an attendance group" section), read at the start
    of a shared run; a failure is left for each digest to meet (it goes out without the section)."""
    data.in_attendance_groups()


def plan_digest(data: RunData, sub: Subscription, scheduled_for: datetime, *, since: date | None = None):
    # In the manager's language (remembered: chosen with `lang`, or learned), else the subscription's; the OKRs
    # are read as the run's read-ahead reads them (sub.locale), each person once.
    locale = data.languages([sub.target]).get(sub.target) or sub.locale
    directory = data.clients.contact.directory()
    manager = directory.person(sub.target)
    reports = [p for p in directory.direct_reports(sub.target) if p.is_active]
    roster = data.roster()
    problems: list[ProblemLine] = []
    bars: list[tuple[str, int]] = []
    progress: list[int] = []
    slot = to_slot(scheduled_for)
    leaving = {o for o, e in roster.items() if e.status in (4, 5)}  # listed under roster changes, not chased
    data.read_okrs([p.open_id for p in reports if p.open_id not in leaving], locale=sub.locale)  # several in flight
    for person in reports:
        name = person.display_name(locale)
        if person.open_id in roster and roster[person.open_id].status in (4, 5):
            continue  # leaving: listed under roster changes, not chased about OKRs
        health = assess(data.okrs(person.open_id, locale=sub.locale), data.now)
        nudge = {"cmd": "nudge", "locale": locale, "target": person.open_id, "sub": sub.id, "slot": slot}
        if not health.has_okr:
            no_okr = t(locale, "本周期还没有 OKR", "has no OKR this period")
            problems.append(ProblemLine(person.open_id, name, 3, no_okr, nudge))
            continue
        if not health.visible:
            continue
        progress.append(health.average_progress)
        bars.append((name, health.average_progress))
        issues: list[str] = []
        severity = 0
        if health.is_stale(sub.stale_days):
            days = health.days_since_update
            issues.append(t(locale, "从未更新进度", "never updated progress") if days is None
                          else t(locale, f"{days} 天没有更新进度", f"no progress update in {days} days"))
            severity = 2
        for risk in health.risks[:2]:
            issues.append(f"{status_label(risk.status, locale)} {escape(risk.content[:50])}")
            severity = max(severity, 2 if risk.status == OKR_STATUS_DELAYED else 1)
        if len(health.risks) > 2:
            issues.append(t(locale, f"等 {len(health.risks)} 项有风险", f"{len(health.risks)} at risk in all"))
        if issues:
            problems.append(ProblemLine(person.open_id, name, severity, t(locale, "；", "; ").join(issues), nudge))
    today = data.now.date()
    window_start = since or today - timedelta(days=WINDOW_DAYS)
    changes = _roster_changes([(p.display_name(locale), roster[p.open_id]) for p in
                               directory.all_reports(sub.target) if p.open_id in roster][:200],
                              window_start, today, locale)
    try:
        covered = data.in_attendance_groups()
        outside = [p.display_name(locale) for p in reports if p.user_id and p.user_id not in covered]
    except Exception as exc:  # noqa: BLE001 - the digest goes out without this section
        log.warning("digest %s: attendance groups unavailable (%s)", sub.id, exc)
        outside = []
    period = data.period()
    return build_digest_card(
        manager_name=manager.display_name(locale) if manager else "",
        period_name=period.display_name(locale) if period else "",
        team_size=len(reports),
        average_progress=round(sum(progress) / len(progress)) if progress else 0,
        problems=problems, bars=bars, roster_changes=changes, not_in_attendance=outside, locale=locale,
    )


def run_digest(runtime: Runtime, sub: Subscription, scheduled_for: datetime, data: RunData | None = None, *,
               retry: bool = False) -> str | None:
    data = data or RunData(runtime, scheduled_for, label=f"digest {sub.id}")
    last = runtime.store.subscriptions.last_sent_slot(sub.id, before=scheduled_for)
    since = from_slot(last).date() if last else None
    message_id = deliver_once(runtime, subscription_id=sub.id, scheduled_for=scheduled_for, recipient=sub.target,
                              build=lambda: plan_digest(data, sub, scheduled_for, since=since), retry=retry)
    runtime.store.usage.add_api_calls(data.api_calls(), at=scheduled_for)
    return message_id
