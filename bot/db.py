"""One way to open a database for the store and the snapshots: SQLite (a file or in memory) or PostgreSQL."""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite gives them the database file's permissions


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


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL; None for memory, a `file:` URI or another database."""
    if not url.startswith("sqlite") or is_memory(url):
        return None
    database = make_url(url).database
    return None if not database or database == ":memory:" or database.startswith("file:") else database


def make_private(path: str) -> None:
    """The database file holds people's tokens, what they wrote and the roster: readable by its owner only.
    A new file is created 0600 before SQLite opens it (its -wal and -shm files then get the same mode); an
    existing file (or side file) that others may read is tightened to 0600, with a warning."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is an empty database
    except FileExistsError:
        pass
    except OSError:  # no such folder, read-only place…: SQLite reports it as it opens the file
        return
    for name in (path, *(path + suffix for suffix in SQLITE_SIDE_FILES)):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, 0o600)
                log.warning("database file %s was readable by others (mode %03o); changed to 0600", name, mode)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("database file %s may be readable by others and cannot be changed to 0600: %s", name, exc)


def open_engine(url: str) -> Engine:
    """An engine shared by threads; an in-memory SQLite database is one connection, a file one is in WAL mode."""
    kwargs: dict[str, Any] = {}
    path = sqlite_path(url)
    if path is not None:
        make_private(path)
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
