"""The composition root: `Bot.from_settings()` builds every part of the bot once; `start()` starts its threads.

Every process builds its bot here: the webhook (bot/transports/webhook.py), the long connection
(bot/transports/longconn.py), the reply worker (bot/worker.py), the scheduler (bot/scheduler.py) and the demo.
Building opens no connection and starts no thread (the database file and tables are created); tests pass
their own parts (Feishu clients pointed at the sandbox, an inline executor, a store, a clock).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.dedup import SeenStore, build_seen_store
from bot.inbound import Pipeline
from bot.settings import Settings
from bot.store import Store

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients
    from bot.router import Router

log = logging.getLogger(__name__)

RETRY_INTERVAL = 60.0  # seconds between retries of replies Feishu did not take


def default_worker_id(role: str = "worker") -> str:
    """This process's name in the inbox's claims: role, host and pid."""
    return f"{role}:{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass(eq=False)
class Bot:
    """The bot's parts. The Feishu clients and the router (with the commands, the cards and the parsers they
    import) are built on first use, or by `warm_up()` in the background: what acknowledges an event (the
    transport, the pipeline, the inbox) does not need them, so `python -m bot serve` answers before they
    are loaded. Only one thread builds them; any other that needs them waits for it (never importing them
    itself, so two threads never import the same modules at once)."""

    settings: Settings
    store: Store
    executor: Executor
    pipeline: Pipeline
    _build: Callable[[], tuple[FeishuClients, Router]]
    _owns_executor: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _parts: tuple[FeishuClients, Router] | None = None
    _parts_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        feishu: FeishuClients | None = None,
        executor: Executor | None = None,
        seen: SeenStore | None = None,
        clock: Callable[[], datetime] | None = None,
        store: Store | None = None,
        role: str = "web",
        lazy: bool = False,
    ) -> Bot:
        """Build the store, the Feishu clients, the router (with the token vault when BOT_SECRET_KEY is set),
        dedup (Redis with REDIS_URL, else memory) and the inbound pipeline. Parts a caller passes are kept.
        With `lazy`, the clients and the router are built at their first use (or by `warm_up()`)."""
        store = store or Store(settings.database_url)
        owns_executor = executor is None
        executor = executor or ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="bot-worker")

        def build() -> tuple[FeishuClients, Router]:
            from bot.commands import ALL
            from bot.feishu.clients import FeishuClients
            from bot.router import Router

            clients = feishu or FeishuClients.create(settings)
            vault = None
            if settings.secret_key:  # cryptography (~8 MB) only when user tokens are kept
                from bot.tokens import TokenVault

                vault = TokenVault(store, clients.users, secret_key=settings.secret_key,
                                   previous_keys=settings.secret_key_previous)
            return clients, Router(ALL, clients=clients, settings=settings, clock=clock, store=store, vault=vault)

        bot: Bot
        pipeline = Pipeline(lambda: bot.router, seen if seen is not None else build_seen_store(settings), executor,
                            store=store, settings=settings, defer_replies=settings.reply_worker == "separate",
                            instance_id=default_worker_id(role))
        bot = cls(settings=settings, store=store, executor=executor, pipeline=pipeline, _build=build,
                  _owns_executor=owns_executor)
        if not lazy:
            bot._built()
        return bot

    def _built(self) -> tuple[FeishuClients, Router]:
        parts = self._parts
        if parts is None:
            with self._parts_lock:
                if self._parts is None:
                    self._parts = self._build()
                parts = self._parts
        return parts

    @property
    def clients(self) -> FeishuClients:
        return self._built()[0]

    @property
    def router(self) -> Router:
        return self._built()[1]

    def warm_up(self, then: Callable[[], object] | None = None) -> threading.Thread:
        """Build the clients and the router on a background thread (then call `then`), so that the first
        reply does not wait for their imports."""

        def run() -> None:
            try:
                self._built()
                if then is not None:
                    then()
            except Exception:
                log.exception("building the router failed; the first message will try again")

        thread = threading.Thread(target=run, name="bot-warm-up", daemon=True)
        thread.start()
        return thread

    @property
    def defers_replies(self) -> bool:
        """BOT_REPLY_WORKER=separate: this process only records messages; `python -m bot worker` answers them."""
        return self.pipeline.defer_replies

    def start(self, *, resume: bool = True, retry_interval: float | None = RETRY_INTERVAL) -> Bot:
        """Hand the messages left unfinished (a crash, an outage) to the executor and start the loop that retries
        failed replies and purges old ones, unless a separate worker process does both."""
        if self.defers_replies:
            return self
        if resume:
            self.pipeline.resume()
        if retry_interval and not self._threads:
            thread = threading.Thread(target=self.pipeline.retry_loop, args=(retry_interval, self._stop),
                                      name="reply-retry", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the retry loop and, if the bot built it, the executor (work in hand finishes)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        if self._owns_executor:
            self.executor.shutdown(wait=True)
