"""Start-up in two steps and a worker that claims ahead: the guarantees behind the performance work.

`python -m bot serve` builds the router, the commands and the API clients after it listens (Bot.warm_up); the
reply worker holds up to twice its threads in hand and marks answered messages with its next claim.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from concurrent.futures import Executor, Future
from datetime import timedelta

from bot.inbound import InlineExecutor
from bot.transports.webhook import create_app
from bot.worker import create_worker
from tests.conftest import NOW, Chat
from tests.processes import bot_env

# Run in a fresh interpreter, so that nothing is imported yet: the warm-up thread and eight request threads
# (card clicks, welcomes, the router itself) all need the router at once. faulthandler ends the process with
# every thread's stack if anything hangs (an import deadlock), instead of hanging the test.
CONCURRENT_FIRST_USE = textwrap.dedent("""
    import faulthandler, sys, threading
    from concurrent.futures import ThreadPoolExecutor
    faulthandler.dump_traceback_later(120, exit=True)
    from bot.settings import Settings
    from bot.transports.webhook import create_app
    from bot.inbound import BotAdded, CardClick
    app = create_app(Settings.from_env(), lazy=True, resume=False, retry_interval=None)
    heavy = [m for m in ("bot.router", "bot.commands", "bot.feishu.clients", "bot.outbox", "bot.tokens",
                         "cryptography", "bot.timephrase") if m in sys.modules]
    assert heavy == [], heavy  # the webhook is ready with none of them
    bot = app.extensions["bot"]
    start = threading.Barrier(9)
    answers = []

    def click(i):
        start.wait()
        if i % 3 == 0:
            return type(bot.router).__name__
        if i % 3 == 1:
            bot.pipeline.on_bot_added(BotAdded(event_id=f"ev_add_{i}", chat_id=f"oc_lazy_{i}"))
            return "welcome"
        answer = bot.pipeline.on_card_click(CardClick(event_id=f"ev_click_{i}", operator_open_id=sys.argv[1],
                                                      chat_id="", message_id="", value={"cmd": "help"}))
        return "card" if answer.card else repr(answer)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(click, i) for i in range(8)]
        start.wait()
        bot.warm_up().join()
        answers = [f.result() for f in futures]
    bot.executor.shutdown(wait=True)
    print(" ".join(answers), flush=True)
""")


def test_the_router_is_built_once_when_the_first_uses_race_the_warm_up(sandbox, tmp_path):
    ceo = sandbox.seed.ceo
    result = subprocess.run([sys.executable, "-c", CONCURRENT_FIRST_USE, ceo.open_id], cwd=tmp_path, text=True,
                            env=bot_env(sandbox, f"sqlite:///{tmp_path}/bot.db"), capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Router", "welcome", "card"] * 2 + ["Router", "welcome"], result.stdout
    # the three welcomes were sent (the process waited for its executor), each once
    assert len(sandbox.state.requests.matching("/im/v1/messages", "POST")) == 3


class DeadExecutor(Executor):
    """A worker process killed right after its claim: what it was handed never runs."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        return Future()


def test_a_worker_killed_with_messages_claimed_ahead_loses_none_and_sends_none_twice(settings, sandbox, tmp_path):
    separate = settings.with_(reply_worker="separate", database_url=f"sqlite:///{tmp_path}/bot.db", workers=2)
    chat = Chat(create_app(separate, executor=InlineExecutor(), clock=lambda: NOW).test_client(), sandbox, separate)
    asked = []
    for person in sandbox.seed.active_people[:6]:
        assert chat.say(person.name, "帮助") == []  # recorded, acknowledged
        asked.append(chat.last_payload["event"]["message"]["message_id"])
    dead = create_worker(separate, executor=DeadExecutor(), clock=lambda: NOW)
    assert dead.run_once() == 4  # two threads, four in hand: claimed ahead, then the process dies
    survivor = create_worker(separate.with_(worker_id="w-2"), executor=InlineExecutor(), clock=lambda: NOW)
    assert survivor.run_once() == 2  # the two nobody held; the dead worker's four are not stale yet
    assert survivor.run_once() == 0  # answered, and marked so with its next claim
    later = create_worker(separate.with_(worker_id="w-3"), executor=InlineExecutor(),
                          clock=lambda: NOW + timedelta(seconds=separate.claim_timeout + 1))
    assert later.run_once() == 4  # taken over once BOT_CLAIM_TIMEOUT passed
    assert later.run_once() == 0
    assert later.store.inbox.unfinished() == []
    sent = Counter(r["path"].split("/")[-2] for r in sandbox.state.requests.matching("/im/v1/messages/", "POST")
                   if r["path"].endswith("/reply"))
    assert sent == dict.fromkeys(asked, 1)
