"""The webhook transport: a Flask app that hands Feishu's requests to lark-oapi's dispatcher and maps its answers.

Before the SDK sees a body it is bounded (size, JSON depth) and checked for freshness (a signed request's
age, or an unsigned event's create_time), so a captured request cannot be replayed once dedup forgot it.
The answer maps what went wrong: the sender's fault → 4xx, `InboxUnavailable` → 503 (Feishu retries),
our handler's failure → a short 500, an event type we do not handle → 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify, request
from lark_oapi.adapter.flask import parse_req, parse_resp
from lark_oapi.core.model import RawResponse

from bot.app import Bot
from bot.dedup import SeenStore
from bot.inbound import InboxUnavailable
from bot.settings import ConfigError, Settings
from bot.store import Store
from bot.transports.lark_events import build_dispatcher, dispatch

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_CLOCK_SKEW = 300.0  # seconds a signed timestamp may be ahead of our clock


def _answer(status: int, reason: str) -> Response:
    response = jsonify({"msg": reason})
    response.status_code = status
    return response


VERIFICATION_TOKEN_HELP = (
    "FEISHU_VERIFICATION_TOKEN is not set, so the webhook would answer events and card clicks that anyone "
    "can forge. Copy the Verification Token from the Feishu developer console: your app → Development "
    "Configuration → Events & Callbacks → Encryption Strategy (开发配置 → 事件与回调 → 加密策略), and set "
    "FEISHU_ENCRYPT_KEY from the same page. (No public URL? `python -m bot longconn` needs neither.)"
)


def check_webhook_settings(settings: Settings) -> list[str]:
    """Refuse a webhook that would check nothing (ConfigError); the warnings to log at start-up."""
    if not settings.verification_token:
        raise ConfigError(VERIFICATION_TOKEN_HELP)
    if not settings.encrypt_key:
        return ["FEISHU_ENCRYPT_KEY is not set: events arrive unencrypted and unsigned, so only the verification "
                "token and the event's age protect the webhook. Set an Encrypt Key in the developer console "
                "(Events & Callbacks → Encryption Strategy) and in FEISHU_ENCRYPT_KEY."]
    return []


def _event_seconds(create_time: object) -> float | None:
    """An event header's create_time in seconds. Feishu's examples use milliseconds or microseconds."""
    try:
        value = float(str(create_time)[:24])
    except ValueError:
        return None
    if value != value or value <= 0:  # NaN, zero, negative
        return None
    return value / 1e6 if value > 1e14 else value / 1e3 if value > 1e11 else value


def check_event_age(payload: dict, settings: Settings, now: float) -> str | None:
    """Unsigned events (no Encrypt Key) cannot prove when they were sent, but they carry header.create_time:
    one older than the dedup window is refused, so a captured event cannot be replayed once its ids are
    forgotten. A url_verification challenge carries no header and is left to the SDK."""
    if payload.get("type") == "url_verification" or "encrypt" in payload:
        return None
    header = payload.get("header")
    if not isinstance(header, dict):
        return "event without a header"
    sent = _event_seconds(header.get("create_time"))
    if sent is None:
        return "event without a valid create_time"
    return _outside_window(sent, now, settings, too_old="event too old (replay?)", future="event time in the future")


def check_freshness(headers, body: bytes, settings: Settings, now: float) -> str | None:
    """What lark-oapi does not check: the signature in constant time and its age. A signed request older
    than the dedup window (so any replay is either refused here or caught by dedup) or more than 5
    minutes in the future is refused. Returns the reason, or None when the request may go on.
    Unsigned requests are checked by `check_event_age`; a missing signature is the SDK's to refuse."""
    signature = headers.get("X-Lark-Signature")
    timestamp = headers.get("X-Lark-Request-Timestamp")
    nonce = headers.get("X-Lark-Request-Nonce")
    if not settings.encrypt_key or not signature:
        return None
    if not timestamp or nonce is None:
        return "invalid signature"
    expected = hashlib.sha256((timestamp + nonce + settings.encrypt_key).encode("utf-8") + body).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "invalid signature"
    try:
        sent = float(timestamp)
    except ValueError:
        return "invalid timestamp"
    return _outside_window(sent, now, settings, too_old="request too old (replay?)", future="timestamp in the future")


def _outside_window(sent: float, now: float, settings: Settings, *, too_old: str, future: str) -> str | None:
    """A moment older than the dedup window (a replay dedup could no longer catch) or further ahead than the
    allowed clock skew gets its reason; anything in between None."""
    if sent < now - settings.dedup_ttl:
        return too_old
    if sent > now + MAX_CLOCK_SKEW:
        return future
    return None


def to_http_answer(raw: RawResponse, failure: Exception | None = None) -> Response:
    """The HTTP answer for the dispatcher's. Our handler's failure is typed: `InboxUnavailable` → 503 (Feishu
    delivers again later), anything else → a short 500. The SDK answers its own refusals with HTTP 500 and the
    exception's text only, and Feishu retries a 500 four times, so what is the sender's fault becomes a 4xx
    with a short reason, and an event type we did not register a 200."""
    if isinstance(failure, InboxUnavailable):
        return _answer(503, "temporarily unavailable")
    if failure is not None:
        return _answer(500, "internal error")
    if raw.status_code != 500:
        return parse_resp(raw)
    try:
        text = str(json.loads(raw.content).get("msg", ""))
    except ValueError:
        text = raw.content.decode("utf-8", "replace")
    if "processor not found" in text:
        return _answer(200, "ignored: event type not handled")
    if "verification_token" in text:
        return _answer(401, "invalid verification token")
    if "signature" in text or "NoneType" in text:  # missing signature headers end in a TypeError
        return _answer(401, "invalid signature")
    if "encrypt_key not found" in text:
        return _answer(400, "encrypted body, but no encrypt key is configured")
    return _answer(400, "malformed or undecryptable body")


class _QuietSdkRefusals(logging.Filter):
    """lark-oapi logs a full ERROR traceback for every request its dispatcher refuses (a forged signature,
    a wrong token, garbage): an outsider could fill the logs. The webhook logs one WARNING line per refused
    request instead, and our handlers log their own failures (bot.transports.lark_events), so the SDK's line
    is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("handle event failed")


def _quiet_sdk_logger() -> None:
    sdk = logging.getLogger("Lark")
    if not any(isinstance(f, _QuietSdkRefusals) for f in sdk.filters):
        sdk.addFilter(_QuietSdkRefusals())


def create_app(
    settings: Settings | None = None,
    *,
    feishu: FeishuClients | None = None,
    executor: Executor | None = None,
    seen: SeenStore | None = None,
    clock: Callable[[], datetime] | None = None,
    store: Store | None = None,
    resume: bool = True,
    retry_interval: float | None = 60.0,
    lazy: bool = False,
) -> Flask:
    """The web process's app: build the bot, start it (resume unfinished messages, the retry loop; neither with
    BOT_REPLY_WORKER=separate) and put the webhook in front. Tests pass their own settings, executor, clients,
    clock; `retry_interval=None` starts no thread. With `lazy` the router and the clients are built at their
    first use or by `bot.warm_up()` (`python -m bot serve` calls it once it listens)."""
    bot = Bot.from_settings(settings or Settings.from_env(), feishu=feishu, executor=executor, seen=seen,
                            clock=clock, store=store, lazy=lazy)
    bot.start(resume=resume, retry_interval=retry_interval)
    return build_webhook(bot)


def build_webhook(bot: Bot) -> Flask:
    """The Flask app in front of a built bot (it starts nothing); the bot is `app.extensions["bot"]`."""
    settings = bot.settings
    dispatcher = build_dispatcher(settings, bot.pipeline)
    app = Flask("bot")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["bot"] = bot
    _quiet_sdk_logger()

    def refuse(status: int, reason: str) -> Response:
        log.warning("refused %s from %s: %d %s", request.path, request.remote_addr or "?", status, reason)
        return _answer(status, reason)

    def event() -> Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return refuse(413, "body too large")
        body = request.get_data(cache=True)
        if len(body) > MAX_BODY_BYTES:
            return refuse(413, "body too large")
        try:
            payload = json.loads(body)
        except ValueError:
            return refuse(400, "body is not JSON")
        except RecursionError:  # `[` × 200,000: deeper than the parser goes, before anything is verified
            return refuse(400, "body nested too deeply")
        if not isinstance(payload, dict):
            return refuse(400, "body is not a JSON object")
        now = time.time()
        refused = check_freshness(request.headers, body, settings, now) or (
            None if settings.encrypt_key else check_event_age(payload, settings, now))
        if refused:
            return refuse(401, refused)
        answer = to_http_answer(*dispatch(dispatcher, parse_req()))
        if answer.status_code >= 400:
            log.warning("refused %s from %s: %d %s", request.path, request.remote_addr or "?", answer.status_code,
                        (answer.get_json(silent=True) or {}).get("msg", ""))
        return answer

    app.add_url_rule("/webhook/event", "event", event, methods=["POST"])
    app.add_url_rule("/webhook/card", "card", event, methods=["POST"])

    @app.get("/oauth/callback")
    def oauth_callback() -> Response:
        router = bot.router  # built first (or waited for): the OAuth module is imported after it
        from bot.oauth import handle_callback

        status, page = handle_callback(
            code=request.args.get("code", ""), state=request.args.get("state", ""),
            error=request.args.get("error", ""), vault=router.vault, clients=router.clients, now=router.now,
            locale=settings.default_locale, people=router.store.people if router.store is not None else None,
        )
        return Response(page, status=status, mimetype="text/html")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True, "app_id": settings.app_id})  # which app answers here (python -m bot doctor)

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Response:
        return _answer(413, "body too large")

    @app.errorhandler(Exception)
    def crashed(exc: Exception) -> Response:  # never a stack trace or Flask's HTML page in an answer
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return _answer(exc.code or 500, exc.name.lower())
        log.exception("request to %s failed", request.path)
        return _answer(500, "internal error")

    return app
