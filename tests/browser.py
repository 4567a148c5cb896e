"""Headless Chromium for the page tests: Debian's `chromium` package (installed by `.ci/run`) driven by
Playwright's Python client. Playwright's own browser download is never used (no network at test time).
If Chromium is not installed the tests that need it are reported as skipped with the reason, never passed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.webchat.driver import CHROMIUM_ARGS


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        pytest.skip("NOT RUN: Chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
