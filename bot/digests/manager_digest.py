"""The manager digest: a private card about a manager's direct reports."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from bot.digests.delivery import deliver_once
from bot.digests.okr_health import assess
from bot.digests.runtime import Prepare, RunData, Runtime
from bot.models import OKR_STATUS_DELAYED, Employee, Person
from bot.store import Subscription, from_slot, to_slot
from cards.components import Card, chat_link, escape, t
from cards.digest import ChangeLine, ProblemLine, build_digest_card
from cards.okr import status_label

log = logging.getLogger(__name__)

WINDOW_DAYS = 30


def _roster_changes(employees: list[tuple[str, str, Employee]], since: date, today: date,
                    locale: str) -> list[ChangeLine]:
    lines = []
    for open_id, plain, e in employees:
        name = chat_link(escape(plain), open_id)  # each line's name opens a chat with the person
        if e.hire_date and since <= e.hire_date <= today:
            lines.append(ChangeLine(t(locale, f"🆕 {name} 于 {e.hire_date} 入职",
                                      f"🆕 {name} joined on {e.hire_date}")))
        if e.status in (4, 5) and e.last_day and e.last_day >= since:
            lines.append(ChangeLine(t(locale, f"👋 {name} 最后工作日 {e.last_day}",
                                      f"👋 {name} leaves (last day {e.last_day})")))
        if e.status == 2 and e.conversion_date and today <= e.conversion_date <= today + timedelta(days=WINDOW_DAYS):
            lines.append(ChangeLine(t(locale, f"✅ {name} 将于 {e.conversion_date} 转正",
                                      f"✅ {name}'s probation ends on {e.conversion_date}")))
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


def nudge_value(view: dict[str, Any], target: str | None = None) -> dict[str, Any]:
    """The value of a digest's nudge button (`target`), or of its "nudge everyone with a problem" button: enough
    to find the digest's view again (subscription, slot, manager) and to run the nudge as the clicker."""
    value: dict[str, Any] = {"cmd": "nudge", "locale": view["locale"]}
    if target:
        value["target"] = target
    else:
        value["everyone"] = True
    value.update(sub=view["sub"], slot=view["slot"], manager=view["manager"])
    return value


def build_view(data: RunData, sub: Subscription, scheduled_for: datetime, *, since: date | None = None,
               checked_since: datetime | None = None) -> dict[str, Any]:
    """What the digest shows, as JSON: kept in the store (store.subscriptions.keep_view) so that a click on the
    card redraws it (card_from_view) from what this run read, not from Feishu again."""
    # In the manager's language (remembered: chosen with `lang`, or learned), else the subscription's; the OKRs
    # are read as the run's read-ahead reads them (sub.locale), each person once.
    locale = data.languages([sub.target]).get(sub.target) or sub.locale
    directory = data.clients.contact.directory()
    manager = directory.person(sub.target)
    reports = [p for p in directory.direct_reports(sub.target) if p.is_active]
    roster = data.roster()
    problems: list[list[Any]] = []  # [open_id, name, severity, text]
    bars: list[list[Any]] = []  # [name, progress]
    progress: list[int] = []
    leaving = {o for o, e in roster.items() if e.status in (4, 5)}  # listed under roster changes, not chased
    data.read_okrs([p.open_id for p in reports if p.open_id not in leaving], locale=sub.locale)  # several in flight
    for person in reports:
        name = person.display_name(locale)
        if person.open_id in roster and roster[person.open_id].status in (4, 5):
            continue  # leaving: listed under roster changes, not chased about OKRs
        health = assess(data.okrs(person.open_id, locale=sub.locale), data.now)
        if not health.has_okr:
            problems.append([person.open_id, name, 3, t(locale, "本周期还没有 OKR", "has no OKR this period")])
            continue
        if not health.visible:
            continue
        progress.append(health.average_progress)
        bars.append([name, health.average_progress])
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
            problems.append([person.open_id, name, severity, t(locale, "；", "; ").join(issues)])
    today = data.now.date()
    window_start = since or today - timedelta(days=WINDOW_DAYS)
    changes = _roster_changes([(p.open_id, p.display_name(locale), roster[p.open_id]) for p in
                               directory.all_reports(sub.target) if p.open_id in roster][:200],
                              window_start, today, locale)
    try:
        covered = data.in_attendance_groups()
        outside = [p.display_name(locale) for p in reports if p.user_id and p.user_id not in covered]
    except Exception as exc:  # noqa: BLE001 - the digest goes out without this section
        log.warning("digest %s: attendance groups unavailable (%s)", sub.id, exc)
        outside = []
    period = data.period()
    return {
        "sub": sub.id, "slot": to_slot(scheduled_for), "manager": sub.target, "locale": locale,
        "manager_name": manager.display_name(locale) if manager else "",
        "period_name": period.display_name(locale) if period else "",
        "team_size": len(reports),
        "average_progress": round(sum(progress) / len(progress)) if progress else 0,
        "problems": problems, "bars": bars,
        "changes": [c.text for c in changes[:30]], "outside": outside[:30],
        "checked_in": _checked_in(data, reports, locale, checked_since or data.now - timedelta(days=7)),
    }


def _checked_in(data: RunData, reports: list[Person], locale: str, since: datetime) -> list[list[str]]:
    """[open_id, name] of the reports who checked in through the bot (store.checkins) since `since`."""
    checkins = getattr(data.runtime.store, "checkins", None)
    if checkins is None:
        return []
    found = checkins.people_since([p.open_id for p in reports], since)
    return [[p.open_id, p.display_name(locale)] for p in reports if p.open_id in found]


def card_from_view(view: dict[str, Any], *, nudged: Collection[str] = frozenset()) -> Card:
    """The digest card of a view (build_view), the people in `nudged` shown as nudged."""
    problems = [ProblemLine(open_id, name, severity, text, nudge_value(view, open_id))
                for open_id, name, severity, text in view["problems"]]
    return build_digest_card(
        manager_name=view["manager_name"], period_name=view["period_name"], team_size=view["team_size"],
        average_progress=view["average_progress"], problems=problems,
        bars=[(name, progress) for name, progress in view["bars"]],
        roster_changes=[ChangeLine(text) for text in view["changes"]], not_in_attendance=view["outside"],
        locale=view["locale"], nudged=nudged, nudge_all_value=nudge_value(view),
        checked_in=[(open_id, name) for open_id, name in view["checked_in"]],
    )


def plan_digest(data: RunData, sub: Subscription, scheduled_for: datetime, *, since: date | None = None,
                checked_since: datetime | None = None) -> Card:
    """Build the digest, keep what it shows for the clicks on it, and return its card."""
    view = build_view(data, sub, scheduled_for, since=since, checked_since=checked_since)
    subscriptions = data.runtime.store.subscriptions
    subscriptions.keep_view(sub.id, view["slot"], sub.target, view)
    return card_from_view(view, nudged=subscriptions.nudged(sub.id, view["slot"]))


def run_digest(runtime: Runtime, sub: Subscription, scheduled_for: datetime, data: RunData | None = None, *,
               retry: bool = False) -> str | None:
    data = data or RunData(runtime, scheduled_for, label=f"digest {sub.id}")
    last = runtime.store.subscriptions.last_sent_slot(sub.id, before=scheduled_for)
    since = from_slot(last).date() if last else None
    checked_since = from_slot(last) if last else None  # the previous digest; the first looks back a week
    message_id = deliver_once(runtime, subscription_id=sub.id, scheduled_for=scheduled_for, recipient=sub.target,
                              build=lambda: plan_digest(data, sub, scheduled_for, since=since,
                                                        checked_since=checked_since), retry=retry)
    runtime.store.usage.add_api_calls(data.api_calls(), at=scheduled_for)
    return message_id
