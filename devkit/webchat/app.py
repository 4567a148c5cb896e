"""The demo's chat page: a Feishu-like window on loopback where you talk to the bot as anyone in the
sandbox company and see its cards rendered (`static/cards.js` draws card JSON 2.0, charts with the vendored
VChart).

Nothing here talks to the bot directly. What you type goes through the bot's real webhook as a signed,
encrypted `im.message.receive_v1` event (`DemoSession.post`), button presses as real `card.action.trigger`
callbacks (`DemoSession.press`), and what you see is the sandbox's message store: the bot's replies, the
cards it updated, the digests and reminders the scheduler sent, each in the chat it went to.

    GET  /                      the page
    GET  /api/setup             people, chats, the bot
    GET  /api/messages          ?chat_id=…&after=N: the chat's messages; waits (up to `wait` s) until the
                                sandbox's outbox has more than N entries, so the page long-polls
    POST /api/say               {open_id, chat_id, text, mentions: [{open_id, name}]}
    POST /api/click             {open_id, message_id, value, form_value?, option?, name?}
    POST /api/open              {open_id, chat_id}: the person opens a chat; the first time they open their direct
                                chat with the bot, Feishu's bot_p2p_chat_entered event (the bot greets them)
    POST /api/run-jobs          make every scheduled subscription due now; the runs, each "running"
    GET  /api/jobs              ?wait=S: those runs, each with its outcome or still "running"

The page binds to loopback, but any web page the person has open can still reach it: by DNS rebinding (a name
of the attacker's that resolves to 127.0.0.1) or by a cross-site form or `text/plain` POST. So every request
must name the page's own address in `Host` (127.0.0.1, localhost or [::1], and the port it is served on);
every POST must be `application/json` (a cross-site page cannot send that without a CORS preflight, which is
never answered) and must not come from another origin (`Origin`, `Sec-Fetch-Site`); and a click is passed to
the bot only when its value is one the card on that message can send, from a person who sees that chat.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_WAIT = 25.0
MAX_TEXT = 4000
# The page's own address: a loopback name and an optional port (checked against the port it is served on).
LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::(\d{1,5}))?")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Card components the page renders as controls, and what each sends without a callback of its own
# (static/cards.js: perform, renderSelect, renderPicker, renderChecker, renderOverflow).
SELECTS = frozenset({"select_static", "multi_select_static", "select_person", "multi_select_person"})
PRESSABLE = frozenset({"button", "interactive_container"})
SEND_EMPTY = frozenset({"date_picker", "picker_time", "picker_datetime", "checker"})
INTERACTIVE = SELECTS | PRESSABLE | SEND_EMPTY | {"overflow", "input"}


JOBS_WAIT = 5.0
# What each role may do with the bot (README "Who may do what"), shown under the person picker.
ROLES = {
    "admin": "Admin (BOT_ADMINS): stats, digest on all, the whole roster, anyone's attendance, reminders in any group",
    "manager": "Manager: digest on for their team, the roster and attendance of their reports, nudges",
    "member": "Everyone: their own OKRs and check-ins (okr, progress), whois, team, login",
}


def _person_json(person: Any, roles: list[str]) -> dict[str, Any]:
    return {"open_id": person.open_id, "name": person.name, "en_name": person.en_name,
            "department": person.department_name, "title": person.job_title_zh, "roles": roles}


def create_webchat(session: Any) -> Flask:
    """The page's Flask app, for a running `devkit.demo.DemoSession`."""
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    state, seed = session.state, session.seed
    from devkit.demo import roles_of

    roles = roles_of(seed, session.settings)

    def person(open_id: object) -> Any:
        found = seed.person_by_id(open_id, "open_id") if isinstance(open_id, str) else None
        if found is None or not found.is_active:
            abort(400, "unknown person")
        return found

    def chat_for(who: Any, chat_id: object) -> Any:
        """The group (or None for `who`'s direct chat) named by chat_id, if `who` may talk there."""
        direct, _ = session.chat_of(who)
        if chat_id == direct:
            return None
        chat = seed.chat(chat_id) if isinstance(chat_id, str) else None
        if chat is None or who.open_id not in chat.member_open_ids:
            abort(400, "not a chat of this person")
        return chat

    @app.before_request
    def same_origin_only():  # type: ignore[no-untyped-def]
        """Refuse a request for another host name (DNS rebinding) and a state change from another origin."""
        host = request.host.lower()
        match = LOOPBACK_HOST.fullmatch(host)
        if match is None or (match.group(1) or "80") != str(request.environ.get("SERVER_PORT")):
            refuse(403, f"this page answers only on its loopback address, not on Host {host[:100]!r}")
        if request.method in SAFE_METHODS:
            return None
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{host}":
            refuse(403, f"cross-origin request refused (Origin {origin[:100]!r})")
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site != "same-origin":
            refuse(403, f"cross-origin request refused (Sec-Fetch-Site {site[:20]!r})")
        return None

    def refuse(code: int, reason: str) -> None:
        log.warning("webchat: %s %s refused: %s", request.method, request.path, reason)
        abort(code, reason)

    def body() -> dict[str, Any]:
        """The request's JSON object; a state change must come as application/json (see the module doc)."""
        if request.mimetype != "application/json":
            refuse(400, "send the request as Content-Type: application/json")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            abort(400, "expected a JSON object")
        return data

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify(error=exc.description or exc.name), exc.code

    @app.errorhandler(RuntimeError)
    def bot_error(exc: RuntimeError):  # type: ignore[no-untyped-def]
        return jsonify(error=str(exc)), 502

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        return send_from_directory(STATIC, "index.html")

    @app.get("/api/setup")
    def setup():  # type: ignore[no-untyped-def]
        people = [p for p in seed.people if p.is_active]
        groups = [c for c in seed.chats if c.bot_member]
        return jsonify(
            bot={"open_id": seed.bot_open_id, "name": seed.bot_app_name},
            me=seed.ceo.open_id,
            people=[_person_json(p, roles.get(p.open_id, [])) for p in people],
            roles=ROLES,
            max_text=MAX_TEXT,
            groups=[{"chat_id": c.chat_id, "name": c.name, "description": c.description,
                     "members": list(c.member_open_ids)} for c in groups],
            direct_chats={p.open_id: session.chat_of(p)[0] for p in people},
            names={seed.bot_open_id: seed.bot_app_name, **{p.open_id: p.name for p in seed.people}},
            scheduler=session.scheduler is not None,
        )

    @app.get("/api/messages")
    def messages():  # type: ignore[no-untyped-def]
        chat_id = request.args.get("chat_id", "")
        after = request.args.get("after", type=int, default=-1)
        wait = min(max(request.args.get("wait", type=float, default=MAX_WAIT), 0.0), MAX_WAIT)
        if after >= 0 and wait > 0:
            state.outbox.wait_for(1, wait, since=after)  # returns at once when something new was sent
        cursor = len(state.outbox)
        return jsonify(cursor=cursor, messages=[_message_json(m) for m in state.messages.in_chat(chat_id)])

    @app.post("/api/say")
    def say():  # type: ignore[no-untyped-def]
        data = body()
        who = person(data.get("open_id"))
        group = chat_for(who, data.get("chat_id"))
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            abort(400, f"text must be 1 to {MAX_TEXT} characters")
        picked = [(m["open_id"], m["name"]) for m in data.get("mentions") or ()
                  if isinstance(m, dict) and isinstance(m.get("open_id"), str) and isinstance(m.get("name"), str)]
        payload = session.post(who, text.strip(), group=group, mentions=picked)
        return jsonify(message_id=payload["event"]["message"]["message_id"])

    @app.post("/api/click")
    def click():  # type: ignore[no-untyped-def]
        data = body()
        who = person(data.get("open_id"))
        message_id, value = data.get("message_id"), data.get("value")
        message = state.messages.get(message_id) if isinstance(message_id, str) else None
        if message is None:
            abort(400, "unknown message")
        chat_for(who, message.get("chat_id"))  # only someone who sees the chat can press its cards
        if not isinstance(value, dict):
            abort(400, "value must be an object")
        if not is_card_value(message.get("parsed"), value):
            refuse(400, "that value is not one a control on this card sends")
        extra = {key: data[key] for key in ("form_value", "option", "name")
                 if isinstance(data.get(key), dict if key == "form_value" else str)}
        answer = session.press(who, message_id, value, **extra)
        toast = answer.get("toast") if isinstance(answer.get("toast"), dict) else None
        return jsonify(toast=toast, card_updated=bool((answer.get("card") or {}).get("data")))

    @app.post("/api/open")
    def open_chat():  # type: ignore[no-untyped-def]
        data = body()
        who = person(data.get("open_id"))
        greeted = chat_for(who, data.get("chat_id")) is None and session.enter_chat(who)
        return jsonify(greeted=greeted)

    @app.post("/api/run-jobs")
    def run_jobs():  # type: ignore[no-untyped-def]
        if session.scheduler is None:
            abort(409, "this demo runs without a scheduler")
        body()
        return jsonify(runs=session.start_due_jobs())

    @app.get("/api/jobs")
    def job_runs():  # type: ignore[no-untyped-def]
        if session.scheduler is None:
            abort(409, "this demo runs without a scheduler")
        wait = min(max(request.args.get("wait", type=float, default=0.0), 0.0), JOBS_WAIT)
        return jsonify(runs=session.due_job_runs(wait))

    return app


def is_card_value(card: Any, value: Any) -> bool:
    """Whether a control on `card` can send `value`, as the page's renderer (static/cards.js) builds it: the
    control's callback behaviour (or JSON 1.0 `value`); without one, a form-submit button sends {}, a select
    or an overflow menu {"option": …} with one of its options (a multi-select: a list of them), a picker or a
    checkbox {}. Compared as canonical JSON."""
    wanted = _canonical(value)
    return any(_control_accepts(tag, control, value, wanted) for tag, control in _controls(card))


def _controls(card: Any) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    pending = [card]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            if node.get("tag") in INTERACTIVE:
                found.append((node["tag"], node))
            pending.extend(node.values())
    return found


def _control_accepts(tag: str, control: dict[str, Any], value: Any, wanted: str) -> bool:
    behaviors = [b for b in control.get("behaviors") or () if isinstance(b, dict)]
    callbacks = [b.get("value", {}) for b in behaviors if b.get("type") == "callback"]
    if not behaviors and isinstance(control.get("value"), dict):
        callbacks = [control["value"]]
    if callbacks:
        return any(_canonical(v) == wanted for v in callbacks)
    if tag == "overflow" and isinstance(control.get("value"), dict):
        return _canonical(control["value"]) == wanted
    options = [o.get("value") for o in control.get("options") or () if isinstance(o, dict)]
    if tag in PRESSABLE:
        submits = control.get("form_action_type") == "submit" or control.get("action_type") == "form_submit"
        return submits and value == {}
    if tag == "overflow":
        return any(_canonical({"option": o}) == wanted for o in options)
    if tag in SELECTS:
        chosen = value.get("option") if isinstance(value, dict) and len(value) == 1 else None
        names = {str(o) for o in options}
        if tag.startswith("multi_"):
            return isinstance(chosen, list) and all(isinstance(c, str) and c in names for c in chosen)
        return isinstance(chosen, str) and chosen in names
    return tag in SEND_EMPTY and value == {}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _message_json(message: dict[str, Any]) -> dict[str, Any]:
    parsed = message.get("parsed")
    kind = message.get("msg_type")
    out: dict[str, Any] = {
        "message_id": message["message_id"],
        "from": "bot" if message.get("origin") == "bot" else "user",
        "sender": (message.get("sender") or {}).get("id", ""),
        "time": int(message.get("create_time") or 0),
        "version": f"{message.get('update_time')}:{hash(str(parsed))}",
        "updated": bool(message.get("updated")),
        "reply_to": message.get("parent_id") or "",
        "msg_type": kind,
    }
    if kind == "interactive" and isinstance(parsed, dict):
        out["card"] = parsed
    elif kind == "text" and isinstance(parsed, dict):
        out["text"] = str(parsed.get("text", ""))
        out["mentions"] = [{"key": m.get("key"), "open_id": (m.get("id") or {}).get("open_id"), "name": m.get("name")}
                           for m in message.get("mentions") or ()]
    else:
        out["text"] = f"[{kind} message]"
    return out


def bind_loopback(host: str, port: int, *, any_port_if_taken: bool = False) -> socket.socket:
    """A listening TCP socket on host:port; with `any_port_if_taken`, on a free port when that one is taken.
    The page binds its own socket because werkzeug's server, when its bind fails, prints "Address already in
    use" and exits the process instead of raising."""
    try:
        return _listen(host, port)
    except OSError as exc:
        if not (any_port_if_taken and port and exc.errno in (errno.EADDRINUSE, errno.EACCES)):
            raise
        log.info("webchat: port %s is taken (%s); binding a free one", port, exc.strerror)
        return _listen(host, 0)


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        if os.name != "nt":  # a restart may reuse a port in TIME_WAIT; a port someone listens on stays refused
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve_webchat(session: Any, host: str = "127.0.0.1", port: int = 0, *, any_port_if_taken: bool = False,
                  ) -> tuple[Any, str]:
    """Serve the page in a daemon thread; returns the server and its URL (the port actually bound: with
    `any_port_if_taken`, a free one when `port` is taken). A port that cannot be bound raises OSError."""
    import threading

    from werkzeug.serving import make_server

    sock = bind_loopback(host, port, any_port_if_taken=any_port_if_taken)
    try:
        server = make_server(host, sock.getsockname()[1], create_webchat(session), threaded=True, fd=sock.fileno())
    finally:
        sock.close()  # the server holds its own duplicate of the socket
    threading.Thread(target=server.serve_forever, name="webchat", daemon=True).start()
    return server, f"http://{host}:{server.port}"
