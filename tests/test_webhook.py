"""The webhook's guards, in order: SDK decrypt + verify, drop bots, dedup, hand off, answer at once."""

from __future__ import annotations

import json

from bot.transports.webhook import create_app
from devkit.sandbox.event_push import EventSender, simple_event, url_verification
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import ENCRYPT_KEY, VERIFICATION_TOKEN, ManualExecutor, card_title


def _sender(client, *, encrypt_key: str = ENCRYPT_KEY, token: str = VERIFICATION_TOKEN) -> EventSender:
    def post(path, body, headers):
        response = client.post(path, data=body, headers=headers)
        return response.status_code, response.data

    return EventSender(post, encrypt_key=encrypt_key, verification_token=token, app_id="cli_sandbox_app")


def test_challenge_plain_is_echoed(settings):
    app = create_app(settings.with_(encrypt_key=""))
    sender = _sender(app.test_client(), encrypt_key="")
    status, body = sender.deliver("/webhook/event", url_verification("abc-123", token=VERIFICATION_TOKEN))
    assert status == 200
    assert json.loads(body) == {"challenge": "abc-123"}


def test_challenge_encrypted_is_decrypted_and_echoed(app):
    sender = _sender(app.test_client())
    status, body = sender.deliver("/webhook/event", url_verification("xyz-789", token=VERIFICATION_TOKEN))
    assert status == 200
    assert json.loads(body) == {"challenge": "xyz-789"}


def test_challenge_with_wrong_token_is_refused(app):
    sender = _sender(app.test_client())
    status, body = sender.deliver("/webhook/event", url_verification("abc", token="not-the-token"))
    assert status == 401
    assert json.loads(body)["msg"] == "invalid verification token"


def test_forged_signature_is_rejected_and_nothing_processed(chat, sandbox):
    person = chat.person("周星河")
    from devkit.sandbox.event_push import message_event

    event = message_event(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                          chat_type="p2p", text="help", token=VERIFICATION_TOKEN, app_id="cli_sandbox_app")
    body, headers = chat.sender.envelope(event)
    headers["X-Lark-Signature"] = "0" * 64
    response = chat.client.post("/webhook/event", data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"msg": "invalid signature"}
    assert sandbox.state.outbox.entries() == []


def test_missing_signature_headers_are_rejected(chat, sandbox):
    person = chat.person("周星河")
    from devkit.sandbox.event_push import message_event

    event = message_event(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                          chat_type="p2p", text="help", token=VERIFICATION_TOKEN, app_id="cli_sandbox_app")
    body, headers = chat.sender.envelope(event)
    for name in ("X-Lark-Signature", "X-Lark-Request-Nonce", "X-Lark-Request-Timestamp"):
        headers.pop(name)
    response = chat.client.post("/webhook/event", data=body, headers=headers)
    assert response.status_code == 401
    assert sandbox.state.outbox.entries() == []


def test_wrong_verification_token_is_rejected(app, sandbox):
    sender = _sender(app.test_client(), token="forged-token")
    person = sandbox.seed.find_person("周星河")
    status, body, _ = sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                 chat_type="p2p", text="help")
    assert status == 401
    assert json.loads(body) == {"msg": "invalid verification token"}
    assert sandbox.state.outbox.entries() == []


def test_body_encrypted_with_another_key_is_a_4xx(app, sandbox):
    sender = _sender(app.test_client(), encrypt_key="some-other-key")
    person = sandbox.seed.find_person("周星河")
    status, body, _ = sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                 chat_type="p2p", text="help")
    assert 400 <= status < 500
    assert b"Traceback" not in body
    assert sandbox.state.outbox.entries() == []


def test_non_json_and_oversized_bodies_get_short_4xx(app):
    client = app.test_client()
    response = client.post("/webhook/event", data=b"not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"msg": "body is not JSON"}
    response = client.post("/webhook/event", data=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    big = b'{"encrypt": "' + b"A" * (1024 * 1024 + 10) + b'"}'
    response = client.post("/webhook/event", data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_event_type_we_did_not_ask_for_still_gets_200(app):
    sender = _sender(app.test_client())
    status, body = sender.deliver("/webhook/event", simple_event(
        "contact.user.updated_v3", {"object": {}}, token=VERIFICATION_TOKEN, app_id="cli_sandbox_app"))
    assert status == 200


def test_webhook_answers_before_any_work_is_done(settings, sandbox):
    executor = ManualExecutor()
    app = create_app(settings, executor=executor)
    sender = _sender(app.test_client())
    person = sandbox.seed.find_person("周星河")
    status, body, _ = sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                 chat_type="p2p", text="帮助")
    assert status == 200
    assert json.loads(body) == {"msg": "success"}
    assert sandbox.state.outbox.entries() == []  # acknowledged; nothing sent yet
    assert executor.run_all() == 1
    assert [card_title(e) for e in sandbox.state.outbox.entries()] == ["我能做什么"]


def test_same_event_delivered_twice_is_answered_once(chat, sandbox):
    first = chat.say("周星河", "help", event_id="evt-dup-1", message_id="om_dup_a")
    second = chat.say("周星河", "help", event_id="evt-dup-1", message_id="om_dup_a")
    assert len(first) == 1
    assert second == []
    assert len(sandbox.state.requests.matching("/im/v1/messages", "POST")) == 1  # sent once, not just kept once


def test_same_message_under_a_new_event_id_is_answered_once(chat, sandbox):
    first = chat.say("周星河", "help", event_id="evt-m-1", message_id="om_same_message")
    second = chat.say("周星河", "help", event_id="evt-m-2", message_id="om_same_message")
    assert len(first) == 1
    assert second == []
    assert len(sandbox.state.requests.matching("/im/v1/messages", "POST")) == 1


def test_reply_carries_an_idempotency_uuid_from_the_message_id(chat):
    entries = chat.say("周星河", "help", message_id="om_uuid_check")
    assert entries[0]["uuid"].startswith("om_uuid_check")
    assert entries[0]["reply_to"] == "om_uuid_check"


def test_messages_from_bots_are_dropped(chat, sandbox):
    person = chat.person("周星河")
    status, _, _ = chat.sender.say(sender_open_id=sandbox.seed.bot_open_id, chat_id=p2p_chat_id(
        person.open_id), chat_type="p2p", text="help")
    assert status == 200
    from devkit.sandbox.event_push import message_event

    event = message_event(sender_open_id="ou_other_bot", chat_id=p2p_chat_id(person.open_id),
                          chat_type="p2p", text="help", token=VERIFICATION_TOKEN, app_id="cli_sandbox_app",
                          sender_type="app")
    status, _ = chat.sender.deliver("/webhook/event", event)
    assert status == 200
    assert sandbox.state.outbox.entries() == []


def test_bot_added_to_group_greets_once(chat, sandbox):
    group = sandbox.seed.chat("eng_weekly")
    for event_id in ("evt-added-1", "evt-added-1", "evt-added-2"):
        status, _ = chat.sender.deliver("/webhook/event", simple_event(
            "im.chat.member.bot.added_v1", {"chat_id": group.chat_id, "name": group.name},
            token=VERIFICATION_TOKEN, app_id="cli_sandbox_app", event_id=event_id))
        assert status == 200
    assert len(sandbox.state.outbox) == 1
    assert len(sandbox.state.requests.matching("/im/v1/messages", "POST")) == 1
    entry = sandbox.state.outbox.entries()[0]
    assert entry["receive_id"] == group.chat_id
    assert "OKR 助手" in card_title(entry)


def test_person_opening_a_chat_is_greeted(chat, sandbox):
    person = chat.person("陈立")
    status, _ = chat.sender.deliver("/webhook/event", simple_event(
        "im.chat.access_event.bot_p2p_chat_entered_v1",
        {"chat_id": p2p_chat_id(person.open_id), "operator_id": {"open_id": person.open_id}},
        token=VERIFICATION_TOKEN, app_id="cli_sandbox_app"))
    assert status == 200
    assert [e["receive_id"] for e in sandbox.state.outbox.entries()] == [person.open_id]


def test_healthz(app):
    assert app.test_client().get("/healthz").get_json() == {"ok": True, "app_id": "cli_sandbox_app"}  # doctor reads it


def _resigned(sender, payload, timestamp):
    """A request exactly as Feishu signs it, with the given timestamp (a valid signature)."""
    from devkit.sandbox.event_push import encrypt, sign

    body = json.dumps({"encrypt": encrypt(json.dumps(payload).encode(), ENCRYPT_KEY)}).encode()
    return body, {"Content-Type": "application/json", "X-Lark-Request-Timestamp": str(timestamp),
                  "X-Lark-Request-Nonce": "n1", "X-Lark-Signature": sign(str(timestamp), "n1", ENCRYPT_KEY, body)}


def test_a_replay_older_than_the_dedup_window_is_refused(chat, sandbox):
    import time

    from devkit.sandbox.event_push import message_event

    person = chat.person("周星河")
    event = message_event(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id), chat_type="p2p",
                          text="help", token=VERIFICATION_TOKEN, app_id="cli_sandbox_app")
    body, headers = _resigned(chat.sender, event, int(time.time()) - 13 * 3600)
    response = chat.client.post("/webhook/event", data=body, headers=headers)
    assert response.status_code == 401 and response.get_json() == {"msg": "request too old (replay?)"}
    body, headers = _resigned(chat.sender, event, int(time.time()) + 3600)
    response = chat.client.post("/webhook/event", data=body, headers=headers)
    assert response.status_code == 401 and response.get_json() == {"msg": "timestamp in the future"}
    assert sandbox.state.outbox.entries() == []
    body, headers = _resigned(chat.sender, event, int(time.time()) - 60)  # a normal retry a minute later
    assert chat.client.post("/webhook/event", data=body, headers=headers).status_code == 200
    assert len(sandbox.state.outbox) == 1


def test_errors_never_leak_a_stack_trace(app):
    client = app.test_client()
    for body in (b'{"encrypt": "not base64!"}', b'{"schema": "2.0"}', b'{"encrypt": ""}', b"{}"):
        response = client.post("/webhook/event", data=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, body
        assert b"Traceback" not in response.data and b".py" not in response.data
        assert len(response.data) < 200
