"""Subscriptions (group OKR reminders, manager digests) and what their runs leave behind: the sent-log that
makes each digest go out once, the decisions behind "why?", nudges and snoozes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, Part, aware, utc, utcnow

KIND_OKR_REMINDER = "okr_reminder"
KIND_MANAGER_DIGEST = "manager_digest"
KIND_OKR_SCORE = "okr_score"  # a group's scoring reminder, N days before the OKR period ends (`remind score`)
GROUP_KINDS = (KIND_OKR_REMINDER, KIND_OKR_SCORE)  # a group's reminders: together at most BOT_MAX_GROUP_REMINDERS
DEFAULT_DAYS_BEFORE_END = 7
DIGEST_VIEW_DAYS = 90  # what a digest showed is kept this long: a nudge clicked on an older card only toasts


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), index=True)  # chat_id (reminder) or open_id (digest)
    created_by: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str] = mapped_column(Text)  # JSON spec from bot.timephrase.Recurrence.to_spec()
    stale_days: Mapped[int] = mapped_column(Integer, default=7)
    locale: Mapped[str] = mapped_column(String(8), default="zh_cn")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A group reminder's options (`remind mention …`, `remind details …`). Nullable, so that a database made
    # by an older version gets them added (add_missing_columns); NULL reads as the default.
    mention: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)  # off | stale | all
    details: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    # A scoring reminder's days before the period's end (`remind score N`); nullable like the options above.
    days_before_end: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)


MENTION_CHOICES = ("off", "stale", "all")
DEFAULT_MENTION = "stale"


class SentRow(Base):
    """One digest to one recipient for one scheduled time: claimed before sending, at most once."""

    __tablename__ = "sent_log"
    __table_args__ = (UniqueConstraint("subscription_id", "scheduled_for", "recipient", name="uq_sent_once"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    scheduled_for: Mapped[str] = mapped_column(String(32))  # ISO timestamp in UTC, exact
    recipient: Mapped[str] = mapped_column(String(64))
    # sending | sent | failed | retry (Feishu was unavailable: tried again while its uuid still protects)
    status: Mapped[str] = mapped_column(String(16), default="sending")
    message_id: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # the first attempt
    attempts: Mapped[int | None] = mapped_column(Integer, nullable=True, default=1)


class DecisionRow(Base):
    """Who was mentioned or skipped in a run, and why (answers `remind why` and `digest log`)."""

    __tablename__ = "delivery_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    scheduled_for: Mapped[str] = mapped_column(String(32))
    person: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(32))


class NudgeRow(Base):
    __tablename__ = "nudges"
    __table_args__ = (UniqueConstraint("key", name="uq_nudge_once"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DigestViewRow(Base):
    """What a manager digest showed (its card's inputs, JSON; bot.digests.manager_digest), kept per digest so
    that a click on it (a nudge) redraws it in place without reading anyone's OKRs again."""

    __tablename__ = "digest_views"
    __table_args__ = (UniqueConstraint("subscription_id", "scheduled_for", "recipient", name="uq_digest_view"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer, index=True)
    scheduled_for: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(64))
    view: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SnoozeRow(Base):
    __tablename__ = "snoozes"
    __table_args__ = (UniqueConstraint("subscription_id", "person", name="uq_snooze"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    kind: str
    target: str
    created_by: str
    schedule: dict[str, str]
    stale_days: int
    locale: str
    active: bool
    mention: str = DEFAULT_MENTION  # whom a group reminder @-mentions: off | stale | all (MENTION_CHOICES)
    details: bool = False  # a group reminder lists at-risk and delayed items in the group (OKR_VISIBILITY=all only)
    days_before_end: int = DEFAULT_DAYS_BEFORE_END  # a scoring reminder posts this many days before the period ends


def _to_subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(id=row.id, kind=row.kind, target=row.target, created_by=row.created_by,
                        schedule=json.loads(row.schedule), stale_days=row.stale_days, locale=row.locale,
                        active=row.active,
                        mention=row.mention if row.mention in MENTION_CHOICES else DEFAULT_MENTION,
                        details=bool(row.details),
                        days_before_end=row.days_before_end or DEFAULT_DAYS_BEFORE_END)


SLOT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_slot(moment: datetime) -> str:
    """A scheduled time as the sent-log's key: UTC, to the second."""
    return aware(moment).astimezone(UTC).strftime(SLOT_FORMAT)


def from_slot(slot: str) -> datetime:
    """The scheduled time a sent-log key stands for (UTC); the inverse of `to_slot`."""
    return datetime.strptime(slot, SLOT_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True)
class SendRetry:
    """When a scheduled send is tried again: Feishu would not take it ("retry"), or its claim was never
    finished for `stale_after` seconds (the process died between claiming and recording the answer);
    at most `max_attempts` in all, and only within `window` seconds of the first attempt, so that Feishu's
    one-hour uuid deduplication still drops a copy of a send that did go out."""

    stale_after: float = 600.0
    window: float = 50 * 60.0
    max_attempts: int = 4

    def waiting(self, now: datetime):
        stale = utc(now) - timedelta(seconds=self.stale_after)
        return or_(SentRow.status == "retry", (SentRow.status == "sending") & (SentRow.created_at < stale))

    def in_time(self, now: datetime):
        return and_(SentRow.created_at > utc(now) - timedelta(seconds=self.window),
                    func.coalesce(SentRow.attempts, 1) < self.max_attempts)


SEND_RETRY = SendRetry()


class SubscriptionStore(Part):
    # -- subscriptions --------------------------------------------------------------------------------
    def add(self, *, kind: str, target: str, created_by: str, schedule: dict[str, str],
                         stale_days: int = 7, locale: str = "zh_cn",
                         days_before_end: int | None = None) -> Subscription:
        with self.session() as s:
            row = SubscriptionRow(kind=kind, target=target, created_by=created_by, schedule=json.dumps(schedule),
                                  stale_days=stale_days, locale=locale, active=True, days_before_end=days_before_end)
            s.add(row)
            s.flush()
            return _to_subscription(row)

    def find(self, *, kind: str | None = None, target: str | None = None,
                      active: bool = True) -> list[Subscription]:
        query = select(SubscriptionRow).where(SubscriptionRow.active == active).order_by(SubscriptionRow.id)
        if kind:
            query = query.where(SubscriptionRow.kind == kind)
        if target:
            query = query.where(SubscriptionRow.target == target)
        with self.session() as s:
            return [_to_subscription(r) for r in s.scalars(query)]

    def get(self, subscription_id: int) -> Subscription | None:
        with self.session() as s:
            row = s.get(SubscriptionRow, subscription_id)
            return _to_subscription(row) if row else None

    def deactivate(self, subscription_id: int) -> bool:
        with self.session() as s:
            result = s.execute(update(SubscriptionRow).where(SubscriptionRow.id == subscription_id,
                                                             SubscriptionRow.active.is_(True)).values(active=False))
            return bool(result.rowcount)

    def reschedule(self, subscription_id: int, schedule: dict[str, str], *, locale: str | None = None) -> bool:
        """Change an active subscription's time (and the language it is sent in)."""
        values: dict[str, Any] = {"schedule": json.dumps(schedule)}
        if locale:
            values["locale"] = locale
        with self.session() as s:
            result = s.execute(update(SubscriptionRow).where(SubscriptionRow.id == subscription_id,
                                                             SubscriptionRow.active.is_(True)).values(**values))
            return bool(result.rowcount)

    def set_options(self, subscription_id: int, *, mention: str | None = None,
                    details: bool | None = None, days_before_end: int | None = None) -> bool:
        """Change an active group reminder's options (None: leave as is)."""
        values: dict[str, Any] = {}
        if days_before_end is not None:
            values["days_before_end"] = days_before_end
        if mention is not None:
            if mention not in MENTION_CHOICES:
                raise ValueError(f"mention must be one of {MENTION_CHOICES}, not {mention!r}")
            values["mention"] = mention
        if details is not None:
            values["details"] = details
        if not values:
            return False
        with self.session() as s:
            result = s.execute(update(SubscriptionRow).where(SubscriptionRow.id == subscription_id,
                                                             SubscriptionRow.active.is_(True)).values(**values))
            return bool(result.rowcount)

    def keep_first(self, *, kind: str, target: str) -> Subscription | None:
        """One active subscription of `kind` for `target`: the oldest stays, later ones are turned off. Called
        after adding one, it undoes a race (two `digest on` at once): the last to commit sees both rows."""
        subs = self.find(kind=kind, target=target)
        for extra in subs[1:]:
            self.deactivate(extra.id)
        return subs[0] if subs else None

    # -- exactly once -----------------------------------------------------------------------------------
    def claim_send(self, subscription_id: int, scheduled_for: datetime, recipient: str, *,
                   now: datetime | None = None) -> bool:
        """Record the intent to send before sending. False when this (subscription, time, recipient)
        was already claimed: by an earlier run, a retried job, or another scheduler."""
        try:
            with self.session() as s:
                s.add(SentRow(subscription_id=subscription_id, scheduled_for=to_slot(scheduled_for),
                              recipient=recipient, status="sending", attempts=1,
                              created_at=utc(now) if now else utcnow()))
            return True
        except IntegrityError:
            return False

    def retryable_sends(self, *, now: datetime, rules: SendRetry = SEND_RETRY) -> list[tuple[int, str]]:
        """(subscription id, scheduled slot) of the sends to try again (see SendRetry), each once: a run retries
        all of its recipients (a group reminder's card and its private check-in cards) at once."""
        with self.session() as s:
            rows = s.execute(select(SentRow.subscription_id, SentRow.scheduled_for)
                             .where(rules.waiting(now), rules.in_time(now)).order_by(SentRow.created_at))
            return list(dict.fromkeys((row[0], row[1]) for row in rows))

    def give_up_sends(self, *, now: datetime, rules: SendRetry = SEND_RETRY) -> int:
        """Mark as failed the sends waiting for another attempt that will no longer get one."""
        with self.session() as s:
            result = s.execute(update(SentRow).where(rules.waiting(now), ~rules.in_time(now))
                               .values(status="failed", error=func.coalesce(SentRow.error, "") + " (given up)"))
            return result.rowcount or 0

    def reclaim_send(self, subscription_id: int, scheduled_for: datetime, recipient: str, *, now: datetime,
                     rules: SendRetry = SEND_RETRY) -> bool:
        """Take a send back for another attempt; one caller wins (compare-and-set on its status)."""
        with self.session() as s:
            result = s.execute(update(SentRow).where(
                SentRow.subscription_id == subscription_id, SentRow.scheduled_for == to_slot(scheduled_for),
                SentRow.recipient == recipient, rules.waiting(now), rules.in_time(now),
            ).values(status="sending", attempts=func.coalesce(SentRow.attempts, 1) + 1))
            return result.rowcount == 1

    def finish_send(self, subscription_id: int, scheduled_for: datetime, recipient: str, *, message_id: str = "",
                    error: str = "", retry: bool = False) -> None:
        """Record the outcome; `retry`: the error was Feishu being unavailable, worth another attempt."""
        status = ("retry" if retry else "failed") if error else "sent"
        with self.session() as s:
            s.execute(update(SentRow).where(
                SentRow.subscription_id == subscription_id, SentRow.scheduled_for == to_slot(scheduled_for),
                SentRow.recipient == recipient,
            ).values(status=status, message_id=message_id, error=error[:500]))

    def sends(self, subscription_id: int) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(SentRow).where(SentRow.subscription_id == subscription_id).order_by(SentRow.id))
            return [{"scheduled_for": r.scheduled_for, "recipient": r.recipient, "status": r.status,
                     "message_id": r.message_id, "error": r.error} for r in rows]

    def last_sent_slot(self, subscription_id: int, *, before: datetime) -> str | None:
        with self.session() as s:
            return s.scalar(select(func.max(SentRow.scheduled_for)).where(
                SentRow.subscription_id == subscription_id, SentRow.status == "sent",
                SentRow.scheduled_for < to_slot(before)))

    # -- decisions (why?) -------------------------------------------------------------------------------
    def record_decisions(self, subscription_id: int, scheduled_for: datetime, decisions: dict[str, str]) -> None:
        slot = to_slot(scheduled_for)
        with self.session() as s:
            s.execute(delete(DecisionRow).where(DecisionRow.subscription_id == subscription_id,
                                                DecisionRow.scheduled_for == slot))
            s.add_all(DecisionRow(subscription_id=subscription_id, scheduled_for=slot, person=p, decision=d)
                      for p, d in decisions.items())

    def last_decisions(self, subscription_id: int) -> tuple[str | None, dict[str, str]]:
        with self.session() as s:
            slot = s.scalar(select(func.max(DecisionRow.scheduled_for)).where(
                DecisionRow.subscription_id == subscription_id))
            if slot is None:
                return None, {}
            rows = s.scalars(select(DecisionRow).where(DecisionRow.subscription_id == subscription_id,
                                                       DecisionRow.scheduled_for == slot))
            return slot, {r.person: r.decision for r in rows}

    def decisions_at(self, subscription_id: int, slot: str) -> dict[str, str]:
        """The decisions of one run (`slot` as to_slot makes it): person -> decision."""
        with self.session() as s:
            rows = s.scalars(select(DecisionRow).where(DecisionRow.subscription_id == subscription_id,
                                                       DecisionRow.scheduled_for == slot))
            return {r.person: r.decision for r in rows}

    # -- nudges and snoozes -------------------------------------------------------------------------------
    def claim_nudge(self, key: str) -> bool:
        try:
            with self.session() as s:
                s.add(NudgeRow(key=key[:160]))
            return True
        except IntegrityError:
            return False

    def nudged(self, subscription_id: int, slot: str) -> set[str]:
        """The people nudged from the digest of (subscription, slot): the claims `claim_nudge` took for it."""
        prefix = f"{subscription_id}:{slot}:"
        with self.session() as s:
            keys = s.scalars(select(NudgeRow.key).where(NudgeRow.key.startswith(prefix, autoescape=True)))
            return {k[len(prefix):] for k in keys}

    # -- what a digest showed ---------------------------------------------------------------------------------
    def keep_view(self, subscription_id: int, slot: str, recipient: str, view: dict[str, Any]) -> None:
        """Keep what the digest of (subscription, slot) to `recipient` showed (replacing a retried send's);
        views of the subscription older than DIGEST_VIEW_DAYS go."""
        old = utcnow() - timedelta(days=DIGEST_VIEW_DAYS)
        with self.session() as s:
            s.execute(delete(DigestViewRow).where(
                DigestViewRow.subscription_id == subscription_id, DigestViewRow.recipient == recipient,
                or_(DigestViewRow.scheduled_for == slot, DigestViewRow.created_at < old)))
            s.add(DigestViewRow(subscription_id=subscription_id, scheduled_for=slot, recipient=recipient,
                                view=json.dumps(view, ensure_ascii=False)))

    def view(self, subscription_id: int, slot: str, recipient: str) -> dict[str, Any] | None:
        with self.session() as s:
            text = s.scalar(select(DigestViewRow.view).where(
                DigestViewRow.subscription_id == subscription_id, DigestViewRow.scheduled_for == slot,
                DigestViewRow.recipient == recipient))
        return json.loads(text) if text else None

    def snooze(self, subscription_id: int, person: str, until: datetime) -> None:
        with self.session() as s:
            s.execute(delete(SnoozeRow).where(SnoozeRow.subscription_id == subscription_id,
                                              SnoozeRow.person == person))
            s.add(SnoozeRow(subscription_id=subscription_id, person=person, until=utc(until)))

    def snoozed(self, subscription_id: int, at: datetime) -> set[str]:
        with self.session() as s:
            rows = s.scalars(select(SnoozeRow).where(SnoozeRow.subscription_id == subscription_id))
            return {r.person for r in rows if aware(r.until) > aware(at)}
