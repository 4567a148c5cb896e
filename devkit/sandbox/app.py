"""Flask application emulating the Feishu Open Platform endpoints the bot uses, on loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from . import api_errors as errors
from .api import attendance, auth, authen, contact, control, ehr, im, longconn, okr, search
from .api_errors import ApiError
from .app_scopes import ACCESS_DENIED, refusal_message
from .longconn import LongConnection
from .seed import Seed
from .server_limits import FAMILY_LIMITS
from .state import SandboxState

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox"


def create_sandbox(
    *,
    app_id: str = "cli_sandbox_app",
    app_secret: str = "sandbox-secret",
    seed: Seed | None = None,
    rate_scale: float | None = 1.0,
    clock: Callable[[], float] | None = None,
    rate_limits: bool = True,
    strict_cards: bool = True,
    strict_replies: bool = False,
    withheld_scopes: Iterable[str] = (),
) -> Flask:
    """Build the sandbox app; its state is ``app.extensions["sandbox"]`` (a SandboxState), its long-connection
    channel ``app.extensions["longconn"]`` (a LongConnection).

    rate_scale multiplies the documented rate limits (60.0 turns "per minute" into "per second"); None or
    rate_limits=False disables them. `clock` (seconds) drives rate windows, TTLs and timestamps; default real
    time. strict_cards=False skips the @-mention checks on outgoing content. strict_replies=True refuses
    replies to message ids the sandbox never saw (default: "om_..." ids are accepted, chat unknown).
    withheld_scopes: scopes the app's admin has not enabled (app_scopes.py): APIs needing them answer 99991672.
    """
    state = SandboxState(
        seed=seed,
        app_id=app_id,
        app_secret=app_secret,
        rate_scale=rate_scale if rate_limits else None,
        clock=clock,
        strict_cards=strict_cards,
        strict_replies=strict_replies,
        withheld_scopes=withheld_scopes,
    )
    app = Flask("devkit.sandbox")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["sandbox"] = state
    # the long connection's WebSocket server starts on the first POST /callback/ws/endpoint (see longconn.py)
    app.extensions["longconn"] = LongConnection(state)
    for module in (auth, authen, contact, search, okr, ehr, attendance, im, longconn, control):
        app.register_blueprint(module.bp)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _state() -> SandboxState:
    from flask import current_app

    return current_app.extensions["sandbox"]  # type: ignore[no-any-return]


def _error_body(code: int, msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "error": {"log_id": g.get("sandbox_log_id", "")}}


def _authenticate(kinds: tuple[str, ...]) -> None:
    """Check the Bearer token against the kinds the view accepts ("tenant", "app", "user").

    Wrong or stale tenant/app tokens answer 99991663. On a view that takes user tokens, a "u-..." token is looked
    up (99991668 unknown, 99991677 expired); a user-only view given any other token answers 99991668.
    """
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise ApiError(
            errors.TOKEN_MISSING,
            "Missing access token for authorization. Please make a request with token attached.",
            400,
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    state = _state()
    if scheme.lower() == "bearer":
        if "tenant" in kinds and state.tokens.is_valid(token, "t"):
            g.sandbox_token_kind = "tenant"
            return
        if "app" in kinds and state.tokens.is_valid(token, "a"):
            g.sandbox_token_kind = "app"
            return
        if "user" in kinds and token.startswith("u-"):
            g.sandbox_user = state.user_auth.person_for(token)
            g.sandbox_token_kind = "user"
            return
    if kinds == ("user",):
        raise errors.user_token_invalid("This API accepts only a user_access_token.")
    raise errors.invalid_token()


def _json_or_none() -> Any:
    """The request's JSON body, or None when it has none or it is not JSON (for faults that match on the body)."""
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None


def _before_request() -> ResponseReturnValue | None:
    state = _state()
    g.sandbox_log_id = state.requests.next_log_id()
    if request.path.startswith(CONTROL_PREFIX):
        return None
    fault = state.faults.take(request.method, request.path, _json_or_none)
    if fault is not None:
        if fault.delay > 0:
            # Feishu has the whole request before its answer is late: one whose sender dies meanwhile still counts
            request.get_data(cache=True)
        state.faults.sleep(fault.delay)
        if fault.answers:
            response = jsonify(fault.body(g.sandbox_log_id))
            response.status_code = fault.http_status or 500
            response.headers.update(fault.headers)
            return response
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None
    if not getattr(view, "sandbox_public", False):
        _authenticate(getattr(view, "sandbox_token_types", ("tenant",)))
        if g.get("sandbox_token_kind") == "tenant":
            missing = state.scopes.missing(request.method, request.path)
            if missing:
                raise ApiError(ACCESS_DENIED, refusal_message(state.app_id, missing), 400)
    family = getattr(view, "sandbox_rate_family", None)
    if family:
        rejection = state.limiter.hit(f"{family}:{request.endpoint}", FAMILY_LIMITS[family])
        if rejection is not None:
            raise ApiError(
                errors.RATE_LIMITED,
                "request trigger frequency limit",
                429,
                rejection.headers(state.limiter.scale or 1.0),
            )
    return None


def _after_request(response: Response) -> Response:
    log_id = g.get("sandbox_log_id", "")
    response.headers["X-Tt-Logid"] = log_id
    if request.path.startswith(CONTROL_PREFIX):
        return response
    body: Any = None
    if request.data:
        try:
            body = json.loads(request.data)
        except ValueError:
            body = request.data.decode("utf-8", "replace")
    payload = response.get_json(silent=True) if response.is_json else None
    _state().requests.add(
        {
            "method": request.method,
            "path": request.path,
            "endpoint": request.endpoint,
            "query": request.args.to_dict(flat=False),
            "body": body,
            "status": response.status_code,
            "code": payload.get("code") if isinstance(payload, dict) else None,
            "log_id": log_id,
            "time": _state().clock.now(),
        }
    )
    return response


def _api_error(error: ApiError) -> ResponseReturnValue:
    response = jsonify(_error_body(error.code, error.msg))
    response.status_code = error.http_status
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    response = jsonify(_error_body(status, f"{status} {error.name}".lower()))
    response.status_code = status
    return response


def _unexpected_error(error: Exception) -> ResponseReturnValue:
    log.exception("sandbox: unhandled error on %s %s", request.method, request.path)
    response = jsonify(
        _error_body(
            errors.OKR_UNKNOWN if request.path.startswith("/open-apis/okr") else 1,
            f"sandbox internal error: {type(error).__name__}: {error}",
        )
    )
    response.status_code = 500
    return response
