"""The reply worker: `python -m bot worker`, with BOT_REPLY_WORKER=separate on the web process.

The web process then only verifies, deduplicates, records each message in the inbox table and answers
Feishu; this process takes the recorded messages from the table and does the reply work (reading Feishu,
building the card, sending it) on its own thread pool, so that work never competes with the webhook for
the web process's interpreter lock.

Claims are atomic (`store.inbox.claim`: two workers never take the same message), renewed while the
message is worked on, and taken over by any worker once not renewed for `claim_timeout` seconds, so a
killed worker loses nothing. A worker with a stable `BOT_WORKER_ID` gives back its own claims when it
starts again, without waiting for them to go stale. A message answered twice (taken over after its
worker died mid-send) still posts once: the reply's uuid is derived from the message id. Replies
Feishu would not take are retried every `retry_interval` seconds.

The worker claims ahead: it holds up to twice as many messages as it has threads (the rest wait in the
pool's queue, their claims renewed like the others), and takes more in one batch once the queue has run dry,
so a reply thread never waits for the database. A thread that has sent a reply does not wait for the
database either: it notes the message as finished and moves on; the loop marks the finished messages done
in the same transaction as its next claim (one write lock for both). A worker killed in between loses
nothing: its claims go stale and are taken over, and the replies it did send are not posted again (their
uuid). While messages keep coming the table is looked at again after `worker_poll_interval / 5`; once it
is empty, every `worker_poll_interval` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime

from bot.app import RETRY_INTERVAL, Bot, default_worker_id
from bot.dedup import MemorySeenStore
from bot.feishu.clients import FeishuClients
from bot.inbound import IncomingMessage, Pipeline, message_from_payload
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)


class ReplyWorker:
    def __init__(
        self,
        pipeline: Pipeline,
        store: Store,
        *,
        executor: Executor,
        slots: int,
        worker_id: str = "",
        poll_interval: float = 0.1,
        claim_timeout: float = 60.0,
        retry_interval: float | None = RETRY_INTERVAL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.stable_id = bool(worker_id)
        self.worker_id = worker_id or default_worker_id()
        self._executor = executor
        self._slots = max(1, slots)
        self._poll = poll_interval
        self._claim_timeout = claim_timeout
        self._retry_interval = retry_interval
        self._clock = clock
        self._inflight: set[str] = set()  # claimed and not yet marked finished in the table
        self._finished: list[tuple[str, bool]] = []  # answered (message id, ok), to mark with the next claim
        self._last_room = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._renewed = time.monotonic()

    # -- one step ---------------------------------------------------------------------------------
    def _in_hand(self) -> int:
        """Messages claimed and not yet answered (called with the lock held)."""
        return len(self._inflight) - len(self._finished)

    def room(self) -> int:
        """How many more messages this worker may claim: up to twice its threads in hand."""
        with self._changed:
            return 2 * self._slots - self._in_hand()

    def run_once(self) -> int:
        """Mark the messages answered since the last call finished and claim as many more as there is room for,
        in one transaction, and hand them over; the number claimed."""
        with self._changed:
            finished, self._finished = self._finished, []
            room = 2 * self._slots - (len(self._inflight) - len(finished))
        try:
            payloads = self.store.inbox.settle(self.worker_id, finished, limit=room, now=self._clock(),
                                               claim_timeout=self._claim_timeout, retry_after=self._retry_interval)
        except BaseException:
            with self._changed:  # still in hand (and renewed): marked with the next claim
                self._finished[:0] = finished
            raise
        with self._changed:
            for message_id, _ in finished:
                self._inflight.discard(message_id)
        if payloads:
            log.debug("%s claimed %d message(s)", self.worker_id, len(payloads))
        messages = [message_from_payload(payload) for payload in payloads]
        with self._changed:
            self._inflight.update(msg.message_id for msg in messages)
        for msg in messages:
            self._executor.submit(self._answer, msg)
        self._last_room = room
        return len(payloads)

    def _answer(self, msg: IncomingMessage) -> None:
        ok = False
        try:
            ok = self.pipeline.answer(msg, finish=False)
        except Exception:
            log.exception("worker failed on %s", msg.event_id)
        finally:
            with self._changed:
                self._finished.append((msg.message_id, ok))
                if self._in_hand() <= self._slots:  # the queue ran dry: time to claim more
                    self._changed.notify_all()

    def renew(self) -> int:
        """Renew the claims on messages still being worked on (or waiting for a thread)."""
        with self._changed:
            working = list(self._inflight)
        self._renewed = time.monotonic()
        return self.store.inbox.renew_claims(self.worker_id, working, now=self._clock())

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        """Work until stop() is called, then let the messages in hand finish."""
        if self.stable_id:
            self._take_back()
        self._guarded(self._purge)  # at start (then hourly): messages older than BOT_INBOX_RETENTION_DAYS
        while not self._stop.is_set():
            if time.monotonic() - self._renewed >= self._claim_timeout / 4:
                self._guarded(self.renew)
            self._guarded(self._purge)
            claimed = self._guarded(self.run_once)
            with self._changed:
                if claimed and claimed >= self._last_room:  # the table may hold more: claim once the queue is dry
                    self._changed.wait_for(lambda: self._stop.is_set() or self._in_hand() <= self._slots,
                                           timeout=self._claim_timeout / 4)
                else:  # the table ran dry (or the database failed): look again shortly, sooner while busy
                    self._changed.wait_for(self._stop.is_set,
                                           timeout=self._poll / 5 if claimed or self._inflight else self._poll)
        self._executor.shutdown(wait=True)
        with self._changed:
            self._last_room = 0
        self._guarded(self._flush)

    def _flush(self) -> int:
        """Mark the answered messages finished, claiming nothing (at stop)."""
        with self._changed:
            finished, self._finished = self._finished, []
        self.store.inbox.settle(self.worker_id, finished, limit=0, now=self._clock(),
                                claim_timeout=self._claim_timeout)
        with self._changed:
            for message_id, _ in finished:
                self._inflight.discard(message_id)
        return len(finished)

    def _take_back(self) -> None:
        """Give back the claims this worker id held before a restart, before claiming anything. Until the
        database answers this is retried, not skipped: a worker that claimed first and gave back later would
        give back its own messages in hand, and one that gave up (or exited) would leave the claims of its
        killed predecessor to wait `claim_timeout` for another worker."""
        while not self._stop.is_set():
            try:
                released = self.store.inbox.release_claims(self.worker_id)
            except Exception:
                log.exception("%s could not take back the messages it held before a restart; trying again",
                              self.worker_id)
                self._stop.wait(max(self._poll, 1.0))
                continue
            if released:
                log.info("%s took back %d message(s) it held before a restart", self.worker_id, released)
            return

    def _purge(self) -> int:
        self.pipeline.purge_if_due()
        return 0

    def _guarded(self, step: Callable[[], int]) -> int:
        try:
            return step()
        except Exception:
            log.exception("%s: inbox step failed", self.worker_id)
            return 0

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()


def create_worker(
    settings: Settings | None = None,
    *,
    feishu: FeishuClients | None = None,
    executor: Executor | None = None,
    store: Store | None = None,
    clock: Callable[[], datetime] | None = None,
    retry_interval: float | None = RETRY_INTERVAL,
) -> ReplyWorker:
    """Build a worker from the bot's parts (its own dedup is unused: the inbox's claims decide); tests pass
    their own parts (a `clock` times the claims too)."""
    settings = settings or Settings.from_env()
    bot = Bot.from_settings(settings, feishu=feishu, executor=executor, store=store, clock=clock,
                            seen=MemorySeenStore(maxsize=1), role="worker")
    return ReplyWorker(bot.pipeline, bot.store, executor=bot.executor, slots=settings.workers,
                       worker_id=settings.worker_id, poll_interval=settings.worker_poll_interval,
                       claim_timeout=settings.claim_timeout, retry_interval=retry_interval,
                       **({"clock": clock} if clock is not None else {}))
