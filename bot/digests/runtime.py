"""What a scheduled run needs, built once per process, and the per-run cache of people's data."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
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
PREPARE_THREADS = 4  # a run's non-OKR reads (group members, leave, attendance) started at once, each on its own limit

# What a plan reads before it goes through its people (group members, leave, ...): returns the people whose OKRs
# it will want and the locale it reads them in. Run by RunData.start on the run's own threads.
Prepare = Callable[["RunData"], "tuple[Iterable[str], str] | None"]


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
    _members_lock: threading.Lock = field(default_factory=threading.Lock)
    _members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _languages_lock: threading.Lock = field(default_factory=threading.Lock)
    _languages: dict[str, str | None] = field(default_factory=dict)  # remembered languages read this run
    _started: bool = False
    _queued: set[str] = field(default_factory=set)  # people the run's read-ahead (start) reads: plans wait for them
    _okr_first: threading.Event = field(default_factory=threading.Event)  # set: the other reads may go (start)
    _okr_burst: int = 0
    _calls_before: dict[str, int] = field(default_factory=dict)
    _okr_calls_before: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._calls_before = self._okr_calls_before = self.runtime.clients.caller.call_counts

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
        wanted = [i for i in dict.fromkeys(open_ids) if i not in self._okrs and i not in self._queued]
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

    def start(self, first: Sequence[Prepare], then: Sequence[Prepare] = (), *, okr_burst: int = 0) -> bool:
        """Once per run, before its plans go through their people: read what every due plan will need at once,
        each API family waiting on its own limit — the roster (EHR), each plan's `prepare` (group members,
        leave, attendance groups) and, as soon as a plan has said whose, the OKRs (a queue served by
        READ_AHEAD_THREADS threads). The plans then find their reads done or in flight; each person is still
        read once. Someone the roster shows leaving is not read ahead once the roster is in; read before it
        came, that person's OKRs are one read no plan uses.

        The prepares run in order on PREPARE_THREADS threads, `first` at once (those that name people from
        what is at hand), `then` and the roster once `okr_burst` OKR reads went out (the OKR limit's calls per
        window) or the OKR queue ran dry: the OKR limit is the run's bottleneck and its moving window repeats
        the first window's pace to the end, so its first window goes out at full speed and the other reads
        fill its waits. Returns False (and does nothing) if the run had started already. The threads end
        when the reads do."""
        with self._lock:
            if self._started:
                return False
            self._okr_burst = okr_burst
            self._started = True
        wanted: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        okr_first = self._okr_first
        first_done = threading.Event()
        pending = [len(first) + len(then)]
        first_pending = [len(first)]
        if not first or okr_burst <= 0:
            first_done.set()
        if okr_burst <= 0:
            okr_first.set()

        def prepare(task: Prepare, *, wait: bool) -> None:
            try:
                if wait:
                    okr_first.wait()
                found = task(self)
                if found is not None:
                    open_ids, locale = found
                    for open_id in dict.fromkeys(open_ids):
                        with self._lock:
                            new = open_id not in self._queued
                            self._queued.add(open_id)
                        if new:
                            wanted.put((open_id, locale))
            except Exception as exc:  # noqa: BLE001 - the plan reads it again and decides what a failure means
                log.warning("%s: reading ahead failed (%s); the plan reads it itself", self.label, exc)
            finally:
                with self._lock:
                    pending[0] -= 1
                    last = pending[0] == 0
                    if not wait:
                        first_pending[0] -= 1
                        if first_pending[0] == 0:
                            first_done.set()
                if last:
                    for _ in range(READ_AHEAD_THREADS):
                        wanted.put(None)

        def read() -> None:
            while True:
                try:
                    item = wanted.get(timeout=0.05)
                except queue.Empty:
                    if first_done.is_set():
                        okr_first.set()  # nobody left to read for now: let the other reads go
                    continue
                if item is None:
                    okr_first.set()
                    return
                open_id, locale = item
                if self._is_leaving(open_id) or open_id in self._okrs:
                    continue
                try:
                    self.okrs(open_id, locale=locale, ahead=True)
                except Exception as exc:  # noqa: BLE001 - kept for the plan, which decides what a failure means
                    with self._lock:
                        self._failed[open_id] = exc

        def roster() -> None:
            okr_first.wait()
            self.roster()

        name = f"{self.label} read-ahead"
        threading.Thread(target=roster, name=f"{name} roster", daemon=True).start()
        for i in range(READ_AHEAD_THREADS):
            threading.Thread(target=read, name=f"{name} okr-{i}", daemon=True).start()
        if not pending[0]:
            for _ in range(READ_AHEAD_THREADS):
                wanted.put(None)
            return True
        pool = ThreadPoolExecutor(PREPARE_THREADS, thread_name_prefix=f"{name} prepare")
        for task in first:
            pool.submit(prepare, task, wait=False)
        for task in then:
            pool.submit(prepare, task, wait=True)
        pool.shutdown(wait=False)  # its threads end once the tasks are done
        return True

    @property
    def started(self) -> bool:
        return self._started

    def _okr_calls(self) -> int:
        """OKR calls made since the run began (the period list's as well as the people's)."""
        before = self._okr_calls_before
        return sum(v - before.get(k, 0) for k, v in self.clients.caller.call_counts.items() if k.startswith("okr."))

    def _after_okr_first(self) -> None:
        """In a started run, the non-OKR reads wait for the OKR limit's first window to go out (see start)."""
        if self._started:
            self._okr_first.wait()

    def _is_leaving(self, open_id: str) -> bool:
        """Whether the roster, if read by now (never waits for it), shows `open_id` leaving or gone."""
        roster = self._roster
        employee = roster.get(open_id) if roster is not None else None
        return employee is not None and employee.status in (4, 5)

    def chat_members(self, chat_id: str) -> tuple[str, ...]:
        """A group's members, read once per run (a failure is not kept: whoever asks next reads again)."""
        self._after_okr_first()
        with self._members_lock:
            if chat_id not in self._members:
                self._members[chat_id] = self.clients.chats.list_member_ids(chat_id)
            return self._members[chat_id]

    def languages(self, open_ids: Iterable[str]) -> dict[str, str]:
        """The remembered language (store.people) of each of `open_ids` that has one: one query for those this
        run has not read yet (the run's start reads every digest recipient's at once)."""
        wanted = list(dict.fromkeys(open_ids))
        with self._languages_lock:
            missing = [i for i in wanted if i not in self._languages]
            if missing:
                found = self.runtime.store.people.languages(missing)
                self._languages.update({i: found.get(i) for i in missing})
            return {i: lang for i in wanted if (lang := self._languages[i])}

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
            if not self._okr_first.is_set() and self._okr_calls() >= self._okr_burst:
                self._okr_first.set()
        if count % 100 == 0:
            log.info("%s: read OKRs of %d people", self.label, count)
        return okrs

    def roster(self) -> dict[str, Employee]:
        """open_id -> roster record (every status), or {} when the roster is unavailable."""
        self._after_okr_first()
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
        self._after_okr_first()
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
        self._after_okr_first()
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
