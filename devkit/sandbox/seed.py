"""The seeded fictional company 星河科技 / Galaxy Tech: deterministic, immutable, with lookup helpers.

`build_seed()` derives everything from the static tables in `company.py` relative to the anchor date
2026-11-25 (the CURRENT OKR period contains it). No randomness without a fixed seed. Treat the dicts inside
(OKRs, roster, punch results) as read-only: the API layer deep-copies before answering.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from . import company, ids
from .records import ROOT_DEPARTMENT_ID, AttendanceGroup, Chat, Department, Period, Person
from .seed_attendance import build_approvals, build_groups, build_user_tasks
from .seed_ehr import SENSITIVE_FIELDS, SENSITIVE_MARKER, build_roster
from .seed_okr import HOSTILE_OBJECTIVE, build_okrs, build_periods
from .timeutil import add_months, at, day_ms, epoch_s

ANCHOR_DATE = date.fromisoformat(company.ANCHOR_ISO)
BOT_OPEN_ID = ids.open_id("bot:okr-assistant")

__all__ = ["ANCHOR_DATE", "BOT_OPEN_ID", "SENSITIVE_FIELDS", "SENSITIVE_MARKER", "Seed", "build_seed"]


@dataclass(frozen=True)
class Seed:
    anchor: date
    tenant_key: str
    tenant_name: str
    tenant_name_en: str
    bot_open_id: str
    bot_app_name: str
    departments: tuple[Department, ...]
    people: tuple[Person, ...]  # contact users (active, leaving and resigned)
    roster_only: tuple[Person, ...]  # pre-hires / cancelled hires: EHR records only
    chats: tuple[Chat, ...]
    periods: tuple[Period, ...]  # older, previous, current, next
    groups: tuple[AttendanceGroup, ...]
    okrs: Mapping[str, tuple[dict[str, object], ...]]  # open_id -> OKR batches, newest first
    employees: tuple[dict[str, object], ...]  # EHR roster records (internal form), by employee_no
    user_tasks: Mapping[tuple[str, int], dict[str, object]]  # (employee_id, yyyymmdd) -> punch result
    approvals: Mapping[tuple[str, int], dict[str, object]]  # (employee_id, yyyymmdd) -> approvals

    # ---- people -------------------------------------------------------------------------------------
    @property
    def all_people(self) -> tuple[Person, ...]:
        return self.people + self.roster_only

    @property
    def active_people(self) -> tuple[Person, ...]:
        return tuple(p for p in self.people if p.is_active)

    @property
    def ceo(self) -> Person:
        return self.person("ceo")

    @property
    def anchor_ms(self) -> int:
        return day_ms(self.anchor, 12)

    def person(self, key: str) -> Person:
        """Person by seed key (e.g. "ceo", "cto", "zhangwei_be", "lixing", "alex")."""
        for person in self.all_people:
            if person.key == key:
                return person
        raise KeyError(key)

    def find_people(self, text: str) -> list[Person]:
        """Everyone whose key, name, en_name, nickname, email or any id equals `text` (case-insensitive)."""
        needle = text.strip().casefold()
        return [
            p
            for p in self.all_people
            if needle
            in {
                v.casefold()
                for v in (
                    p.key,
                    p.name,
                    p.en_name,
                    p.nickname,
                    p.email,
                    p.open_id,
                    p.user_id,
                    p.union_id,
                    p.employee_no,
                )
                if v
            }
        ]

    def find_person(self, text: str) -> Person:
        """First person matching `find_people`; KeyError when nobody matches (two people are named 张伟)."""
        found = self.find_people(text)
        if not found:
            raise KeyError(text)
        return found[0]

    @functools.cached_property
    def _people_by_id(self) -> dict[tuple[str, str], Person]:
        """(id type, value) -> the first contact user with it: person_by_id looks up, not scans (each page of a
        large group's members and each OKR read asks for up to a thousand people)."""
        index: dict[tuple[str, str], Person] = {}
        for person in self.people:
            for id_type in ("open_id", "user_id", "union_id", "email"):
                index.setdefault((id_type, getattr(person, id_type)), person)
        return index

    def person_by_id(self, value: str, id_type: str | None = None) -> Person | None:
        """Contact user by open_id / user_id / union_id / email (id_type None = any)."""
        if id_type is not None:
            return self._people_by_id.get((id_type, value))
        for person in self.people:
            candidates = {
                "open_id": person.open_id,
                "user_id": person.user_id,
                "union_id": person.union_id,
                "email": person.email,
            }
            if id_type is None and value in candidates.values():
                return person
            if id_type is not None and candidates.get(id_type) == value:
                return person
        return None

    def visible_to(self, viewer: Person, target: Person) -> bool:
        """Whether `viewer` may see `target` with a user_access_token (search, contact reads).

        Everyone sees everyone, except members of 财务部 (Finance): they are visible only to Finance members,
        People/HR (人力资源部) members and the CEO. Tenant tokens are not filtered by this rule.
        """
        if viewer.key == target.key or target.department_key not in company.PRIVATE_DEPARTMENTS:
            return True
        return (
            viewer.department_key in company.PRIVATE_SEEN_BY_DEPARTMENTS
            or viewer.key in company.PRIVATE_SEEN_BY_PEOPLE
        )

    def leader_of(self, person: Person) -> Person | None:
        return self.person(person.leader_key) if person.leader_key else None

    def reports_of(self, person: Person) -> list[Person]:
        return [p for p in self.people if p.leader_key == person.key]

    def members_of(
        self, department: str | Department, *, recursive: bool = False, include_resigned: bool = False
    ) -> list[Person]:
        dept = department if isinstance(department, Department) else self.department(department)
        if dept is None:
            return [
                p for p in self.people if p.department_key == "root" and (include_resigned or p.is_active)
            ]
        keys = {dept.key}
        if recursive:
            keys |= {d.key for d in self.departments if self._is_under(d, dept.key)}
        return [p for p in self.people if p.department_key in keys and (include_resigned or p.is_active)]

    # ---- departments / chats / groups / periods ----------------------------------------------------------
    def department(self, value: str) -> Department | None:
        """Department by key, open_department_id or department_id (None for "0" / unknown)."""
        for dept in self.departments:
            if value in (dept.key, dept.open_department_id, dept.department_id, dept.name, dept.en_name):
                return dept
        return None

    def children_of(self, department_open_id: str) -> list[Department]:
        return [d for d in self.departments if d.parent_open_department_id == department_open_id]

    def _is_under(self, dept: Department, ancestor_key: str) -> bool:
        parent = dept.parent_key
        while parent:
            if parent == ancestor_key:
                return True
            parent_dept = self.department(parent)
            parent = parent_dept.parent_key if parent_dept else None
        return False

    def chat(self, value: str) -> Chat | None:
        for chat in self.chats:
            if value in (chat.key, chat.chat_id, chat.name):
                return chat
        return None

    def group(self, value: str) -> AttendanceGroup | None:
        for group in self.groups:
            if value in (group.key, group.group_id, group.group_name):
                return group
        return None

    def period(self, key: str) -> Period:
        """Period by relative key ("older", "previous", "current", "next") or id."""
        for period in self.periods:
            if key in (period.key, period.id):
                return period
        raise KeyError(key)

    def period_at(self, epoch_ms: int) -> Period | None:
        for period in self.periods:
            if period.contains(epoch_ms):
                return period
        return None

    @property
    def current_period(self) -> Period:
        """The period containing the anchor date (use SandboxState.current_period() for the live clock)."""
        return self.period("current")

    def okrs_of(self, person: Person | str) -> tuple[dict[str, object], ...]:
        open_id = person.open_id if isinstance(person, Person) else person
        return self.okrs.get(open_id, ())

    def employee(self, person: Person | str) -> dict[str, object]:
        key = person.key if isinstance(person, Person) else person
        for record in self.employees:
            if record["person_key"] == key:
                return record
        raise KeyError(key)

    def sensitive_values(self) -> frozenset[str]:
        """Every sensitive string in the roster (ID numbers, accounts, addresses, contacts, notes)."""
        values: set[str] = set()

        def walk(value: object) -> None:
            if isinstance(value, str) and value:
                values.add(value)
            elif isinstance(value, dict):
                for key, item in value.items():
                    if key not in ("id", "mime_type"):  # attachment tokens are not greppable text
                        walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        for record in self.employees:
            fields = record["system_fields"]
            assert isinstance(fields, dict)
            for name in SENSITIVE_FIELDS:
                if name in (
                    "gender",
                    "ethnicity",
                    "marital_status",
                    "political_status",
                    "id_type",
                    "hukou_type",
                    "departure_reason",
                    "cancel_onboarding_reason",
                    "bank_name",
                    "native_region",
                ):
                    continue
                walk(fields.get(name))
            walk([f["value"] for f in record["custom_fields"] if "SENSITIVE" in str(f["value"])])  # type: ignore[index,union-attr]
        return frozenset(v for v in values if len(v) >= 6)


def _derived_hire_date(key: str) -> date:
    start = date(2019, 1, 7)
    span = (date(2026, 3, 31) - start).days
    return start + timedelta(days=int(ids.short_hex("hire:" + key, 8), 16) % span)


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
          "华", "平", "刚", "桂英", "文", "辉", "鑫", "宇", "婷", "浩", "晨", "悦")
_PINYIN = {"王": "Wang", "李": "Li", "张": "Zhang", "刘": "Liu", "陈": "Chen", "杨": "Yang", "赵": "Zhao",
           "黄": "Huang", "周": "Zhou", "吴": "Wu", "徐": "Xu", "孙": "Sun", "胡": "Hu", "朱": "Zhu", "高": "Gao",
           "林": "Lin", "何": "He", "郭": "Guo", "马": "Ma", "罗": "Luo"}


def synthetic_rows(count: int) -> tuple[company.PersonRow, ...]:
    """`count` more ordinary employees spread over the departments (for load tests and benchmarks)."""
    departments = [d for d in company.DEPARTMENTS]
    rows = []
    for i in range(count):
        surname = _SURNAMES[i % len(_SURNAMES)]
        given = _GIVEN[(i // len(_SURNAMES)) % len(_GIVEN)]
        dept = departments[i % len(departments)]
        rows.append(company.PersonRow(
            f"staff{i:05d}", f"{surname}{given}{i // 600 or ''}", f"Staff {i:05d} {_PINYIN[surname]}",
            f"staff{i:05d}", dept.key, "工程师", "Engineer", dept.city, 1 + i % 2,
        ))
    return tuple(rows)


NAMES = ("test", "friendly")
# names="friendly" (the demo's): what a newcomer sees first has no deliberately hostile text. The tests' seed keeps
# 李星's English name and nickname full of markdown and <at id=all>, and Alex's objective full of markup.
FRIENDLY_PEOPLE: dict[str, dict[str, object]] = {"lixing": {"en_name": "Xing Li", "nickname": "", "tags": ()}}
FRIENDLY_OBJECTIVE = ("前端性能优化：首屏加载时间缩短 30%", "Frontend performance: cut first-screen load time by 30%")


def _rows(extra_people: int, names: str) -> tuple[company.PersonRow, ...]:
    rows = company.PEOPLE + synthetic_rows(extra_people)
    if names == "friendly":
        rows = tuple(dataclasses.replace(row, **FRIENDLY_PEOPLE[row.key]) if row.key in FRIENDLY_PEOPLE else row
                     for row in rows)  # type: ignore[arg-type]
    return rows


def _friendly_objectives(okrs: dict[str, tuple[dict[str, object], ...]]) -> None:
    """Replace the hostile objective (seed_okr.HOSTILE_OBJECTIVE, kept with any mention it got) in place."""
    hostile = HOSTILE_OBJECTIVE[0]
    for batches in okrs.values():
        for batch in batches:
            for objective in batch.get("objective_list") or ():  # type: ignore[union-attr]
                content = objective.get("content")
                if isinstance(content, str) and content.startswith(hostile):
                    objective["content"] = FRIENDLY_OBJECTIVE[0] + content[len(hostile):]
                    english = str(objective.get("content_en", ""))
                    objective["content_en"] = FRIENDLY_OBJECTIVE[1] + english[len(HOSTILE_OBJECTIVE[1]):]


def _build_people(anchor: date, extra_people: int = 0, names: str = "test") -> list[Person]:
    dept_rows = {d.key: d for d in company.DEPARTMENTS}
    people: list[Person] = []
    for index, row in enumerate(_rows(extra_people, names)):
        hire = row.hire_date or _derived_hire_date(row.key).isoformat()
        conversion = row.conversion_date
        if not conversion and row.employee_type in (1, 2):
            conversion = add_months(date.fromisoformat(hire), 3 if row.employee_type == 2 else 6).isoformat()
        if row.dept == "root":
            leader_key = None if row.key == "ceo" else "ceo"
            dept_ids: tuple[str, ...] = (ROOT_DEPARTMENT_ID,)
            dept_name, dept_en = company.TENANT_NAME, company.TENANT_NAME_EN
        else:
            dept = dept_rows[row.dept]
            if dept.leader == row.key:
                leader_key = dept_rows[dept.parent].leader if dept.parent else "ceo"
            else:
                leader_key = dept.leader
            dept_ids = (ids.open_department_id(row.dept),)
            dept_name, dept_en = dept.name, dept.en_name
        people.append(
            Person(
                key=row.key,
                open_id=ids.open_id(row.key),
                union_id=ids.union_id(row.key),
                user_id=ids.user_id(row.key),
                employee_no=f"GX{index + 1:05d}",
                name=row.name,
                en_name=row.en_name,
                nickname=row.nickname,
                email=f"{row.email_local}@{company.EMAIL_DOMAIN}",
                mobile=f"+86{13800000000 + 7919 * (index + 1)}",
                gender=row.gender,
                city=row.city,
                job_title=row.title if row.title == row.title_en else f"{row.title} / {row.title_en}",
                job_title_zh=row.title,
                job_title_en=row.title_en,
                department_key=row.dept,
                department_ids=dept_ids,
                department_name=dept_name,
                department_en_name=dept_en,
                leader_key=leader_key,
                leader_open_id=ids.open_id(leader_key) if leader_key else None,
                leader_user_id=ids.user_id(leader_key) if leader_key else None,
                employee_type=row.employee_type,
                ehr_status=row.ehr_status,
                hire_date=hire,
                join_time=epoch_s(at(date.fromisoformat(hire), 9)),
                conversion_date=conversion,
                last_day=row.last_day,
                in_contact=row.in_contact,
                tags=row.tags,
            )
        )
    return people


def _build_departments(people: list[Person]) -> list[Department]:
    rows = company.DEPARTMENTS
    children: dict[str, list[str]] = {}
    for row in rows:
        if row.parent:
            children.setdefault(row.parent, []).append(row.key)

    def subtree(key: str) -> set[str]:
        keys = {key}
        for child in children.get(key, []):
            keys |= subtree(child)
        return keys

    active = [p for p in people if p.is_active]
    departments = []
    for order, row in enumerate(rows):
        keys = subtree(row.key)
        departments.append(
            Department(
                key=row.key,
                open_department_id=ids.open_department_id(row.key),
                department_id=row.department_id,
                name=row.name,
                en_name=row.en_name,
                parent_key=row.parent,
                parent_open_department_id=ids.open_department_id(row.parent)
                if row.parent
                else ROOT_DEPARTMENT_ID,
                leader_key=row.leader,
                leader_open_id=ids.open_id(row.leader),
                leader_user_id=ids.user_id(row.leader),
                order=(order + 1) * 1000,
                member_count=sum(1 for p in active if p.department_key in keys),
                primary_member_count=sum(1 for p in active if p.department_key == row.key),
            )
        )
    return departments


def _build_chats(people: list[Person]) -> list[Chat]:
    active = [p for p in people if p.is_active]
    chats = []
    for spec in company.CHATS:
        selectors = set(spec["members"])  # type: ignore[arg-type]
        members = [
            p for p in active if "all" in selectors or p.department_key in selectors or p.key in selectors
        ]
        owner = ids.open_id(str(spec["owner"]))
        chats.append(
            Chat(
                key=str(spec["key"]),
                chat_id=ids.chat_id(str(spec["key"])),
                name=str(spec["name"]),
                description=str(spec["description"]),
                owner_open_id=owner,
                member_open_ids=tuple(p.open_id for p in members),
                bot_member=bool(spec["bot_member"]),
            )
        )
    return chats


def _unique(values: Iterable[str]) -> bool:
    items = list(values)
    return len(items) == len(set(items))


@functools.lru_cache(maxsize=4)
def build_seed(anchor: date = ANCHOR_DATE, *, extra_people: int = 0, activity: bool = True,
               freshness: str = "test", as_of: date | None = None, names: str = "test") -> Seed:
    """Build (and cache) the immutable company seed for `anchor` (default 2026-11-25); `extra_people`
    adds that many ordinary employees (benchmarks use it for a company of 1,000). `activity=False`
    leaves out OKRs, punch results and leave approvals, most of the time a 50,000-person seed takes,
    for benchmarks that only read the directory and the roster. `freshness="realistic"` (the demo's) makes the
    current period's OKRs look like a real team's on `as_of` (default the anchor): most people updated in the last
    few days, a few stale, one or two at risk; the default "test" keeps the extremes the tests count on
    (seed_okr.build_okrs). `names="friendly"` (the demo's) leaves out the deliberately hostile names and objective
    (markdown, HTML, <at id=all>) the default "test" keeps for the escaping tests."""
    if names not in NAMES:
        raise ValueError(f"names must be one of {NAMES}, not {names!r}")
    everyone = _build_people(anchor, extra_people, names)
    contact = [p for p in everyone if p.in_contact]
    roster_only = [p for p in everyone if not p.in_contact]
    assert _unique(p.open_id for p in everyone) and _unique(p.user_id for p in everyone)
    departments = _build_departments(contact)
    periods = build_periods(anchor)
    groups = build_groups(contact, departments)
    okrs = build_okrs(contact, periods, anchor, freshness=freshness, as_of=as_of) if activity else {}
    if names == "friendly":
        _friendly_objectives(okrs)
    return Seed(
        anchor=anchor,
        tenant_key=company.TENANT_KEY,
        tenant_name=company.TENANT_NAME,
        tenant_name_en=company.TENANT_NAME_EN,
        bot_open_id=BOT_OPEN_ID,
        bot_app_name=company.BOT_APP_NAME,
        departments=tuple(departments),
        people=tuple(contact),
        roster_only=tuple(roster_only),
        chats=tuple(_build_chats(contact)),
        periods=periods,
        groups=groups,
        okrs=okrs,
        employees=build_roster(everyone, departments, anchor),
        user_tasks=build_user_tasks(groups, contact, anchor) if activity else {},
        approvals=build_approvals(contact, anchor) if activity else {},
    )
