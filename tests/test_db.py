"""Opening the database: two processes starting together may both create the tables; the file is private."""

import logging
import os
import stat
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, inspect, text

from bot.db import create_tables, open_engine, sqlite_path
from bot.feishu.snapshot import SnapshotStore
from bot.store import Store


def test_a_table_created_by_another_process_meanwhile_is_not_an_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    metadata = MetaData()
    table = Table("things", metadata, Column("id", Integer, primary_key=True))
    engine = open_engine(url)
    other = open_engine(url)
    raced = []

    @event.listens_for(table, "before_create")
    def other_process_wins(target, connection, **kw):
        # create_all() has checked that the table is missing; the other process creates it now
        if not raced:
            raced.append(True)
            with other.begin() as conn:
                conn.execute(text("CREATE TABLE things (id INTEGER PRIMARY KEY)"))

    create_tables(engine, metadata)
    assert raced == [True]
    assert inspect(engine).has_table("things")


def test_store_and_snapshots_share_one_file_and_reopen_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    for _ in range(2):
        Store(url)
        SnapshotStore(url)
    names = set(inspect(open_engine(url)).get_table_names())
    assert {"inbox", "snapshot_heads", "snapshot_people"} <= names
    with open_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The loosest umask a deployment could run with: without the bot's care, files would be 0666."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_a_new_database_file_and_its_wal_and_shm_are_readable_by_the_owner_only(tmp_path, open_umask):
    path = tmp_path / "bot.db"
    store = Store(f"sqlite:///{path}")
    store.tokens.save("ou_a", "ciphertext", expires_at=datetime.now(UTC), refresh_expires_at=datetime.now(UTC))
    assert store.tokens.get("ou_a") is not None  # a reader keeps the -wal and -shm files open
    files = {p.name: _mode(p) for p in tmp_path.iterdir()}
    assert set(files) == {"bot.db", "bot.db-wal", "bot.db-shm"}
    assert files == {"bot.db": 0o600, "bot.db-wal": 0o600, "bot.db-shm": 0o600}


def test_an_existing_database_readable_by_others_is_tightened_and_logged(tmp_path, caplog):
    path = tmp_path / "bot.db"
    Store(f"sqlite:///{path}").tokens.save("ou_a", "ciphertext", expires_at=datetime.now(UTC),
                                               refresh_expires_at=datetime.now(UTC))
    for name in ("bot.db", "bot.db-wal", "bot.db-shm"):
        if (tmp_path / name).exists():
            os.chmod(tmp_path / name, 0o644)  # as the bot used to leave it
    with caplog.at_level(logging.WARNING, logger="bot.db"):
        store = Store(f"sqlite:///{path}")
    assert _mode(path) == 0o600
    assert f"database file {path} was readable by others (mode 644); changed to 0600" in caplog.text
    assert store.tokens.get("ou_a") is not None  # same data
    assert all(_mode(p) == 0o600 for p in tmp_path.iterdir())


def test_memory_and_other_databases_are_left_alone(tmp_path):
    assert sqlite_path("sqlite://") is None and sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@localhost/bot") is None
    assert sqlite_path(f"sqlite:///{tmp_path / 'x.db'}") == str(tmp_path / "x.db")
    Store("sqlite://")  # no file appears
    assert list(tmp_path.iterdir()) == []
