"""/_sandbox/* control endpoints (no auth, loopback only) for tests and the demo."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from .common import json_body, state

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1", "localhost"})


@bp.before_request
def _loopback_only() -> None:
    if request.remote_addr not in LOOPBACK:
        abort(403)


def _since() -> int:
    try:
        return max(0, int(request.args.get("since", "0")))
    except ValueError:
        return 0


@bp.get("/outbox")
def outbox() -> ResponseReturnValue:
    items = state().outbox.since(_since())
    return jsonify({"items": items, "next": _since() + len(items)})


@bp.delete("/outbox")
def clear_outbox() -> ResponseReturnValue:
    state().outbox.clear()
    return jsonify({"ok": True})


@bp.get("/faults")
def list_faults() -> ResponseReturnValue:
    return jsonify({"items": state().faults.describe()})


@bp.post("/faults")
def add_fault() -> ResponseReturnValue:
    body = json_body()
    pattern = body.get("path") or body.get("pattern") or body.get("path_prefix_or_regex")
    if not isinstance(pattern, str) or not pattern:
        return jsonify({"ok": False, "error": "path (prefix or ^regex) is required"}), 400
    fault_id = state().faults.inject(
        pattern,
        times=body.get("times", 1),
        http_status=body.get("http_status"),
        code=body.get("code"),
        msg=body.get("msg"),
        delay=float(body.get("delay", 0.0)),
        headers=body.get("headers"),
        method=body.get("method"),
        regex=body.get("regex"),
        body=body.get("body"),
    )
    return jsonify({"ok": True, "id": fault_id})


@bp.delete("/faults")
def clear_faults() -> ResponseReturnValue:
    state().faults.clear()
    return jsonify({"ok": True})


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    state().reset()
    return jsonify({"ok": True})


@bp.post("/revoke_tokens")
def revoke_tokens() -> ResponseReturnValue:
    state().tokens.revoke()
    return jsonify({"ok": True})


@bp.post("/scopes")
def scopes() -> ResponseReturnValue:
    """{"withhold": [scope, ...]} withholds those scopes from the app; {"withhold": []} grants every scope again."""
    withhold = json_body().get("withhold") or []
    state().scopes.grant_all()
    state().scopes.withhold(str(s) for s in withhold)
    return jsonify({"ok": True, "withheld": sorted(state().scopes.withheld)})


@bp.post("/rate_scale")
def rate_scale() -> ResponseReturnValue:
    scale = json_body().get("scale")
    state().limiter.set_scale(float(scale) if scale is not None else None)
    return jsonify({"ok": True, "scale": scale})


@bp.get("/people")
def people() -> ResponseReturnValue:
    return jsonify({"items": [p.summary() for p in state().seed.people]})


@bp.get("/chats")
def chats() -> ResponseReturnValue:
    items = []
    for chat in state().seed.chats:
        summary = chat.summary()
        summary["bot_member"] = chat.chat_id in state().bot_chat_ids
        items.append(summary)
    return jsonify({"items": items})


@bp.get("/requests")
def requests_log() -> ResponseReturnValue:
    items = state().requests.entries()[_since() :]
    return jsonify({"items": items, "next": _since() + len(items)})


@bp.get("/info")
def info() -> ResponseReturnValue:
    seed = state().seed
    current = state().current_period()
    payload: dict[str, Any] = {
        "app_id": state().app_id,
        "tenant_key": seed.tenant_key,
        "bot_open_id": seed.bot_open_id,
        "bot_app_name": seed.bot_app_name,
        "anchor": seed.anchor.isoformat(),
        "current_period_id": current.id if current else None,
        "periods": [p.as_api() | {"key": p.key} for p in seed.periods],
        "departments": [
            {
                "key": d.key,
                "open_department_id": d.open_department_id,
                "department_id": d.department_id,
                "name": d.name,
                "en_name": d.en_name,
            }
            for d in seed.departments
        ],
        "attendance_groups": [
            {"key": g.key, "group_id": g.group_id, "group_name": g.group_name, "members": len(g.members)}
            for g in seed.groups
        ],
        "rate_scale": state().limiter.scale,
    }
    return jsonify(payload)


@bp.post("/inbound")
def inbound() -> ResponseReturnValue:
    """Build (and register) a user message event: {sender, text, chat?, mention_bot?, mentions?}."""
    body = json_body()
    sender = body.get("sender") or body.get("open_id")
    if not isinstance(sender, str):
        return jsonify({"ok": False, "error": "sender (open_id or name) is required"}), 400
    options = {
        k: body[k]
        for k in (
            "chat",
            "mention_bot",
            "mentions",
            "message_type",
            "content",
            "parent_id",
            "verification_token",
        )
        if k in body
    }
    try:
        event = state().simulate_user_message(sender, body.get("text"), **options)
    except KeyError as exc:
        return jsonify({"ok": False, "error": f"unknown person or chat: {exc}"}), 404
    return jsonify({"ok": True, "event": event})


@bp.post("/card_action")
def card_action() -> ResponseReturnValue:
    """Build a card.action.trigger event: {operator, message_id, value, form_value?, tag?, name?}."""
    body = json_body()
    operator, message_id = body.get("operator"), body.get("message_id")
    if not isinstance(operator, str) or not isinstance(message_id, str):
        return jsonify({"ok": False, "error": "operator and message_id are required"}), 400
    options = {
        k: body[k]
        for k in ("tag", "name", "form_value", "input_value", "option", "verification_token")
        if k in body
    }
    try:
        event = state().simulate_card_action(operator, message_id, body.get("value"), **options)
    except KeyError as exc:
        return jsonify({"ok": False, "error": f"unknown person: {exc}"}), 404
    return jsonify({"ok": True, "event": event})


@bp.post("/user_token")
def user_token() -> ResponseReturnValue:
    """A user token pair without the consent page: {person (open_id, key or name), scope?}."""
    body = json_body()
    who = body.get("person") or body.get("open_id")
    if not isinstance(who, str) or not who:
        return jsonify({"ok": False, "error": "person (open_id, seed key or name) is required"}), 400
    try:
        person = state().seed.find_person(who)
        tokens = state().user_auth.issue_tokens(person.open_id, body.get("scope"))
    except KeyError:
        return jsonify({"ok": False, "error": f"no active person {who!r}"}), 404
    return jsonify({"ok": True, "open_id": person.open_id, **tokens})


@bp.post("/expire_user_tokens")
def expire_user_tokens() -> ResponseReturnValue:
    """{open_id?}: that person's user access tokens (or everyone's) answer 99991677 from now on."""
    count = state().user_auth.expire(json_body().get("open_id"))
    return jsonify({"ok": True, "expired": count})


@bp.post("/revoke_refresh_tokens")
def revoke_refresh_tokens() -> ResponseReturnValue:
    """{open_id?}: that person's refresh tokens (or everyone's) answer 20064 from now on."""
    count = state().user_auth.revoke_refresh(json_body().get("open_id"))
    return jsonify({"ok": True, "revoked": count, "refreshes": state().user_auth.refreshes()})
