"""The separate reply worker (BOT_REPLY_WORKER=separate, `python -m bot worker`): the web process only
records messages; workers claim them atomically, a dead worker's claims are taken over, and every
acknowledged command gets exactly one reply, even when the worker is killed with SIGKILL mid-burst."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from bot.inbound import InlineExecutor
from bot.settings import Settings
from bot.store import Store
from bot.transports.webhook import create_app
from bot.worker import create_worker
from tests.conftest import NOW, Chat
from tests.processes import bot_env, copy_output, inbox_rows, say_help, serve, wait_for_replies
from tests.services import postgres_server

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _record(store: Store, n: int) -> list[str]:
    ids = [f"om_{i:04d}" for i in range(n)]
    for i, message_id in enumerate(ids):
        assert store.inbox.record(message_id, f"ev_{i}", {"message_id": message_id})
    return ids


def _claimed(payloads: list[dict]) -> list[str]:
    return [p["message_id"] for p in payloads]


def test_settings_choose_the_reply_worker():
    env = {"FEISHU_APP_ID": "a", "FEISHU_APP_SECRET": "s"}
    assert Settings.from_env(env).reply_worker == "inline"
    chosen = Settings.from_env({**env, "BOT_REPLY_WORKER": "separate", "BOT_WORKER_ID": "w1",
                                "BOT_CLAIM_TIMEOUT": "30", "BOT_WORKER_POLL": "0.5"})
    assert (chosen.reply_worker, chosen.worker_id, chosen.claim_timeout, chosen.worker_poll_interval) == (
        "separate", "w1", 30.0, 0.5)
    with pytest.raises(ValueError, match="BOT_REPLY_WORKER"):
        Settings.from_env({**env, "BOT_REPLY_WORKER": "elsewhere"})


def test_settings_keep_answered_messages_at_least_as_long_as_the_dedup_window():
    env = {"FEISHU_APP_ID": "a", "FEISHU_APP_SECRET": "s"}
    assert Settings.from_env(env).inbox_retention == 7 * 86400
    assert Settings.from_env({**env, "BOT_INBOX_RETENTION_DAYS": "0.5"}).inbox_retention == 12 * 3600
    with pytest.raises(ValueError, match="BOT_INBOX_RETENTION_DAYS must be at least 0.5"):
        Settings.from_env({**env, "BOT_INBOX_RETENTION_DAYS": "0.1"})


def test_a_claim_is_taken_once_renewed_while_working_and_taken_over_when_stale(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/bot.db")
    ids = _record(store, 3)
    assert _claimed(store.inbox.claim("a", limit=2, now=T0, claim_timeout=60)) == ids[:2]  # oldest first
    assert _claimed(store.inbox.claim("b", limit=5, now=T0, claim_timeout=60)) == ids[2:]
    assert store.inbox.claim("b", limit=5, now=T0 + timedelta(seconds=59), claim_timeout=60) == []
    assert store.inbox.renew_claims("a", ids[:1], now=T0 + timedelta(seconds=59)) == 1  # "a" still works on the first
    store.inbox.finish(ids[2], ok=True)
    # "a" stopped renewing the second one (it died): after the timeout another worker takes it over
    assert _claimed(store.inbox.claim("b", limit=5, now=T0 + timedelta(seconds=61), claim_timeout=60)) == [ids[1]]
    assert _claimed(store.inbox.claim("b", limit=5, now=T0 + timedelta(seconds=120), claim_timeout=60)) == [ids[0]]
    assert store.inbox.release_claims("b") == 2  # a restarted "b" gives back what it held
    assert _claimed(store.inbox.claim("c", limit=5, now=T0 + timedelta(seconds=121), claim_timeout=60)) == ids[:2]


def test_failed_replies_are_taken_again_only_after_the_retry_interval(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/bot.db")
    (message_id,) = _record(store, 1)
    assert _claimed(store.inbox.claim("a", limit=1, now=T0, claim_timeout=60, retry_after=30)) == [message_id]
    store.inbox.finish(message_id, ok=False)  # Feishu would not take the reply
    assert store.inbox.claim("a", limit=1, now=T0 + timedelta(seconds=10), claim_timeout=60, retry_after=30) == []
    assert store.inbox.claim("a", limit=1, now=T0 + timedelta(seconds=40), claim_timeout=60) == []  # no retries
    assert _claimed(store.inbox.claim("a", limit=1, now=T0 + timedelta(seconds=40), claim_timeout=60,
                                        retry_after=30)) == [message_id]
    store.inbox.finish(message_id, ok=True)
    assert store.inbox.claim("a", limit=1, now=T0 + timedelta(hours=1), claim_timeout=60, retry_after=30) == []


def test_an_inline_web_process_claims_what_it_records(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/bot.db")
    assert store.inbox.record("om_1", "ev_1", {"message_id": "om_1"}, claimed_by="web:1")
    assert store.inbox.claim("w", limit=5, now=datetime.now(UTC), claim_timeout=60) == []


def _claim_concurrently(url: str, tmp_ids: int = 120, workers: int = 6) -> None:
    store = Store(url)
    ids = _record(store, tmp_ids)
    got: dict[str, list[str]] = {}
    start = threading.Barrier(workers)

    def work(name: str) -> None:
        mine = got.setdefault(name, [])
        own = Store(url)  # each worker has its own engine and connections, as separate processes would
        start.wait()
        while batch := own.inbox.claim(name, limit=7, now=T0, claim_timeout=60):
            mine.extend(_claimed(batch))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [m for claimed in got.values() for m in claimed]
    assert sorted(everything) == ids  # every row taken, none by two workers


def test_workers_claiming_at_once_never_take_the_same_message_sqlite(tmp_path):
    _claim_concurrently(f"sqlite:///{tmp_path}/bot.db")


def test_workers_claiming_at_once_never_take_the_same_message_postgresql():
    with postgres_server() as url:
        _claim_concurrently(url)


def test_an_inbox_table_from_an_older_version_gets_the_claim_columns(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    with create_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE inbox (message_id VARCHAR(64) PRIMARY KEY, event_id VARCHAR(64), "
                          "payload TEXT, status VARCHAR(16), received_at DATETIME)"))
        conn.execute(text("INSERT INTO inbox VALUES ('om_old', 'ev_old', '{\"message_id\": \"om_old\"}', "
                          "'pending', '2026-11-25 01:00:00')"))
    store = Store(url)
    assert _claimed(store.inbox.claim("w", limit=5, now=T0, claim_timeout=60)) == ["om_old"]


def test_in_separate_mode_the_webhook_only_records_and_the_worker_answers(settings, sandbox, tmp_path):
    separate = settings.with_(reply_worker="separate", database_url=f"sqlite:///{tmp_path}/bot.db")
    app = create_app(separate, executor=InlineExecutor(), clock=lambda: NOW)
    chat = Chat(app.test_client(), sandbox, separate)
    assert chat.say("陈立", "帮助") == []  # acknowledged, recorded, not answered by the web process
    message_id = chat.last_payload["event"]["message"]["message_id"]
    worker = create_worker(separate, executor=InlineExecutor(), clock=lambda: NOW)
    assert worker.run_once() == 1
    assert [e["reply_to"] for e in sandbox.state.outbox.entries()] == [message_id]
    assert worker.run_once() == 0  # done: never answered twice
    assert worker.store.inbox.unfinished() == []
    with worker.store.engine.begin() as conn:  # received at NOW (the store writes UTC)
        conn.execute(text("UPDATE inbox SET received_at = :at"), {"at": NOW.astimezone(UTC)})
    later = create_worker(separate, executor=InlineExecutor(), clock=lambda: NOW + timedelta(days=8))
    later.stop()
    later.run()  # a worker deletes what is older than the retention when it starts (then hourly)
    with later.store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbox")).scalar() == 0


def test_a_restarted_worker_takes_back_what_it_held_even_when_the_database_fails_at_first(settings, sandbox, tmp_path):
    """BOT_WORKER_ID's take-back at start is retried until the database answers, before anything is claimed:
    a worker that died on (or skipped) it would leave its predecessor's claims waiting BOT_CLAIM_TIMEOUT."""
    separate = settings.with_(reply_worker="separate", database_url=f"sqlite:///{tmp_path}/bot.db", worker_id="w-1")
    chat = Chat(create_app(separate, executor=InlineExecutor(), clock=lambda: NOW).test_client(), sandbox, separate)
    asked = []
    for person in sandbox.seed.active_people[:2]:
        assert chat.say(person.name, "帮助") == []  # recorded, acknowledged
        asked.append(chat.last_payload["event"]["message"]["message_id"])
    store = Store(separate.database_url)
    assert len(store.inbox.claim("w-1", limit=5, now=datetime.now(UTC), claim_timeout=60)) == 2  # then killed
    worker = create_worker(separate, executor=InlineExecutor())  # started again with the same BOT_WORKER_ID…
    with store.engine.begin() as conn:  # …while the database fails
        conn.execute(text("ALTER TABLE inbox RENAME TO inbox_away"))
    failed = threading.Event()

    class Failures(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "could not take back" in record.getMessage():
                failed.set()

    ended: list[bool] = []

    def run() -> None:
        try:
            worker.run()
        finally:
            ended.append(True)  # before stop(): the worker died of the failure
            failed.set()

    watcher = Failures()
    logging.getLogger("bot.worker").addHandler(watcher)
    thread = threading.Thread(target=run, daemon=True)
    try:
        thread.start()
        assert failed.wait(30), "the worker never tried to take back its claims"
        assert not ended, "the worker died of a database failure at start"
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE inbox_away RENAME TO inbox"))
        replies = sandbox.state.outbox.wait_for(2, timeout=30)  # the claims came back well within the claim timeout
    finally:
        worker.stop()
        thread.join(timeout=30)
        logging.getLogger("bot.worker").removeHandler(watcher)
    assert sorted(e["reply_to"] for e in replies) == sorted(asked)


# -- real processes ---------------------------------------------------------------------------------------
def _worker(sandbox, db_url, cwd, *, log_level: str = "WARNING", log_to=None):
    """`python -m bot worker`, returned once it is running (it printed its start line: on a busy machine
    starting Python takes longer than the tests wait for a reply). With `log_to`, the rest of its output is
    copied to that file; otherwise the caller reads it."""
    env = bot_env(sandbox, db_url, BOT_REPLY_WORKER="separate", BOT_WORKER_ID="worker-1", BOT_WORKERS="2",
                  FEISHU_HTTP_TIMEOUT="120")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--log-level", log_level, "worker"], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "answering recorded messages" in line:
            break
    else:
        pytest.fail(f"the worker did not start: {''.join(lines)}")
    if log_to is not None:
        threading.Thread(target=copy_output, args=(proc, log_to), daemon=True).start()
    return proc


def test_worker_killed_mid_burst_loses_nothing_and_sends_nothing_twice(sandbox, tmp_path):
    db_url = f"sqlite:///{tmp_path}/bot.db"
    people = sandbox.seed.active_people[:20]
    # Feishu holds every reply until the faults are cleared, so the worker is killed in the middle of sending.
    sandbox.state.faults.inject("/open-apis/im/v1/messages/", times=None, delay=600.0, method="POST")
    web, sender = serve(sandbox, db_url, tmp_path, BOT_REPLY_WORKER="separate")
    acknowledged: list[str] = []

    def burst(group) -> None:
        say_help(sender, group, acknowledged)

    try:
        worker = _worker(sandbox, db_url, tmp_path, log_level="DEBUG")
        burst(people[:8])
        sending = 0
        for line in worker.stdout:  # the worker has taken messages and both its threads are sending replies
            sending += "sending the reply to" in line
            if sending == 2:
                break
        else:
            pytest.fail("the worker never started sending")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert sandbox.state.outbox.entries() == []  # the kill really interrupted work: nothing answered yet
        burst(people[8:14])  # the web process keeps acknowledging while no worker runs
        (held,) = [f["hits"] for f in sandbox.state.faults.describe()]
        sandbox.state.faults.clear()  # the sends the dead worker had made now reach Feishu…
        assert len(sandbox.state.outbox.wait_for(held, timeout=30)) >= held
        worker = _worker(sandbox, db_url, tmp_path, log_level="DEBUG", log_to=tmp_path / "worker.log")
        try:  # it takes back its claims at once
            burst(people[14:])
            try:
                wait_for_replies(sandbox, acknowledged)
            except AssertionError as missing:
                raise AssertionError(f"{missing}\n{inbox_rows(db_url)}\n{(tmp_path / 'worker.log').read_text()}"
                                     ) from None
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=10)
    counts = Counter(e["reply_to"] for e in sandbox.state.outbox.entries())
    assert set(counts) == set(acknowledged) and len(acknowledged) == 20
    assert set(counts.values()) == {1}, counts
    assert Store(db_url).inbox.unfinished() == []
