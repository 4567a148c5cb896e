"""APScheduler's side: the job function (importable, plain arguments) and the job list kept in step
with the subscriptions table. Used only by the scheduler process (`python -m bot scheduler`).

A subscription's job lives in the SQLAlchemy job store, so it can carry only plain arguments (its id) and
finds what it runs with in one place: the Runtime the scheduler process registers once, before it starts
(`register`). Everything else here takes what it needs as arguments; the scheduler's own periodic jobs
(`sync_jobs`, `retry_sends`) live in its memory job store and are handed the runtime and scheduler."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from cachetools import TTLCache

from bot.digests.manager_digest import prepare_attendance, prepare_digest, run_digest
from bot.digests.okr_reminder import prepare_reminder, run_reminder
from bot.digests.runtime import RunData, Runtime, previous_fire_time
from bot.digests.score_reminder import prepare_score, run_score_reminder
from bot.feishu.ratelimit import OKR_LIMITS
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, SEND_RETRY, Subscription, from_slot, to_slot
from bot.store.subscriptions import KIND_OKR_SCORE
from bot.timephrase import Recurrence

log = logging.getLogger(__name__)


class _Registered:
    """The scheduler process's Runtime, set once by `register` (the job store cannot hold it)."""

    runtime: Runtime | None = None


JOB_FUNC = "bot.digests.jobs:run_subscription"
# Jobs that fire for the same scheduled time (and `remind run`, `digest now` in the same minute) share one
# RunData, so each person is read once per run; runs at other times reuse the clients' recent reads.
_runs: TTLCache[str, RunData] = TTLCache(maxsize=8, ttl=30 * 60)
_runs_lock = threading.Lock()


def shared_run(runtime: Runtime, scheduled_for: datetime) -> RunData:
    """The run for `scheduled_for` on these clients and this store (a command builds its own Runtime around
    the same clients: it joins the run all the same)."""
    slot = to_slot(scheduled_for)
    with _runs_lock:
        data = _runs.get(slot)
        if data is None or data.clients is not runtime.clients or data.runtime.store is not runtime.store:
            data = _runs[slot] = RunData(runtime, scheduled_for, label=f"run {slot}")
        return data


def start_run(runtime: Runtime, scheduled_for: datetime) -> RunData:
    """The shared run for `scheduled_for`, its reads started for every subscription due then (the first job
    of the run starts them; the others join): each API family's reads overlap the others' instead of
    waiting behind the OKR reads (RunData.start). The digests name their people from the directory snapshot
    at once; the reminders' member pages and leave queries, the attendance groups and the roster go once the
    OKR limit's first window is out."""
    data = shared_run(runtime, scheduled_for)
    if not data.started:
        subs = due_at(runtime, scheduled_for)
        digests = [s for s in subs if s.kind == KIND_MANAGER_DIGEST]
        reminders = [prepare_reminder(s, scheduled_for) for s in subs if s.kind == KIND_OKR_REMINDER]
        reminders += [prepare_score(s, scheduled_for) for s in subs if s.kind == KIND_OKR_SCORE]  # on its day only
        data.languages(s.target for s in digests)  # every digest recipient's language, in one query
        data.start([prepare_digest(s) for s in digests], [*reminders, *([prepare_attendance] if digests else [])],
                   okr_burst=min(limit for limit, _ in OKR_LIMITS))
    return data


def due_at(runtime: Runtime, scheduled_for: datetime) -> list[Subscription]:
    """The active subscriptions whose schedule fires at `scheduled_for`."""
    just_before = scheduled_for - timedelta(seconds=1)
    return [sub for sub in runtime.store.subscriptions.find()
            if Recurrence.from_spec(sub.schedule).to_trigger().get_next_fire_time(None, just_before) == scheduled_for]


def register(runtime: Runtime) -> None:
    """Called once by the scheduler process before it starts: what `run_subscription` jobs run with."""
    _Registered.runtime = runtime


def run_at(runtime: Runtime, sub: Subscription, scheduled_for: datetime, data: RunData | None = None, *,
           retry: bool = False, now: bool = False) -> str | None:
    """Run one subscription for one scheduled time (exactly once per time, whoever calls it); with `retry`,
    only if its send for that time may be tried again. `now`: asked for by a command (`remind run`), so a
    scoring reminder posts whatever the day (its schedule fires daily and posts only N days before the end)."""
    if sub.kind == KIND_OKR_REMINDER:
        return run_reminder(runtime, sub, scheduled_for, data, retry=retry)
    if sub.kind == KIND_OKR_SCORE:
        return run_score_reminder(runtime, sub, scheduled_for, data, retry=retry, now=now)
    return run_digest(runtime, sub, scheduled_for, data, retry=retry)


def retry_sends(runtime: Runtime) -> int:
    """The scheduler's retry job (every RETRY_SECONDS): run again the scheduled sends Feishu would not take
    or whose process died mid-send, within the uuid's protection. Returns how many went out."""
    now = runtime.now()
    given_up = runtime.store.subscriptions.give_up_sends(now=now)
    if given_up:
        log.error("gave up %d scheduled send(s): still not taken after %d attempts or %d minutes", given_up,
                  SEND_RETRY.max_attempts, SEND_RETRY.window // 60)
    sent = 0
    for subscription_id, slot in runtime.store.subscriptions.retryable_sends(now=now):
        sub = runtime.store.subscriptions.get(subscription_id)
        if sub is None or not sub.active:
            continue
        scheduled_for = from_slot(slot)
        message_id = run_at(runtime, sub, scheduled_for, shared_run(runtime, scheduled_for), retry=True)
        log.info("retried subscription %s at %s: %s", subscription_id, slot, message_id or "not sent")
        sent += bool(message_id)
    return sent


def run_subscription(subscription_id: int) -> str | None:
    """The APScheduler job. Works out which scheduled time this run is for, then runs it. Returns the id
    of the message sent, or None (nothing to send, or already sent for that time)."""
    runtime = _Registered.runtime
    if runtime is None:
        raise RuntimeError("bot.digests.jobs.register() was not called")
    sub = runtime.store.subscriptions.get(subscription_id)
    if sub is None or not sub.active:
        log.info("subscription %s is gone; nothing to do", subscription_id)
        return None
    now = runtime.now()
    scheduled_for = previous_fire_time(Recurrence.from_spec(sub.schedule).to_trigger(), now) or now
    return run_at(runtime, sub, scheduled_for, start_run(runtime, scheduled_for))


def sync_jobs(runtime: Runtime, scheduler: BaseScheduler) -> int:
    """Add a job for every active subscription, drop jobs of removed ones, replace changed triggers.
    Existing unchanged jobs keep their next run time. Returns the number of subscription jobs."""
    wanted = {f"sub:{s.id}": s for s in runtime.store.subscriptions.find()}
    for job in scheduler.get_jobs():
        if job.id.startswith("sub:") and job.id not in wanted:
            job.remove()
            log.info("removed job %s", job.id)
    for job_id, sub in wanted.items():
        trigger = Recurrence.from_spec(sub.schedule).to_trigger()
        job = scheduler.get_job(job_id)
        if job is not None and str(job.trigger) == str(trigger):
            continue
        scheduler.add_job(JOB_FUNC, trigger=trigger, args=[sub.id], id=job_id, name=f"{sub.kind} {sub.target}",
                           replace_existing=True)
        log.info("scheduled %s (%s): %s", job_id, sub.kind, trigger)
    return len(wanted)
