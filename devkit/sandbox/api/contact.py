"""Contact v3: users (get, batch, batch_get_id, find_by_department, patch) and departments (get, children).

users get / batch / find_by_department also take a user_access_token: same shapes, filtered by what that person
may see (Seed.visible_to). PATCH users/:user_id is emulated for user tokens only: a person may change their own
`city` and `description` (USER_EDITABLE_FIELDS); the change is kept in SandboxState and shows in every later read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from ..api_errors import ApiError, field_validation
from ..paging import page_size, paginate
from ..records import ROOT_DEPARTMENT_ID, Department, Person
from .common import (
    arg,
    arg_bool,
    arg_list,
    current_user,
    id_of,
    json_body,
    ok,
    rate_family,
    state,
    token_types,
    user_id_type,
)

bp = Blueprint("sandbox_contact", __name__)

DEPARTMENT_ID_TYPES = ("open_department_id", "department_id")
# What a person may change about themselves with their user_access_token. Feishu lets a user edit only a few
# profile fields; the sandbox picks these two, which no other sandbox API derives anything from.
USER_EDITABLE_FIELDS = ("city", "description")


def _page_size_error() -> ApiError:
    return ApiError(errors.CONTACT_PAGE_SIZE, "page size is invalid", 400)


def _page_token_error() -> ApiError:
    return ApiError(errors.CONTACT_PAGE_TOKEN, "page token is invalid error", 400)


def _no_dept_authority() -> ApiError:
    return ApiError(errors.CONTACT_NO_DEPT_AUTHORITY, "no dept authority error", 403)


def _no_user_authority() -> ApiError:
    return ApiError(errors.CONTACT_NO_USER_AUTHORITY, "no user authority error", 400)


def _department_id_type() -> str:
    value = arg("department_id_type", "open_department_id") or "open_department_id"
    if value not in DEPARTMENT_ID_TYPES:
        raise field_validation(f"department_id_type {value!r} is invalid")
    return value


def _dept_id(open_department_id: str, department_id_type: str) -> str:
    if open_department_id == ROOT_DEPARTMENT_ID or department_id_type == "open_department_id":
        return open_department_id
    dept = state().seed.department(open_department_id)
    return dept.department_id if dept else open_department_id


def _resolve_department(value: str, department_id_type: str) -> Department | None:
    """The department for `value` (None = root "0"); 403 40004 for unknown ids."""
    if value == ROOT_DEPARTMENT_ID:
        return None
    for dept in state().seed.departments:
        wanted = dept.open_department_id if department_id_type == "open_department_id" else dept.department_id
        if wanted == value:
            return dept
    raise _no_dept_authority()


def _visible(person: Person) -> bool:
    """With a user token: may its person see `person`? (Tenant tokens see everyone in the seed.)"""
    viewer = current_user()
    return viewer is None or state().seed.visible_to(viewer, person)


def render_user(person: Person, id_type: str, department_id_type: str) -> dict[str, Any]:
    seed = state().seed
    changes = state().profiles.of(person.open_id)
    if "city" in changes:
        person = replace(person, city=changes["city"])
    leader = seed.leader_of(person)
    resigned = person.is_resigned
    dept_ids = [] if resigned else [_dept_id(d, department_id_type) for d in person.department_ids]
    avatar_base = f"https://sandbox.invalid/avatar/{person.user_id}"
    home = seed.department(person.department_key)
    is_leader = home is not None and home.leader_key == person.key
    return {
        "union_id": person.union_id,
        "user_id": person.user_id,
        "open_id": person.open_id,
        "name": person.name,
        "en_name": person.en_name,
        "nickname": person.nickname,
        "email": person.email,
        "mobile": person.mobile,
        "mobile_visible": True,
        "gender": person.gender,
        "avatar_key": f"v2_{person.user_id}",
        "avatar": {
            "avatar_72": f"{avatar_base}_72.png",
            "avatar_240": f"{avatar_base}_240.png",
            "avatar_640": f"{avatar_base}_640.png",
            "avatar_origin": f"{avatar_base}.png",
        },
        "status": {
            "is_frozen": False,
            "is_resigned": resigned,
            "is_activated": not resigned,
            "is_exited": resigned,
            "is_unjoin": False,
        },
        "department_ids": dept_ids,
        "leader_user_id": "" if resigned else (id_of(leader, id_type) or ""),
        "city": person.city,
        "country": "CN",
        "work_station": f"{person.city}-{person.department_en_name[:3].upper()}-{person.employee_no[-3:]}",
        "join_time": person.join_time,
        "is_tenant_manager": person.key == "ceo",
        "employee_no": person.employee_no,
        "employee_type": person.employee_type,
        "orders": [
            {
                "department_id": d,
                "user_order": 0 if is_leader else 100,
                "department_order": 100,
                "is_primary_dept": True,
            }
            for d in dept_ids
        ],
        "custom_attrs": [
            {"type": "TEXT", "id": "C-desk", "value": {"text": f"{person.city} 办公室"}},
        ],
        "enterprise_email": "",
        "job_title": person.job_title,
        "is_frozen": False,
        "time_zone": "Asia/Shanghai",
        "description": changes.get("description", ""),
        "geo": "cn",
        "job_level_id": "",
        "job_family_id": "",
    }


def render_department(dept: Department | None, id_type: str, department_id_type: str) -> dict[str, Any]:
    seed = state().seed
    if dept is None:
        ceo = seed.ceo
        return {
            "name": seed.tenant_name,
            "i18n_name": {"zh_cn": seed.tenant_name, "ja_jp": seed.tenant_name, "en_us": seed.tenant_name_en},
            "parent_department_id": "",
            "department_id": ROOT_DEPARTMENT_ID,
            "open_department_id": ROOT_DEPARTMENT_ID,
            "leader_user_id": id_of(ceo, id_type),
            "chat_id": "",
            "order": "0",
            "unit_ids": [],
            "member_count": len(seed.active_people),
            "primary_member_count": len(seed.members_of(ROOT_DEPARTMENT_ID)),
            "status": {"is_deleted": False},
            "leaders": [{"leaderType": 1, "leaderID": id_of(ceo, id_type)}],
        }
    leader = seed.person(dept.leader_key)
    hrbp = seed.person("shaohua")
    return {
        "name": dept.name,
        "i18n_name": dept.i18n_name,
        "parent_department_id": _dept_id(dept.parent_open_department_id, department_id_type),
        "department_id": dept.department_id,
        "open_department_id": dept.open_department_id,
        "leader_user_id": id_of(leader, id_type),
        "chat_id": "",
        "order": str(dept.order),
        "unit_ids": [],
        "member_count": dept.member_count,
        "primary_member_count": dept.primary_member_count,
        "status": {"is_deleted": False},
        "leaders": [{"leaderType": 1, "leaderID": id_of(leader, id_type)}],
        "department_hrbps": [id_of(hrbp, id_type)],
        "group_chat_employee_types": [1],
        "create_group_chat": False,
    }


@bp.get("/open-apis/contact/v3/users/<user_id>")
@token_types("tenant", "user")
@rate_family("contact")
def get_user(user_id: str) -> ResponseReturnValue:
    id_type = user_id_type()
    department_id_type = _department_id_type()
    person = state().seed.person_by_id(user_id, id_type)
    if person is None or not _visible(person):
        raise _no_user_authority()
    return ok({"user": render_user(person, id_type, department_id_type)})


@bp.patch("/open-apis/contact/v3/users/<user_id>")
@token_types("user")
@rate_family("contact")
def patch_user(user_id: str) -> ResponseReturnValue:
    id_type = user_id_type()
    department_id_type = _department_id_type()
    viewer = current_user()
    assert viewer is not None  # the view takes user tokens only
    person = state().seed.person_by_id(user_id, id_type)
    if person is None or not _visible(person):
        raise _no_user_authority()
    if person.open_id != viewer.open_id:
        raise ApiError(
            errors.CONTACT_NO_USER_AUTHORITY,
            "no user authority error: a user_access_token can only update its own user",
            403,
        )
    body = json_body()
    if not body:
        raise field_validation("nothing to update: the request body is empty")
    refused = sorted(k for k in body if k not in USER_EDITABLE_FIELDS)
    if refused:
        raise field_validation(
            f"{', '.join(refused)} cannot be changed with a user_access_token "
            f"(a person may change only: {', '.join(USER_EDITABLE_FIELDS)})"
        )
    for key, value in body.items():
        if not isinstance(value, str):
            raise field_validation(f"{key} must be a string")
    state().profiles.update(person.open_id, body)
    return ok({"user": render_user(person, id_type, department_id_type)})


@bp.get("/open-apis/contact/v3/users/batch")
@token_types("tenant", "user")
@rate_family("contact")
def batch_users() -> ResponseReturnValue:
    id_type = user_id_type()
    department_id_type = _department_id_type()
    wanted = arg_list("user_ids")
    if not wanted:
        raise field_validation("user_ids is required")
    if len(wanted) > 50:
        raise field_validation("user_ids: the max length is 50")
    items = []
    for value in wanted:
        person = state().seed.person_by_id(value, id_type)
        if person is not None and _visible(person):  # unknown and (user token) invisible ids are left out
            items.append(render_user(person, id_type, department_id_type))
    return ok({"items": items})


@bp.post("/open-apis/contact/v3/users/batch_get_id")
@rate_family("contact")
def batch_get_id() -> ResponseReturnValue:
    id_type = user_id_type()
    body = json_body()
    emails = body.get("emails") or []
    mobiles = body.get("mobiles") or []
    include_resigned = bool(body.get("include_resigned", False))
    if not isinstance(emails, list) or not isinstance(mobiles, list):
        raise field_validation("emails and mobiles must be lists")
    if len(emails) > 50 or len(mobiles) > 50:
        raise field_validation("at most 50 emails and 50 mobiles")
    if not emails and not mobiles:
        raise field_validation("emails or mobiles is required")
    people = [p for p in state().seed.people if include_resigned or not p.is_resigned]
    results: list[dict[str, Any]] = []
    for email in emails:
        match = next((p for p in people if p.email.lower() == str(email).lower()), None)
        results.append(_contact_info(match, id_type, email=str(email)))
    for mobile in mobiles:
        digits = str(mobile).replace(" ", "").removeprefix("+86")
        match = next((p for p in people if p.mobile.removeprefix("+86") == digits), None)
        results.append(_contact_info(match, id_type, mobile=str(mobile)))
    return ok({"user_list": results})


def _contact_info(
    person: Person | None, id_type: str, *, email: str | None = None, mobile: str | None = None
) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if email is not None:
        info["email"] = email
    if mobile is not None:
        info["mobile"] = mobile
    if person is not None:
        info["user_id"] = id_of(person, id_type)
        info["status"] = {
            "is_frozen": False,
            "is_resigned": person.is_resigned,
            "is_activated": not person.is_resigned,
            "is_exited": person.is_resigned,
            "is_unjoin": False,
        }
    return info


@bp.get("/open-apis/contact/v3/users/find_by_department")
@token_types("tenant", "user")
@rate_family("contact")
def find_by_department() -> ResponseReturnValue:
    id_type = user_id_type()
    department_id_type = _department_id_type()
    department_id = arg("department_id")
    if not department_id:
        raise field_validation("department_id is required")
    size = page_size(arg("page_size"), default=10, maximum=50, error=_page_size_error)
    dept = _resolve_department(department_id, department_id_type)
    seed = state().seed
    members = [p for p in seed.members_of(dept if dept else ROOT_DEPARTMENT_ID) if _visible(p)]
    members.sort(key=lambda p: (0 if dept and dept.leader_key == p.key else 1, p.employee_no))
    page = paginate(
        members,
        scope=f"users:{department_id}",
        token=arg("page_token"),
        size=size,
        token_error=_page_token_error,
    )
    return ok({**page.fields(), "items": [render_user(p, id_type, department_id_type) for p in page.items]})


@bp.get("/open-apis/contact/v3/departments/<department_id>")
@rate_family("contact")
def get_department(department_id: str) -> ResponseReturnValue:
    id_type = user_id_type()
    department_id_type = _department_id_type()
    dept = _resolve_department(department_id, department_id_type)
    return ok({"department": render_department(dept, id_type, department_id_type)})


@bp.get("/open-apis/contact/v3/departments/<department_id>/children")
@rate_family("contact")
def department_children(department_id: str) -> ResponseReturnValue:
    id_type = user_id_type()
    department_id_type = _department_id_type()
    size = page_size(arg("page_size"), default=10, maximum=50, error=_page_size_error)
    dept = _resolve_department(department_id, department_id_type)
    seed = state().seed
    parent_open_id = dept.open_department_id if dept else ROOT_DEPARTMENT_ID
    found: list[Department] = []
    queue = [parent_open_id]
    while queue:
        current = queue.pop(0)
        children = seed.children_of(current)
        found.extend(children)
        if arg_bool("fetch_child"):
            queue.extend(c.open_department_id for c in children)
    page = paginate(
        found,
        scope=f"children:{department_id}:{arg_bool('fetch_child')}",
        token=arg("page_token"),
        size=size,
        token_error=_page_token_error,
    )
    return ok({**page.fields(), "items": [render_department(d, id_type, department_id_type) for d in page.items]})
