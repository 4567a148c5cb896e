"""The group OKR reminder: read the group's members and their OKRs; the group gets a summary that @-mentions
only who needs to act (the subscription's `mention`: nobody, the stale, or everyone stale or at risk), and each
of those gets their own check-in card privately."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from bot.commands.base import CommandCall, action_value
from bot.digests.delivery import deliver_once
from bot.digests.okr_health import assess
from bot.digests.runtime import Prepare, RunData, Runtime
from bot.models import Employee, Person
from bot.store import Subscription, to_slot
from cards.okr import status_label
from cards.reminder import RiskLine, StaleLine, build_checkin_card, build_reminder_card

log = logging.getLogger(__name__)

# Decisions recorded per person (answers `remind why`, and whom a card's "Remind me tomorrow" is for).
MENTIONED_STALE = "mentioned_stale"
MENTIONED_RISK = "mentioned_risk"  # only with `mention all`
MENTIONED_BOTH = "mentioned_stale_and_risk"
PRIVATE_STALE = "private_stale"  # `mention off`: not mentioned, sent their own check-in card
PRIVATE_BOTH = "private_stale_and_risk"
FLAGGED_RISK = "flagged_risk"  # something at risk or delayed, updated within the days: counted, not mentioned
UP_TO_DATE = "up_to_date"
ON_LEAVE = "skipped_on_leave"
LEFT = "skipped_left_or_leaving"
NO_OKR = "skipped_no_okr_visible"
SNOOZED = "skipped_snoozed"
NOT_IN_DIRECTORY = "skipped_not_in_directory"
# The people a run's cards are about: they may click its "Remind me tomorrow"; nobody else may.
ABOUT = frozenset({MENTIONED_STALE, MENTIONED_RISK, MENTIONED_BOTH, PRIVATE_STALE, PRIVATE_BOTH, FLAGGED_RISK})


def decide(*, stale: bool, risky: bool, mention: str) -> str:
    """A member's decision under the subscription's `mention` (off | stale | all): who needs to act is the stale,
    and with `all` those with something at risk as well; they are @-mentioned unless `off`."""
    acts = stale or (risky and mention == "all")
    if acts and mention != "off":
        return MENTIONED_BOTH if stale and risky else MENTIONED_STALE if stale else MENTIONED_RISK
    if acts:
        return PRIVATE_BOTH if risky else PRIVATE_STALE
    return FLAGGED_RISK if risky else UP_TO_DATE


def needs_to_act(decision: str) -> bool:
    """Whether the person gets their own check-in card."""
    return decision in (MENTIONED_STALE, MENTIONED_RISK, MENTIONED_BOTH, PRIVATE_STALE, PRIVATE_BOTH)


def skip_reason(open_id: str, person: Person | None, employee: Employee | None, on_leave: Collection[str],
                snoozed: Collection[str]) -> str | None:
    """Why a member is not looked at (None: their OKRs are read and assessed)."""
    if person is None:
        return NOT_IN_DIRECTORY
    if (employee and employee.status in (4, 5)) or not person.is_active:
        return LEFT
    if person.user_id and person.user_id in on_leave:
        return ON_LEAVE
    return SNOOZED if open_id in snoozed else None


def prepare_reminder(sub: Subscription, scheduled_for: datetime) -> Prepare:
    """What the reminder reads before its members' OKRs, for the start of a shared run (RunData.start): the
    group's members, their leave that day, and whose OKRs it will want — without waiting for the roster
    (the run's OKR read-ahead passes over whoever the roster shows leaving once it is in)."""

    def prepare(data: RunData) -> tuple[list[str], str]:
        members = data.chat_members(sub.target)
        people = data.clients.contact.directory().people(members)
        on_leave = data.on_leave([p.user_id for p in people if p and p.user_id], scheduled_for.date())
        snoozed = data.runtime.store.subscriptions.snoozed(sub.id, scheduled_for)
        return [m for m, p in zip(members, people, strict=True)
                if skip_reason(m, p, None, on_leave, snoozed) is None], sub.locale

    return prepare


def plan_reminder(data: RunData, sub: Subscription, scheduled_for: datetime):
    """Who gets mentioned and why, and the cards. Returns (card, decisions, private): `private` maps an
    open_id to that person's own check-in card. The group card carries counts, the team's average progress and
    the names of those who need to act (sub.mention); objective and key-result text only with `details on`,
    which holds while OKR_VISIBILITY is `all` (checked here again: the policy may have changed since)."""
    clients = data.clients
    directory = clients.contact.directory()
    members = data.chat_members(sub.target)
    roster = data.roster()
    people = directory.people(members)
    on_leave = data.on_leave([p.user_id for p in people if p and p.user_id], scheduled_for.date())
    snoozed = data.runtime.store.subscriptions.snoozed(sub.id, scheduled_for)
    decisions: dict[str, str] = {}
    stale: list[StaleLine] = []
    risks: list[RiskLine] = []
    acting: dict[str, tuple] = {}  # open_id -> (their health, their OKRs), for their own card
    progress: list[int] = []
    assessed = 0

    def skipped(open_id, person) -> str | None:
        return skip_reason(open_id, person, roster.get(open_id), on_leave, snoozed)

    data.read_okrs([m for m, p in zip(members, people, strict=True) if skipped(m, p) is None], locale=sub.locale)
    for open_id, person in zip(members, people, strict=True):
        if reason := skipped(open_id, person):
            decisions[open_id] = reason
            continue
        okrs = data.okrs(open_id, locale=sub.locale)
        health = assess(okrs, data.now)
        if not health.has_okr or not health.visible:
            decisions[open_id] = NO_OKR
            continue
        assessed += 1
        progress.append(health.average_progress)
        is_stale = health.is_stale(sub.stale_days)
        if is_stale:
            stale.append(StaleLine(open_id, health.days_since_update))
        if health.risks:
            risks.append(RiskLine(open_id, tuple((status_label(r.status, sub.locale), r.content)
                                                 for r in health.risks), name=person.display_name(sub.locale)))
        decisions[open_id] = decide(stale=is_stale, risky=bool(health.risks), mention=sub.mention)
        if needs_to_act(decisions[open_id]):
            acting[open_id] = (health, okrs)
    stale.sort(key=lambda s: -(s.days if s.days is not None else 10_000))
    period = data.period()
    snooze_value = {"cmd": "snooze", "locale": sub.locale, "sub": sub.id, "slot": to_slot(scheduled_for)}
    details = sub.details and data.runtime.settings.okr_visibility == "all"
    private: dict[str, dict] = {}
    if acting:
        group_name = clients.chats.get_chat(sub.target).name
        languages = data.languages(acting)  # each person's own card in their language, else the group's
        for open_id, (health, okrs) in acting.items():
            locale = languages.get(open_id) or sub.locale
            private[open_id] = build_checkin_card(
                period_name=period.display_name(locale) if period else "", group_name=group_name, okrs=okrs,
                days_since_update=health.days_since_update, stale=health.is_stale(sub.stale_days),
                at_risk=len(health.risks),
                update_value=action_value(CommandCall(name="progress", locale=locale), form=True),
                snooze_value={**snooze_value, "locale": locale}, locale=locale)
    card = build_reminder_card(
        period_name=period.display_name(sub.locale) if period else "",
        stale_days=sub.stale_days,
        members=len(members),
        up_to_date=assessed - len(stale),
        average_progress=round(sum(progress) / len(progress)) if progress else 0,
        stale=stale,
        risks=risks,
        skipped=sum(1 for d in decisions.values() if d.startswith("skipped")),
        snooze_value=snooze_value,
        locale=sub.locale,
        show_items=details,
        mention_stale=sub.mention != "off",
        mention_risks=sub.mention == "all",
        progress=progress,
        sent_privately=len(private),
    )
    return card, decisions, private


def run_reminder(runtime: Runtime, sub: Subscription, scheduled_for: datetime,
                 data: RunData | None = None, *, retry: bool = False) -> str | None:
    data = data or RunData(runtime, scheduled_for, label=f"reminder {sub.id}")
    planned: dict[str, dict] = {}

    def build():
        card, decisions, private = plan_reminder(data, sub, scheduled_for)
        runtime.store.subscriptions.record_decisions(sub.id, scheduled_for, decisions)
        planned.update(private)
        return card

    message_id = deliver_once(runtime, subscription_id=sub.id, scheduled_for=scheduled_for, recipient=sub.target,
                              build=build, retry=retry)
    if retry and not planned and _private_waiting(runtime, sub, scheduled_for):
        planned.update(plan_reminder(data, sub, scheduled_for)[2])  # the group card went out before
    for open_id, card in planned.items():
        send_private(runtime, sub, scheduled_for, open_id, card, retry=retry)
    runtime.store.usage.add_api_calls(data.api_calls(), at=scheduled_for)
    log.info("reminder %s for %s at %s: %s", sub.id, sub.target, to_slot(scheduled_for),
             "sent " + message_id if message_id else "not sent")
    return message_id


def send_private(runtime: Runtime, sub: Subscription, scheduled_for: datetime, open_id: str, card: dict, *,
                 retry: bool) -> str | None:
    """One person's own card, exactly once per (subscription, time, person) like the group's card; on a retry
    run, take back that person's send if it may be tried again."""
    sent = deliver_once(runtime, subscription_id=sub.id, scheduled_for=scheduled_for, recipient=open_id,
                        build=lambda: card)
    if sent is None and retry:
        sent = deliver_once(runtime, subscription_id=sub.id, scheduled_for=scheduled_for, recipient=open_id,
                            build=lambda: card, retry=True)
    return sent


def _private_waiting(runtime: Runtime, sub: Subscription, scheduled_for: datetime) -> bool:
    slot = to_slot(scheduled_for)
    return any(s["scheduled_for"] == slot and s["recipient"] != sub.target and s["status"] not in ("sent", "failed")
               for s in runtime.store.subscriptions.sends(sub.id))
