"""The durable inbox: every message is recorded before Feishu is answered, claimed by the process that
answers it (atomically, so two workers never take one), finished or failed, and purged after the retention;
card clicks' event ids, so a replayed click runs once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, Text, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from bot.db import checkpoint
from bot.store.base import Base, Part, utc, utcnow
from bot.store.groupcommit import GroupCommit


class InboxRow(Base):
    """An accepted message, recorded before the webhook answers, done once its reply is sent."""

    __tablename__ = "inbox"
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | failed | done
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # Which process is working on it, since when (renewed while it works); empty/NULL: nobody yet.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True, default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ClickRow(Base):
    """A card click's event id, kept as long as the inbox keeps answered messages: a click Feishu (or anyone
    holding a captured request) delivers again, even after a restart, runs once."""

    __tablename__ = "card_clicks"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class InboxStore(Part):
    def __init__(self, engine: Engine, sessions: sessionmaker) -> None:
        super().__init__(engine, sessions)
        upsert = self.upsert  # built once: it is on the webhook's path
        self._upsert = None if upsert is None else (
            upsert(InboxRow.__table__).on_conflict_do_nothing(index_elements=["message_id"])
            .returning(InboxRow.__table__.c.message_id))
        # The webhook's threads record messages and the workers finish them in shared transactions.
        self._record = GroupCommit(self._insert)
        self._finish = GroupCommit(self._update)

    # -- the durable inbox ----------------------------------------------------------------------------------
    def record(self, message_id: str, event_id: str, payload: dict[str, Any], *,
                       claimed_by: str = "") -> bool:
        """Record a message before acknowledging it. False when it was recorded before (a redelivery).
        `claimed_by`: the process that will work on it itself (inline replies); empty leaves it to a worker.
        On the webhook's path: concurrent callers share one INSERT … ON CONFLICT DO NOTHING transaction."""
        now = utcnow()
        return self._record.submit({"message_id": message_id, "event_id": event_id, "payload": json.dumps(payload),
                                    "status": "pending", "received_at": now, "claimed_by": claimed_by,
                                    "claimed_at": now if claimed_by else None})

    def _insert(self, rows: Sequence[dict[str, Any]]) -> list[bool]:
        """Insert the rows in one transaction; True for each row that was new."""
        first: dict[str, int] = {}
        for i, row in enumerate(rows):
            first.setdefault(row["message_id"], i)
        unique = [rows[i] for i in first.values()]
        if self._upsert is not None:
            with self.engine.begin() as conn:
                inserted = set(conn.execute(self._upsert, unique).scalars())
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

    def _update(self, finished: Sequence[tuple[str, bool]]) -> list[None]:
        with self.engine.begin() as conn:
            self._mark(conn, finished)
        return [None] * len(finished)

    @staticmethod
    def _mark(conn, finished: Sequence[tuple[str, bool]]) -> None:
        for status, ok in (("done", True), ("failed", False)):
            ids = [message_id for message_id, was_ok in finished if was_ok is ok]
            if ids:
                conn.execute(update(InboxRow).where(InboxRow.message_id.in_(ids)).values(status=status))

    def claim(self, worker: str, *, limit: int, now: datetime, claim_timeout: float,
                      retry_after: float | None = None) -> list[dict[str, Any]]:
        """Atomically take up to `limit` messages for `worker`, oldest first: pending ones nobody holds or
        whose claim was not renewed for `claim_timeout` seconds (their worker died), and, with
        `retry_after`, failed ones last tried that many seconds ago. Two workers never get the same row:
        one UPDATE … RETURNING under SQLite's write lock, or FOR UPDATE SKIP LOCKED on PostgreSQL."""
        return self.settle(worker, (), limit=limit, now=now, claim_timeout=claim_timeout, retry_after=retry_after)

    def settle(self, worker: str, finished: Sequence[tuple[str, bool]], *, limit: int, now: datetime,
               claim_timeout: float, retry_after: float | None = None) -> list[dict[str, Any]]:
        """Mark the worker's `finished` messages (message id, ok) done or failed and claim up to `limit` more
        (as `claim` does) in one transaction: a worker takes the database's write lock once for both."""
        if limit <= 0 and not finished:
            return []
        with self.engine.begin() as conn:
            self._mark(conn, finished)
            rows = conn.execute(self._claim_statement(worker, limit, utc(now), claim_timeout, retry_after)
                                ).all() if limit > 0 else []
        return [json.loads(payload) for payload, _ in sorted(rows, key=lambda r: r[1])]

    def _claim_statement(self, worker: str, limit: int, now: datetime, claim_timeout: float,
                         retry_after: float | None):
        stale = now - timedelta(seconds=claim_timeout)
        takeable = [(InboxRow.status == "pending") & (InboxRow.claimed_at.is_(None) | (InboxRow.claimed_at < stale))]
        if retry_after is not None:
            takeable.append((InboxRow.status == "failed") & (
                InboxRow.claimed_at.is_(None) | (InboxRow.claimed_at < now - timedelta(seconds=retry_after))))
        candidates = select(InboxRow.message_id).where(or_(*takeable)).order_by(InboxRow.received_at).limit(limit)
        if self.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        return (update(InboxRow).where(InboxRow.message_id.in_(candidates.scalar_subquery()), or_(*takeable))
                .values(status="pending", claimed_by=worker, claimed_at=now)
                .returning(InboxRow.payload, InboxRow.received_at))

    def renew_claims(self, worker: str, message_ids: list[str], *, now: datetime) -> int:
        """Keep `worker`'s claims on messages it is still working on from going stale."""
        if not message_ids:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(update(InboxRow).where(
                InboxRow.claimed_by == worker, InboxRow.status == "pending", InboxRow.message_id.in_(message_ids),
            ).values(claimed_at=utc(now))).rowcount

    def release_claims(self, worker: str) -> int:
        """Give back `worker`'s unfinished claims (a restarted worker with a stable id, or a clean stop)."""
        with self.engine.begin() as conn:
            return conn.execute(update(InboxRow).where(InboxRow.claimed_by == worker, InboxRow.status == "pending")
                                .values(claimed_by="", claimed_at=None)).rowcount

    def finish(self, message_id: str, *, ok: bool) -> None:
        self._finish.submit((message_id, ok))

    def record_click(self, event_id: str) -> bool:
        """Remember a card click's event id; False when it was recorded before (a redelivery or a replay)."""
        try:
            with self.session() as s:
                s.add(ClickRow(event_id=event_id[:64], received_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def purge(self, *, before: datetime) -> tuple[int, int]:
        """Delete answered (and given-up failed) messages received before `before`: what people wrote is
        kept no longer than needed. Pending ones stay (a worker may still take them). (done, failed) counts."""
        counts = []
        with self.session() as s:
            for status in ("done", "failed"):
                result = s.execute(delete(InboxRow).where(InboxRow.status == status,
                                                          InboxRow.received_at < utc(before)))
                counts.append(result.rowcount or 0)
            s.execute(delete(ClickRow).where(ClickRow.received_at < utc(before)))
        if any(counts):
            checkpoint(self.engine)
        return counts[0], counts[1]

    def unfinished(self, *, statuses: tuple[str, ...] = ("pending", "failed"),
                           limit: int = 500) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(InboxRow).where(InboxRow.status.in_(statuses))
                             .order_by(InboxRow.received_at).limit(limit))
            return [json.loads(r.payload) for r in rows]
