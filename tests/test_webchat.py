"""The demo's chat page, end to end: the real demo (sandbox + bot + scheduler, as `python -m bot demo` starts
them) serving the page, driven in headless Chromium (tests/browser.py), plus the page's JSON API through
Flask's test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.demo import start_demo
from devkit.webchat.app import create_webchat
from devkit.webchat.driver import PageDriver
from tests.conftest import NOW, demo_with_page


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    with demo_with_page() as session:
        yield session


@pytest.fixture
def chat(browser: Any, demo: Any) -> Iterator[PageDriver]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    driver = PageDriver(page, demo.page_url)
    yield driver
    assert driver.errors == [], f"the page logged errors: {driver.errors}"
    page.close()


def as_person(chat: PageDriver, demo: Any, key: str, group: str = "") -> Any:
    person = demo.seed.person(key)
    chat.become(person.open_id, demo.seed.chat(group).chat_id if group else demo.chat_of(person)[0])
    return person


def test_okr_card_and_next_period_updates_it_in_place(chat, demo):
    person = as_person(chat, demo, "cto")
    answer = chat.send("okr")
    card = answer.locator(".fc-card")
    header = card.locator(".fc-header").inner_text()  # title and period
    assert person.en_name in header
    assert card.locator(".fc-markdown").count() > 0  # objectives are markdown blocks
    message_id = answer.get_attribute("data-message-id")

    updated = chat.press(answer, "Next period").locator(".fc-card")
    new_header = updated.locator(".fc-header").inner_text()
    assert new_header != header and person.en_name in new_header
    # The sandbox holds the card the page shows: the update came from the bot's answer to the callback.
    stored = demo.state.messages.content(message_id)["header"]
    assert stored["subtitle"]["content"] in new_header and stored["subtitle"]["content"] not in header


def test_group_remind_list(chat, demo):
    as_person(chat, demo, "cto", group="eng_weekly")
    assert "@" in chat.page.inner_text("#chat-subtitle")  # the page says messages here mention the bot
    subscribed = chat.send("remind okr fri 17:00")
    assert subscribed.locator(".fc-card").count() == 1
    listed = chat.send("remind list")
    text = listed.inner_text()
    assert "17:00" in text
    # It went to the group, where everyone in it sees it, not to the CTO's direct chat.
    chat_id = demo.seed.chat("eng_weekly").chat_id
    assert demo.state.messages.get(listed.get_attribute("data-message-id"))["chat_id"] == chat_id


def test_mention_picker_resolves_the_picked_person(chat, demo):
    page = chat.page
    as_person(chat, demo, "ceo")
    target = demo.seed.person("lixing")
    page.fill("#input", "whois ")
    page.type("#input", "@" + target.name[:1])
    option = page.locator(f"#mention-list .mention-option[data-open-id='{target.open_id}']")
    option.wait_for()
    option.dispatch_event("mousedown")
    assert page.input_value("#input") == f"whois @{target.name} "
    sent = chat.sent_count()
    page.press("#input", "Enter")
    answer = chat.answer_to_sent(sent)
    mine = page.locator(".msg.mine").last
    assert mine.locator(".mention").inner_text() == "@" + target.name  # shown as a name, not a placeholder
    assert target.name in answer.inner_text()


def test_run_due_jobs_delivers_the_manager_digest_with_a_chart(chat, demo):
    manager = as_person(chat, demo, "cto")
    on = chat.send("digest on")
    assert on.locator(".fc-card").count() == 1
    charts = chat.page.locator(".msg.from-bot .fc-chart")
    before = charts.count()
    report = chat.run_jobs()
    assert "sent" in report and "error" not in report
    # Wait for the digest's chart itself, drawn or given up on: when the jobs finish the page may still be
    # loading the chat's history or showing the answer to `digest on`, so the last bot message need not be it.
    chat.page.wait_for_function(
        "n => { const c = document.querySelectorAll('.msg.from-bot .fc-chart')[n];"
        " return c && c.dataset.chart !== 'pending'; }", arg=before, timeout=20_000)
    chart = charts.nth(before)
    assert chart.get_attribute("data-chart") == "rendered"  # VChart drew it once the box had a size
    assert chart.locator("canvas").count() >= 1
    digest_id = chart.evaluate("c => c.closest('.msg').dataset.messageId")
    assert demo.state.messages.get(digest_id)["chat_id"] == demo.chat_of(manager)[0]


# ---- the page's JSON API ----------------------------------------------------------------------------------
@pytest.fixture
def api(demo: Any) -> Any:
    return create_webchat(demo).test_client()


def test_setup_lists_people_groups_with_the_bot_and_direct_chats(api, demo):
    data = api.get("/api/setup").get_json()
    assert {g["chat_id"] for g in data["groups"]} == {c.chat_id for c in demo.seed.chats if c.bot_member}
    assert data["me"] == demo.seed.ceo.open_id
    assert all(p["open_id"] in data["direct_chats"] for p in data["people"])
    assert data["scheduler"] is True


@pytest.mark.parametrize(("payload", "reason"), [
    ({"open_id": "ou_nobody", "chat_id": "x", "text": "help"}, "unknown person"),
    ({"text": "help"}, "unknown person"),
    ({"open_id": "CEO", "chat_id": "all_hands", "text": ""}, "text must be"),
    ({"open_id": "CEO", "chat_id": "all_hands", "text": "x" * 4001}, "text must be"),
    ({"open_id": "CEO", "chat_id": "oc_not_a_chat", "text": "help"}, "not a chat of this person"),
])
def test_say_rejects_bad_input_with_a_reason(api, demo, payload, reason):
    if payload.get("open_id") == "CEO":
        payload = {**payload, "open_id": demo.seed.ceo.open_id}
    if payload.get("chat_id") == "all_hands":
        payload = {**payload, "chat_id": demo.seed.chat("all_hands").chat_id}
    response = api.post("/api/say", json=payload)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]


def test_say_refuses_a_group_the_person_is_not_in(api, demo):
    outsider = next(p for p in demo.seed.people
                    if p.is_active and p.open_id not in demo.seed.chat("eng_weekly").member_open_ids)
    response = api.post("/api/say", json={"open_id": outsider.open_id, "chat_id": demo.seed.chat("eng_weekly").chat_id,
                                          "text": "remind list"})
    assert response.status_code == 400


def test_click_needs_a_known_message_and_an_object_value(api, demo):
    ceo = demo.seed.ceo.open_id
    assert api.post("/api/click", json={"open_id": ceo, "message_id": "om_nope", "value": {}}).status_code == 400
    assert api.post("/api/click", data="not json").status_code == 400


def test_messages_long_poll_returns_at_once_when_something_was_sent(api, demo):
    chat_id = demo.chat_of(demo.seed.ceo)[0]
    cursor = api.get(f"/api/messages?chat_id={chat_id}").get_json()["cursor"]
    payload = demo.post(demo.seed.ceo, "help")
    demo.state.outbox.wait_for(1, 10, since=cursor)
    data = api.get(f"/api/messages?chat_id={chat_id}&after={cursor}&wait=25").get_json()
    assert data["cursor"] > cursor
    ids = [m["message_id"] for m in data["messages"]]
    asked = payload["event"]["message"]["message_id"]
    assert asked in ids
    assert any(m["reply_to"] == asked and m["from"] == "bot" and "card" in m for m in data["messages"])


def test_run_jobs_without_a_scheduler_is_a_clear_conflict():
    session, _, _ = start_demo(scheduler=False, clock=lambda: NOW)
    response = create_webchat(session).test_client().post("/api/run-jobs")
    assert response.status_code == 409
    assert "without a scheduler" in response.get_json()["error"]


def test_terminal_demo_runs_due_jobs_too(demo):
    from devkit.demo import _command

    leaders = {p.leader_open_id for p in demo.seed.people if p.leader_open_id}
    manager = next(p for p in demo.seed.people if p.open_id in leaders and p.key not in ("cto", "ceo"))
    demo.person, demo.group = manager, None
    demo.say("digest on")
    out = _command(demo, "/jobs")
    assert f"Manager digest → {manager.name}: sent" in out
    assert "error" not in out
    digests = [m for m in demo.state.messages.in_chat(demo.chat_of(manager)[0]) if m.get("msg_type") == "interactive"]
    assert len(digests) >= 2  # the answer to `digest on`, then the digest itself


def test_python_m_bot_demo_prints_and_serves_the_chat_page():
    """The README's first command: `python -m bot demo` (no terminal attached) prints the page's address
    and serves it until stopped."""
    import subprocess
    import sys
    import urllib.request

    proc = subprocess.Popen([sys.executable, "-m", "bot", "demo", "--page-port", "0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = ""
        for line in proc.stdout:
            if line.startswith("Chat page: "):
                url = line.split()[2]
                break
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "cards.js" in response.read().decode()
        with urllib.request.urlopen(url + "api/setup", timeout=10) as response:
            setup = json.loads(response.read())
        assert setup["scheduler"] is True and len(setup["people"]) > 50
        with urllib.request.urlopen(url + "static/cards.js", timeout=10) as response:
            assert b"FeishuCards" in response.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
