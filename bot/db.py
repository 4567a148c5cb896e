"""One way to open a database for the store and the snapshots: SQLite (a file or in memory) or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool


def is_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")


def _sqlite_pragmas(connection, _record) -> None:
    """WAL lets the webhook's inserts and the workers' updates proceed without blocking each other, and
    synchronous=NORMAL makes each commit cheap while staying durable across a process crash."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows (what people wrote, tokens) are overwritten
    cursor.close()


def open_engine(url: str) -> Engine:
    """An engine shared by threads; an in-memory SQLite database is one connection, a file one is in WAL mode."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if is_memory(url):
            kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite") and not is_memory(url):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """create_all(), tolerating another process (web and worker start together) creating a table first."""
    try:
        metadata.create_all(engine)
    except (OperationalError, ProgrammingError) as exc:
        if "already exists" not in str(exc):
            raise
        metadata.create_all(engine)


def checkpoint(engine: Engine) -> None:
    """SQLite in WAL mode: copy the log into the database file and empty it, so that deleted rows' old
    pages do not linger in the log. Best effort (busy readers make it a no-op until next time)."""
    if engine.dialect.name == "sqlite" and not is_memory(str(engine.url)):
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
