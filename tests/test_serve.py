"""`python -m bot serve` as a real process, configured only by the environment, against the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys

from devkit.sandbox.event_push import EventSender, http_post
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import APP_ID, APP_SECRET, ENCRYPT_KEY, VERIFICATION_TOKEN


def test_serve_command_answers_through_any_emulator_at_feishu_domain(sandbox, tmp_path):
    env = {
        **os.environ,
        "FEISHU_APP_ID": APP_ID,
        "FEISHU_APP_SECRET": APP_SECRET,
        "FEISHU_VERIFICATION_TOKEN": VERIFICATION_TOKEN,
        "FEISHU_ENCRYPT_KEY": ENCRYPT_KEY,
        "FEISHU_DOMAIN": sandbox.url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.db",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--log-level", "WARNING", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        line = proc.stdout.readline()  # "Webhook: http://127.0.0.1:PORT/webhook/event ..."
        assert line.startswith("Webhook: "), line
        base = line.split()[1].rsplit("/webhook/event", 1)[0]
        sender = EventSender(http_post(base), encrypt_key=ENCRYPT_KEY, verification_token=VERIFICATION_TOKEN,
                             app_id=APP_ID)
        person = sandbox.seed.person("cto")
        status, body, payload = sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                           chat_type="p2p", text="查人 吴桐")
        assert status == 200, body
        [entry] = sandbox.state.outbox.wait_for(1, 10.0)
        assert entry["reply_to"] == payload["event"]["message"]["message_id"]
        assert entry["content"]["header"]["title"]["content"] == "吴桐"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_without_configuration_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEISHU_")}
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "FEISHU_APP_ID" in result.stderr and "FEISHU_APP_SECRET" in result.stderr


def test_scheduler_process_loads_subscriptions_and_stops_cleanly(sandbox, tmp_path):
    import signal

    from bot.store import KIND_OKR_REMINDER, Store

    url = f"sqlite:///{tmp_path}/bot.db"
    Store(url).subscriptions.add(kind=KIND_OKR_REMINDER, target=sandbox.seed.chat("eng_weekly").chat_id,
                                created_by="ou_x", schedule={"minute": "0", "hour": "17", "day": "*", "month": "*",
                                                             "day_of_week": "fri", "timezone": "Asia/Shanghai"})
    env = {**os.environ, "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_DOMAIN": sandbox.url,
           "DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "scheduler"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "scheduler running" in line:
                break
        assert "scheduler running: 1 subscription(s)" in lines[-1], "".join(lines)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as conn:
        ids = {row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
    assert "sub:1" in ids  # persisted in the job store for the next start
