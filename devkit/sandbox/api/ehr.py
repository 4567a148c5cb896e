"""EHR v1 (飞书人事标准版) employee roster list, per ehr-v1-employees-list.md."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from ..api_errors import ApiError
from ..paging import page_size, paginate
from ..seed_ehr import BASIC_FIELDS
from .common import arg, arg_list, ok, rate_family, state

bp = Blueprint("sandbox_ehr", __name__)


def _invalid(detail: str = "") -> ApiError:
    return ApiError(errors.EHR_INVALID_PARAM, "请求参数错误" + (f": {detail}" if detail else ""), 400)


def _int_list(name: str, allowed: range) -> set[int]:
    values = set()
    for raw in arg_list(name):
        try:
            value = int(raw)
        except ValueError:
            raise _invalid(name) from None
        if value not in allowed:
            raise _invalid(name)
        values.add(value)
    return values


def _ms(name: str) -> int | None:
    raw = arg(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid(name) from None


def render_employee(record: dict[str, Any], view: str, id_type: str) -> dict[str, Any]:
    seed = state().seed
    source = record["system_fields"]
    if view == "basic":
        fields = {name: copy.deepcopy(source[name]) for name in BASIC_FIELDS}
    else:
        fields = copy.deepcopy(source)
        manager_key = record.get("manager_key")
        if manager_key:
            manager = seed.person(manager_key)
            manager_id = {
                "open_id": manager.open_id,
                "user_id": manager.user_id,
                "union_id": manager.union_id,
            }
            fields["manager"] = {
                "user_id": manager_id[id_type],
                "name": manager.name,
                "en_name": manager.en_name,
            }
    item: dict[str, Any] = {"user_id": record.get(id_type), "system_fields": fields}
    if view == "full":
        item["custom_fields"] = copy.deepcopy(record["custom_fields"])
    return item


@bp.get("/open-apis/ehr/v1/employees")
@rate_family("ehr")
def list_employees() -> ResponseReturnValue:
    view = arg("view", "basic") or "basic"
    if view not in ("basic", "full"):
        raise _invalid("view")
    id_type = arg("user_id_type", "open_id") or "open_id"
    if id_type not in ("open_id", "union_id", "user_id"):
        raise _invalid("user_id_type")
    statuses = _int_list("status", range(1, 6))
    types = _int_list("type", range(1, 100))
    user_ids = arg_list("user_ids")
    if len(user_ids) > 100:
        raise _invalid("user_ids")
    start, end = _ms("start_time"), _ms("end_time")
    size = page_size(arg("page_size"), default=10, maximum=100, error=lambda: _invalid("page_size"))
    records = []
    for record in state().seed.employees:
        fields = record["system_fields"]
        if statuses and fields["status"] not in statuses:
            continue
        if types and fields["employee_type"] not in types:
            continue
        if user_ids and record.get(id_type) not in user_ids:
            continue
        if start is not None and record["hire_ms"] < start:
            continue
        if end is not None and record["hire_ms"] > end:
            continue
        records.append(record)
    scope = "ehr:" + "|".join(sorted(arg_list("status")) + ["t"] + sorted(arg_list("type")))
    page = paginate(
        records, scope=scope, token=arg("page_token"), size=size, token_error=lambda: _invalid("page_token")
    )
    return ok(page.fields("items", [render_employee(r, view, id_type) for r in page.items]))
