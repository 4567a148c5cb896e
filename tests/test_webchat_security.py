"""The demo's chat page refuses what another web page could make the person's browser send it (issue 12,
point 9): a request for a foreign host name (DNS rebinding onto 127.0.0.1), a state change that is not a
same-origin JSON request (a cross-site form or `text/plain` POST needs no CORS preflight), and a click whose
value no control on that card sends (a forged command). Through the page's Flask app and the real demo."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.cardtext import buttons_of, callback_value
from devkit.demo import start_demo
from devkit.webchat.app import create_webchat, is_card_value
from tests.conftest import NOW
from tests.webchat_fixtures import all_cards, okr_card

FORGED = {"cmd": "roster", "args": ["all"]}


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    session, _, _ = start_demo(scheduler=True, clock=lambda: NOW)
    yield session
    session.scheduler.stop()


@pytest.fixture
def api(demo: Any) -> Any:
    return create_webchat(demo).test_client()  # Host: localhost, port 80, as the page's own address


def sent(demo: Any) -> int:
    """What the bot has sent so far: every send, reply and card update it asked the sandbox for."""
    return sum(demo.state.requests.count("/im/v1/messages", method) for method in ("POST", "PATCH", "PUT")) + \
        demo.state.requests.count("/interactive/v1/card/update", "POST")


def say(api: Any, demo: Any, person: Any, text: str) -> dict[str, Any]:
    """Say `text` in `person`'s direct chat through the page; returns the bot's reply to it."""
    before = len(demo.state.outbox)
    response = api.post("/api/say", json={"open_id": person.open_id, "chat_id": demo.chat_of(person)[0],
                                          "text": text})
    assert response.status_code == 200, response.get_json()
    asked = response.get_json()["message_id"]
    count = 1
    while True:
        entries = demo.state.outbox.wait_for(count, 15, since=before)
        assert len(entries) >= count, f"no reply to {text!r}"
        reply = next((e for e in entries if e.get("reply_to") == asked), None)
        if reply is not None:
            return reply
        count += 1


# ---- Host -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", [
    "evil.example", "evil.example:80", "rebind.127.0.0.1.nip.io", "localhost.evil.example", "127.0.0.1:8766",
    "localhost:80@evil.example", "127.0.0.2", "",
])
def test_a_foreign_host_is_refused_on_every_request(api, host):
    for response in (api.get("/api/setup", headers={"Host": host}), api.get("/", headers={"Host": host}),
                     api.post("/api/say", json={"text": "help"}, headers={"Host": host})):
        assert response.status_code == 403
        assert "loopback address" in response.get_json()["error"]


@pytest.mark.parametrize("base_url", ["http://localhost", "http://127.0.0.1", "http://[::1]", "http://LOCALHOST:80",
                                      "http://127.0.0.1:8765"])
def test_the_pages_own_address_is_served(demo, base_url):
    client = create_webchat(demo).test_client()
    assert client.get("/api/setup", base_url=base_url).status_code == 200


# ---- same-origin JSON -------------------------------------------------------------------------------------
def test_a_text_plain_or_form_post_to_run_jobs_is_refused_and_runs_nothing(api, demo):
    manager = demo.seed.person("cto")
    say(api, demo, manager, "digest on")  # a digest is due as soon as the jobs run
    before = sent(demo)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        response = api.post("/api/run-jobs", data="{}", content_type=content_type)
        assert response.status_code == 400, content_type
        assert "application/json" in response.get_json()["error"]
    assert sent(demo) == before  # no job ran
    # The page's own request runs them: the refusals above were the only thing stopping the digest.
    assert api.post("/api/run-jobs", json={}).status_code == 200
    deadline = time.monotonic() + 120  # the runs it started, once they have ended (however busy the machine)
    runs = api.get("/api/jobs?wait=5").get_json()["runs"]
    while any(run["status"] == "running" for run in runs) and time.monotonic() < deadline:
        runs = api.get("/api/jobs?wait=5").get_json()["runs"]
    assert any(run["status"] == "sent" for run in runs), runs
    assert sent(demo) > before


def test_every_post_endpoint_refuses_a_non_json_body(demo):
    """Each state-changing route, present or future, answers a cross-site-sendable body with a refusal."""
    app = create_webchat(demo)
    client = app.test_client()
    posts = [rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())]
    assert {"/api/say", "/api/click", "/api/run-jobs"} <= set(posts)
    before = sent(demo)
    for path in posts:
        response = client.post(path, data=json.dumps({"text": "help"}), content_type="text/plain")
        assert response.status_code == 400 and "application/json" in response.get_json()["error"], path
    assert sent(demo) == before


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed frame or a file:// page
    {"Origin": "http://localhost:8080"},  # another port on loopback is another origin
    {"Origin": "https://localhost"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
])
def test_a_cross_origin_json_post_is_refused(api, demo, headers):
    ceo = demo.seed.ceo
    before = len(demo.state.outbox)
    response = api.post("/api/say", json={"open_id": ceo.open_id, "chat_id": demo.chat_of(ceo)[0], "text": "help"},
                        headers=headers)
    assert response.status_code == 403
    assert "cross-origin" in response.get_json()["error"]
    assert len(demo.state.outbox) == before  # the message was not even stored, let alone answered


def test_a_same_origin_json_post_from_the_page_is_accepted(api, demo):
    ceo = demo.seed.ceo
    response = api.post("/api/say", json={"open_id": ceo.open_id, "chat_id": demo.chat_of(ceo)[0], "text": "help"},
                        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200


# ---- clicks -----------------------------------------------------------------------------------------------
def test_a_click_with_a_value_not_on_the_card_is_refused_and_never_reaches_the_bot(api, demo):
    ceo = demo.seed.ceo
    card = say(api, demo, ceo, "okr")
    assert not is_card_value(card["content"], FORGED)
    before_outbox, before_sent = len(demo.state.outbox), sent(demo)
    for value in (FORGED, {}, {**callback_value(buttons_of(card["content"])[0]), "admin": True}):
        response = api.post("/api/click", json={"open_id": ceo.open_id, "message_id": card["message_id"],
                                                "value": value})
        assert response.status_code == 400, value
        assert "not one a control on this card sends" in response.get_json()["error"]
    assert len(demo.state.outbox) == before_outbox and sent(demo) == before_sent
    assert demo.state.messages.content(card["message_id"]) == card["content"]  # the card did not change


def test_a_click_on_a_real_button_of_the_card_is_accepted(api, demo):
    ceo = demo.seed.ceo
    card = say(api, demo, ceo, "okr")
    value = next(v for b in buttons_of(card["content"]) if (v := callback_value(b)) is not None)
    # The page sends the value as JSON from the browser: key order may differ, the value is the same.
    reordered = dict(reversed(list(value.items())))
    response = api.post("/api/click", json={"open_id": ceo.open_id, "message_id": card["message_id"],
                                            "value": reordered}, headers={"Origin": "http://localhost"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["card_updated"] is True
    assert demo.state.messages.content(card["message_id"]) != card["content"]


def test_a_click_on_a_card_in_a_chat_the_person_is_not_in_is_refused(api, demo):
    ceo, outsider = demo.seed.ceo, demo.seed.person("cto")
    card = say(api, demo, ceo, "okr")
    value = next(v for b in buttons_of(card["content"]) if (v := callback_value(b)) is not None)
    before = len(demo.state.outbox)
    response = api.post("/api/click", json={"open_id": outsider.open_id, "message_id": card["message_id"],
                                            "value": value})
    assert response.status_code == 400
    assert "not a chat of this person" in response.get_json()["error"]
    assert len(demo.state.outbox) == before


def test_a_form_submit_with_its_values_still_reaches_the_bot(api, demo):
    """The page passes a form's values and a control's name alongside the submit button's value."""
    ceo = demo.seed.ceo
    card = {"schema": "2.0", "body": {"elements": [{"tag": "form", "name": "f", "elements": [
        {"tag": "input", "name": "city"},
        {"tag": "button", "name": "save", "form_action_type": "submit", "text": {"tag": "plain_text", "content": "OK"}},
    ]}]}}
    message = demo.state.messages.register_inbound(sender_open_id=demo.seed.bot_open_id, chat_id=demo.chat_of(ceo)[0],
                                                  chat_type="p2p", msg_type="interactive", content=json.dumps(card))
    response = api.post("/api/click", json={"open_id": ceo.open_id, "message_id": message["message_id"], "value": {},
                                            "form_value": {"city": "杭州"}, "name": "save"})
    assert response.status_code == 200, response.get_json()
    forged = api.post("/api/click", json={"open_id": ceo.open_id, "message_id": message["message_id"],
                                          "value": FORGED, "form_value": {"city": "杭州"}})
    assert forged.status_code == 400


# ---- which values a card can send (what the page's renderer sends for each control) ----------------------
def _button(value: Any) -> dict[str, Any]:
    return {"tag": "button", "behaviors": [{"type": "callback", "value": value}]}


MENU_CARD = {"schema": "2.0", "body": {"elements": [
    {"tag": "overflow", "options": [{"text": {"content": "a"}, "value": "a"}, {"text": {"content": "b"}, "value": 2}]},
    {"tag": "select_static", "options": [{"value": "x"}, {"value": "y"}]},
    {"tag": "multi_select_static", "options": [{"value": "m1"}, {"value": "m2"}]},
    {"tag": "column_set", "columns": [{"tag": "column", "elements": [_button({"cmd": "page", "page": 2})]}]},
    {"tag": "action", "actions": [{"tag": "button", "value": {"cmd": "v1"}}]},  # JSON 1.0 value
    {"tag": "date_picker"},
    {"tag": "button", "behaviors": [{"type": "open_url", "default_url": "https://x"}]},
]}}


@pytest.mark.parametrize(("value", "ok"), [
    ({"cmd": "page", "page": 2}, True),
    ({"page": 2, "cmd": "page"}, True),
    ({"cmd": "page", "page": 3}, False),
    ({"cmd": "page", "page": "2"}, False),
    ({"cmd": "v1"}, True),
    ({"option": "a"}, True),
    ({"option": 2}, True),  # an overflow sends its option's value as it is
    ({"option": "x"}, True),
    ({"option": "z"}, False),
    ({"option": ["m1", "m2"]}, True),
    ({"option": ["m1", "x"]}, False),
    ({}, True),  # the date picker (no callback of its own)
    (FORGED, False),
])
def test_which_values_a_card_can_send(value, ok):
    assert is_card_value(MENU_CARD, value) is ok


def test_the_okr_card_sends_its_buttons_values_and_nothing_else():
    card = okr_card()
    values = [v for b in buttons_of(card) if (v := callback_value(b)) is not None]
    assert values and all(is_card_value(card, v) for v in values)
    assert not is_card_value(card, FORGED)
    assert not is_card_value(card, {})  # no form, no picker: an empty value is not a press of this card
    assert not is_card_value({"text": "okr"}, {})  # a text message has nothing to press


def test_a_link_button_sends_nothing_and_only_a_form_submit_sends_an_empty_value():
    login = all_cards()["login"]  # its button opens the authorisation page: no callback at all
    assert buttons_of(login) and not is_card_value(login, {})
    submit = {"tag": "button", "form_action_type": "submit", "text": {"content": "OK"}}
    assert is_card_value({"body": {"elements": [{"tag": "form", "elements": [submit]}]}}, {})
    assert not is_card_value({"body": {"elements": [{**submit, "form_action_type": "reset"}]}}, {})
