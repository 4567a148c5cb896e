"""Drive the chat page with Playwright (the page tests and `docs/screenshots.py` use it). Playwright is a
test-only dependency; this module takes its page objects and imports nothing from it."""

from __future__ import annotations

from typing import Any

WAIT_MS = 60_000  # an upper bound on a condition: a loaded CI machine can be slow, never a sleep
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine has no network; keep Chromium from trying
    "--disable-component-update",
    "--disable-sync",
]


class PageDriver:
    """One browser page on the chat page, with the steps a person takes."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.goto(url.rstrip("/") + "/")
        page.wait_for_selector("body[data-ready='1']")

    def become(self, open_id: str, chat_id: str = "") -> None:
        """Pick who you are, then (if given) the chat; waits until that chat is open."""
        self.page.select_option("#who", open_id)
        if chat_id:
            self.page.locator(f"#chats li[data-chat-id='{chat_id}']").dispatch_event("click")  # also when ☰ hides it
        # Loaded: the chat's messages are shown (a direct chat opened the first time has the bot's greeting).
        self.page.wait_for_function(
            "id => { const active = document.querySelector('#chats li.active');"
            " return active && (!id || active.dataset.chatId === id)"
            " && document.getElementById('messages').dataset.loaded === active.dataset.chatId; }", arg=chat_id)

    def bot_messages(self) -> int:
        return self.page.locator(".msg.from-bot").count()

    def wait_for_bot_message(self, after: int, timeout: int = WAIT_MS) -> Any:
        """Wait until more than `after` bot messages show; returns the last one."""
        self.page.wait_for_function("n => document.querySelectorAll('.msg.from-bot').length > n", arg=after,
                                    timeout=timeout)
        message_id = self.page.locator(".msg.from-bot").last.get_attribute("data-message-id")
        return self.page.locator(f".msg[data-message-id='{message_id}']")  # stays this message

    def send(self, text: str, timeout: int = WAIT_MS) -> Any:
        """Type `text`, press Enter, and return the bot's answer to it: the bot message that replies to the one
        just sent (not whatever the bot says next — a greeting or a job's card may arrive in between)."""
        mine = self.sent_count()
        self.page.fill("#input", text)
        self.page.press("#input", "Enter")
        return self.answer_to_sent(mine, timeout)

    def sent_count(self) -> int:
        """How many of the current person's own messages the chat shows."""
        return self.page.locator(".msg.from-user.mine").count()

    def answer_to_sent(self, after: int, timeout: int = WAIT_MS) -> Any:
        """Once the person's message number `after` + 1 shows, the bot message that replies to it."""
        self.page.wait_for_function("n => document.querySelectorAll('.msg.from-user.mine').length > n", arg=after,
                                    timeout=timeout)
        sent = self.page.locator(".msg.from-user.mine").last.get_attribute("data-message-id")
        self.page.wait_for_function("id => document.querySelector(`.msg.from-bot[data-reply-to='${id}']`)",
                                    arg=sent, timeout=timeout)
        message_id = self.page.locator(f".msg.from-bot[data-reply-to='{sent}']").last.get_attribute(
            "data-message-id")
        return self.page.locator(f".msg[data-message-id='{message_id}']")  # stays this message

    def press(self, message: Any, button_text: str, timeout: int = WAIT_MS) -> Any:
        """Press the button labelled `button_text` on `message` (a locator) and wait until the message is
        re-rendered with new content; returns the message (by id, so it survives the re-render)."""
        message_id, version = message.get_attribute("data-message-id"), message.get_attribute("data-version")
        message.locator(".fc-button", has_text=button_text).click()
        self.page.wait_for_function(
            "([id, v]) => { const m = document.querySelector(`.msg[data-message-id='${id}']`);"
            " return m && m.dataset.version !== v; }", arg=[message_id, version], timeout=timeout)
        return self.page.locator(f".msg[data-message-id='{message_id}']")

    def run_jobs(self, timeout: int = 60_000) -> str:
        """Press "Run due jobs now" and return what the page reports about the runs once each has ended."""
        self.page.locator("#run-jobs").dispatch_event("click")  # also when ☰ hides the sidebar
        self.page.wait_for_function(
            "() => document.querySelector('#jobs-status .job') && !document.querySelector('#jobs-status .job-running')",
            timeout=timeout)
        return self.page.inner_text("#jobs-status")
