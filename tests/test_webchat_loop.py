"""The whole check-in loop on the demo's chat page, in headless Chromium (tests/browser.py) against the real demo
(sandbox + bot + scheduler): the group's OKR reminder → a stale member's private check-in card → "更新进度" →
the form, filled in and submitted → their OKR card, updated in place; then the group's next reminder no longer
mentions them and their manager's digest says they checked in via chat.

The bot's and the sandbox's clock is the test's: the first run is on Wednesday 2026-11-25 (tests.conftest.NOW),
so "Run due jobs now" runs the weekly reminder `周五 17:00` for Friday 11-20 and the digest (Monday 09:00) for
Monday 11-23. Pressed again at the same time it would send nothing (each subscription sends once per scheduled
time), so the clock then moves to Friday 11-27 17:00, when the reminder is next due; the digest is not due again
until Monday, so the manager asks for one (`周报 立即`, its first use: no cool-down)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from devkit.webchat.driver import PageDriver
from tests.conftest import NOW, demo_with_page

WAIT = 60_000  # ms: a loaded 2-core CI machine
NEXT_REMINDER = datetime(2026, 11, 27, 17, 0, tzinfo=NOW.tzinfo)  # the Friday after NOW, 17:00


class TestClock:
    """The bot's and the sandbox's now: from `start` on it runs as time passes (the sandbox's rate windows and
    token lifetimes go by it), and the test moves it forward. One clock for both, so a progress record the
    sandbox writes is as old to the bot as it is to the sandbox."""

    __test__ = False

    def __init__(self, start: datetime) -> None:
        self._start, self._began = start, time.monotonic()

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)

    def move_to(self, when: datetime) -> None:
        self._start, self._began = when, time.monotonic()

    def seconds(self) -> float:
        return self().timestamp()


@pytest.fixture(scope="module")
def clock() -> TestClock:
    return TestClock(NOW)


@pytest.fixture(scope="module")
def demo(clock: TestClock) -> Iterator[Any]:
    with demo_with_page(clock) as session:
        session.state.set_clock(clock.seconds)
        yield session


@pytest.fixture
def chat(browser: Any, demo: Any) -> Iterator[PageDriver]:
    driver = PageDriver(browser.new_page(viewport={"width": 1280, "height": 900}), demo.page_url)
    yield driver
    assert driver.errors == [], f"the page logged errors: {driver.errors}"
    driver.page.close()


def bot_cards(chat: PageDriver, title: str) -> Any:
    """The bot's messages in the open chat whose card title has `title`."""
    return chat.page.locator(".msg.from-bot").filter(has=chat.page.locator(".fc-title", has_text=title))


def wait_for_count(chat: PageDriver, title: str, count: int) -> Any:
    """Wait until the open chat shows `count` cards titled `title`; returns the last, by its message id (so it
    stays that message when a button re-renders it)."""
    card = bot_cards(chat, title).nth(count - 1)
    card.wait_for(timeout=WAIT)
    return chat.page.locator(f".msg[data-message-id='{card.get_attribute('data-message-id')}']")


def test_reminder_private_check_in_submit_then_the_next_reminder_and_the_digest_reflect_it(chat, demo, clock):
    group = demo.seed.chat("eng_weekly")
    owner = next(p for p in demo.seed.people if p.open_id == group.owner_open_id)
    member = demo.seed.person("zhulei")  # 12 days without an update in the demo's seed
    manager = next(p for p in demo.seed.people if p.open_id == member.leader_open_id)

    # 1. The group's owner subscribes the group; the member's manager turns the digest on.
    chat.become(owner.open_id, group.chat_id)
    say(chat, "提醒 OKR 周五 17:00", answer="17:00")
    chat.become(manager.open_id, demo.chat_of(manager)[0])
    say(chat, "周报 开启", answer="已开启")

    # 2. The jobs run: the group's card mentions the member; the member gets their own check-in card.
    report = chat.run_jobs()
    assert f"OKR reminder → {group.name}: sent" in report and f"Manager digest → {manager.name}: sent" in report, report
    chat.become(owner.open_id, group.chat_id)
    reminder = wait_for_count(chat, "OKR 进度提醒", 1)
    assert mentioned(reminder, member), reminder.inner_text()
    chat.become(member.open_id, demo.chat_of(member)[0])
    checkin = wait_for_count(chat, "你的 OKR 提醒", 1)
    assert group.name in checkin.inner_text()

    # "更新进度" turns the card into the form, in place; one key result's percent changed, then submitted.
    form = chat.press(checkin, "更新进度", timeout=WAIT)
    assert "更新 OKR 进度" in form.locator(".fc-title").inner_text()
    field = form.locator(".fc-field-control[data-tag='input'][data-name^='p_']").first  # key result 1.1
    kr_id = (field.get_attribute("data-name") or "").removeprefix("p_")
    percent = field.locator("input")
    new = 65 if percent.input_value() != "65" else 66  # prefilled with the current percent
    percent.fill(str(new))
    form.locator(".fc-field-control[data-name='note'] textarea").fill("灰度完成一半")
    updated = chat.press(form, "提交", timeout=WAIT)
    text = updated.inner_text()
    assert f"{member.name} 的 OKR" in text and "刚刚更新" in text and f"1.1 → {new}%" in text, text
    assert f"{new}%" in updated.locator(".fc-card").inner_text()
    written = demo.state.requests.matching("/okr/v1/progress_records", "POST")  # what the bot sent
    assert [(str(r["body"]["target_id"]), r["body"]["progress_rate"]["percent"], r["code"]) for r in written] == [
        (kr_id, new, 0)], written  # one record: only the key result changed

    # 3. The reminder is next due on Friday 17:00: the group's card no longer mentions the member (up to date
    # now), and their manager's digest says they checked in via chat.
    private_before = len(demo.state.messages.in_chat(demo.chat_of(member)[0]))
    clock.move_to(NEXT_REMINDER)
    report = chat.run_jobs()
    assert f"OKR reminder → {group.name}: sent" in report, report
    # The digest's schedule (Monday 09:00) has not come round again: its run for that Monday sent nothing new.
    assert f"Manager digest → {manager.name}: nothing new" in report, report
    assert len(demo.state.messages.in_chat(demo.chat_of(member)[0])) == private_before  # no check-in card now
    chat.become(owner.open_id, group.chat_id)
    second = wait_for_count(chat, "OKR 进度提醒", 2)
    assert not mentioned(second, member), second.inner_text()
    assert "天未更新" in second.inner_text()  # others still stale are mentioned as before

    chat.become(manager.open_id, demo.chat_of(manager)[0])
    first_digest = wait_for_count(chat, f"{manager.name} 的团队周报", 1)  # the first run's, before the check-in
    assert "已在聊天中更新进度" not in first_digest.inner_text()
    say(chat, "周报 立即", answer="已把团队周报私信发给你")
    digest = wait_for_count(chat, f"{manager.name} 的团队周报", 2)
    checked = digest.locator(".fc-markdown", has_text="已在聊天中更新进度")
    checked.first.wait_for(timeout=WAIT)
    assert member.name in checked.first.inner_text(), digest.inner_text()


def say(chat: PageDriver, text: str, answer: str) -> None:
    """Send `text` and wait for the bot's answer, the message that has `answer` (not just any bot message: the
    greeting of a direct chat opened the first time may come after the page has opened it)."""
    answers = chat.page.locator(".msg.from-bot", has_text=answer)
    before = answers.count()
    chat.page.fill("#input", text)
    chat.page.press("#input", "Enter")
    answers.nth(before).wait_for(timeout=WAIT)


def mentioned(card: Any, person: Any) -> bool:
    """Whether `card` (a message on the page) @-mentions `person`."""
    return f"@{person.name}" in card.inner_text()
