"""Token endpoints (no auth) and bot info."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .common import json_body, public, state

bp = Blueprint("sandbox_auth", __name__)


@bp.post("/open-apis/auth/v3/tenant_access_token/internal")
@public
def tenant_access_token() -> ResponseReturnValue:
    body = json_body()
    token, expire = state().tokens.issue(body.get("app_id"), body.get("app_secret"), "t")
    return jsonify({"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire})


@bp.post("/open-apis/auth/v3/app_access_token/internal")
@public
def app_access_token() -> ResponseReturnValue:
    body = json_body()
    app_token, expire = state().tokens.issue(body.get("app_id"), body.get("app_secret"), "a")
    tenant_token, _ = state().tokens.issue(body.get("app_id"), body.get("app_secret"), "t")
    return jsonify(
        {
            "code": 0,
            "msg": "ok",
            "app_access_token": app_token,
            "tenant_access_token": tenant_token,
            "expire": expire,
        }
    )


@bp.get("/open-apis/bot/v3/info")
def bot_info() -> ResponseReturnValue:
    seed = state().seed
    return jsonify(
        {
            "code": 0,
            "msg": "ok",
            "bot": {
                "activate_status": 2,
                "app_name": seed.bot_app_name,
                "avatar_url": "https://sandbox.invalid/avatar/okr-assistant.png",
                "ip_white_list": [],
                "open_id": seed.bot_open_id,
            },
        }
    )
