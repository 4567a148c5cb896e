"""The bot as real processes for tests: `python -m bot serve` and `python -m bot worker` on the sandbox,
a burst of signed commands, and waiting until every acknowledged command has its reply."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable

from devkit.sandbox.event_push import EventSender, http_post
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import APP_ID, APP_SECRET, ENCRYPT_KEY, VERIFICATION_TOKEN


def bot_env(sandbox, db_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET,
            "FEISHU_VERIFICATION_TOKEN": VERIFICATION_TOKEN, "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
            "FEISHU_DOMAIN": sandbox.url, "DATABASE_URL": db_url, **extra}


def serve(sandbox, db_url: str, cwd, **extra: str) -> tuple[subprocess.Popen, EventSender]:
    """`python -m bot serve` on a free port, and a sender of signed, encrypted events to it."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--log-level", "WARNING", "serve", "--port", "0"],
                            env=bot_env(sandbox, db_url, **extra), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("Webhook: "), line
    base = line.split()[1].rsplit("/webhook/event", 1)[0]
    return proc, EventSender(http_post(base, timeout=5), encrypt_key=ENCRYPT_KEY,
                             verification_token=VERIFICATION_TOKEN, app_id=APP_ID)


def say_help(sender: EventSender, people: Iterable, acknowledged: list[str]) -> None:
    """Each person sends 帮助 in their direct chat; the message ids the webhook acknowledged are kept."""
    for person in people:
        status, _, payload = sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                        chat_type="p2p", text="帮助")
        assert status == 200
        acknowledged.append(payload["event"]["message"]["message_id"])


def wait_for_replies(sandbox, acknowledged: list[str], *, timeout: float = 30) -> None:
    """Wait (on the sandbox outbox's condition) until every acknowledged command has its reply."""
    while True:
        replied = {e["reply_to"] for e in sandbox.state.outbox.entries()}
        if set(acknowledged) <= replied:
            return
        seen = len(sandbox.state.outbox)
        got = sandbox.state.outbox.wait_for(seen + 1, timeout=timeout)
        assert len(got) > seen, f"missing replies: {set(acknowledged) - replied}"


def copy_output(proc: subprocess.Popen, path) -> None:
    """Copy what a process prints to a file, line by line, until it exits (run on a thread)."""
    with open(path, "a") as out:
        for line in proc.stdout:
            out.write(line)
            out.flush()


def inbox_rows(db_url: str) -> str:
    """The inbox table, one line a message (to explain a test that waited in vain)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT message_id, status, claimed_by, claimed_at, received_at FROM inbox "
                                     "ORDER BY received_at")).all()
    finally:
        engine.dispose()
    return "inbox:\n" + "\n".join(" ".join(str(v) for v in row) for row in rows)


def longconn(sandbox, db_url: str, cwd, log_path, **extra: str) -> subprocess.Popen:
    """`python -m bot longconn` configured only by the environment: the app's id and secret, FEISHU_DOMAIN (the
    sandbox, which serves /callback/ws/endpoint and the WebSocket) and the database; no verification token or
    encrypt key (the long connection needs neither). Its output goes to `log_path` (read it when a wait fails)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "BOT_"))}
    env.update({"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_DOMAIN": sandbox.url,
                "DATABASE_URL": db_url, **extra})
    with open(log_path, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot", "longconn"], env=env, cwd=cwd, stdout=out,
                                stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    """Terminate a process and wait for it (killed if it does not end)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
