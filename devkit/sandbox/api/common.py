"""Helpers shared by the Open Platform endpoint modules: state access, answers, argument parsing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from ..api_errors import ApiError, field_validation
from ..records import Person
from ..state import SandboxState

F = TypeVar("F", bound=Callable[..., Any])

USER_ID_TYPES = ("open_id", "union_id", "user_id")


def state() -> SandboxState:
    return current_app.extensions["sandbox"]  # type: ignore[no-any-return]


def ok(data: dict[str, Any] | None = None, msg: str = "success") -> ResponseReturnValue:
    return jsonify({"code": 0, "msg": msg, "data": data if data is not None else {}})


def rate_family(family: str) -> Callable[[F], F]:
    """Mark a view with its rate-limit family (see ratelimit.FAMILY_LIMITS)."""

    def mark(view: F) -> F:
        view.sandbox_rate_family = family  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Mark a view as not needing an access token."""
    view.sandbox_public = True  # type: ignore[attr-defined]
    return view


def token_types(*kinds: str) -> Callable[[F], F]:
    """Mark the access tokens a view accepts: "tenant" (the default for unmarked views), "app", "user".

    app._authenticate() checks the token; for a user token, current_user() is the person it speaks for.
    """

    def mark(view: F) -> F:
        view.sandbox_token_types = kinds  # type: ignore[attr-defined]
        return view

    return mark


def current_user() -> Person | None:
    """The person behind the request's user access token (None when a tenant/app token was used)."""
    return g.get("sandbox_user")


def arg(name: str, default: str | None = None) -> str | None:
    value = request.args.get(name)
    return default if value is None else value


def arg_list(name: str) -> list[str]:
    """Repeated query keys (lark-oapi sends lists as name=a&name=b); a comma list is accepted too."""
    values: list[str] = []
    for raw in request.args.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def arg_bool(name: str, default: bool = False) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("true", "1", "yes")


def json_body() -> dict[str, Any]:
    if not request.data:
        return {}
    try:
        body = json.loads(request.data)
    except ValueError:
        raise field_validation("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise field_validation("request body must be a JSON object")
    return body


def user_id_type(default: str = "open_id", *, error: Callable[[], ApiError] | None = None) -> str:
    value = arg("user_id_type", default) or default
    if value not in USER_ID_TYPES:
        raise (error() if error else field_validation(f"user_id_type {value!r} is invalid"))
    return value


def id_of(person: Person | None, id_type: str) -> str | None:
    if person is None:
        return None
    return {"open_id": person.open_id, "union_id": person.union_id, "user_id": person.user_id}[id_type]
