"""Roster API (ehr/v1, Feishu People standard edition): employees, paged, 100/minute, cached.

Only the allow-list below ever leaves this module. The EHR record also carries ID numbers, bank,
social-security and provident-fund accounts, addresses, emergency contacts, birthdays, ethnicity,
political and marital status, photos and attachments: `to_employee` never reads them, so they never
reach a model, a log line, a cache or a card.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from lark_oapi.api.ehr.v1 import ListEmployeeRequest

from bot.feishu.caller import ApiCaller
from bot.feishu.ratelimit import Limiter
from bot.feishu.snapshot import Freshness, SnapshotStore
from bot.models import Employee

PAGE_SIZE = 100  # documented maximum
ALLOWED_FIELDS = (
    "name", "en_name", "department_id", "job", "job_level", "work_location", "employee_type", "status",
    "hire_date", "conversion_date", "last_day", "manager",
)
ALL_STATUSES = (1, 2, 3, 4, 5)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _name(obj: Any) -> str:
    return (getattr(obj, "name", None) or "") if obj is not None else ""


def to_employee(record: Any) -> Employee:
    """SDK Employee -> Employee, reading only the allow-listed system fields."""
    fields = record.system_fields
    manager = fields.manager if fields else None
    return Employee(
        open_id=record.user_id or "",
        name=(fields.name if fields else "") or "",
        en_name=(fields.en_name if fields else "") or "",
        department_id=(fields.department_id if fields else "") or "",
        job=_name(fields.job if fields else None),
        job_level=_name(fields.job_level if fields else None),
        work_location=_name(fields.work_location if fields else None),
        employee_type=int((fields.employee_type if fields else 0) or 0),
        status=int((fields.status if fields else 0) or 0),
        hire_date=_date(fields.hire_date if fields else None),
        conversion_date=_date(fields.conversion_date if fields else None),
        last_day=_date(fields.last_day if fields else None),
        manager_user_id=(manager.user_id if manager else "") or "",
        manager_name=_name(manager),
    )


def snapshot_kind(statuses: tuple[int, ...]) -> str:
    return "roster:" + ",".join(str(s) for s in statuses)


class RosterClient:
    """The roster, read page by page into a snapshot in SQL (bot/feishu/snapshot.py) once per TTL for
    each set of statuses asked for (the same EHR calls as ever); queries filter it there."""

    def __init__(self, caller: ApiCaller, *, limiter: Limiter, ttl: float = 600.0,
                 snapshots: SnapshotStore | None = None, timer: Callable[[], float] | None = None) -> None:
        self._caller = caller
        self._api = caller.client.ehr.v1
        self._limiter = limiter
        self._snapshots = snapshots or SnapshotStore()
        self._freshness = Freshness(self._snapshots, ttl=ttl, **({"timer": timer} if timer else {}))
        self._lock = threading.Lock()  # serialises the walks

    def _load(self, key: tuple[int, ...], *, fresh: bool) -> str:
        kind = snapshot_kind(key)
        with self._lock:
            if fresh or not self._freshness.is_fresh(kind):
                self._walk(key, kind)
        return kind

    def _walk(self, key: tuple[int, ...], kind: str) -> None:
        def build(page_token: str):
            builder = (
                ListEmployeeRequest.builder().view("full").status(list(key)).user_id_type("open_id")
                .page_size(PAGE_SIZE)
            )
            return (builder.page_token(page_token) if page_token else builder).build()

        with self._snapshots.build(kind) as writer:
            for data in self._caller.pages("ehr.employee.list", self._api.employee.list, build,
                                           limiter=self._limiter):
                for item in data.items or ():
                    writer.add_employee(to_employee(item))
        self._freshness.built(kind, writer.generation)

    def list_employees(self, statuses: tuple[int, ...] = ALL_STATUSES, *, fresh: bool = False,
                       department_ids: Iterable[str] | None = None,
                       open_ids: Iterable[str] | None = None) -> tuple[Employee, ...]:
        """Employees in the given statuses (1 pre-hire, 2 active, 3 cancelled, 4 leaving, 5 left), in the
        API's order; only those in `department_ids` and only those of `open_ids` when given."""
        kind = self._load(tuple(sorted(set(statuses))), fresh=fresh)
        return self._snapshots.employees(kind, department_ids=department_ids, open_ids=open_ids)

    def count(self, statuses: tuple[int, ...] = ALL_STATUSES) -> int:
        """How many roster records are in the given statuses."""
        return self._snapshots.size(self._load(tuple(sorted(set(statuses))), fresh=False))
