"""What every part of the store shares: the declarative base of its tables, UTC time helpers, the upsert of
the database in use, and `Part`, a table group's access to the one engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import import_module

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Times are written in UTC (SQLite keeps no offset), so a naive time read back is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    return aware(moment).astimezone(UTC)


def add_missing_columns(engine, table) -> None:
    """create_all() makes missing tables, not missing columns: add nullable columns that a table made by
    an older version lacks (the inbox's claim columns)."""
    present = {c["name"] for c in inspect(engine).get_columns(table.name)}
    missing = [c for c in table.columns if c.name not in present and c.nullable]
    if missing:
        with engine.begin() as conn:
            for column in missing:
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


UPSERT_DIALECTS = ("sqlite", "postgresql")  # databases with INSERT … ON CONFLICT


def upsert_of(dialect: str):
    """The `insert` with ON CONFLICT of a dialect, or None. Imported for the database in use only: the
    PostgreSQL dialect costs ~2 MB that a SQLite deployment need not pay."""
    if dialect not in UPSERT_DIALECTS:
        return None
    return import_module(f"sqlalchemy.dialects.{dialect}").insert


class Part:
    """One concern's tables on the store's one engine."""

    def __init__(self, engine: Engine, sessions: sessionmaker) -> None:
        self.engine = engine
        self._sessions = sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @property
    def upsert(self):
        """INSERT … ON CONFLICT for this database (SQLite, PostgreSQL), or None."""
        return upsert_of(self.engine.dialect.name)
