"""Signing in as a person: the consent page, the authen v1 oidc token endpoints and user_info.

GET  /open-apis/authen/v1/authorize?app_id=&redirect_uri=&state=[&scope=][&login_hint=]  consent page (HTML)
POST /open-apis/authen/v1/authorize                         approve / cancel -> 302 to redirect_uri
POST /open-apis/authen/v1/oidc/access_token                 code -> user token pair (Bearer app_access_token)
POST /open-apis/authen/v1/oidc/refresh_access_token         refresh token -> new pair (Bearer app_access_token)
GET  /open-apis/authen/v1/user_info                         the token's person (Bearer user_access_token)
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, request
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from ..api_errors import ApiError
from ..records import Person
from ..userauth import DEFAULT_SCOPE
from .common import current_user, json_body, ok, public, rate_family, state, token_types

bp = Blueprint("sandbox_authen", __name__)

AUTHORIZE_PATH = "/open-apis/authen/v1/authorize"
FORM_FIELDS = ("open_id", "action", "auto_approve")  # what the page adds; everything else is carried over


# ---- consent page ----------------------------------------------------------------------------------------
@bp.route(AUTHORIZE_PATH, methods=["GET", "POST"])
@public
def authorize() -> ResponseReturnValue:
    """Feishu's consent page. `auto_approve=<open_id>` (sandbox only) answers the approving redirect at once."""
    params = _params()
    app_id = params.get("app_id") or params.get("client_id") or ""
    redirect_uri = params.get("redirect_uri") or ""
    if app_id != state().app_id:
        return _error_page(f"Unknown app_id {app_id!r}: this sandbox serves {state().app_id!r}.")
    if not redirect_uri:
        return _error_page("redirect_uri is required.")
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return _error_page(f"redirect_uri {redirect_uri!r} is not an http(s) URL.")
    if request.method == "GET":
        if params.get("auto_approve"):
            return _approve(params["auto_approve"], params)
        return _consent_page(params)
    if request.form.get("action") == "cancel":
        return redirect(_with_query(redirect_uri, {"error": "access_denied"}, params.get("state")), 302)
    return _approve(request.form.get("open_id", ""), params)


def _params() -> dict[str, str]:
    """The authorisation request: query parameters, overridden by the form's hidden inputs on POST."""
    params = request.args.to_dict()
    if request.method == "POST":
        params.update(request.form.to_dict())
    return params


def _approve(open_id: str, params: dict[str, str]) -> ResponseReturnValue:
    redirect_uri = params["redirect_uri"]
    try:
        code = state().user_auth.issue_code(
            open_id, scope=params.get("scope") or None, redirect_uri=redirect_uri
        )
    except KeyError:
        return _error_page(f"{open_id!r} is not an active person of this tenant.")
    return redirect(_with_query(redirect_uri, {"code": code}, params.get("state")), 302)


def _with_query(url: str, extra: dict[str, str], oauth_state: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend(extra.items())
    if oauth_state is not None:
        query.append(("state", oauth_state))
    return urlunsplit(parts._replace(query=urlencode(query)))


_STYLE = """
body{margin:0;background:#f5f6f7;font:14px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",sans-serif;color:#1f2329}
.card{max-width:420px;margin:64px auto;background:#fff;border-radius:8px;padding:32px;box-shadow:0 2px 8px #0001}
h1{font-size:18px;margin:0 0 4px} .muted{color:#8f959e;font-size:12px} ul{padding-left:18px}
select{width:100%;padding:8px;margin:8px 0 20px;border:1px solid #d0d3d6;border-radius:4px}
.actions{display:flex;flex-direction:row-reverse;gap:12px}
button{flex:1;padding:9px;border-radius:4px;border:1px solid #d0d3d6;background:#fff;font-size:14px;cursor:pointer}
button.primary{background:#3370ff;border-color:#3370ff;color:#fff}
""".strip()


def _html(title: str, body: str, status: int = 200) -> Response:
    page = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
        f'<body><div class="card">{body}</div></body></html>'
    )
    return Response(page, status=status, mimetype="text/html")


def _error_page(message: str) -> Response:
    body = f"<h1>授权失败 / Authorization failed</h1><p>{escape(message)}</p>"
    return _html("授权失败 - 飞书 / Authorization failed - Feishu", body, 400)


def _option(person: Person, selected: bool) -> str:
    label = f"{person.name} · {person.en_name} · {person.department_name}"
    mark = " selected" if selected else ""
    return f'<option value="{escape(person.open_id)}"{mark}>{escape(label)}</option>'


def _consent_page(params: dict[str, str]) -> Response:
    seed = state().seed
    app_name = seed.bot_app_name
    hint = params.get("login_hint", "")
    options = "".join(_option(p, p.open_id == hint) for p in seed.active_people)
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in params.items()
        if name not in FORM_FIELDS
    )
    scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in (params.get("scope") or DEFAULT_SCOPE).split())
    body = (
        f"<h1>{escape(app_name)} 申请获取你的飞书账号信息</h1>"
        f'<p class="muted">{escape(seed.tenant_name)} · Feishu sandbox · {escape(app_name)} requests access to '
        f"your Feishu account</p><p>权限 / Scopes:</p><ul>{scopes}</ul>"
        f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
        f'<label for="open_id">以此身份登录 / Sign in as</label>'
        f'<select id="open_id" name="open_id">{options}</select>'
        # Authorize first, so Enter approves; row-reverse shows Cancel on the left as Feishu does
        '<div class="actions"><button class="primary" type="submit" name="action" value="approve">Authorize / 授权'
        '</button><button type="submit" name="action" value="cancel">Cancel / 拒绝</button></div>'
        "</form>"
    )
    return _html(f"授权 {app_name} - 飞书 / Authorize {app_name} - Feishu", body)


# ---- token endpoints (Bearer app_access_token, as lark-oapi sends) ------------------------------------------
def _grant(body: dict[str, Any], expected: str) -> None:
    grant_type = body.get("grant_type")
    if not grant_type:
        raise ApiError(errors.OAUTH_MISSING_PARAM, "The request is missing a required parameter: grant_type.", 400)
    if grant_type != expected:
        raise ApiError(errors.OAUTH_BAD_GRANT_TYPE, "The specified grant_type is not supported.", 400)


@bp.post("/open-apis/authen/v1/oidc/access_token")
@token_types("app")
@rate_family("authen")
def oidc_access_token() -> ResponseReturnValue:
    body = json_body()
    _grant(body, "authorization_code")
    return ok(state().user_auth.exchange_code(body.get("code"), state().app_id))


@bp.post("/open-apis/authen/v1/oidc/refresh_access_token")
@token_types("app")
@rate_family("authen")
def oidc_refresh_access_token() -> ResponseReturnValue:
    body = json_body()
    _grant(body, "refresh_token")
    return ok(state().user_auth.refresh(body.get("refresh_token"), state().app_id))


# ---- who am I ------------------------------------------------------------------------------------------------
@bp.get("/open-apis/authen/v1/user_info")
@token_types("user")
@rate_family("authen")
def user_info() -> ResponseReturnValue:
    person = current_user()
    assert person is not None  # the view takes user tokens only
    avatar = f"https://sandbox.invalid/avatar/{person.user_id}"
    return ok(
        {
            "name": person.name,
            "en_name": person.en_name,
            "avatar_url": f"{avatar}.png",
            "avatar_thumb": f"{avatar}_72.png",
            "avatar_middle": f"{avatar}_240.png",
            "avatar_big": f"{avatar}_640.png",
            "open_id": person.open_id,
            "union_id": person.union_id,
            "user_id": person.user_id,
            "email": person.email,
            "enterprise_email": "",
            "mobile": person.mobile,
            "tenant_key": state().seed.tenant_key,
            "employee_no": person.employee_no,
        }
    )
