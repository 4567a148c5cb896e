"""Typed domain objects. Raw Feishu JSON never leaves bot/feishu/; these do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Person:
    """A directory entry, reduced to the allow-listed fields a card may show."""

    open_id: str
    name: str
    user_id: str = ""  # the tenant's user_id; attendance calls it employee_id
    en_name: str = ""
    nickname: str = ""
    department_ids: tuple[str, ...] = ()
    job_title: str = ""
    city: str = ""
    email: str = ""
    leader_open_id: str = ""
    is_active: bool = True

    def display_name(self, locale: str) -> str:
        if locale == "en_us" and self.en_name:
            return self.en_name
        return self.name or self.en_name or self.open_id


@dataclass(frozen=True, slots=True)
class Department:
    open_department_id: str
    name: str
    en_name: str = ""
    parent_id: str = ""
    leader_open_id: str = ""

    def display_name(self, locale: str) -> str:
        if locale == "en_us" and self.en_name:
            return self.en_name
        return self.name or self.en_name


@dataclass(frozen=True, slots=True)
class Mention:
    """Someone @-mentioned in a message, in the order they appear."""

    key: str
    open_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Chat:
    chat_id: str
    chat_type: str  # "p2p" | "group"


# -- OKR ---------------------------------------------------------------------------------------------
OKR_STATUS_NONE = "none"
OKR_STATUS_NORMAL = "normal"
OKR_STATUS_AT_RISK = "at_risk"
OKR_STATUS_DELAYED = "delayed"


@dataclass(frozen=True, slots=True)
class OkrPeriod:
    id: str
    zh_name: str
    en_name: str
    start: datetime
    end: datetime

    def display_name(self, locale: str) -> str:
        return (self.en_name if locale == "en_us" else self.zh_name) or self.zh_name or self.en_name or self.id

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def current_period_index(periods: tuple[OkrPeriod, ...], now: datetime) -> int | None:
    """Which of `periods` (oldest first) is current: the one containing `now`; else the latest that has
    started; else the first. None only when there are no periods."""
    if not periods:
        return None
    for index, period in enumerate(periods):
        if period.contains(now):
            return index
    started = [index for index, period in enumerate(periods) if period.start <= now]
    return started[-1] if started else 0


@dataclass(frozen=True, slots=True)
class KeyResult:
    id: str
    content: str
    progress: int  # percent
    status: str  # one of the OKR_STATUS_* values
    score: int | None = None
    weight: float | None = None
    deadline: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    content: str
    progress: int
    status: str
    score: int | None = None
    weight: float | None = None
    deadline: datetime | None = None
    updated_at: datetime | None = None
    key_results: tuple[KeyResult, ...] = ()
    hidden: bool = False  # Feishu's permission 0: only the id is visible to us


@dataclass(frozen=True, slots=True)
class Okr:
    """One person's OKR for one period."""

    id: str
    period_id: str
    name: str
    objectives: tuple[Objective, ...] = ()
    hidden: bool = False


# -- Roster (EHR) ------------------------------------------------------------------------------------
EHR_STATUS_NAMES = {1: ("待入职", "Pre-hire"), 2: ("在职", "Active"), 3: ("已取消入职", "Hire cancelled"),
                    4: ("待离职", "Leaving"), 5: ("已离职", "Left")}
EMPLOYEE_TYPE_NAMES = {1: ("全职", "Full-time"), 2: ("实习", "Intern"), 3: ("顾问", "Consultant"),
                       4: ("外包", "Outsourced"), 5: ("劳务", "Contractor")}


@dataclass(frozen=True, slots=True)
class Employee:
    """A roster record, reduced to the allow-list in bot/feishu/roster.py. Nothing else exists here."""

    open_id: str  # empty for pre-hires and cancelled hires (no Feishu account yet)
    name: str
    en_name: str = ""
    department_id: str = ""
    job: str = ""
    job_level: str = ""
    work_location: str = ""
    employee_type: int = 0
    status: int = 0
    hire_date: date | None = None
    conversion_date: date | None = None
    last_day: date | None = None
    manager_user_id: str = ""
    manager_name: str = ""


# -- Attendance --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AttendanceGroup:
    group_id: str
    name: str


@dataclass(frozen=True, slots=True)
class AttendanceMember:
    """A member of an attendance group; attendance names people by employee_id (the user_id)."""

    employee_id: str
    department_ids: tuple[str, ...] = ()
    must_clock: bool = True


@dataclass(frozen=True, slots=True)
class PunchResult:
    employee_id: str
    day: date
    check_in: str = ""  # Feishu's check_in_result: Normal, Early, Late, Lack, NoNeedCheck, ...
    check_out: str = ""
