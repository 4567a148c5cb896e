"""POST /callback/ws/endpoint: where lark-oapi's ws client asks for its WebSocket URL (see ../longconn.py)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..longconn import ENDPOINT_PATH, LongConnection
from .common import json_body, public

bp = Blueprint("sandbox_longconn", __name__)


@bp.post(ENDPOINT_PATH)
@public
def ws_endpoint() -> ResponseReturnValue:
    body = json_body()
    longconn: LongConnection = current_app.extensions["longconn"]
    status, answer = longconn.issue_endpoint(body.get("AppID"), body.get("AppSecret"))
    return jsonify(answer), status
