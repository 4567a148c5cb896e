"""The demo's chat page as a newcomer meets it, in headless Chromium (tests/browser.py) against the real demo
(sandbox + bot + scheduler): who is an admin or a manager and what each may do, the CEO's admin commands, login
from the page as someone other than the first person, the greeting of a direct chat opened the first time,
"OKR bot is working…" after rapid sends, a phone-sized window, a message over the length limit, and the
scheduler's runs followed until they end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.webchat.app import MAX_TEXT
from devkit.webchat.driver import PageDriver
from tests.conftest import demo_with_page

REFUSED = ("Not available to you", "Statistics are for bot admins", "统计只对机器人管理员开放")


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    with demo_with_page() as session:
        yield session


def open_page(browser: Any, demo: Any, width: int = 1280, height: int = 900) -> PageDriver:
    return PageDriver(browser.new_page(viewport={"width": width, "height": height}), demo.page_url)


@pytest.fixture
def chat(browser: Any, demo: Any) -> Iterator[PageDriver]:
    driver = open_page(browser, demo)
    yield driver
    assert driver.errors == [], f"the page logged errors: {driver.errors}"
    driver.page.close()


def as_person(chat: PageDriver, demo: Any, key: str) -> Any:
    person = demo.seed.person(key)
    chat.become(person.open_id, demo.chat_of(person)[0])
    return person


def test_the_picker_tags_admins_and_managers_and_says_what_each_may_do(chat, demo):
    page = chat.page
    ceo = demo.seed.ceo
    option = page.locator(f"#who option[value='{ceo.open_id}']")
    assert "[Admin]" in option.inner_text() and "[Manager]" in option.inner_text()
    assert "[Manager]" in page.locator(f"#who option[value='{demo.seed.person('cto').open_id}']").inner_text()
    plain = page.locator(f"#who option[value='{demo.seed.person('yangfan').open_id}']").inner_text()
    assert "[Admin]" not in plain and "[Manager]" not in plain

    as_person(chat, demo, "ceo")
    assert page.locator("#who-tags .tag-admin").is_visible() and page.locator("#who-tags .tag-manager").is_visible()
    can = page.inner_text("#who-can")
    assert "stats" in can and "digest on all" in can and "their own OKRs" in can
    as_person(chat, demo, "yangfan")
    assert page.locator("#who-tags .tag").count() == 0
    assert "stats" not in page.inner_text("#who-can") and "their own OKRs" in page.inner_text("#who-can")


def test_the_ceo_may_use_stats_on_the_page(chat, demo):
    as_person(chat, demo, "ceo")
    answer = chat.send("stats").inner_text()
    assert not any(refusal in answer for refusal in REFUSED), answer


def test_login_from_the_page_as_someone_other_than_the_first_person(chat, demo):
    page = chat.page
    person = as_person(chat, demo, "yangfan")
    assert person.open_id != demo.seed.ceo.open_id  # the page starts as the CEO
    card = chat.send("login")
    with page.expect_popup() as popup_info:
        card.locator(".fc-button").first.click()
    consent = popup_info.value
    consent.wait_for_load_state()
    assert consent.locator("#open_id").input_value() == person.open_id  # preselected: the person who asked
    before = chat.bot_messages()
    consent.click("button[value='approve']")
    consent.wait_for_load_state()
    assert "不是你的链接" not in consent.content()
    assert "授权成功" in consent.content() or "Authorised" in consent.content()
    done = chat.wait_for_bot_message(before).inner_text()  # and the bot says so in the chat
    assert "授权成功" in done or "Authorised" in done
    consent.close()


def test_the_bot_greets_someone_who_opens_their_direct_chat_the_first_time(chat, demo):
    person = as_person(chat, demo, "xunuo")
    greeting = chat.page.locator(".msg").first
    assert greeting.get_attribute("data-from") == "bot"
    title = greeting.locator(".fc-title").inner_text()
    assert title.endswith("来了") or title.endswith("is here")
    chat.become(person.open_id, demo.seed.chat("product_design").chat_id)  # away, and back: greeted once
    chat.become(person.open_id, demo.chat_of(person)[0])
    assert chat.bot_messages() == 1


def test_working_indicator_goes_once_every_rapid_send_has_its_reply(chat, demo):
    page = chat.page
    as_person(chat, demo, "zhengkai")
    before = chat.bot_messages()
    sends = 30
    for _ in range(sends):
        page.fill("#input", "whoami")
        page.press("#input", "Enter")
    page.wait_for_function("n => document.querySelectorAll('.msg.from-bot').length >= n", arg=before + sends,
                           timeout=60_000)
    page.wait_for_selector("#typing", state="hidden", timeout=30_000)


def test_working_indicator_stays_off_when_the_reply_shows_before_the_send_returns(chat, demo):
    """The race behind a "working…" that stayed: the long poll draws the reply before the answer to the send
    (with the message's id) reaches the page. The answer is held here until the reply is drawn."""
    page = chat.page
    as_person(chat, demo, "jiangtao")
    held: list[Any] = []
    page.route("**/api/say", lambda route: held.append((route, route.fetch())))
    before = chat.bot_messages()
    page.fill("#input", "whoami")
    page.press("#input", "Enter")
    # the reply (not a late greeting: it answers a message), drawn while the send has not returned to the page
    page.wait_for_function("n => [...document.querySelectorAll('.msg.from-bot')].slice(n)"
                           ".some(m => m.dataset.replyTo)", arg=before, timeout=60_000)
    deadline = time.monotonic() + 60
    while not held and time.monotonic() < deadline:  # the route handler keeps the send once its fetch returns
        page.wait_for_timeout(20)  # lets Playwright run the handler; the loop ends on the condition
    assert len(held) == 1
    refreshes = int(page.get_attribute("#messages", "data-refreshes") or 0)
    route, response = held.pop()
    route.fulfill(response=response)
    page.wait_for_function("n => Number(document.getElementById('messages').dataset.refreshes) > n", arg=refreshes)
    assert page.locator("#typing").is_hidden()
    page.unroute("**/api/say")


def test_a_phone_sized_window_shows_the_chat_full_width(browser, demo):
    chat = open_page(browser, demo, 390, 844)
    try:
        page = chat.page
        as_person(chat, demo, "cto")
        card = chat.send("okr")
        box = card.locator(".msg-body").bounding_box()
        assert box is not None and box["width"] > 200, box  # not one character per line
        assert card.locator(".fc-card").bounding_box()["width"] > 200
        mine = page.locator(".msg.mine .text").last.bounding_box()
        assert mine is not None and mine["x"] >= 0 and mine["x"] + mine["width"] <= 390
        field = page.locator("#input")
        assert field.is_visible()
        where = field.bounding_box()
        assert where is not None and where["y"] + where["height"] <= 844 and where["width"] > 150
        sidebar = page.locator("#sidebar").bounding_box()
        assert sidebar is not None and sidebar["x"] + sidebar["width"] <= 0  # the chat list is folded away
        page.click("#menu")  # ☰ opens it over the chat
        page.wait_for_function("() => document.getElementById('sidebar').getBoundingClientRect().left >= 0")
        page.click(f"#chats li[data-chat-id='{demo.seed.chat('eng_weekly').chat_id}']")
        page.wait_for_function("() => document.getElementById('sidebar').getBoundingClientRect().right <= 0")
        assert page.inner_text("#chat-title") == demo.seed.chat("eng_weekly").name
        assert chat.errors == []
    finally:
        chat.page.close()


def test_a_message_over_the_limit_is_explained_under_the_input(chat, demo):
    page = chat.page
    as_person(chat, demo, "linxi")
    note = page.locator("#input-note")
    assert note.is_hidden()
    page.fill("#input", "x" * (MAX_TEXT + 1))
    assert note.is_visible() and "Too long" in note.inner_text() and f"{MAX_TEXT:,}" in note.inner_text()
    assert page.locator("#send").is_disabled()
    sent = len(demo.state.messages.in_chat(demo.chat_of(demo.seed.person("linxi"))[0]))
    page.press("#input", "Enter")  # refused where the person types: nothing sent, the text kept
    assert page.input_value("#input") == "x" * (MAX_TEXT + 1)
    assert len(demo.state.messages.in_chat(demo.chat_of(demo.seed.person("linxi"))[0])) == sent
    page.fill("#input", "x" * MAX_TEXT)
    assert "Too long" not in note.inner_text() and page.locator("#send").is_enabled()


def test_run_due_jobs_follows_each_run_until_it_has_ended(chat, demo):
    page = chat.page
    as_person(chat, demo, "liuyang")
    page.fill("#input", "digest on")
    page.press("#input", "Enter")
    # its answer, not any bot message (a greeting held back by rate limits may come first)
    page.locator(".msg.from-bot .fc-title", has_text="Team digest").wait_for(timeout=20_000)
    # The digest's send is held back until the test lets it go: the page shows the run going on, then ended.
    demo.state.faults.inject("/im/v1/messages", times=None, delay=8.0, method="POST")
    try:
        page.locator("#run-jobs").dispatch_event("click")
        running = page.locator("#jobs-status .job-running", has_text="刘洋")
        running.wait_for(timeout=30_000)
    finally:
        demo.state.faults.clear()
    page.locator("#jobs-status .job-sent", has_text="刘洋").wait_for(timeout=20_000)
    assert page.locator("#jobs-status .job-running").count() == 0
    assert "still running" not in page.inner_text("#jobs-status")
