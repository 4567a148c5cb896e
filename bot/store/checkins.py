"""Check-ins made through the bot: who wrote progress on which objective or key result, and when — for the
manager digest's "checked in via chat since the last digest" and the delivery log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, Part, aware, utc

IN_CHUNK = 900  # ids per IN (…) list: under SQLite's oldest limit of bound parameters (999)


class CheckinRow(Base):
    """One progress record the bot wrote for `open_id` (the owner, who typed or clicked)."""

    __tablename__ = "checkins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    open_id: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(32))
    percent: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_checkins_open_id_at", "open_id", "at"),)


class CheckinStore(Part):
    def add(self, open_id: str, target_id: str, percent: int, status: str, at: datetime) -> None:
        with self.session() as s:
            s.add(CheckinRow(open_id=open_id, target_id=target_id, percent=percent, status=status, at=utc(at)))

    def people_since(self, open_ids: Iterable[str], since: datetime) -> set[str]:
        """Who of `open_ids` checked in through the bot at or after `since` (one query per 900 people)."""
        wanted = [i for i in dict.fromkeys(open_ids) if i]
        found: set[str] = set()
        with self.session() as s:
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start:start + IN_CHUNK]
                found.update(s.scalars(select(CheckinRow.open_id).distinct()
                                       .where(CheckinRow.open_id.in_(chunk), CheckinRow.at >= utc(since))))
        return found

    def count_since(self, open_id: str, since: datetime) -> int:
        """How many progress records `open_id` wrote through the bot at or after `since` (every process's)."""
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(CheckinRow)
                            .where(CheckinRow.open_id == open_id, CheckinRow.at >= utc(since))) or 0

    def last(self, open_id: str) -> datetime | None:
        """When `open_id` last checked in through the bot, or None."""
        with self.session() as s:
            rows = s.scalars(select(CheckinRow.at).where(CheckinRow.open_id == open_id)
                             .order_by(CheckinRow.at.desc()).limit(1)).all()
        return aware(rows[0]) if rows else None
