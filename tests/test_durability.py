"""Nothing lost: the real server is killed with SIGKILL mid-burst and restarted; every acknowledged
command gets exactly one reply, none twice."""

from __future__ import annotations

import signal
from collections import Counter

from devkit.sandbox.ids import p2p_chat_id
from tests.processes import say_help, serve, wait_for_replies


def test_sigkill_mid_burst_loses_nothing_and_sends_nothing_twice(sandbox, tmp_path):
    db_url = f"sqlite:///{tmp_path}/bot.db"
    people = sandbox.seed.active_people[:20]
    # Replies are slow, so when the process dies most acknowledged commands are still waiting.
    sandbox.state.faults.inject("/open-apis/im/v1/messages/", times=None, delay=1.0, method="POST")
    proc, sender = serve(sandbox, db_url, tmp_path, BOT_WORKERS="2")
    acknowledged: list[str] = []
    try:
        say_help(sender, people[:12], acknowledged)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    replied_before = {e["reply_to"] for e in sandbox.state.outbox.entries()}
    assert len(replied_before) < len(acknowledged)  # the kill really interrupted work

    sandbox.state.faults.clear()
    proc, sender = serve(sandbox, db_url, tmp_path, BOT_WORKERS="2")  # resumes what was acknowledged, unfinished
    try:
        say_help(sender, people[12:], acknowledged)
        wait_for_replies(sandbox, acknowledged, timeout=20)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    counts = Counter(e["reply_to"] for e in sandbox.state.outbox.entries())
    assert set(counts) == set(acknowledged)
    assert set(counts.values()) == {1}, counts
    # What was SENT: a reply in flight when the process died is sent again after the restart, always under
    # the same uuid (so Feishu, within its hour, keeps one); a finished reply is never sent again.
    uuids: dict[str, set] = {}
    for r in sandbox.state.requests.matching("/im/v1/messages/", "POST"):
        uuids.setdefault(r["path"].split("/")[-2], set()).add(r["body"]["uuid"])
    assert set(uuids) == set(acknowledged)
    assert all(len(u) == 1 for u in uuids.values()), uuids


def test_replies_feishu_would_not_take_are_kept_and_sent_later(settings, sandbox, caplog):
    from bot.inbound import InlineExecutor
    from bot.transports.webhook import create_app
    from tests.conftest import NOW, Chat

    app = create_app(settings, executor=InlineExecutor(), clock=lambda: NOW, retry_interval=None)
    chat = Chat(app.test_client(), sandbox, settings)
    sandbox.state.faults.inject("/open-apis/im/v1/messages/", times=None, http_status=503, code=1, msg="down",
                               method="POST")
    assert chat.say("陈立", "帮助") == []  # acknowledged, but Feishu is down: nothing sent, nothing lost
    message_id = chat.last_payload["event"]["message"]["message_id"]
    event_id = chat.last_payload["header"]["event_id"]
    store = app.extensions["bot"].router.store
    assert [m["message_id"] for m in store.inbox.unfinished(statuses=("failed",))] == [message_id]
    assert any(r.levelname == "ERROR" and event_id in r.getMessage() for r in caplog.records)  # logged, with its id
    sandbox.state.faults.clear()
    assert app.extensions["bot"].pipeline.resume(statuses=("failed",)) == 1  # what the retry loop does each minute
    assert [e["reply_to"] for e in sandbox.state.outbox.entries()] == [message_id]
    assert len([r for r in sandbox.state.requests.matching("/im/v1/messages/", "POST") if r["status"] == 200]) == 1
    assert store.inbox.unfinished() == []


def test_when_the_inbox_cannot_record_feishu_is_asked_to_retry_and_the_retry_is_answered(settings, sandbox):
    from sqlalchemy import text

    from bot.inbound import InlineExecutor
    from bot.store import Base
    from bot.transports.webhook import create_app
    from tests.conftest import NOW, Chat

    app = create_app(settings, executor=InlineExecutor(), clock=lambda: NOW, retry_interval=None)
    chat = Chat(app.test_client(), sandbox, settings)
    store = app.extensions["bot"].router.store
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE inbox"))  # the database fails under the bot
    person = chat.person("陈立")
    status, body, payload = chat.sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                            chat_type="p2p", text="帮助")
    assert status == 503 and b"Traceback" not in body  # Feishu retries a non-2xx answer
    assert sandbox.state.outbox.entries() == []
    Base.metadata.create_all(store.engine)  # the database is back; Feishu's retry arrives
    status, _, _ = chat.sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                   chat_type="p2p", text="帮助", message_id=payload["event"]["message"]["message_id"],
                                   event_id=payload["header"]["event_id"])
    assert status == 200
    assert [e["reply_to"] for e in sandbox.state.outbox.entries()] == [payload["event"]["message"]["message_id"]]
    assert len(sandbox.state.requests.matching("/im/v1/messages/", "POST")) == 1


def test_answered_messages_are_deleted_after_the_retention(settings, sandbox, caplog, tmp_path):
    """What people wrote stays in the inbox table no longer than BOT_INBOX_RETENTION_DAYS; messages still
    waiting for a worker stay whatever their age; failed ones given up are logged."""
    import json
    from datetime import UTC, timedelta

    from sqlalchemy import text, update

    from bot.db import checkpoint
    from bot.inbound import InlineExecutor
    from bot.store import InboxRow
    from bot.transports.webhook import create_app
    from tests.conftest import NOW, Chat

    clock = {"now": NOW}
    configured = settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db", inbox_retention=7 * 86400.0)
    app = create_app(configured, executor=InlineExecutor(), clock=lambda: clock["now"], retry_interval=None)
    chat = Chat(app.test_client(), sandbox, configured)
    service = app.extensions["bot"]
    store = service.router.store
    assert chat.say("陈立", "帮助 okr")  # answered: done
    written = json.dumps("帮助 okr")[1:-1].encode()  # as the inbox's JSON payload holds it

    def on_disk() -> bool:
        return any(written in path.read_bytes() for path in tmp_path.glob("bot.db*"))

    checkpoint(store.engine)  # as SQLite does every 1,000 pages: the row is in the database file itself
    assert written in (tmp_path / "bot.db").read_bytes()
    store.inbox.record("om_waiting", "ev_waiting", {"message_id": "om_waiting"})  # nobody took it yet
    store.inbox.record("om_failed", "ev_failed", {"message_id": "om_failed"})
    store.inbox.finish("om_failed", ok=False)
    for i in range(100):  # answered later: kept, around the deleted row on the same database pages
        store.inbox.record(f"om_later_{i}", f"ev_later_{i}", {"message_id": f"om_later_{i}", "text": "x" * 40})
        store.inbox.finish(f"om_later_{i}", ok=True)
    with store.session() as s:  # the store writes UTC
        s.execute(update(InboxRow).values(received_at=NOW.astimezone(UTC)))
        s.execute(update(InboxRow).where(InboxRow.message_id.like("om_later_%"))
                  .values(received_at=(NOW + timedelta(days=3)).astimezone(UTC)))
    clock["now"] = NOW + timedelta(days=6, hours=23)
    assert service.pipeline.purge() == (0, 0)
    clock["now"] = NOW + timedelta(days=7, minutes=1)
    assert service.pipeline.purge() == (1, 1)
    with store.engine.connect() as conn:
        left = dict(conn.execute(text("SELECT message_id, status FROM inbox")).all())
    assert left == {"om_waiting": "pending", **{f"om_later_{i}": "done" for i in range(100)}}
    assert any(r.levelname == "ERROR" and "gave up 1 message" in r.getMessage() for r in caplog.records)
    assert not on_disk()  # not in the database file, its WAL, or a free page
