"""A webhook that checks nothing does not start; unsigned events cannot be replayed; clicks run once even
after a restart; malformed bodies get a short 4xx; a refused request is one WARNING line, not a traceback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time

from bot.inbound import InlineExecutor
from bot.transports.webhook import check_webhook_settings, create_app
from devkit.sandbox.event_push import EventSender, card_action_event, message_event
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import APP_ID, APP_SECRET, NOW, VERIFICATION_TOKEN

DAY_MS = 86_400_000


def _env_without_feishu(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "BOT_"))}
    return {**env, "FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET,
            "FEISHU_DOMAIN": "http://127.0.0.1:9", **extra}


def test_serve_without_a_verification_token_refuses_to_start(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0"], env=_env_without_feishu(),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "FEISHU_VERIFICATION_TOKEN" in result.stderr
    assert "Encryption Strategy" in result.stderr  # where it is in the developer console
    assert "Webhook:" not in result.stdout  # never served


def test_gunicorn_without_a_verification_token_stops_with_exit_code_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:bot.gunicorn_config", "--bind", "127.0.0.1:0",
         "bot.wsgi:app"], env=_env_without_feishu(DATABASE_URL=f"sqlite:///{tmp_path}/bot.db"), cwd=tmp_path,
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "FEISHU_VERIFICATION_TOKEN" in result.stderr


def test_without_an_encrypt_key_the_start_up_warns_that_requests_are_unsigned(settings):
    assert check_webhook_settings(settings) == []
    [warning] = check_webhook_settings(settings.with_(encrypt_key=""))
    assert "FEISHU_ENCRYPT_KEY" in warning and "unsigned" in warning


def _plain_app(settings, **changes):
    """A bot with a verification token but no Encrypt Key: events arrive as plain, unsigned JSON."""
    return create_app(settings.with_(encrypt_key="", **changes), executor=InlineExecutor(), clock=lambda: NOW)


def _post(client, path: str, payload: dict) -> tuple[int, dict]:
    response = client.post(path, data=json.dumps(payload, ensure_ascii=False).encode(),
                           headers={"Content-Type": "application/json"})
    return response.status_code, response.get_json(silent=True) or {}


def test_an_unsigned_event_older_than_the_dedup_window_is_refused(settings, sandbox):
    client = _plain_app(settings).test_client()
    person = sandbox.seed.find_person("周星河")
    now_ms = int(time.time() * 1000)

    def event(create_time_ms: int) -> dict:
        return message_event(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id), chat_type="p2p",
                             text="help", token=VERIFICATION_TOKEN, app_id=APP_ID, create_time_ms=create_time_ms)

    assert _post(client, "/webhook/event", event(now_ms - 30 * DAY_MS)) == (401, {"msg": "event too old (replay?)"})
    assert _post(client, "/webhook/event", event(now_ms + DAY_MS)) == (401, {"msg": "event time in the future"})
    undated = event(now_ms)
    del undated["header"]["create_time"]
    assert _post(client, "/webhook/event", undated)[0] == 401
    assert sandbox.state.requests.count("/im/v1/messages") == 0  # nothing sent for any of them
    # Feishu's last retry comes ~7 h after the event: still answered (once)
    assert _post(client, "/webhook/event", event(now_ms - 7 * 3600 * 1000))[0] == 200
    assert sandbox.state.requests.count("/im/v1/messages", "POST") == 1


def test_a_plain_json_card_click_without_the_token_gets_nothing(settings, sandbox):
    """The attack that worked: no Encrypt Key, a hand-written card.action.trigger naming an admin as operator."""
    admin = sandbox.seed.person("guofang").open_id
    client = _plain_app(settings, admins=frozenset({admin})).test_client()
    click = card_action_event(operator_open_id=admin, value={"cmd": "roster", "args": ["all"], "locale": "en_us"},
                              message_id="om_x", chat_id=p2p_chat_id(admin), token="", app_id=APP_ID)
    del click["header"]["token"]
    status, answer = _post(client, "/webhook/card", click)
    assert status == 401 and "card" not in answer
    assert sandbox.state.requests.count("/ehr/") == 0  # the roster was never even read
    click["header"]["token"] = "guessed"
    assert _post(client, "/webhook/card", click)[0] == 401


def test_a_replayed_card_click_runs_once_even_after_a_restart(settings, sandbox, tmp_path):
    settings = settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db")
    person = sandbox.seed.find_person("周星河")
    click = card_action_event(operator_open_id=person.open_id, value={"cmd": "okr", "locale": "en_us"},
                              message_id="om_click", chat_id=p2p_chat_id(person.open_id), token=VERIFICATION_TOKEN,
                              app_id=APP_ID, event_id="evt-click-replayed")

    def deliver(app) -> dict:
        client = app.test_client()
        sender = EventSender(lambda path, body, headers: (lambda r: (r.status_code, r.data))(
            client.post(path, data=body, headers=headers)), encrypt_key=settings.encrypt_key,
            verification_token=VERIFICATION_TOKEN, app_id=APP_ID)
        status, body = sender.deliver("/webhook/card", click)
        assert status == 200, body
        return json.loads(body)

    first = deliver(create_app(settings, executor=InlineExecutor(), clock=lambda: NOW))
    assert "card" in first
    okr_reads = sandbox.state.requests.count("/okr/")
    assert okr_reads > 0
    again = deliver(create_app(settings, executor=InlineExecutor(), clock=lambda: NOW))  # a restarted process
    assert "card" not in again
    assert sandbox.state.requests.count("/okr/") == okr_reads  # the command did not run again


def test_deeply_nested_json_is_a_short_400_before_anything_else(app, settings):
    for client in (app.test_client(), _plain_app(settings).test_client()):
        for body in (b"[" * 200_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
            response = client.post("/webhook/event", data=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400
            assert response.get_json() == {"msg": "body nested too deeply"}


def test_a_forged_request_is_one_warning_line_not_a_traceback(chat, sandbox, caplog):
    person = chat.person("周星河")
    event = message_event(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id), chat_type="p2p",
                          text="help", token=VERIFICATION_TOKEN, app_id=APP_ID)
    body, headers = chat.sender.envelope(event)
    headers["X-Lark-Signature"] = "0" * 64
    garbage = json.dumps({"encrypt": "bm90IHRoZSByaWdodCBrZXk="}).encode()
    with caplog.at_level(logging.DEBUG):
        assert chat.client.post("/webhook/event", data=body, headers=headers).status_code == 401
        timestamp, nonce = str(int(time.time())), "n"
        from devkit.sandbox.event_push import sign

        signed_garbage = {"Content-Type": "application/json", "X-Lark-Request-Timestamp": timestamp,
                          "X-Lark-Request-Nonce": nonce,
                          "X-Lark-Signature": sign(timestamp, nonce, chat.sender.encrypt_key, garbage)}
        assert chat.client.post("/webhook/event", data=garbage, headers=signed_garbage).status_code == 400
    refused = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(refused) == 2, [r.getMessage() for r in refused]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in refused)
    assert all("refused /webhook/event" in r.getMessage() for r in refused)
