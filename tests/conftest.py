"""Shared fixtures: the sandbox on a real loopback port, the bot's app, and a way to talk to it.

The sandbox is the only fake. The bot runs for real: Flask test client in front, lark-oapi behind,
talking HTTP to the sandbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.inbound import InlineExecutor
from bot.settings import Settings
from bot.transports.webhook import create_app
from devkit.cardtext import buttons_of, callback_value, render_text
from devkit.sandbox import serve_in_thread
from devkit.sandbox.event_push import At, EventSender
from devkit.sandbox.ids import p2p_chat_id

# The seed is anchored at 2026-11-25; the bot's clock is pinned there so "current period" and
# "the last 30 days" mean the same thing whenever the suite runs.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
APP_ID = "cli_sandbox_app"
APP_SECRET = "sandbox-secret"
VERIFICATION_TOKEN = "vtoken-test"
ENCRYPT_KEY = "encrypt-key-test"


@dataclass
class RunningSandbox:
    url: str
    app: Any
    state: Any

    @property
    def seed(self) -> Any:
        return self.state.seed


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    with serve_in_thread(app_id=APP_ID, app_secret=APP_SECRET, rate_scale=None) as server:
        yield RunningSandbox(url=server.url, app=server.app, state=server.state)


# Every (method, path) the bot asked of the session's sandbox, across the whole suite: tests/test_scopes.py
# checks each against the scope list (bot/feishu/scopes.py) the README is written from.
# (Reached through the fixtures below: tests import this module as tests.conftest, a second copy of it.)
SUITE_REQUESTS = pytest.StashKey[set[tuple[str, str]]]()
FULL_RUN = pytest.StashKey[bool]()  # the whole suite was collected (no -k, -m, --lf, file or test ids)


def _collect_requests(request: pytest.FixtureRequest, state: Any) -> None:
    if request.module.__name__.rpartition(".")[2].startswith("test_sandbox"):
        return  # the emulator's own tests call every endpoint it has, not just the bot's
    seen = request.config.stash.setdefault(SUITE_REQUESTS, set())
    seen.update((r["method"], r["path"].split("?")[0]) for r in state.requests.entries())


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The suite-wide scope check runs last, after every other test has talked to the sandbox."""
    items.sort(key=lambda item: item.name == "test_every_request_the_suite_made_has_a_documented_scope")
    config.stash[FULL_RUN] = not (config.option.keyword or config.option.markexpr or getattr(config.option, "lf", False)
                                  or any("::" in str(arg) or str(arg).endswith(".py") for arg in config.args))


@pytest.fixture
def suite_requests(request: pytest.FixtureRequest) -> tuple[set[tuple[str, str]], bool]:
    """What the bot asked of the session's sandbox so far, and whether the whole suite was collected."""
    return request.config.stash.get(SUITE_REQUESTS, set()), request.config.stash.get(FULL_RUN, False)


@pytest.fixture(autouse=True)
def clean_sandbox(request: pytest.FixtureRequest) -> Iterator[None]:
    if "sandbox" not in request.fixturenames:
        yield
        return
    state = request.getfixturevalue("sandbox").state
    _collect_requests(request, state)
    state.reset()  # outbox, faults, remembered uuids, request log, page cap: each test starts clean
    yield
    _collect_requests(request, state)
    state.faults.clear()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the module's tests (tests/services.py: fails under CI=true if it cannot start)."""
    from tests.services import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A database URL, once on SQLite and once on PostgreSQL (a clean schema per test), for store tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bot.db"
    from sqlalchemy import create_engine, text

    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def settings(sandbox: RunningSandbox) -> Settings:
    return Settings(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        verification_token=VERIFICATION_TOKEN,
        encrypt_key=ENCRYPT_KEY,
        domain=sandbox.url,
        database_url="sqlite://",
        retry_base_delay=0.001,
        retry_max_delay=0.01,
        rate_limit_scale=1000.0,
        http_timeout=5.0,
    )


class ManualExecutor(Executor):
    """Queues jobs until the test runs them: proves the webhook answers before any work is done."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future, Any]] = []

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        self.jobs.append((future, lambda: fn(*args, **kwargs)))
        return future

    def run_all(self) -> int:
        count = 0
        while self.jobs:
            future, job = self.jobs.pop(0)
            future.set_result(job())
            count += 1
        return count


class Chat:
    """Talk to the bot as a seeded person; read what the sandbox received."""

    def __init__(self, client: Any, sandbox: RunningSandbox, settings: Settings) -> None:
        self.client = client
        self.sandbox = sandbox
        self.sender = EventSender(self._post, encrypt_key=settings.encrypt_key,
                                  verification_token=settings.verification_token, app_id=settings.app_id)
        self.names = {p.open_id: p.name for p in sandbox.seed.people}

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = self.client.post(path, data=body, headers=headers)
        return response.status_code, response.data

    def person(self, name: str) -> Any:
        return self.sandbox.seed.find_person(name)

    def say(self, as_person: str, text: str, *, group: str = "", mentions: tuple[str, ...] = (),
            mention_bot: bool = True, **kwargs: Any) -> list[dict[str, Any]]:
        """Send a message; return the outbox entries it produced (the executor runs inline)."""
        who = self.person(as_person)
        ats = [At(self.person(n).open_id, self.person(n).name) for n in mentions]
        if group:
            chat = self.sandbox.seed.chat(group)
            chat_id, chat_type = chat.chat_id, "group"
            if mention_bot:
                ats.insert(0, At(self.sandbox.seed.bot_open_id, "OKR 助手"))
                text = "{0} " + re.sub(r"\{(\d+)\}", lambda m: "{" + str(int(m.group(1)) + 1) + "}", text)
        else:
            chat_id, chat_type = p2p_chat_id(who.open_id), "p2p"
        before = len(self.sandbox.state.outbox)
        status, body, payload = self.sender.say(sender_open_id=who.open_id, chat_id=chat_id, chat_type=chat_type,
                                                text=text, mentions=ats, **kwargs)
        assert status == 200, body
        self.last_payload = payload
        return list(self.sandbox.state.outbox.entries()[before:])

    def text_of(self, entry: dict[str, Any]) -> str:
        return render_text(entry["content"], self.names)

    def click(self, as_person: str, entry: dict[str, Any], label: str) -> tuple[int, dict[str, Any]]:
        """Click the button called `label` on the card in `entry`, as `as_person`."""
        card = entry["content"]
        button = next(b for b in buttons_of(card) if b["text"]["content"] == label)
        value = callback_value(button)
        assert value is not None, f"button {label!r} has no callback"
        return self.sender.click(operator_open_id=self.person(as_person).open_id, value=value,
                                 message_id=entry["message_id"], chat_id=entry.get("chat_id", ""))


# -- a bot with a store and an admin (郭芳), as the digest, reminder, privacy and language tests use it ------------

def admin_settings_of(settings: Settings, sandbox: RunningSandbox, tmp_path: Any, **changes: Any) -> Settings:
    """`settings` with 郭芳 as the bot admin and a SQLite file in `tmp_path` (and any other changes)."""
    return settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                          database_url=f"sqlite:///{tmp_path}/bot.db", **changes)


def bot_chat(settings: Settings, sandbox: RunningSandbox, store: Any, clock: Any = None) -> Chat:
    """A bot on `settings` and `store` (its clock pinned at NOW unless given), and a way to talk to it."""
    app = create_app(settings, executor=InlineExecutor(), clock=clock or (lambda: NOW), store=store)
    return Chat(app.test_client(), sandbox, settings)


@pytest.fixture
def store(tmp_path: Any) -> Any:
    from bot.store import Store

    return Store(f"sqlite:///{tmp_path}/bot.db")


@pytest.fixture
def admin_settings(settings: Settings, sandbox: RunningSandbox, tmp_path: Any) -> Settings:
    return admin_settings_of(settings, sandbox, tmp_path)


@pytest.fixture
def bot(admin_settings: Settings, sandbox: RunningSandbox, store: Any) -> Chat:
    return bot_chat(admin_settings, sandbox, store)


@pytest.fixture
def runtime(bot: Chat, store: Any, admin_settings: Settings) -> Any:
    from bot.digests.runtime import Runtime

    service = bot.client.application.extensions["bot"]
    return Runtime(settings=admin_settings, clients=service.clients, store=store, clock=lambda: NOW)


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings, executor=InlineExecutor(), clock=lambda: NOW)


@pytest.fixture
def chat(app: Any, sandbox: RunningSandbox, settings: Settings) -> Chat:
    return Chat(app.test_client(), sandbox, settings)


def card_title(entry: dict[str, Any]) -> str:
    return entry["content"]["header"]["title"]["content"]


@contextmanager
def demo_with_page(clock: Any = None) -> Iterator[Any]:
    """The demo (sandbox, bot, scheduler) with its chat page served; `session.page_url` is the page's address.
    The bot's clock is `clock` (NOW unless given)."""
    from devkit.demo import start_demo
    from devkit.webchat.app import serve_webchat

    session, _, _ = start_demo(scheduler=True, clock=clock or (lambda: NOW))
    server, url = serve_webchat(session)
    session.page_url = url
    try:
        yield session
    finally:
        server.shutdown()
        session.scheduler.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (see tests/browser.py); each test opens its own page."""
    from tests.browser import chromium

    with chromium() as running:
        yield running
