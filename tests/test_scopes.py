"""The scopes the README asks for are the scopes the bot needs: every request the bot made during the
whole suite is covered by an entry of bot/feishu/scopes.py, every entry was used, and the README names
each scope exactly."""

from __future__ import annotations

import re
from pathlib import Path

from bot.feishu.scopes import SCOPES, required_scopes, scope_for

README = Path(__file__).resolve().parent.parent / "README.md"
# Requests the sandbox sees that are not the bot's: a person's browser opening Feishu's consent page.
NOT_THE_BOT = {("GET", "/open-apis/authen/v1/authorize"), ("POST", "/open-apis/authen/v1/authorize")}


def _readme_scope_table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- scopes:start -->")
    return text[start:text.index("<!-- scopes:end -->", start)]


def test_every_request_the_suite_made_has_a_documented_scope(suite_requests):
    """Runs last (tests/conftest.py orders it), when every earlier test has talked to the sandbox."""
    requests, full_run = suite_requests
    seen = {(method, path) for method, path in requests
            if path.startswith("/open-apis/") and (method, path) not in NOT_THE_BOT}
    assert seen, "no test talked to the sandbox before this one"
    uncovered = sorted(f"{m} {p}" for m, p in seen if scope_for(m, p) is None)
    assert not uncovered, f"the bot called APIs the scope list does not cover: {uncovered}"
    if full_run:
        unused = [f"{e.method} {e.path}" for e in SCOPES if not any(e.matches(m, p) for m, p in seen)]
        assert not unused, f"scope list entries no test ever called (dead scopes?): {unused}"


def test_the_readme_names_every_scope_the_bot_needs_and_no_other():
    table = _readme_scope_table()
    named = set(re.findall(r"`([a-z_]+:[a-z_.:]+)`", table))
    assert set(required_scopes()) <= named, sorted(set(required_scopes()) - named)
    known = {scope for entry in SCOPES for scope in (*entry.scopes, *entry.field_scopes)}
    assert named <= known, sorted(named - known)
    assert "`im:chat:readonly`" in table  # reminders read the group's owner and members


def test_the_readme_lists_every_api_the_bot_calls():
    table = _readme_scope_table()
    for entry in SCOPES:
        assert f"`{entry.method} {entry.path.removeprefix('/open-apis')}`" in table, entry.path
