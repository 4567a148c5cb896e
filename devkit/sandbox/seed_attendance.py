"""Attendance groups, daily punch results (user_tasks) and leave/trip approvals around the anchor date."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from . import company, ids
from .records import AttendanceGroup, Department, GroupMember, Person
from .timeutil import at, epoch_s, yyyymmdd

HISTORY_DAYS = 14  # punch results exist for the anchor day and the 13 days before it


def _chain(person: Person, departments: Mapping[str, Department]) -> tuple[str, ...]:
    chain: list[str] = []
    key: str | None = person.department_key
    while key and key in departments:
        chain.append(departments[key].open_department_id)
        key = departments[key].parent_key
    chain.append("0")
    return tuple(chain)


def _member(person: Person, departments: Mapping[str, Department]) -> GroupMember:
    clock_type = 2 if person.key in company.ATTENDANCE_NO_CLOCK_KEYS else 1
    return GroupMember(
        person.key, person.user_id, person.employee_no, _chain(person, departments), clock_type
    )


def build_groups(people: Sequence[Person], departments: Sequence[Department]) -> tuple[AttendanceGroup, ...]:
    dept_map = {d.key: d for d in departments}
    active = [p for p in people if p.is_active]
    flex = [p for p in active if p.key in company.ATTENDANCE_FLEX_KEYS]
    field = [p for p in active if p.key in company.ATTENDANCE_FIELD_KEYS]
    excluded = (
        set(company.ATTENDANCE_FLEX_KEYS)
        | set(company.ATTENDANCE_FIELD_KEYS)
        | set(company.ATTENDANCE_NO_GROUP_KEYS)
    )
    hq = [p for p in active if p.key not in excluded]
    by_key = {p.key: p for p in people}

    def group(
        key: str,
        name: str,
        group_type: int,
        on: str,
        off: str,
        members: list[Person],
        leaders: tuple[str, ...],
    ) -> AttendanceGroup:
        bind_depts = tuple(sorted({m.department_open_id for m in members}))
        return AttendanceGroup(
            key=key,
            group_id=ids.numeric_id("attendance-group:" + key, prefix=69),
            group_name=name,
            group_type=group_type,
            shift_id=ids.numeric_id("shift:" + key, prefix=69),
            on_time=on,
            off_time=off,
            members=tuple(_member(p, dept_map) for p in members),
            bind_dept_ids=bind_depts,
            leader_user_ids=tuple(by_key[k].user_id for k in leaders),
        )

    return (
        group("hq", "总部考勤组", 0, "09:30", "18:30", hq, ("guofang",)),
        group("flex", "弹性工时组", 3, "10:00", "19:00", flex, ("cto",)),
        group("field", "市场外勤组", 0, "09:00", "18:00", field, ("hejing",)),
    )


def _flow(user_id: str, moment_s: int, key: str, location: str) -> dict[str, object]:
    return {
        "user_id": user_id,
        "creator_id": user_id,
        "location_name": location,
        "check_time": str(moment_s),
        "comment": "",
        "record_id": ids.numeric_id("flow:" + key, prefix=69),
        "is_field": False,
        "is_wifi": True,
        "type": 7,
        "photo_urls": [],
        "check_result": "",
        "external_id": "",
        "idempotent_id": "",
        "create_time": str(moment_s),
    }


def build_user_tasks(
    groups: Sequence[AttendanceGroup], people: Sequence[Person], anchor: date
) -> dict[tuple[str, int], dict[str, object]]:
    """(employee_id, yyyymmdd) -> user_task result (ids in employee_id form)."""
    rng = random.Random(company.ANCHOR_ISO + ":attendance")
    by_key = {p.key: p for p in people}
    tasks: dict[tuple[str, int], dict[str, object]] = {}
    leave_keys = set(company.ON_LEAVE_AT_ANCHOR)
    trip_keys = set(company.ON_TRIP_AT_ANCHOR)
    for offset in range(HISTORY_DAYS - 1, -1, -1):
        day = anchor - timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for group in groups:
            on_h, on_m = (int(x) for x in group.on_time.split(":"))
            off_h, off_m = (int(x) for x in group.off_time.split(":"))
            shift_in = epoch_s(at(day, on_h, on_m))
            shift_out = epoch_s(at(day, off_h, off_m))
            for member in group.members:
                person = by_key[member.person_key]
                if person.hire_date > day.isoformat():
                    continue
                key = f"{member.user_id}:{day.isoformat()}"
                check_in, check_out = "Normal", "Normal"
                supplement_in = supplement_out = "None"
                roll = rng.random()
                if member.clock_type == 2:
                    check_in = check_out = "NoNeedCheck"
                elif offset == 0 and person.key in leave_keys:
                    check_in = check_out = "NoNeedCheck"
                    supplement_in = supplement_out = "Leave"
                elif offset == 0 and person.key in trip_keys:
                    supplement_in = supplement_out = "Travel"
                elif roll < 0.07:
                    check_in = "Late"
                elif roll < 0.11:
                    check_out = "Early"
                elif roll < 0.14:
                    check_in = "Lack"
                elif roll < 0.16:
                    check_out = "Lack"
                record: dict[str, object] = {
                    "check_in_shift_time": str(shift_in),
                    "check_out_shift_time": str(shift_out),
                    "check_in_result": check_in,
                    "check_out_result": check_out,
                    "check_in_result_supplement": supplement_in,
                    "check_out_result_supplement": supplement_out,
                    "task_shift_type": 0,
                }
                location = f"星河科技{person.city}办公室"
                if check_in in ("Normal", "Late"):
                    delta = rng.randint(600, 3600) if check_in == "Late" else -rng.randint(60, 1500)
                    record["check_in_record_id"] = ids.numeric_id("in:" + key, prefix=69)
                    record["check_in_record"] = _flow(member.user_id, shift_in + delta, "in:" + key, location)
                if check_out in ("Normal", "Early"):
                    delta = -rng.randint(900, 5400) if check_out == "Early" else rng.randint(60, 7200)
                    record["check_out_record_id"] = ids.numeric_id("out:" + key, prefix=69)
                    record["check_out_record"] = _flow(
                        member.user_id, shift_out + delta, "out:" + key, location
                    )
                tasks[(member.user_id, yyyymmdd(day))] = {
                    "result_id": ids.numeric_id("task:" + key, prefix=69),
                    "user_id": member.user_id,
                    "employee_name": person.name,
                    "day": yyyymmdd(day),
                    "group_id": group.group_id,
                    "shift_id": group.shift_id if group.group_type != 3 else "0",
                    "records": [record],
                }
    return tasks


def build_approvals(people: Sequence[Person], anchor: date) -> dict[tuple[str, int], dict[str, object]]:
    """(employee_id, yyyymmdd) -> user_approval with leaves / trips on the anchor day."""
    by_key = {p.key: p for p in people}
    day = anchor.isoformat()
    applied = at(anchor - timedelta(days=5), 11).strftime("%Y-%m-%d %H:%M:%S")
    passed = at(anchor - timedelta(days=4), 15).strftime("%Y-%m-%d %H:%M:%S")
    approvals: dict[tuple[str, int], dict[str, object]] = {}
    leave_kinds = (
        ({"ch": "年假", "en": "Annual Leave", "ja": "年次有給休暇"}, 1, 28800, "00:00:00", "23:59:59"),
        ({"ch": "病假", "en": "Sick Leave", "ja": "病気休暇"}, 3, 14400, "09:00:00", "13:00:00"),
    )
    for key, (names, unit, interval, start, end) in zip(company.ON_LEAVE_AT_ANCHOR, leave_kinds, strict=True):
        person = by_key[key]
        approvals[(person.user_id, yyyymmdd(anchor))] = {
            "user_id": person.user_id,
            "date": str(yyyymmdd(anchor)),
            "outs": [],
            "leaves": [
                {
                    "approval_id": ids.numeric_id("leave:" + key, prefix=69),
                    "uniq_id": "",
                    "unit": unit,
                    "interval": interval,
                    "start_time": f"{day} {start}",
                    "end_time": f"{day} {end}",
                    "i18n_names": names,
                    "default_locale": "ch",
                    "reason": "SENSITIVE-LEAVE-REASON 家中有事 / personal matters",
                    "approve_pass_time": passed,
                    "approve_apply_time": applied,
                    "idempotent_id": "",
                }
            ],
            "overtime_works": [],
            "trips": [],
            "time_zone": "Asia/Shanghai",
        }
    for key in company.ON_TRIP_AT_ANCHOR:
        person = by_key[key]
        approvals[(person.user_id, yyyymmdd(anchor))] = {
            "user_id": person.user_id,
            "date": str(yyyymmdd(anchor)),
            "outs": [],
            "leaves": [],
            "overtime_works": [],
            "trips": [
                {
                    "approval_id": ids.numeric_id("trip:" + key, prefix=69),
                    "start_time": f"{(anchor - timedelta(days=1)).isoformat()} 09:00:00",
                    "end_time": f"{(anchor + timedelta(days=1)).isoformat()} 18:00:00",
                    "reason": "深圳客户拜访 / customer visit",
                    "approve_pass_time": passed,
                    "approve_apply_time": applied,
                    "idempotent_id": "",
                }
            ],
            "time_zone": "Asia/Shanghai",
        }
    return approvals
