"""Roster API (ehr/v1, Feishu People standard edition): employees, paged, 100/minute, cached.

Only the allow-list below ever leaves this module. The EHR record also carries ID numbers, bank,
social-security and provident-fund accounts, addresses, emergency contacts, birthdays, ethnicity,
political and marital status, photos and attachments: `to_employee` reads a record only through the allow-list
(`_FROM_FIELD`, which also says what each allowed field becomes), so they never reach a model, a log line, a
cache or a card.
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
ALL_STATUSES = (1, 2, 3, 4, 5)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _name(obj: Any) -> str:
    return (getattr(obj, "name", None) or "") if obj is not None else ""


def _int(value: Any) -> int:
    return int(value or 0)


def _text(value: Any) -> str:
    return value or ""


# The allow-list, and the only way into an Employee: each allowed system field, with the model fields it
# becomes. `to_employee` reads these and nothing else (and the record's own `user_id`, as open_id).
_FROM_FIELD: dict[str, Callable[[Any], dict[str, Any]]] = {
    "name": lambda v: {"name": _text(v)},
    "en_name": lambda v: {"en_name": _text(v)},
    "department_id": lambda v: {"department_id": _text(v)},
    "job": lambda v: {"job": _name(v)},
    "job_level": lambda v: {"job_level": _name(v)},
    "work_location": lambda v: {"work_location": _name(v)},
    "employee_type": lambda v: {"employee_type": _int(v)},
    "status": lambda v: {"status": _int(v)},
    "hire_date": lambda v: {"hire_date": _date(v)},
    "conversion_date": lambda v: {"conversion_date": _date(v)},
    "last_day": lambda v: {"last_day": _date(v)},
    "manager": lambda v: {"manager_user_id": _text(getattr(v, "user_id", None) if v is not None else None),
                          "manager_name": _name(v)},
}
ALLOWED_FIELDS = tuple(_FROM_FIELD)


def to_employee(record: Any) -> Employee:
    """SDK Employee -> Employee, reading only the allow-listed system fields (ALLOWED_FIELDS)."""
    fields = record.system_fields
    values: dict[str, Any] = {"open_id": _text(record.user_id)}
    for field_name, convert in _FROM_FIELD.items():
        values.update(convert(getattr(fields, field_name, None) if fields is not None else None))
    return Employee(**values)


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
