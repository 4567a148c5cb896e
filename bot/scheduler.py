"""The scheduler process (`python -m bot scheduler`): exactly one per deployment, never in the web app.

Jobs live in a SQLAlchemy job store on DATABASE_URL, so they survive restarts; every minute the job
list is brought in step with the subscriptions the chat commands write. A run missed by more than the
grace period is skipped and logged by APScheduler, not sent late; the sent-log makes every digest go
out at most once even if a second scheduler is started by mistake.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.digests.runtime import Runtime

log = logging.getLogger(__name__)

MISFIRE_GRACE_SECONDS = 15 * 60
SYNC_SECONDS = 60


def configure_scheduler(scheduler: BaseScheduler, settings: Settings) -> BaseScheduler:
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url), "memory": MemoryJobStore()},
        timezone=ZoneInfo(settings.timezone),
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
    )
    return scheduler


def start_scheduler(settings: Settings, *, clock: Callable[[], datetime] | None = None, bot: Bot | None = None,
                    ) -> tuple[BackgroundScheduler, Runtime]:
    """A started scheduler with the subscription jobs in step with the store; returns it and its Runtime
    (whose `clock` decides which scheduled time a run is for; the default is the real time). The Feishu
    clients and the store are the bot's (`bot`, or one built here: bot/app.py)."""
    from bot.app import Bot
    from bot.digests import jobs
    from bot.digests.delivery import RETRY_SECONDS
    from bot.digests.runtime import Runtime

    bot = bot or Bot.from_settings(settings, clock=clock, role="scheduler")
    runtime = Runtime(settings=settings, clients=bot.clients, store=bot.store, clock=clock)
    scheduler = configure_scheduler(BackgroundScheduler(), settings)
    jobs.register(runtime)
    scheduler.start()
    for job_id in ("sync-subscriptions", "retry-sends"):  # kept in the SQLAlchemy store by earlier versions
        if scheduler.get_job(job_id, jobstore="default") is not None:
            scheduler.remove_job(job_id, jobstore="default")
    # The scheduler's own jobs are rebuilt at every start, so they live in memory and are handed what they use.
    scheduler.add_job(jobs.sync_jobs, "interval", args=[runtime, scheduler], seconds=SYNC_SECONDS,
                      id="sync-subscriptions", jobstore="memory", replace_existing=True)
    scheduler.add_job(jobs.retry_sends, "interval", args=[runtime], seconds=RETRY_SECONDS, id="retry-sends",
                      jobstore="memory", replace_existing=True)
    count = jobs.sync_jobs(runtime, scheduler)
    log.info("scheduler running: %d subscription(s)%s", count,
             "" if count else " (none yet: subscribe with `remind okr <when>` in a group, or `digest on`)")
    return scheduler, runtime


def run_scheduler(settings: Settings, *, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or until `stop` is set)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    scheduler, _ = start_scheduler(settings)
    gc.freeze()  # start-up's objects out of the collector's view: no long full collection mid-run (bot/wsgi.py)
    stop.wait()
    scheduler.shutdown()
