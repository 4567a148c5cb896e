"""The scheduler process (`python -m bot scheduler`): exactly one per deployment, never in the web app."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler

from bot.settings import Settings

log = logging.getLogger(__name__)


def build_scheduler(settings: Settings) -> BlockingScheduler:
    return BlockingScheduler(
        timezone=ZoneInfo(settings.timezone),
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
    )


def run_scheduler(settings: Settings) -> None:
    scheduler = build_scheduler(settings)
    if not scheduler.get_jobs():
        log.info("scheduler started with no jobs yet (digests and reminders arrive with their commands)")
    scheduler.start()
