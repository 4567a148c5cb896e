"""Immutable records of the seeded company (departments, people, chats, OKR periods, attendance groups)."""

from __future__ import annotations

from dataclasses import dataclass, field

ROOT_DEPARTMENT_ID = "0"


@dataclass(frozen=True)
class Department:
    key: str
    open_department_id: str
    department_id: str
    name: str
    en_name: str
    parent_key: str | None  # None = directly under the root department "0"
    parent_open_department_id: str  # "0" for top-level departments
    leader_key: str
    leader_open_id: str
    leader_user_id: str
    order: int
    member_count: int  # active members including sub-departments
    primary_member_count: int  # active direct members

    @property
    def i18n_name(self) -> dict[str, str]:
        return {"zh_cn": self.name, "ja_jp": self.name, "en_us": self.en_name}


@dataclass(frozen=True)
class Person:
    """A contact user (or, with in_contact=False, a roster-only pre-hire / cancelled hire)."""

    key: str
    open_id: str
    union_id: str
    user_id: str  # tenant user_id == attendance employee_id
    employee_no: str
    name: str
    en_name: str
    nickname: str
    email: str
    mobile: str  # "+86138..."
    gender: int
    city: str
    job_title: str  # as the contact API returns it: bilingual "测试经理 / QA Manager"
    job_title_zh: str
    job_title_en: str
    department_key: str  # "root" for the CEO
    department_ids: tuple[str, ...]  # open_department_ids ("0" for the root department)
    department_name: str
    department_en_name: str
    leader_key: str | None  # manager; None for the CEO
    leader_open_id: str | None
    leader_user_id: str | None  # manager's tenant user_id
    employee_type: int
    ehr_status: int  # 1 pre-hire, 2 active, 3 cancelled, 4 leaving, 5 left
    hire_date: str
    join_time: int  # epoch seconds
    conversion_date: str
    last_day: str
    in_contact: bool
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_resigned(self) -> bool:
        return self.ehr_status == 5

    @property
    def is_active(self) -> bool:
        """In the contact directory and not resigned (status 2 or 4)."""
        return self.in_contact and self.ehr_status in (2, 4)

    @property
    def department_open_id(self) -> str:
        return self.department_ids[0]

    def summary(self) -> dict[str, object]:
        return {
            "key": self.key,
            "open_id": self.open_id,
            "user_id": self.user_id,
            "union_id": self.union_id,
            "name": self.name,
            "en_name": self.en_name,
            "nickname": self.nickname,
            "email": self.email,
            "department": self.department_name,
            "department_en": self.department_en_name,
            "department_ids": list(self.department_ids),
            "leader_open_id": self.leader_open_id,
            "job_title": self.job_title,
            "is_resigned": self.is_resigned,
            "ehr_status": self.ehr_status,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class Chat:
    key: str
    chat_id: str
    name: str
    description: str
    owner_open_id: str
    member_open_ids: tuple[str, ...]  # human members only
    bot_member: bool

    def summary(self) -> dict[str, object]:
        return {
            "chat_id": self.chat_id,
            "name": self.name,
            "description": self.description,
            "owner_id": self.owner_open_id,
            "member_count": len(self.member_open_ids),
            "bot_member": self.bot_member,
        }


@dataclass(frozen=True)
class Period:
    key: str  # "older" | "previous" | "current" | "next" relative to the anchor
    id: str
    zh_name: str
    en_name: str
    status: int
    start_ms: int
    end_ms: int

    def contains(self, ms: int) -> bool:
        return self.start_ms <= ms <= self.end_ms

    def as_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "zh_name": self.zh_name,
            "en_name": self.en_name,
            "status": self.status,
            "period_start_time": str(self.start_ms),
            "period_end_time": str(self.end_ms),
        }


@dataclass(frozen=True)
class GroupMember:
    person_key: str
    user_id: str  # employee_id
    employee_no: str
    department_chain: tuple[str, ...]  # open department ids from direct department up to "0"
    clock_type: int  # 1 must clock in, 2 need not


@dataclass(frozen=True)
class AttendanceGroup:
    key: str
    group_id: str
    group_name: str
    group_type: int  # 0 fixed shift, 2 scheduled, 3 free
    shift_id: str
    on_time: str  # "09:30"
    off_time: str
    members: tuple[GroupMember, ...]
    bind_dept_ids: tuple[str, ...]
    leader_user_ids: tuple[str, ...]
