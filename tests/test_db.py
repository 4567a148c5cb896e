"""Opening the database: two processes starting together may both create the tables."""

from sqlalchemy import Column, Integer, MetaData, Table, event, inspect, text

from bot.db import create_tables, open_engine
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
