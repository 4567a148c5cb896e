"""IM: send / reply / patch / get messages, ephemeral cards, delayed card updates, chats and members."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from .. import api_errors as errors
from .. import ids
from ..api_errors import ApiError, field_validation
from ..paging import page_size, paginate
from ..records import Chat, Person
from ..server_limits import PER_MESSAGE_UPDATE, PER_RECEIVER, Limit
from .cards import card_size_ok, check_mentions, is_v2, parse_content, validate_card
from .common import arg, id_of, json_body, ok, rate_family, state, user_id_type

bp = Blueprint("sandbox_im", __name__)

RECEIVE_ID_TYPES = ("open_id", "user_id", "union_id", "email", "chat_id")
PATCH_MAX_AGE = 14 * 86400.0
_PUBLIC_FIELDS = (
    "message_id",
    "root_id",
    "parent_id",
    "thread_id",
    "msg_type",
    "create_time",
    "update_time",
    "deleted",
    "updated",
    "chat_id",
    "sender",
    "body",
    "mentions",
    "upper_message_id",
)


@dataclass(frozen=True)
class Target:
    chat_id: str | None  # None only for replies to messages the sandbox never saw
    chat_type: str | None  # "p2p" | "group"
    open_id: str | None  # the user for p2p conversations


def _bot_not_in_chat() -> ApiError:
    return ApiError(errors.IM_BOT_NOT_IN_CHAT, "Bot/User can NOT be out of the chat.", 400)


def _no_availability() -> ApiError:
    return ApiError(errors.IM_NO_AVAILABILITY, "Bot has NO availability to this user.", 400)


def _invalid_message_id() -> ApiError:
    return ApiError(
        errors.IM_INVALID_PARAM,
        "Your request contains an invalid request parameter: message_id not found",
        400,
    )


def _unseen_inbound(message_id: str) -> bool:
    """A well-formed user message id the sandbox never saw (events built by other tools); chat unknown."""
    return not state().strict_replies and message_id.startswith("om_") and len(message_id) > 3


def _p2p_owner(chat_id: str | None) -> Person | None:
    if not chat_id or not chat_id.startswith("oc_p2p_"):
        return None
    for person in state().seed.people:
        if ids.p2p_chat_id(person.open_id) == chat_id:
            return person
    return None


def _group_chat(chat_id: str) -> Chat | None:
    return state().seed.chat(chat_id) if chat_id.startswith("oc_") else None


def resolve_target(receive_id_type: str, receive_id: str) -> Target:
    if receive_id_type == "chat_id":
        owner = _p2p_owner(receive_id)
        if owner is not None and owner.is_active:
            return Target(receive_id, "p2p", owner.open_id)
        chat = _group_chat(receive_id)
        if chat is None or chat.chat_id not in state().bot_chat_ids:
            raise _bot_not_in_chat()
        return Target(chat.chat_id, "group", None)
    person = state().seed.person_by_id(receive_id, receive_id_type)
    if person is None or not person.is_active:
        raise _no_availability()
    return Target(ids.p2p_chat_id(person.open_id), "p2p", person.open_id)


def _known_ids() -> set[str]:
    known: set[str] = set()
    for person in state().seed.people:
        known.update((person.open_id, person.user_id, person.union_id, person.email))
    return known


def _validate(msg_type: object, content: object) -> dict[str, Any]:
    parsed = parse_content(msg_type, content)
    if state().strict_cards:
        check_mentions(str(msg_type), parsed, _known_ids())
    return parsed


def _limit(bucket: str, limits: tuple[Limit, ...]) -> None:
    rejection = state().limiter.hit(bucket, limits)
    if rejection is not None:
        raise ApiError(
            errors.IM_RATE_LIMITED,
            "This operation triggers the frequency limit.",
            429,
            rejection.headers(state().limiter.scale or 1.0),
        )


def _sender() -> dict[str, str]:
    return {
        "id": state().app_id,
        "id_type": "app_id",
        "sender_type": "app",
        "tenant_key": state().seed.tenant_key,
    }


def public_message(message: dict[str, Any]) -> dict[str, Any]:
    data = {key: message[key] for key in _PUBLIC_FIELDS if key in message}
    if not data.get("thread_id"):
        data.pop("thread_id", None)
    data.setdefault("mentions", [])
    return data


def _new_bot_message(
    target: Target,
    msg_type: str,
    content: str,
    parsed: dict[str, Any],
    *,
    root_id: str = "",
    parent_id: str = "",
    thread_id: str = "",
    ephemeral: bool = False,
) -> dict[str, Any]:
    now_ms = state().clock.now_ms()
    message = {
        "message_id": state().messages.next_id(),
        "root_id": root_id,
        "parent_id": parent_id,
        "thread_id": thread_id,
        "msg_type": msg_type,
        "create_time": str(now_ms),
        "update_time": str(now_ms),
        "deleted": False,
        "updated": False,
        "chat_id": target.chat_id,
        "chat_type": target.chat_type,
        "sender": _sender(),
        "body": {"content": content},
        "mentions": [],
        "parsed": parsed,
        "origin": "bot",
        "ephemeral": ephemeral,
        "sent_at": state().clock.now(),
    }
    state().messages.store(message)
    return message


def _uuid(body: dict[str, Any]) -> str | None:
    value = body.get("uuid")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 50:
        raise field_validation("uuid must be a string of at most 50 characters")
    return value


@bp.post("/open-apis/im/v1/messages")
@rate_family("im")
def create_message() -> ResponseReturnValue:
    receive_id_type = arg("receive_id_type")
    if receive_id_type not in RECEIVE_ID_TYPES:
        raise field_validation(f"receive_id_type {receive_id_type!r} is invalid")
    body = json_body()
    uuid = _uuid(body)
    cached = state().uuids.hit(uuid)
    if cached is not None:
        return ok(cached)
    receive_id = body.get("receive_id")
    if not isinstance(receive_id, str) or not receive_id:
        raise field_validation("receive_id is required")
    target = resolve_target(receive_id_type, receive_id)
    msg_type, content = body.get("msg_type"), body.get("content")
    parsed = _validate(msg_type, content)
    _limit(f"im-receiver:{target.chat_id}", PER_RECEIVER)
    message = _new_bot_message(target, str(msg_type), str(content), parsed)
    data = public_message(message)
    state().uuids.remember(uuid, data)
    state().outbox.record(
        {
            "message_id": message["message_id"],
            "kind": "send",
            "receive_id_type": receive_id_type,
            "receive_id": receive_id,
            "chat_id": target.chat_id,
            "chat_type": target.chat_type,
            "open_id": target.open_id,
            "reply_to": None,
            "msg_type": msg_type,
            "content": parsed,
            "uuid": uuid,
        }
    )
    return ok(data)


@bp.post("/open-apis/im/v1/messages/<message_id>/reply")
@rate_family("im")
def reply_message(message_id: str) -> ResponseReturnValue:
    body = json_body()
    uuid = _uuid(body)
    cached = state().uuids.hit(uuid)
    if cached is not None:
        return ok(cached)
    parent = state().messages.get(message_id)
    if parent is None and _unseen_inbound(message_id):
        parent = {"message_id": message_id, "chat_id": None, "root_id": "", "thread_id": ""}
    if parent is None or parent.get("ephemeral"):
        raise _invalid_message_id()
    chat_id = parent["chat_id"]
    owner = _p2p_owner(chat_id)
    if chat_id and owner is None and chat_id not in state().bot_chat_ids:
        raise _bot_not_in_chat()
    chat_type = ("p2p" if owner else "group") if chat_id else None
    target = Target(chat_id, chat_type, owner.open_id if owner else None)
    msg_type, content = body.get("msg_type"), body.get("content")
    parsed = _validate(msg_type, content)
    _limit(f"im-receiver:{target.chat_id or message_id}", PER_RECEIVER)
    root_id = parent.get("root_id") or parent["message_id"]
    in_thread = bool(body.get("reply_in_thread", False))
    thread_id = parent.get("thread_id") or (
        "omt_" + ids.short_hex("thread:" + root_id, 24) if in_thread else ""
    )
    message = _new_bot_message(
        target,
        str(msg_type),
        str(content),
        parsed,
        root_id=root_id,
        parent_id=parent["message_id"],
        thread_id=thread_id,
    )
    data = public_message(message)
    state().uuids.remember(uuid, data)
    state().outbox.record(
        {
            "message_id": message["message_id"],
            "kind": "reply",
            "receive_id_type": None,
            "receive_id": None,
            "chat_id": target.chat_id,
            "chat_type": target.chat_type,
            "open_id": target.open_id,
            "reply_to": parent["message_id"],
            "reply_in_thread": in_thread,
            "msg_type": msg_type,
            "content": parsed,
            "uuid": uuid,
        }
    )
    return ok(data)


@bp.patch("/open-apis/im/v1/messages/<message_id>")
@rate_family("im")
def patch_message(message_id: str) -> ResponseReturnValue:
    body = json_body()
    message = state().messages.get(message_id)
    if message is None or message.get("origin") != "bot" or message.get("ephemeral"):
        raise _invalid_message_id()
    if message["msg_type"] != "interactive":
        raise ApiError(
            errors.IM_INVALID_PARAM,
            "Your request contains an invalid request parameter: only cards "
            "(interactive messages) can be updated",
            400,
        )
    if state().clock.now() - float(message["sent_at"]) > PATCH_MAX_AGE:
        raise ApiError(errors.IM_UPDATE_TOO_OLD, "The message can only be updated within 14 days.", 400)
    content = body.get("content")
    parsed = _validate("interactive", content)
    if is_v2(message["parsed"]) and not is_v2(parsed):
        raise ApiError(
            errors.IM_CARD_CONTENT,
            "Failed to create card content, ext=ErrCode: 200830; ErrMsg: a "
            "JSON 2.0 card can only be updated to a JSON 2.0 card",
            400,
        )
    _limit(f"im-patch:{message_id}", PER_MESSAGE_UPDATE)
    state().messages.update(
        message_id, body={"content": content}, parsed=parsed, updated=True, update_time=str(state().clock.now_ms())
    )
    owner = _p2p_owner(message["chat_id"])
    state().outbox.record(
        {
            "message_id": message_id,
            "kind": "update",
            "receive_id_type": None,
            "receive_id": None,
            "chat_id": message["chat_id"],
            "chat_type": message.get("chat_type"),
            "open_id": owner.open_id if owner else None,
            "reply_to": None,
            "msg_type": "interactive",
            "content": parsed,
            "uuid": None,
        }
    )
    return ok({})


@bp.get("/open-apis/im/v1/messages/<message_id>")
@rate_family("im")
def get_message(message_id: str) -> ResponseReturnValue:
    message = state().messages.get(message_id)
    if message is None or message.get("ephemeral"):
        raise _invalid_message_id()
    return ok({"items": [public_message(message)]})


def _ephemeral_target(body: dict[str, Any]) -> Person:
    for id_type in ("open_id", "user_id", "union_id", "email"):
        value = body.get(id_type)
        if isinstance(value, str) and value:
            person = state().seed.person_by_id(value, id_type)
            if person is None or not person.is_active:
                raise _no_availability()
            return person
    raise field_validation("one of open_id / user_id / email is required")


@bp.post("/open-apis/ephemeral/v1/send")
@rate_family("im")
def send_ephemeral() -> ResponseReturnValue:
    body = json_body()
    if body.get("msg_type") != "interactive":
        raise ApiError(
            errors.IM_INVALID_PARAM,
            "Your request contains an invalid request parameter: msg_type must be interactive",
            400,
        )
    chat_id = body.get("chat_id")
    chat = _group_chat(chat_id) if isinstance(chat_id, str) else None
    if chat is None or chat.chat_id not in state().bot_chat_ids:
        raise _bot_not_in_chat()
    person = _ephemeral_target(body)
    if person.open_id not in chat.member_open_ids:
        raise _no_availability()
    card = body.get("card")
    validate_card(card)
    card_size_ok(card)
    if state().strict_cards:
        check_mentions("interactive", card, _known_ids())
    target = Target(chat.chat_id, "group", person.open_id)
    message = _new_bot_message(
        target, "interactive", json.dumps(card, ensure_ascii=False), card, ephemeral=True
    )
    state().outbox.record(
        {
            "message_id": message["message_id"],
            "kind": "ephemeral",
            "receive_id_type": "open_id",
            "receive_id": person.open_id,
            "chat_id": chat.chat_id,
            "chat_type": "group",
            "open_id": person.open_id,
            "reply_to": None,
            "msg_type": "interactive",
            "content": card,
            "uuid": None,
        }
    )
    return jsonify({"code": 0, "msg": "ok", "data": {"message_id": message["message_id"]}})


@bp.post("/open-apis/interactive/v1/card/update")
@rate_family("im")
def delayed_card_update() -> ResponseReturnValue:
    body = json_body()
    card = body.get("card")
    validate_card(card)
    card_size_ok(card)
    if state().strict_cards:
        check_mentions("interactive", card, _known_ids())
    token = state().card_tokens.use(body.get("token"))
    message = state().messages.get(token.message_id) if token.message_id else None
    if message is not None:
        state().messages.update(
            message["message_id"],
            parsed=card,
            updated=True,
            update_time=str(state().clock.now_ms()),
            body={"content": json.dumps(card, ensure_ascii=False)},
        )
    state().outbox.record(
        {
            "message_id": token.message_id,
            "kind": "delayed_update",
            "receive_id_type": None,
            "receive_id": None,
            "chat_id": message["chat_id"] if message else None,
            "chat_type": message.get("chat_type") if message else None,
            "open_id": token.open_id,
            "reply_to": None,
            "msg_type": "interactive",
            "content": card,
            "uuid": None,
            "token": body.get("token"),
        }
    )
    return jsonify({"code": 0, "msg": "success"})


# ---- chats -----------------------------------------------------------------------------------------------


def _chat_or_error(chat_id: str) -> Chat | Person:
    owner = _p2p_owner(chat_id)
    if owner is not None:
        return owner
    chat = _group_chat(chat_id)
    if chat is None:
        raise ApiError(errors.CHAT_INVALID, "Your request specifies a chat_id which is invalid.", 400)
    if chat.chat_id not in state().bot_chat_ids:
        raise ApiError(errors.CHAT_OPERATOR_NOT_IN_CHAT, "Operator can NOT be out of the chat.", 400)
    return chat


def _chat_info(chat: Chat, id_type: str) -> dict[str, Any]:
    owner = state().seed.person_by_id(chat.owner_open_id, "open_id")
    return {
        "avatar": f"https://sandbox.invalid/chat/{chat.key}.png",
        "name": chat.name,
        "description": chat.description,
        "i18n_names": {"zh_cn": chat.name, "en_us": chat.name, "ja_jp": chat.name},
        "add_member_permission": "all_members",
        "share_card_permission": "allowed",
        "at_all_permission": "only_owner",
        "edit_permission": "all_members",
        "owner_id_type": id_type,
        "owner_id": id_of(owner, id_type) or "",
        "user_manager_id_list": [],
        "bot_manager_id_list": [],
        "group_message_type": "chat",
        "chat_mode": "group",
        "chat_type": "private",
        "chat_tag": "inner",
        "join_message_visibility": "all_members",
        "leave_message_visibility": "all_members",
        "membership_approval": "no_approval_required",
        "moderation_permission": "all_members",
        "external": False,
        "tenant_key": state().seed.tenant_key,
        "user_count": str(len(chat.member_open_ids)),
        "bot_count": "1",
        "labels": [],
        "chat_status": "normal",
    }


@bp.get("/open-apis/im/v1/chats")
@rate_family("im")
def list_chats() -> ResponseReturnValue:
    id_type = user_id_type()
    size = page_size(arg("page_size"), default=20, maximum=100, error=lambda: field_validation("page_size"))
    chats = [c for c in state().seed.chats if c.chat_id in state().bot_chat_ids]
    page = paginate(
        chats,
        scope="chats",
        token=arg("page_token"),
        size=size,
        token_error=lambda: field_validation("page_token"),
    )
    items = []
    for chat in page.items:
        info = _chat_info(chat, id_type)
        items.append(
            {
                "chat_id": chat.chat_id,
                **{
                    k: info[k]
                    for k in (
                        "avatar",
                        "name",
                        "description",
                        "owner_id",
                        "owner_id_type",
                        "external",
                        "tenant_key",
                        "chat_status",
                    )
                },
            }
        )
    return ok(page.fields("items", items))


@bp.get("/open-apis/im/v1/chats/<chat_id>")
@rate_family("im")
def get_chat(chat_id: str) -> ResponseReturnValue:
    id_type = user_id_type()
    found = _chat_or_error(chat_id)
    if isinstance(found, Person):
        return ok(
            {
                "name": "",
                "description": "",
                "chat_mode": "p2p",
                "chat_type": "private",
                "owner_id": "",
                "owner_id_type": id_type,
                "external": False,
                "tenant_key": state().seed.tenant_key,
                "user_count": "1",
                "bot_count": "1",
                "chat_status": "normal",
            }
        )
    return ok(_chat_info(found, id_type))


@bp.get("/open-apis/im/v1/chats/<chat_id>/members")
@rate_family("im")
def chat_members(chat_id: str) -> ResponseReturnValue:
    member_id_type = arg("member_id_type", "open_id") or "open_id"
    if member_id_type not in ("open_id", "union_id", "user_id"):
        raise field_validation(f"member_id_type {member_id_type!r} is invalid")
    size = page_size(arg("page_size"), default=20, maximum=100, error=lambda: field_validation("page_size"))
    found = _chat_or_error(chat_id)
    seed = state().seed
    if isinstance(found, Person):
        members = [found]
    else:
        members = [p for p in (seed.person_by_id(o, "open_id") for o in found.member_open_ids) if p]
    page = paginate(
        members,
        scope=f"members:{chat_id}",
        token=arg("page_token"),
        size=size,
        token_error=lambda: field_validation("page_token"),
    )
    rendered: list[object] = [
        {"member_id_type": member_id_type, "member_id": id_of(p, member_id_type), "name": p.name,
         "tenant_key": seed.tenant_key}
        for p in page.items
    ]
    return ok({**page.fields("items", rendered), "member_total": len(members)})
