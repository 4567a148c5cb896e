"""The composition root (bot/app.py): building the bot starts nothing; `start()` resumes and starts the retry loop;
`stop()` ends them. The long-connection transport is built from the same bot, without Flask."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import asdict

from bot.app import Bot
from bot.router import IncomingMessage
from bot.store import Store
from bot.transports.webhook import build_webhook
from devkit.sandbox.ids import p2p_chat_id
from tests.conftest import NOW


def _left_unanswered(store: Store, person) -> str:
    """A message acknowledged before a crash, never answered: in the inbox, pending."""
    msg = IncomingMessage(event_id="ev_left_behind", message_id="om_left_behind", chat_id=p2p_chat_id(person.open_id),
                          chat_type="p2p", sender_open_id=person.open_id, sender_type="user", text="帮助")
    assert store.inbox.record(msg.message_id, msg.event_id, asdict(msg))
    return msg.message_id


def test_building_the_bot_and_its_webhook_starts_no_thread_and_sends_nothing_until_start(settings, sandbox, tmp_path):
    configured = settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db")
    store = Store(configured.database_url)
    message_id = _left_unanswered(store, sandbox.seed.find_person("陈立"))
    before = set(threading.enumerate())

    bot = Bot.from_settings(configured, store=store, clock=lambda: NOW)  # the real thread pool, the real clients
    build_webhook(bot)

    assert set(threading.enumerate()) - before == set()
    assert sandbox.state.requests.matching("/im/v1/messages", "POST") == []
    assert [m["message_id"] for m in store.inbox.unfinished()] == [message_id]

    bot.start()
    started = {t.name for t in set(threading.enumerate()) - before}
    assert "reply-retry" in started
    bot.stop()  # the retry loop ends; the bot's own pool finishes the resumed message, then ends

    assert [e["reply_to"] for e in sandbox.state.outbox.entries()] == [message_id]
    assert store.inbox.unfinished() == []
    left = {t.name for t in set(threading.enumerate()) - before}
    assert "reply-retry" not in left and not any(name.startswith("bot-worker") for name in left)


def test_with_a_separate_worker_start_leaves_resuming_and_retrying_to_the_worker(settings, sandbox, tmp_path):
    configured = settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db", reply_worker="separate")
    store = Store(configured.database_url)
    _left_unanswered(store, sandbox.seed.find_person("陈立"))
    before = set(threading.enumerate())
    bot = Bot.from_settings(configured, store=store, clock=lambda: NOW).start()
    assert set(threading.enumerate()) - before == set()
    bot.stop()
    assert sandbox.state.requests.matching("/im/v1/messages", "POST") == []
    assert len(store.inbox.unfinished()) == 1


def test_the_long_connection_transport_does_not_import_flask():
    """`python -m bot longconn` needs no web framework: neither its transport nor the bot it builds imports Flask."""
    code = ("import sys, bot.app, bot.transports.longconn, bot.__main__; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
