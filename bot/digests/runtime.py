"""What a scheduled run needs, built once per process, and the per-run cache of people's data."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.feishu.clients import FeishuClients
from bot.models import Employee, Okr, OkrPeriod, current_period_index
from bot.outbox import Outbox
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)

READ_AHEAD_THREADS = 4  # OKR reads in flight for one plan's read-ahead: enough to keep the OKR limit busy


class _CommandContext(Protocol):
    """What `Runtime.for_command` reads from a command's context (bot.commands.base.Context)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def clients(self) -> FeishuClients: ...
    @property
    def store(self) -> Store | None: ...
    @property
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    clients: FeishuClients
    store: Store
    clock: Callable[[], datetime] | None = None

    @classmethod
    def create(cls, settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Runtime:
        return cls(settings=settings, clients=FeishuClients.create(settings), store=Store(settings.database_url),
                   clock=clock)

    @classmethod
    def for_command(cls, ctx: _CommandContext) -> Runtime:
        """The runtime a command (`digest now`, `remind run`) runs a digest with: the command's settings, clients
        and store, its clock stopped at the command's `now`."""
        if ctx.store is None:
            raise RuntimeError("a digest needs a store")
        now = ctx.now
        return cls(settings=ctx.settings, clients=ctx.clients, store=ctx.store, clock=lambda: now)

    @property
    def outbox(self) -> Outbox:
        """Where the digests send (the one outbox of these clients)."""
        return Outbox.of(self.clients.messenger)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(self.tz)


@dataclass
class RunData:
    """Everything one run reads, each person at most once (shared by all subscriptions of the run). OKRs and
    the roster come through the clients' caches: a run minutes after another reads neither again."""

    runtime: Runtime
    now: datetime
    label: str = "run"
    _okrs: dict[str, tuple[Okr, ...]] = field(default_factory=dict)
    _failed: dict[str, Exception] = field(default_factory=dict)  # read-ahead failures, raised to who asks
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _person_locks: dict[str, threading.Lock] = field(default_factory=dict)
    # One lock per shared read, so that an OKR read never waits behind the roster's EHR walk or the
    # attendance reads (those wait on their own limits while the OKR reads wait on theirs).
    _period_lock: threading.Lock = field(default_factory=threading.Lock)
    _roster_lock: threading.Lock = field(default_factory=threading.Lock)
    _leave_lock: threading.Lock = field(default_factory=threading.Lock)
    _attendance_lock: threading.Lock = field(default_factory=threading.Lock)
    _period: OkrPeriod | None = None
    _period_read: bool = False
    _roster: dict[str, Employee] | None = None
    _on_leave: dict[date, set[str]] = field(default_factory=dict)
    _leave_checked: dict[date, set[str]] = field(default_factory=dict)
    _in_attendance: frozenset[str] | None = None
    _calls_before: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._calls_before = self.runtime.clients.caller.call_counts

    @property
    def clients(self) -> FeishuClients:
        return self.runtime.clients

    def period(self) -> OkrPeriod | None:
        if self._period_read:  # every OKR read asks: no lock once known
            return self._period
        with self._period_lock:
            if not self._period_read:
                periods = self.clients.okr.list_periods()
                index = current_period_index(periods, self.now)
                self._period = None if index is None else periods[index]
                self._period_read = True
            return self._period

    def read_okrs(self, open_ids: Iterable[str], *, locale: str = "zh_cn") -> None:
        """Read ahead, on a few threads, the OKRs of the people a plan is about to go through one by one, so
        that a plan of a thousand people keeps the OKR limit busy instead of waiting on each answer in turn.
        Still one read per person per run; a read that fails here fails again for whoever asks (okrs())
        without being tried twice."""
        wanted = [i for i in dict.fromkeys(open_ids) if i not in self._okrs]
        if len(wanted) < 2:
            return

        def read(open_id: str) -> None:
            try:
                self.okrs(open_id, locale=locale, ahead=True)
            except Exception as exc:  # noqa: BLE001 - kept for the plan, which decides what a failure means
                with self._lock:
                    self._failed[open_id] = exc

        with ThreadPoolExecutor(READ_AHEAD_THREADS, thread_name_prefix="okr-read-ahead") as pool:
            list(pool.map(read, wanted))

    def okrs(self, open_id: str, *, locale: str = "zh_cn", ahead: bool = False) -> tuple[Okr, ...]:
        """One read per person per run, even when several subscriptions ask at once."""
        with self._lock:
            person_lock = self._person_locks.setdefault(open_id, threading.Lock())
        with person_lock:
            with self._lock:
                if open_id in self._okrs:
                    return self._okrs[open_id]
                failed = None if ahead else self._failed.pop(open_id, None)
            if failed is not None:
                raise failed
            period = self.period()
            okrs = () if period is None else self.clients.okr.list_user_okrs(  # a read within OKR_TTL is reused
                open_id, period_ids=(period.id,), lang=locale)
            with self._lock:
                self._okrs[open_id] = okrs
                count = len(self._okrs)
        if count % 100 == 0:
            log.info("%s: read OKRs of %d people", self.label, count)
        return okrs

    def roster(self) -> dict[str, Employee]:
        """open_id -> roster record (every status), or {} when the roster is unavailable."""
        with self._roster_lock:
            return self._read_roster()

    def _read_roster(self) -> dict[str, Employee]:
        if self._roster is None:
            try:
                # The roster snapshot within its TTL (minutes), shared by every run and every process:
                # one walk of EHR costs a call per 100 people.
                self._roster = {e.open_id: e for e in self.clients.roster.list_employees() if e.open_id}
            except Exception as exc:  # noqa: BLE001 - a reminder still goes out without roster data
                log.warning("%s: roster unavailable (%s); nobody is skipped as leaving", self.label, exc)
                self._roster = {}
        return self._roster

    def on_leave(self, employee_ids: list[str], day: date) -> frozenset[str]:
        """Of `employee_ids`, those with approved leave on `day` (each id asked about once per run)."""
        with self._leave_lock:
            return self._read_on_leave(employee_ids, day)

    def _read_on_leave(self, employee_ids: list[str], day: date) -> frozenset[str]:
        checked = self._leave_checked.setdefault(day, set())
        found = self._on_leave.setdefault(day, set())
        missing = [i for i in dict.fromkeys(employee_ids) if i and i not in checked]
        if missing:
            try:
                found |= self.clients.attendance.list_on_leave(missing, day)
            except Exception as exc:  # noqa: BLE001 - a reminder still goes out without leave data
                log.warning("%s: leave approvals unavailable (%s)", self.label, exc)
            checked.update(missing)
        return frozenset(found & set(employee_ids))

    def in_attendance_groups(self) -> frozenset[str]:
        """Employee ids that belong to some attendance group."""
        with self._attendance_lock:
            return self._read_attendance()

    def _read_attendance(self) -> frozenset[str]:
        if self._in_attendance is None:
            members: set[str] = set()
            for group in self.clients.attendance.list_groups():
                members |= {m.employee_id for m in self.clients.attendance.list_members(group.group_id)}
            self._in_attendance = frozenset(members)
        return self._in_attendance

    def api_calls(self) -> dict[str, int]:
        """API calls made since the run began or since this was last asked: the jobs sharing a run each
        record what was new when they finished, so that together they count every call once."""
        with self._lock:
            after = self.clients.caller.call_counts
            before, self._calls_before = self._calls_before, after
        return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def previous_fire_time(trigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` when `trigger` fires (the run's scheduled time)."""
    candidate = trigger.get_next_fire_time(None, now - timedelta(days=32))
    last = None
    while candidate is not None and candidate <= now:
        last = candidate
        candidate = trigger.get_next_fire_time(candidate, candidate + timedelta(seconds=1))
    return last
