"""The bot's durable state: subscriptions, the sent-log that makes each digest go out once, the
delivery log behind "why?", nudges, snoozes and API call counts. SQLAlchemy; SQLite by default,
PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from bot.db import checkpoint, create_tables, open_engine
from bot.groupcommit import GroupCommit

log = logging.getLogger(__name__)

KIND_OKR_REMINDER = "okr_reminder"
KIND_MANAGER_DIGEST = "manager_digest"


class Base(DeclarativeBase):
    pass


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), index=True)  # chat_id (reminder) or open_id (digest)
    created_by: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str] = mapped_column(Text)  # JSON spec from bot.timephrase.Schedule.to_spec()
    stale_days: Mapped[int] = mapped_column(Integer, default=7)
    locale: Mapped[str] = mapped_column(String(8), default="zh_cn")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)  # the first attempt
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class SnoozeRow(Base):
    __tablename__ = "snoozes"
    __table_args__ = (UniqueConstraint("subscription_id", "person", name="uq_snooze"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiCountRow(Base):
    __tablename__ = "api_calls"
    __table_args__ = (UniqueConstraint("month", "api", name="uq_api_month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    api: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)


class CooldownRow(Base):
    """Until when a costly command may not run again for a key (`remind run` in a group, `digest now` for a
    person): in the database, so every process sees the same cool-down."""

    __tablename__ = "cooldowns"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InboxRow(Base):
    """An accepted message, recorded before the webhook answers, done once its reply is sent."""

    __tablename__ = "inbox"
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | failed | done
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, index=True)
    # Which process is working on it, since when (renewed while it works); empty/NULL: nobody yet.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True, default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ClickRow(Base):
    """A card click's event id, kept as long as the inbox keeps answered messages: a click Feishu (or anyone
    holding a captured request) delivers again, even after a restart, runs once."""

    __tablename__ = "card_clicks"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, index=True)


class UserTokenRow(Base):
    """A person's user access token, encrypted (Fernet); never stored in clear."""

    __tablename__ = "user_tokens"
    open_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OAuthStateRow(Base):
    """An authorisation link's state: bound to the person it was made for, short-lived, single use."""

    __tablename__ = "oauth_states"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    open_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


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


def _to_subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(id=row.id, kind=row.kind, target=row.target, created_by=row.created_by,
                        schedule=json.loads(row.schedule), stale_days=row.stale_days, locale=row.locale,
                        active=row.active)


def _aware(moment: datetime) -> datetime:
    """Times are written in UTC (SQLite keeps no offset), so a naive time read back is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return _aware(moment).astimezone(UTC)


def to_slot(moment: datetime) -> str:
    """A scheduled time as the sent-log's key: UTC, to the second."""
    return _aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add_missing_columns(engine, table) -> None:
    """create_all() makes missing tables, not missing columns: add nullable columns that a table made by
    an older version lacks (the inbox's claim columns)."""
    present = {c["name"] for c in inspect(engine).get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in present and c.nullable]
    if missing:
        with engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


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
        stale = _utc(now) - timedelta(seconds=self.stale_after)
        return or_(SentRow.status == "retry", (SentRow.status == "sending") & (SentRow.created_at < stale))

    def in_time(self, now: datetime):
        return and_(SentRow.created_at > _utc(now) - timedelta(seconds=self.window),
                    func.coalesce(SentRow.attempts, 1) < self.max_attempts)


SEND_RETRY = SendRetry()

_UPSERT = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        create_tables(self.engine, Base.metadata)
        _add_missing_columns(self.engine, InboxRow.__table__)
        _add_missing_columns(self.engine, SentRow.__table__)
        upsert = _UPSERT.get(self.engine.dialect.name)  # built once: it is on the webhook's path
        self._inbox_upsert = None if upsert is None else (
            upsert(InboxRow.__table__).on_conflict_do_nothing(index_elements=["message_id"])
            .returning(InboxRow.__table__.c.message_id))
        # The webhook's threads record messages and the workers finish them in shared transactions.
        self._record = GroupCommit(self._insert_inbound)
        self._finish = GroupCommit(self._update_inbound)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as session, session.begin():
            yield session

    # -- subscriptions --------------------------------------------------------------------------------
    def add_subscription(self, *, kind: str, target: str, created_by: str, schedule: dict[str, str],
                         stale_days: int = 7, locale: str = "zh_cn") -> Subscription:
        with self.session() as s:
            row = SubscriptionRow(kind=kind, target=target, created_by=created_by, schedule=json.dumps(schedule),
                                  stale_days=stale_days, locale=locale, active=True)
            s.add(row)
            s.flush()
            return _to_subscription(row)

    def subscriptions(self, *, kind: str | None = None, target: str | None = None,
                      active: bool = True) -> list[Subscription]:
        query = select(SubscriptionRow).where(SubscriptionRow.active == active).order_by(SubscriptionRow.id)
        if kind:
            query = query.where(SubscriptionRow.kind == kind)
        if target:
            query = query.where(SubscriptionRow.target == target)
        with self.session() as s:
            return [_to_subscription(r) for r in s.scalars(query)]

    def subscription(self, subscription_id: int) -> Subscription | None:
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

    def keep_first_subscription(self, *, kind: str, target: str) -> Subscription | None:
        """One active subscription of `kind` for `target`: the oldest stays, later ones are turned off. Called
        after adding one, it undoes a race (two `digest on` at once): the last to commit sees both rows."""
        subs = self.subscriptions(kind=kind, target=target)
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
                              created_at=_utc(now) if now else _utcnow()))
            return True
        except IntegrityError:
            return False

    def retryable_sends(self, *, now: datetime, rules: SendRetry = SEND_RETRY) -> list[tuple[int, str]]:
        """(subscription id, scheduled slot) of the sends to try again (see SendRetry)."""
        with self.session() as s:
            rows = s.execute(select(SentRow.subscription_id, SentRow.scheduled_for)
                             .where(rules.waiting(now), rules.in_time(now)).order_by(SentRow.created_at))
            return [(row[0], row[1]) for row in rows]

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

    # -- nudges and snoozes -------------------------------------------------------------------------------
    def claim_nudge(self, key: str) -> bool:
        try:
            with self.session() as s:
                s.add(NudgeRow(key=key[:160]))
            return True
        except IntegrityError:
            return False

    def snooze(self, subscription_id: int, person: str, until: datetime) -> None:
        with self.session() as s:
            s.execute(delete(SnoozeRow).where(SnoozeRow.subscription_id == subscription_id,
                                              SnoozeRow.person == person))
            s.add(SnoozeRow(subscription_id=subscription_id, person=person, until=_utc(until)))

    def snoozed(self, subscription_id: int, at: datetime) -> set[str]:
        with self.session() as s:
            rows = s.scalars(select(SnoozeRow).where(SnoozeRow.subscription_id == subscription_id))
            return {r.person for r in rows if _aware(r.until) > _aware(at)}

    # -- API call counts ----------------------------------------------------------------------------------
    def add_api_calls(self, counts: dict[str, int], *, at: datetime) -> None:
        """Add to this month's counts. Jobs due together add at once: one INSERT … ON CONFLICT DO UPDATE
        (SQLite, PostgreSQL), rows in a fixed order so that two transactions never wait for each other."""
        month = _utc(at).strftime("%Y-%m")
        rows = [{"month": month, "api": api, "count": count} for api, count in sorted(counts.items()) if count > 0]
        if not rows:
            return
        upsert = _UPSERT.get(self.engine.dialect.name)
        if upsert is not None:
            statement = upsert(ApiCountRow.__table__)
            statement = statement.on_conflict_do_update(index_elements=["month", "api"], set_={
                "count": ApiCountRow.__table__.c.count + statement.excluded.count})
            with self.engine.begin() as conn:
                conn.execute(statement, rows)
            return
        for row in rows:  # another database: update, else insert, else (someone inserted meanwhile) update
            for _ in range(2):
                try:
                    with self.session() as s:
                        where = (ApiCountRow.month == month, ApiCountRow.api == row["api"])
                        if not s.execute(update(ApiCountRow).where(*where)
                                         .values(count=ApiCountRow.count + row["count"])).rowcount:
                            s.add(ApiCountRow(**row))
                    break
                except IntegrityError:
                    continue

    # -- cool-downs ------------------------------------------------------------------------------------------
    def start_cooldown(self, key: str, *, now: datetime, seconds: float) -> datetime | None:
        """Start `key`'s cool-down of `seconds` unless one is running. None: started (go ahead); otherwise when
        the running one ends. One caller wins, across processes: INSERT … ON CONFLICT DO UPDATE … WHERE ended."""
        key, now = key[:160], _utc(now)
        until = now + timedelta(seconds=seconds)
        table = CooldownRow.__table__
        upsert = _UPSERT.get(self.engine.dialect.name)
        if upsert is not None:
            statement = upsert(table).values(key=key, until=until)
            statement = statement.on_conflict_do_update(index_elements=["key"], set_={"until": until},
                                                        where=table.c.until <= now).returning(table.c.key)
            with self.engine.begin() as conn:
                if conn.execute(statement).first() is not None:
                    return None
        else:
            try:
                with self.session() as s:
                    s.add(CooldownRow(key=key, until=until))
                return None
            except IntegrityError:
                with self.session() as s:
                    if s.execute(update(CooldownRow).where(CooldownRow.key == key, CooldownRow.until <= now)
                                 .values(until=until)).rowcount:
                        return None
        with self.session() as s:
            row = s.get(CooldownRow, key)
            return _aware(row.until) if row else None

    def api_calls(self, month: str) -> dict[str, int]:
        with self.session() as s:
            return {r.api: r.count for r in s.scalars(select(ApiCountRow).where(ApiCountRow.month == month))}

    # -- user tokens and authorisation states -------------------------------------------------------------
    def save_user_token(self, open_id: str, ciphertext: str, *, expires_at: datetime,
                        refresh_expires_at: datetime) -> None:
        with self.session() as s:
            row = s.get(UserTokenRow, open_id)
            if row is None:
                s.add(UserTokenRow(open_id=open_id, ciphertext=ciphertext, expires_at=_utc(expires_at),
                                   refresh_expires_at=_utc(refresh_expires_at)))
            else:
                row.ciphertext, row.expires_at = ciphertext, _utc(expires_at)
                row.refresh_expires_at = _utc(refresh_expires_at)

    def user_token(self, open_id: str) -> tuple[str, datetime, datetime] | None:
        with self.session() as s:
            row = s.get(UserTokenRow, open_id)
            return (row.ciphertext, _aware(row.expires_at), _aware(row.refresh_expires_at)) if row else None

    def delete_user_token(self, open_id: str, *, only_if: str | None = None) -> bool:
        """Delete a person's token; with `only_if`, only while the stored ciphertext is still that one."""
        where = [UserTokenRow.open_id == open_id]
        if only_if is not None:
            where.append(UserTokenRow.ciphertext == only_if)
        with self.session() as s:
            return bool(s.execute(delete(UserTokenRow).where(*where)).rowcount)

    def user_token_ciphertexts(self) -> list[tuple[str, str]]:
        """(open_id, ciphertext) of every stored user token (key rotation)."""
        with self.session() as s:
            return [(row.open_id, row.ciphertext) for row in s.scalars(select(UserTokenRow))]

    def replace_user_token_ciphertext(self, open_id: str, *, old: str, new: str) -> bool:
        """Store a re-encrypted token, only while the stored ciphertext is still `old` (not refreshed meanwhile)."""
        with self.session() as s:
            return bool(s.execute(update(UserTokenRow).where(UserTokenRow.open_id == open_id,
                                                             UserTokenRow.ciphertext == old)
                                  .values(ciphertext=new)).rowcount)

    def add_oauth_state(self, state: str, open_id: str, *, expires_at: datetime) -> None:
        with self.session() as s:
            s.add(OAuthStateRow(state=state, open_id=open_id, expires_at=_utc(expires_at), used=False))

    def use_oauth_state(self, state: str, *, at: datetime) -> str | None:
        """The open_id the state was made for, once: None when unknown, expired or already used."""
        with self.session() as s:
            row = s.get(OAuthStateRow, state)
            if row is None or row.used or _aware(row.expires_at) <= _aware(at):
                return None
            result = s.execute(update(OAuthStateRow).where(OAuthStateRow.state == state,
                                                           OAuthStateRow.used.is_(False)).values(used=True))
            return row.open_id if result.rowcount == 1 else None

    # -- the durable inbox ----------------------------------------------------------------------------------
    def record_inbound(self, message_id: str, event_id: str, payload: dict[str, Any], *,
                       claimed_by: str = "") -> bool:
        """Record a message before acknowledging it. False when it was recorded before (a redelivery).
        `claimed_by`: the process that will work on it itself (inline replies); empty leaves it to a worker.
        On the webhook's path: concurrent callers share one INSERT … ON CONFLICT DO NOTHING transaction."""
        now = _utcnow()
        return self._record.submit({"message_id": message_id, "event_id": event_id, "payload": json.dumps(payload),
                                    "status": "pending", "received_at": now, "claimed_by": claimed_by,
                                    "claimed_at": now if claimed_by else None})

    def _insert_inbound(self, rows: Sequence[dict[str, Any]]) -> list[bool]:
        """Insert the rows in one transaction; True for each row that was new."""
        first: dict[str, int] = {}
        for i, row in enumerate(rows):
            first.setdefault(row["message_id"], i)
        unique = [rows[i] for i in first.values()]
        if self._inbox_upsert is not None:
            with self.engine.begin() as conn:
                inserted = set(conn.execute(self._inbox_upsert, unique).scalars())
        else:
            inserted = set()
            for row in unique:
                try:
                    with self.engine.begin() as conn:
                        conn.execute(insert(InboxRow.__table__), row)
                    inserted.add(row["message_id"])
                except IntegrityError:
                    pass
        return [first[row["message_id"]] == i and row["message_id"] in inserted for i, row in enumerate(rows)]

    def _update_inbound(self, finished: Sequence[tuple[str, bool]]) -> list[None]:
        with self.engine.begin() as conn:
            for status, ok in (("done", True), ("failed", False)):
                ids = [message_id for message_id, was_ok in finished if was_ok is ok]
                if ids:
                    conn.execute(update(InboxRow).where(InboxRow.message_id.in_(ids)).values(status=status))
        return [None] * len(finished)

    def claim_inbound(self, worker: str, *, limit: int, now: datetime, claim_timeout: float,
                      retry_after: float | None = None) -> list[dict[str, Any]]:
        """Atomically take up to `limit` messages for `worker`, oldest first: pending ones nobody holds or
        whose claim was not renewed for `claim_timeout` seconds (their worker died), and, with
        `retry_after`, failed ones last tried that many seconds ago. Two workers never get the same row:
        one UPDATE … RETURNING under SQLite's write lock, or FOR UPDATE SKIP LOCKED on PostgreSQL."""
        if limit <= 0:
            return []
        now = _utc(now)
        stale = now - timedelta(seconds=claim_timeout)
        takeable = [(InboxRow.status == "pending") & (InboxRow.claimed_at.is_(None) | (InboxRow.claimed_at < stale))]
        if retry_after is not None:
            takeable.append((InboxRow.status == "failed") & (
                InboxRow.claimed_at.is_(None) | (InboxRow.claimed_at < now - timedelta(seconds=retry_after))))
        candidates = select(InboxRow.message_id).where(or_(*takeable)).order_by(InboxRow.received_at).limit(limit)
        if self.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (update(InboxRow).where(InboxRow.message_id.in_(candidates.scalar_subquery()), or_(*takeable))
                     .values(status="pending", claimed_by=worker, claimed_at=now)
                     .returning(InboxRow.payload, InboxRow.received_at))
        with self.engine.begin() as conn:
            rows = conn.execute(statement).all()
        return [json.loads(payload) for payload, _ in sorted(rows, key=lambda r: r[1])]

    def renew_claims(self, worker: str, message_ids: list[str], *, now: datetime) -> int:
        """Keep `worker`'s claims on messages it is still working on from going stale."""
        if not message_ids:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(update(InboxRow).where(
                InboxRow.claimed_by == worker, InboxRow.status == "pending", InboxRow.message_id.in_(message_ids),
            ).values(claimed_at=_utc(now))).rowcount

    def release_claims(self, worker: str) -> int:
        """Give back `worker`'s unfinished claims (a restarted worker with a stable id, or a clean stop)."""
        with self.engine.begin() as conn:
            return conn.execute(update(InboxRow).where(InboxRow.claimed_by == worker, InboxRow.status == "pending")
                                .values(claimed_by="", claimed_at=None)).rowcount

    def finish_inbound(self, message_id: str, *, ok: bool) -> None:
        self._finish.submit((message_id, ok))

    def record_click(self, event_id: str) -> bool:
        """Remember a card click's event id; False when it was recorded before (a redelivery or a replay)."""
        try:
            with self.session() as s:
                s.add(ClickRow(event_id=event_id[:64], received_at=_utcnow()))
            return True
        except IntegrityError:
            return False

    def purge_inbound(self, *, before: datetime) -> tuple[int, int]:
        """Delete answered (and given-up failed) messages received before `before`: what people wrote is
        kept no longer than needed. Pending ones stay (a worker may still take them). (done, failed) counts."""
        counts = []
        with self.session() as s:
            for status in ("done", "failed"):
                result = s.execute(delete(InboxRow).where(InboxRow.status == status,
                                                          InboxRow.received_at < _utc(before)))
                counts.append(result.rowcount or 0)
            s.execute(delete(ClickRow).where(ClickRow.received_at < _utc(before)))
        if any(counts):
            checkpoint(self.engine)
        return counts[0], counts[1]

    def unfinished_inbound(self, *, statuses: tuple[str, ...] = ("pending", "failed"),
                           limit: int = 500) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(InboxRow).where(InboxRow.status.in_(statuses))
                             .order_by(InboxRow.received_at).limit(limit))
            return [json.loads(r.payload) for r in rows]
