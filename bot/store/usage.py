"""Usage: API calls per month and family (the `stats` command), and cool-downs of `remind run` / `digest now`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, Part, aware, utc


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


class UsageStore(Part):
    # -- API call counts ----------------------------------------------------------------------------------
    def add_api_calls(self, counts: dict[str, int], *, at: datetime) -> None:
        """Add to this month's counts. Jobs due together add at once: one INSERT … ON CONFLICT DO UPDATE
        (SQLite, PostgreSQL), rows in a fixed order so that two transactions never wait for each other."""
        month = utc(at).strftime("%Y-%m")
        rows = [{"month": month, "api": api, "count": count} for api, count in sorted(counts.items()) if count > 0]
        if not rows:
            return
        upsert = self.upsert
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
        key, now = key[:160], utc(now)
        until = now + timedelta(seconds=seconds)
        table = CooldownRow.__table__
        upsert = self.upsert
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
            return aware(row.until) if row else None

    def api_calls(self, month: str) -> dict[str, int]:
        with self.session() as s:
            return {r.api: r.count for r in s.scalars(select(ApiCountRow).where(ApiCountRow.month == month))}
