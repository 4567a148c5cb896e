"""Screenshots of the chat page's cards for the README: help, okr and a manager digest, plus the whole
window. Starts the demo exactly as `python -m bot demo` does (clock pinned to the seed's day so the cards
match the seeded data) and drives the page in headless Chromium.

    .venv/bin/python docs/screenshots.py        # writes docs/*.png

Needs Debian's `chromium` (and a CJK font, e.g. `fonts-noto-cjk`, for the Chinese text) and Playwright
(the `test` extra).
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import sync_playwright

from devkit.demo import start_demo
from devkit.webchat.app import serve_webchat
from devkit.webchat.driver import CHROMIUM_ARGS, PageDriver

DOCS = Path(__file__).parent
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    session, _, _ = start_demo(scheduler=True, clock=lambda: NOW)
    _, url = serve_webchat(session)
    cto = session.seed.person("cto")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        # A tall window, so that each whole card is on screen for its picture.
        page = browser.new_page(viewport={"width": 1280, "height": 2400}, device_scale_factor=1)
        chat = PageDriver(page, url)
        chat.become(cto.open_id)
        shots = {"help-card.png": chat.send("help")}
        shots["okr-card.png"] = chat.send("我的OKR")
        chat.send("周报 开启")
        before = chat.bot_messages()
        chat.run_jobs()
        shots["digest-card.png"] = chat.wait_for_bot_message(before)
        page.wait_for_selector(".fc-chart[data-chart] canvas")
        for name, message in shots.items():
            message.scroll_into_view_if_needed()
            message.locator(".fc-card").screenshot(path=str(DOCS / name))
            print("wrote", DOCS / name)
        page.set_viewport_size({"width": 1280, "height": 860})
        shots["okr-card.png"].locator(".fc-card").evaluate("card => card.scrollIntoView({block: 'end'})")
        page.screenshot(path=str(DOCS / "chat-page.png"))
        print("wrote", DOCS / "chat-page.png")
        if chat.errors:
            raise SystemExit(f"the page logged errors: {chat.errors}")
        browser.close()
    session.scheduler.stop()


if __name__ == "__main__":
    main()
