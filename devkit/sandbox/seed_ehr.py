"""EHR (飞书人事标准版) roster records following ehr-v1-employees-list.md, every system field filled.

Sensitive values carry the marker ``SENSITIVE`` (or, for ID numbers, an 18-digit PRC ID pattern) so tests can
grep bot output for leaks. Records keep the person's three ids; the API layer picks the requested id type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from . import ids
from .records import Department, Person
from .timeutil import day_ms

SENSITIVE_MARKER = "SENSITIVE"

# system_fields keys that must never reach a chat (personal / financial / identity data)
SENSITIVE_FIELDS: tuple[str, ...] = (
    "birthday",
    "native_region",
    "ethnicity",
    "marital_status",
    "political_status",
    "id_type",
    "id_number",
    "hukou_type",
    "hukou_location",
    "bank_account_number",
    "bank_name",
    "social_security_account",
    "provident_fund_account",
    "personal_email",
    "family_address",
    "primary_emergency_contact",
    "emergency_contact",
    "id_photo_po_side",
    "id_photo_em_side",
    "id_photo",
    "diploma_photo",
    "graduation_cert",
    "cert_of_merit",
    "offboarding_file",
    "departure_reason",
    "departure_notes",
    "cancel_onboarding_reason",
    "cancel_onboarding_notes",
    "gender",
)

BASIC_FIELDS: tuple[str, ...] = (
    "name",
    "en_name",
    "email",
    "mobile",
    "department_id",
    "employee_no",
    "employee_type",
    "status",
)

_JOB_LEVELS = ((1001, "P4"), (1002, "P5"), (1003, "P6"), (1004, "P7"), (1005, "P8"), (1006, "M2"))
_SCHOOLS = (
    "清华大学",
    "浙江大学",
    "复旦大学",
    "上海交通大学",
    "中山大学",
    "武汉大学",
    "University of Toronto",
)
_MAJORS = ("计算机科学与技术", "软件工程", "工业设计", "市场营销", "人力资源管理", "会计学", "统计学")
_LOCATIONS = {"北京": 2001, "上海": 2002, "杭州": 2003, "深圳": 2004}
_NATIVE = (("CHN-11", "北京"), ("CHN-31", "上海"), ("CHN-33", "浙江"), ("CHN-44", "广东"), ("CHN-51", "四川"))


def _num(key: str, modulo: int) -> int:
    return int(ids.short_hex(key, 8), 16) % modulo


def _attachment(person: Person, kind: str) -> list[dict[str, object]]:
    return [
        {
            "id": ids.short_hex(f"att:{kind}:{person.key}", 32),
            "mime_type": "png",
            "name": f"{SENSITIVE_MARKER}-{kind}-{person.key}.png",
            "size": 40_000 + _num(kind + person.key, 30_000),
        }
    ]


def _birthday(person: Person) -> date:
    return date(
        1975 + _num("birth-year" + person.key, 27),
        1 + _num("birth-m" + person.key, 12),
        1 + _num("birth-d" + person.key, 28),
    )


def id_number(person: Person) -> str:
    """An 18-character PRC resident ID: region + birthday + sequence + check char."""
    birthday = _birthday(person).strftime("%Y%m%d")
    body = f"110101{birthday}{_num('idseq' + person.key, 1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _emergency(person: Person, index: int) -> dict[str, object]:
    return {
        "name": f"{SENSITIVE_MARKER}-EC {person.name[0]}{'父母配偶'[index % 4]}",
        "relationship": 1 + index % 6,
        "mobile": f"(+86) 139{_num(f'ec{index}' + person.key, 10**8):08d}",
    }


def _education(person: Person) -> dict[str, object]:
    start_year = _birthday(person).year + 18
    return {
        "level": 7 + _num("edu" + person.key, 3),
        "school": _SCHOOLS[_num("school" + person.key, len(_SCHOOLS))],
        "major": _MAJORS[_num("major" + person.key, len(_MAJORS))],
        "degree": 1 + _num("degree" + person.key, 3),
        "start": f"{start_year}-09-01",
        "end": f"{start_year + 4}-06-30",
    }


def _work_exp(person: Person) -> dict[str, object]:
    hired = date.fromisoformat(person.hire_date)
    return {
        "company": ("流星网络", "银河数据", "北斗软件", "晨光科技")[_num("co" + person.key, 4)],
        "department": person.department_name,
        "job": person.job_title_zh,
        "start": (hired - timedelta(days=1500)).isoformat(),
        "end": (hired - timedelta(days=20)).isoformat(),
        "description": "负责核心业务 / core business",
    }


def _probation(person: Person, anchor: date) -> dict[str, object]:
    if person.employee_type not in (1, 2):
        return {"probation_months": 0, "conversion_date": "", "application": 1, "application_status": 1}
    months = 3 if person.employee_type == 2 else 6
    conversion = date.fromisoformat(person.conversion_date)
    if conversion <= anchor:
        return {
            "probation_months": months,
            "conversion_date": person.conversion_date,
            "application": 4,
            "application_status": 3,
        }
    application = 2 if (conversion - anchor).days <= 14 else 1
    return {
        "probation_months": months,
        "conversion_date": person.conversion_date,
        "application": application,
        "application_status": 2,
    }


def build_employee(
    person: Person, manager: Person | None, department: Department | None, anchor: date
) -> dict[str, object]:
    """One roster record (internal form: ids of every type plus full system_fields)."""
    level_id, level_name = _JOB_LEVELS[_num("lvl" + person.key, len(_JOB_LEVELS))]
    if department and department.leader_key == person.key:
        level_id, level_name = _JOB_LEVELS[-1]
    native_iso, native_name = _NATIVE[_num("native" + person.key, len(_NATIVE))]
    hired = date.fromisoformat(person.hire_date)
    leaving = person.ehr_status in (4, 5)
    cancelled = person.ehr_status == 3
    created_ms = day_ms(hired - timedelta(days=14), 10)
    fields: dict[str, object] = {
        "name": person.name,
        "en_name": person.en_name,
        "email": person.email,
        "mobile": "(+86) " + person.mobile.removeprefix("+86"),
        "department_id": person.department_open_id,
        "manager": None,  # filled in by the API layer (needs the requested user id type)
        "job": {"id": 3000 + _num("job" + person.job_title_zh, 900), "name": person.job_title_zh},
        "job_level": {"id": level_id, "name": level_name},
        "work_location": {"id": _LOCATIONS.get(person.city, 2001), "name": person.city},
        "gender": person.gender,
        "birthday": _birthday(person).isoformat(),
        "native_region": {"iso_code": native_iso, "name": native_name},
        "ethnicity": 1 if _num("eth" + person.key, 10) else 5,
        "marital_status": 1 + _num("marital" + person.key, 2),
        "political_status": (12, 9, 1)[_num("pol" + person.key, 3)],
        "entered_workforce_date": f"{_birthday(person).year + 22}-07-01",
        "id_type": 1,
        "id_number": id_number(person),
        "hukou_type": 1 + _num("hukou" + person.key, 4),
        "hukou_location": f"{SENSITIVE_MARKER}-HUKOU {native_name}星光路{_num('h' + person.key, 99) + 1}号",
        "bank_account_number": f"{SENSITIVE_MARKER}-BANK-6222{_num('bank' + person.key, 10**12):012d}",
        "bank_name": "招商银行",
        "social_security_account": f"{SENSITIVE_MARKER}-SSN-{_num('ssn' + person.key, 10**9):09d}",
        "provident_fund_account": f"{SENSITIVE_MARKER}-PF-{_num('pf' + person.key, 10**9):09d}",
        "employee_no": person.employee_no,
        "employee_type": person.employee_type,
        "status": person.ehr_status,
        "hire_date": person.hire_date,
        "last_day": person.last_day if leaving else "",
        "departure_type": 1 if leaving else None,
        "departure_reason": (2, 16, 18)[_num("dep" + person.key, 3)] if leaving else None,
        "departure_notes": f"{SENSITIVE_MARKER}-NOTE 离职原因：个人发展" if leaving else "",
        "contract_company": {"id": 1, "name": "星河科技（北京）有限公司"},
        "contract_type": {1: 1, 2: 3, 3: 7, 4: 4, 5: 5}[person.employee_type],
        "contract_start_date": person.hire_date,
        "contract_expiration_date": (hired + timedelta(days=3 * 365)).isoformat(),
        "contract_sign_times": 1 + _num("sign" + person.key, 2),
        "personal_email": f"{SENSITIVE_MARKER}.{person.key}@personal.example",
        "family_address": f"{SENSITIVE_MARKER}-ADDR {person.city}市星河路{_num('a' + person.key, 300) + 1}号",
        "primary_emergency_contact": _emergency(person, 0),
        "emergency_contact": [_emergency(person, 0), _emergency(person, 1)],
        "highest_level_of_edu": _education(person),
        "education": [_education(person)],
        "former_work_exp": _work_exp(person),
        "work_exp": [_work_exp(person)],
        "id_photo_po_side": _attachment(person, "ID-FRONT"),
        "id_photo_em_side": _attachment(person, "ID-BACK"),
        "id_photo": _attachment(person, "PHOTO"),
        "diploma_photo": _attachment(person, "DIPLOMA"),
        "graduation_cert": _attachment(person, "GRADUATION"),
        "cert_of_merit": _attachment(person, "MERIT"),
        "offboarding_file": _attachment(person, "OFFBOARDING") if person.ehr_status == 5 else [],
        "cancel_onboarding_reason": 3 if cancelled else None,
        "cancel_onboarding_notes": f"{SENSITIVE_MARKER}-NOTE 接受了其他 Offer" if cancelled else "",
        "employee_form_status": 3 if person.ehr_status != 1 else 2,
        "create_time": created_ms,
        "update_time": created_ms + _num("upd" + person.key, 90) * 86_400_000,
    }
    fields.update(_probation(person, anchor))
    return {
        "person_key": person.key,
        "open_id": person.open_id if person.in_contact else None,
        "user_id": person.user_id if person.in_contact else None,
        "union_id": person.union_id if person.in_contact else None,
        "manager_key": manager.key if manager else None,
        "hire_ms": day_ms(hired),
        "system_fields": fields,
        "custom_fields": [
            {
                "key": "field_shirt_size",
                "label": "T恤尺码",
                "type": "option",
                "value": "ML"[_num("s" + person.key, 2)],
            },
            {
                "key": "field_health_note",
                "label": "健康备注",
                "type": "text",
                "value": f"{SENSITIVE_MARKER}-HEALTH 无",
            },
            {"key": "field_first_day", "label": "首日报到", "type": "date", "value": person.hire_date},
        ],
    }


def build_roster(
    people: Sequence[Person], departments: Sequence[Department], anchor: date
) -> tuple[dict[str, object], ...]:
    by_key = {p.key: p for p in people}
    dept_by_key = {d.key: d for d in departments}
    records = [
        build_employee(p, by_key.get(p.leader_key or ""), dept_by_key.get(p.department_key), anchor)
        for p in people
    ]
    records.sort(key=lambda r: str(r["system_fields"]["employee_no"]))  # type: ignore[index]
    return tuple(records)
