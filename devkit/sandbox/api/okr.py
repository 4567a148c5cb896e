"""OKR v1: periods, a user's OKR list (offset/limit paging) and batch_get, per okr-v1-user-okr-list.md; progress
records (create / get / update / delete), per Feishu's okr-v1/progress_record pages (see progress.py)."""

from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from ..api_errors import ApiError
from ..paging import capped, page_size, paginate
from ..progress import KEY_RESULT, OBJECTIVE, Record
from .common import arg, arg_list, current_user, ok, rate_family, state, token_types

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
    """API form of a stored OKR batch: resolves `lang`, hides permission-0 OKRs / objectives, shows the progress
    that records changed."""
    batch = state().progress.overlay(batch)
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


# ---- progress records ---------------------------------------------------------------------------------------
# Field rules from Feishu's "创建 OKR 进展记录" (okr-v1/progress_record/create): source_title, source_url (^https?://),
# target_id (an int64 id; the page shows a string, lark-oapi sends a number), target_type 2 (objective) / 3 (key
# result) and content (content_block) are required; source_url_pc / source_url_mobile must match ^https?:// when
# given; progress_rate.percent is a number in -99999999999..99999999999 (default 0), status one of -1 暂无 /
# 0 正常 / 1 风险 / 2 延期. Errors: 400 1001001 invalid parameters, 1001002 no permission, 1001004 OKR data not
# found. The content's element keys are accepted as the page writes them (textRun, strikeThrough, ...) and as
# lark-oapi's models serialise them (text_run, strike_through, ...), and answered as sent.
PROGRESS_USER_ID_TYPES = ("open_id", "union_id", "user_id")
_URL = re.compile(r"^https?://.*$")
_PERCENT_LIMIT = 99_999_999_999
_STATUSES = (-1, 0, 1, 2)
_INT64_MAX = 2**63 - 1
_BLOCK_TYPES = ("paragraph", "gallery")
_ELEMENT_TYPES = ("textRun", "docsLink", "person")


def _no_permission() -> ApiError:
    return ApiError(errors.OKR_NO_PERMISSION, "No permission.", 400)


def _not_found() -> ApiError:
    return ApiError(errors.OKR_NOT_FOUND, "OKR data not found.", 400)


def _okr_body() -> dict[str, Any]:
    """The JSON object body; anything else is 1001001 (the OKR API's own code, not the gateway's 99992402)."""
    try:
        body = json.loads(request.data or b"null")
    except ValueError:
        raise _invalid() from None
    if not isinstance(body, dict):
        raise _invalid()
    return body


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _target_id(value: Any) -> str:
    if _is_int(value):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise _invalid()
    if not 0 < number <= _INT64_MAX:
        raise _invalid()
    return str(number)


def _url(value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _URL.match(value):
        raise _invalid()
    return value


def _progress_rate(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid()
    rate: dict[str, Any] = {}
    percent = value.get("percent")
    if percent is not None:
        if not isinstance(percent, int | float) or isinstance(percent, bool) or not math.isfinite(percent):
            raise _invalid()
        if abs(percent) > _PERCENT_LIMIT:
            raise _invalid()
        rate["percent"] = round(percent, 2)
    status = value.get("status")
    if status is not None:
        if not _is_int(status) or status not in _STATUSES:
            raise _invalid()
        rate["status"] = status
    return rate


def _either(item: dict[str, Any], camel: str, snake: str) -> Any:
    return item[camel] if camel in item else item.get(snake)


def _content(value: Any) -> dict[str, Any]:
    """A content_block: {blocks: [{type, paragraph: {elements: [{type, textRun: {text, style}}]}} | gallery]}."""
    if not isinstance(value, dict):
        raise _invalid()
    blocks = value.get("blocks")
    if blocks is None:
        return value
    if not isinstance(blocks, list):
        raise _invalid()
    for block in blocks:
        if not isinstance(block, dict) or block.get("type", "paragraph") not in _BLOCK_TYPES:
            raise _invalid()
        paragraph = block.get("paragraph")
        if paragraph is None:
            continue
        if not isinstance(paragraph, dict):
            raise _invalid()
        elements = paragraph.get("elements", [])
        if not isinstance(elements, list):
            raise _invalid()
        for element in elements:
            if not isinstance(element, dict) or element.get("type", "textRun") not in _ELEMENT_TYPES:
                raise _invalid()
            text_run = _either(element, "textRun", "text_run")
            if text_run is not None and (not isinstance(text_run, dict)
                                         or not isinstance(text_run.get("text", ""), str)):
                raise _invalid()
    return value


def _progress_user_id_type() -> None:
    id_type = arg("user_id_type", "open_id") or "open_id"
    if id_type not in PROGRESS_USER_ID_TYPES:
        raise _invalid()


def _writable(owner_open_id: str) -> None:
    """With a user_access_token only the OKR's owner may write; a tenant token writes for the app."""
    user = current_user()
    if user is not None and user.open_id != owner_open_id:
        raise _no_permission()


def _record(progress_id: str) -> Record:
    if not (progress_id.isascii() and progress_id.isdigit()):
        raise _invalid()
    record = state().progress.get(progress_id)
    if record is None:
        raise _not_found()
    return record


@bp.post("/open-apis/okr/v1/progress_records")
@rate_family("okr")
@token_types("tenant", "user")
def create_progress_record() -> ResponseReturnValue:
    _progress_user_id_type()
    body = _okr_body()
    title = body.get("source_title")
    if not isinstance(title, str) or not title.strip():
        raise _invalid()
    source_url = _url(body.get("source_url"), required=True)
    source_url_pc = _url(body.get("source_url_pc"), required=False)
    source_url_mobile = _url(body.get("source_url_mobile"), required=False)
    target_id = _target_id(body.get("target_id"))
    target_type = body.get("target_type")
    if not _is_int(target_type) or target_type not in (OBJECTIVE, KEY_RESULT):
        raise _invalid()
    if "content" not in body:
        raise _invalid()
    content = _content(body["content"])
    progress_rate = _progress_rate(body.get("progress_rate"))
    target = state().progress.target(target_id)
    if target is None or target.kind != target_type:
        raise _not_found()
    _writable(target.owner_open_id)
    assert source_url is not None
    record = state().progress.create(
        target, content=content, progress_rate=progress_rate, now_ms=state().clock.now_ms(),
        source_title=title, source_url=source_url, source_url_pc=source_url_pc, source_url_mobile=source_url_mobile,
    )
    return ok(record.as_api())


@bp.get("/open-apis/okr/v1/progress_records/<progress_id>")
@rate_family("okr")
@token_types("tenant", "user")
def get_progress_record(progress_id: str) -> ResponseReturnValue:
    _progress_user_id_type()
    record = _record(progress_id)
    user = current_user()
    if user is not None and not record.target.visible and user.open_id != record.target.owner_open_id:
        raise _no_permission()
    return ok(record.as_api())


@bp.put("/open-apis/okr/v1/progress_records/<progress_id>")
@rate_family("okr")
@token_types("tenant", "user")
def update_progress_record(progress_id: str) -> ResponseReturnValue:
    _progress_user_id_type()
    body = _okr_body()
    if "content" not in body:
        raise _invalid()
    content = _content(body["content"])
    progress_rate = _progress_rate(body.get("progress_rate"))
    record = _record(progress_id)
    _writable(record.target.owner_open_id)
    updated = state().progress.update(progress_id, content=content, progress_rate=progress_rate,
                                      now_ms=state().clock.now_ms())
    if updated is None:  # deleted meanwhile
        raise _not_found()
    return ok(updated.as_api())


@bp.delete("/open-apis/okr/v1/progress_records/<progress_id>")
@rate_family("okr")
@token_types("tenant", "user")
def delete_progress_record(progress_id: str) -> ResponseReturnValue:
    record = _record(progress_id)
    _writable(record.target.owner_open_id)
    if state().progress.delete(progress_id) is None:
        raise _not_found()
    return ok()
