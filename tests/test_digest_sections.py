"""The manager digest's "roster changes" and "no attendance group" sections, through real digest runs: each lists
exactly what the sandbox seed says (computed here from its raw EHR and attendance data), no more, no less, and
roster changes start where the last digest left off."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests.jobs import run_at
from bot.digests.runtime import Runtime
from bot.inbound import InlineExecutor
from bot.store import KIND_MANAGER_DIGEST, Store
from bot.transports.webhook import create_app
from tests.conftest import NOW

TZ = ZoneInfo("Asia/Shanghai")
LAST_WEEK = datetime(2026, 11, 18, 9, 0, tzinfo=TZ)
WINDOW = timedelta(days=30)


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/bot.db")


@pytest.fixture
def clients(settings, sandbox, store, tmp_path):
    configured = settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db")
    app = create_app(configured, executor=InlineExecutor(), clock=lambda: NOW, store=store)
    return configured, app.extensions["bot"].clients


def _digest_at(clients, store, sandbox, sub, moment) -> dict:
    """Run the digest for `moment` with the bot's clock there; the card the manager was sent."""
    settings, feishu = clients
    runtime = Runtime(settings=settings, clients=feishu, store=store, clock=lambda: moment)
    assert run_at(runtime, sub, moment)
    return [e for e in sandbox.state.outbox.entries() if e.get("receive_id") == sub.target][-1]["content"]


def _section(card: dict, zh_heading: str) -> str:
    found = [e["content"] for e in card["body"]["elements"] if e.get("tag") == "markdown"
             and e["content"].startswith(zh_heading)]
    assert len(found) <= 1
    return found[0] if found else ""


def roster_changes(card: dict) -> set[tuple[str, str]]:
    """("joined" | "leaves" | "converts", name) for each line of the card's roster-changes section."""
    kinds = {"🆕": "joined", "👋": "leaves", "✅": "converts"}
    lines = _section(card, "**人员变动**").splitlines()[1:]
    link = re.compile(r"\[([^\]]*)\]\(https://applink\.feishu\.cn/client/chat/open\?openId=ou_\w+\)")
    return {(kinds[m.group(1)], m.group(2)) for line in lines  # a name links to a chat with the person: its text
            if (m := re.match(r"- (🆕|👋|✅) (.+?) (?:于|最后工作日|将于) ", link.sub(r"\1", line)))}


def not_in_attendance(card: dict) -> set[str]:
    text = _section(card, "**不在任何考勤组**")
    return set(text.split("：", 1)[1].split("、")) if text else set()


# -- what the seed says -------------------------------------------------------------------------------------

def _all_reports(sandbox, manager_key: str) -> set[str]:
    """Person keys under the manager, directly or further down, still in the directory (the digest's scope)."""
    under, frontier = set(), {manager_key}
    while frontier:
        frontier = {p.key for p in sandbox.seed.active_people if p.leader_key in frontier} - under
        under |= frontier
    return under


def expected_changes(sandbox, manager_key: str, *, since: date, today: date) -> set[tuple[str, str]]:
    scope = _all_reports(sandbox, manager_key)
    found = set()
    for e in sandbox.seed.employees:
        if e["person_key"] not in scope:
            continue
        f = e["system_fields"]
        day = {k: date.fromisoformat(f[k]) if f.get(k) else None for k in ("hire_date", "last_day", "conversion_date")}
        if day["hire_date"] and since <= day["hire_date"] <= today:
            found.add(("joined", f["name"]))
        if f["status"] in (4, 5) and day["last_day"] and day["last_day"] >= since:
            found.add(("leaves", f["name"]))
        if f["status"] == 2 and day["conversion_date"] and today <= day["conversion_date"] <= today + WINDOW:
            found.add(("converts", f["name"]))
    return found


def expected_outside_attendance(sandbox, manager_key: str) -> set[str]:
    """Direct reports who belong to no attendance group."""
    grouped = {m.user_id for g in sandbox.seed.groups for m in g.members}
    return {p.name for p in sandbox.seed.active_people if p.leader_key == manager_key and p.user_id not in grouped}


# -- the tests ---------------------------------------------------------------------------------------------

MANAGERS = ["wanglei", "liuyang", "cto", "linxi", "hejing"]


@pytest.mark.parametrize("manager_key", MANAGERS)
def test_a_first_digest_lists_exactly_the_last_30_days_of_roster_changes(clients, store, sandbox, manager_key):
    manager = sandbox.seed.person(manager_key).open_id
    sub = store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager, schedule={})
    card = _digest_at(clients, store, sandbox, sub, NOW)
    expected = expected_changes(sandbox, manager_key, since=NOW.date() - WINDOW, today=NOW.date())
    assert roster_changes(card) == expected


def test_the_seed_gives_every_kind_of_change_somewhere():
    """Guards the test above: with these managers, every kind of line is expected at least once."""
    from devkit.sandbox.seed import build_seed

    class Seed:
        seed = build_seed()

    kinds = {kind for key in MANAGERS
             for kind, _ in expected_changes(Seed, key, since=NOW.date() - WINDOW, today=NOW.date())}
    assert kinds == {"joined", "leaves", "converts"}


@pytest.mark.parametrize("manager_key", ["wanglei", "liuyang"])
def test_a_later_digest_lists_only_changes_since_the_last_one(clients, store, sandbox, manager_key):
    manager = sandbox.seed.person(manager_key).open_id
    sub = store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager, schedule={})
    first = _digest_at(clients, store, sandbox, sub, LAST_WEEK)
    assert roster_changes(first) == expected_changes(sandbox, manager_key, since=LAST_WEEK.date() - WINDOW,
                                                     today=LAST_WEEK.date())
    second = _digest_at(clients, store, sandbox, sub, NOW)
    expected = expected_changes(sandbox, manager_key, since=LAST_WEEK.date(), today=NOW.date())
    assert roster_changes(second) == expected
    # someone who joined before last week's digest is not news any more
    assert roster_changes(first) - expected


@pytest.mark.parametrize("manager_key", MANAGERS)
def test_the_digest_lists_exactly_the_direct_reports_in_no_attendance_group(clients, store, sandbox, manager_key):
    manager = sandbox.seed.person(manager_key).open_id
    sub = store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=manager, created_by=manager, schedule={})
    card = _digest_at(clients, store, sandbox, sub, NOW)
    assert not_in_attendance(card) == expected_outside_attendance(sandbox, manager_key)


def test_some_manager_has_reports_in_no_attendance_group(sandbox):
    assert any(expected_outside_attendance(sandbox, key) for key in MANAGERS)
