"""OKR v1: periods, a user's OKR list (offset/limit paging) and batch_get, per okr-v1-user-okr-list.md."""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from ..api_errors import ApiError
from ..paging import capped, page_size, paginate
from .common import arg, arg_list, ok, rate_family, state

bp = Blueprint("sandbox_okr", __name__)

OKR_USER_ID_TYPES = ("open_id", "union_id", "user_id", "people_admin_id")


def _invalid() -> ApiError:
    return ApiError(
        errors.OKR_INVALID_PARAM, "Invalid parameters. Please check document and modify accordingly.", 400
    )


def _lang() -> str:
    lang = arg("lang", "zh_cn") or "zh_cn"
    if lang not in ("zh_cn", "en_us"):
        raise _invalid()
    return lang


def _localise(item: dict[str, Any], lang: str) -> None:
    content_en = item.pop("content_en", None)
    if lang == "en_us" and content_en is not None:
        item["content"] = content_en


def render_batch(batch: dict[str, Any], lang: str) -> dict[str, Any]:
    """API form of a stored OKR batch: resolves `lang`, hides permission-0 OKRs / objectives."""
    if batch.get("permission") == 0:
        return {"id": batch["id"], "permission": 0}
    rendered = copy.deepcopy(batch)
    name_en = rendered.pop("name_en", None)
    if lang == "en_us" and name_en:
        rendered["name"] = name_en
    objectives = []
    for objective in rendered["objective_list"]:
        if objective.get("permission") == 0:
            objectives.append({"id": objective["id"], "permission": 0})
            continue
        _localise(objective, lang)
        for kr in objective.get("kr_list", []):
            _localise(kr, lang)
        objectives.append(objective)
    rendered["objective_list"] = objectives
    return rendered


def _int_param(name: str, *, required: bool, minimum: int, maximum: int | None = None) -> int | None:
    raw = arg(name)
    if raw is None or raw == "":
        if required:
            raise _invalid()
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _invalid() from None
    if value < minimum or (maximum is not None and value > maximum):
        raise _invalid()
    return value


@bp.get("/open-apis/okr/v1/periods")
@rate_family("okr")
def list_periods() -> ResponseReturnValue:
    size = page_size(arg("page_size"), default=10, maximum=100, error=_invalid)
    periods = sorted(state().seed.periods, key=lambda p: p.start_ms, reverse=True)
    page = paginate(periods, scope="okr-periods", token=arg("page_token"), size=size, token_error=_invalid)
    return ok(page.fields("items", [p.as_api() for p in page.items]))


@bp.get("/open-apis/okr/v1/users/<user_id>/okrs")
@rate_family("okr")
def list_user_okrs(user_id: str) -> ResponseReturnValue:
    id_type = arg("user_id_type", "open_id") or "open_id"
    if id_type not in OKR_USER_ID_TYPES:
        raise _invalid()
    offset = _int_param("offset", required=True, minimum=0)
    limit = _int_param("limit", required=True, minimum=0, maximum=10)
    assert offset is not None and limit is not None
    period_ids = arg_list("period_ids")
    if len(period_ids) > 10:
        raise _invalid()
    lang = _lang()
    lookup_type = "user_id" if id_type == "people_admin_id" else id_type
    person = state().seed.person_by_id(user_id, lookup_type)
    if person is None:
        raise ApiError(errors.OKR_USER_NOT_FOUND, "User not found.", 400)
    batches = list(state().seed.okrs_of(person))
    if period_ids:
        wanted = set(period_ids)
        batches = [b for b in batches if str(b["period_id"]) in wanted]
    chosen = batches[offset : offset + capped(limit)]
    return ok({"total": len(batches), "okr_list": [render_batch(b, lang) for b in chosen]})


@bp.get("/open-apis/okr/v1/okrs/batch_get")
@rate_family("okr")
def batch_get_okrs() -> ResponseReturnValue:
    id_type = arg("user_id_type", "open_id") or "open_id"
    if id_type not in OKR_USER_ID_TYPES:
        raise _invalid()
    okr_ids = arg_list("okr_ids")
    if not okr_ids or len(okr_ids) > 10:
        raise _invalid()
    lang = _lang()
    index = {str(b["id"]): b for batches in state().seed.okrs.values() for b in batches}
    found = [index[i] for i in okr_ids if i in index]
    if not found:
        raise ApiError(errors.OKR_NOT_FOUND, "OKR data not found.", 400)
    return ok({"okr_list": [render_batch(b, lang) for b in found]})
