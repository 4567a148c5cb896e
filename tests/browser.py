"""Headless Chromium for the page tests: Debian's `chromium` package (installed by `.ci/run`) driven by
Playwright's Python client. Playwright's own browser download is never used (no network at test time).
CHROMIUM names another binary (and then only that one is tried). If Chromium is missing or does not start,
the tests that need it fail under CI (CI=true) and are skipped with the reason elsewhere (tests/services.py's
`unavailable`), never passed."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devkit.webchat.driver import CHROMIUM_ARGS
from tests.services import unavailable


def chromium_path() -> str | None:
    candidates = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else ["chromium", "chromium-browser"]
    for candidate in candidates:
        if found := shutil.which(candidate):
            return found
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        where = os.environ.get("CHROMIUM") or "chromium"
        unavailable(f"Chromium is not installed ({where} not found; apt-get install chromium; .ci/run does)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        try:
            browser, failure = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS), ""
        except PlaywrightError as exc:
            browser, failure = None, str(exc).strip().splitlines()[0]
        if browser is None:
            unavailable(f"Chromium ({exe}) did not start: {failure}")
        try:
            yield browser
        finally:
            browser.close()
