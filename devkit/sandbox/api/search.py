"""Search v1: user search by keyword, as the signed-in person may see people (user_access_token only).

Shape per /work/shared/feishu-api/contact-v3-user-user-token-api.md (GetUsersByKeywordAsync): query (required),
page_size (default 10, max 50), page_token; data.user_list [{user_id (an open_id), open_id, name,
avatar{avatar_72, avatar_240, avatar_640, avatar_origin}, department_ids}], has_more, page_token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from ..api_errors import ApiError, field_validation
from ..paging import page_size, paginate
from ..records import Person
from .common import arg, current_user, ok, rate_family, state, token_types

bp = Blueprint("sandbox_search", __name__)

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50


def _page_size_error() -> ApiError:
    return field_validation(f"page_size must be between 1 and {MAX_PAGE_SIZE}")


def _page_token_error() -> ApiError:
    return field_validation("page_token is invalid")


def _matches(person: Person, needle: str) -> bool:
    return any(needle in value.casefold() for value in (person.name, person.en_name, person.nickname) if value)


def _render(person: Person) -> dict[str, Any]:
    avatar = f"https://sandbox.invalid/avatar/{person.user_id}"
    return {
        "user_id": person.open_id,
        "open_id": person.open_id,
        "name": person.name,
        "avatar": {
            "avatar_72": f"{avatar}_72.png",
            "avatar_240": f"{avatar}_240.png",
            "avatar_640": f"{avatar}_640.png",
            "avatar_origin": f"{avatar}.png",
        },
        "department_ids": list(person.department_ids),
    }


@bp.get("/open-apis/search/v1/user")
@token_types("user")
@rate_family("contact")  # no documented limit of its own
def search_users() -> ResponseReturnValue:
    viewer = current_user()
    assert viewer is not None  # the view takes user tokens only
    query = (arg("query") or "").strip()
    if not query:
        raise field_validation("query is required")
    size = page_size(arg("page_size"), default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE, error=_page_size_error)
    needle = query.casefold()
    seed = state().seed
    found = [
        p for p in seed.people if not p.is_resigned and seed.visible_to(viewer, p) and _matches(p, needle)
    ]
    page = paginate(
        found, scope=f"search:{viewer.open_id}:{needle}", token=arg("page_token"), size=size,
        token_error=_page_token_error,
    )
    return ok(page.fields("user_list", [_render(p) for p in page.items]))
