"""Attendance v1: groups (list, search, get, list_user), punch results and leave/trip approvals."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from ..api_errors import ApiError
from ..paging import page_size, paginate
from ..records import AttendanceGroup, GroupMember
from ..timeutil import from_yyyymmdd
from .common import arg, json_body, ok, rate_family, state

bp = Blueprint("sandbox_attendance", __name__)


def _invalid(detail: str = "") -> ApiError:
    return ApiError(
        errors.ATTENDANCE_INVALID_PARAM, "invalid parameter" + (f": {detail}" if detail else ""), 400
    )


def _employee_type(required: bool = True) -> str:
    value = arg("employee_type")
    if value is None:
        if required:
            raise _invalid("employee_type is required")
        return "employee_id"
    if value not in ("employee_id", "employee_no"):
        raise ApiError(
            errors.ATTENDANCE_BAD_EMPLOYEE_TYPE, "user_id type is not employee_id or employee_no", 400
        )
    return value


def _member_id(member: GroupMember, employee_type: str) -> str:
    return member.employee_no if employee_type == "employee_no" else member.user_id


def _group(group_id: str) -> AttendanceGroup:
    group = state().seed.group(group_id)
    if group is None or group.group_id != group_id:
        raise _invalid("group_id not found")
    return group


@bp.get("/open-apis/attendance/v1/groups")
@rate_family("attendance")
def list_groups() -> ResponseReturnValue:
    size = page_size(arg("page_size"), default=10, maximum=50, error=lambda: _invalid("page_size"))
    page = paginate(
        state().seed.groups,
        scope="groups",
        token=arg("page_token"),
        size=size,
        token_error=lambda: _invalid("page_token"),
    )
    return ok(page.fields("group_list", [{"group_id": g.group_id, "group_name": g.group_name} for g in page.items]))


@bp.post("/open-apis/attendance/v1/groups/search")
@rate_family("attendance")
def search_groups() -> ResponseReturnValue:
    body = json_body()
    name = body.get("group_name")
    if not isinstance(name, str) or not name:
        raise _invalid("group_name is required")
    exact = bool(body.get("exactly_matched", False))
    found = [g for g in state().seed.groups if (g.group_name == name if exact else name in g.group_name)]
    return ok({"group_list": [{"group_id": g.group_id, "group_name": g.group_name} for g in found[:10]]})


@bp.get("/open-apis/attendance/v1/groups/<group_id>")
@rate_family("attendance")
def get_group(group_id: str) -> ResponseReturnValue:
    employee_type = _employee_type(required=False)
    group = _group(group_id)
    members = group.members
    return ok(
        {
            "group_id": group.group_id,
            "group_name": group.group_name,
            "time_zone": "Asia/Shanghai",
            "bind_dept_ids": list(group.bind_dept_ids),
            "except_dept_ids": [],
            "bind_user_ids": [_member_id(m, employee_type) for m in members],
            "except_user_ids": [],
            "group_leader_ids": list(group.leader_user_ids),
            "sub_group_leader_ids": [],
            "allow_out_punch": group.key == "field",
            "allow_pc_punch": False,
            "allow_remedy": True,
            "remedy_limit": True,
            "remedy_limit_count": 3,
            "group_type": group.group_type,
            "punch_day_shift_ids": [group.shift_id] * 5 + ["0", "0"] if group.group_type != 3 else [],
            "free_punch_cfg": {
                "free_start_time": group.on_time,
                "free_end_time": group.off_time,
                "punch_day": 31,
                "work_day_no_punch_as_lack": True,
            }
            if group.group_type == 3
            else None,
            "calendar_id": 1,
            "need_punch_members": [
                {"rule_scope_type": 0, "scope_group_list": {"employee_type": [1, 2, 3, 4, 5]}}
            ],
            "no_need_punch_members": [],
            "effect_time": "1735660800",
        }
    )


@bp.get("/open-apis/attendance/v1/groups/<group_id>/list_user")
@rate_family("attendance")
def list_group_users(group_id: str) -> ResponseReturnValue:
    employee_type = _employee_type()
    dept_type = arg("dept_type")
    if dept_type != "open_id":
        raise _invalid("dept_type must be open_id")
    clock_raw = arg("member_clock_type")
    if clock_raw not in ("0", "1", "2"):
        raise _invalid("member_clock_type must be 0, 1 or 2")
    clock_type = int(clock_raw)
    size = page_size(arg("page_size"), default=10, maximum=50, error=lambda: _invalid("page_size"))
    group = _group(group_id)
    members = [m for m in group.members if clock_type == 0 or m.clock_type == clock_type]
    page = paginate(
        members,
        scope=f"list_user:{group_id}:{clock_type}",
        token=arg("page_token"),
        size=size,
        token_error=lambda: _invalid("page_token"),
    )
    rendered: list[object] = [
        {"user_id": _member_id(m, employee_type), "department_ids": list(m.department_chain)} for m in page.items
    ]
    return ok(page.fields("users", rendered))


def _query_window(body: dict[str, Any], *, limit: int = 50) -> tuple[list[str], int, int]:
    user_ids = body.get("user_ids")
    if not isinstance(user_ids, list) or not user_ids or len(user_ids) > limit:
        raise _invalid(f"user_ids must hold 1..{limit} ids")
    try:
        date_from, date_to = int(body["check_date_from"]), int(body["check_date_to"])
        first, last = from_yyyymmdd(date_from), from_yyyymmdd(date_to)
    except (KeyError, TypeError, ValueError):
        raise _invalid("check_date_from / check_date_to must be yyyyMMdd") from None
    if last < first or (last - first).days > 31:
        raise _invalid("date range")
    return [str(u) for u in user_ids], date_from, date_to


def _employee_lookup(employee_type: str) -> dict[str, str]:
    """requested id -> employee_id (user_id)."""
    people = state().seed.people
    if employee_type == "employee_no":
        return {p.employee_no: p.user_id for p in people}
    return {p.user_id: p.user_id for p in people}


@bp.post("/open-apis/attendance/v1/user_tasks/query")
@rate_family("attendance")
def query_user_tasks() -> ResponseReturnValue:
    employee_type = _employee_type()
    user_ids, date_from, date_to = _query_window(json_body())
    lookup = _employee_lookup(employee_type)
    results, invalid = [], []
    for requested in user_ids:
        employee_id = lookup.get(requested)
        if employee_id is None:
            invalid.append(requested)
            continue
        for (uid, day), task in sorted(state().seed.user_tasks.items()):
            if uid == employee_id and date_from <= day <= date_to:
                result = copy.deepcopy(task)
                result["user_id"] = requested
                results.append(result)
    return ok({"user_task_results": results, "invalid_user_ids": invalid, "unauthorized_user_ids": []})


@bp.post("/open-apis/attendance/v1/user_approvals/query")
@rate_family("attendance")
def query_user_approvals() -> ResponseReturnValue:
    employee_type = _employee_type()
    user_ids, date_from, date_to = _query_window(json_body())
    lookup = _employee_lookup(employee_type)
    approvals = []
    for requested in user_ids:
        employee_id = lookup.get(requested)
        for (uid, day), approval in sorted(state().seed.approvals.items()):
            if employee_id is not None and uid == employee_id and date_from <= day <= date_to:
                result = copy.deepcopy(approval)
                result["user_id"] = requested
                approvals.append(result)
    return ok({"user_approvals": approvals})
