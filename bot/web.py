"""The web layer: Flask routes that hand requests to lark-oapi's dispatcher and map its answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime

from flask import Flask, Response, jsonify, request
from lark_oapi.adapter.flask import parse_req, parse_resp
from lark_oapi.core.model import RawResponse

from bot.events import HANDLER_FAILED, build_dispatcher
from bot.feishu.clients import FeishuClients
from bot.inbox import Inbox, MemorySeenStore, SeenStore
from bot.oauth import handle_callback
from bot.service import BotService
from bot.settings import ConfigError, Settings
from bot.shared import RedisSeenStore, connect
from bot.store import Store
from bot.worker import default_worker_id, reply_parts

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


def to_http_answer(raw: RawResponse) -> Response:
    """The SDK answers every failure with HTTP 500 and the exception text. Feishu retries a 500 four
    times, so map what is the sender's fault to a 4xx with a short reason, and an event type we
    did not register to a 200."""
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
    if "inbox unavailable" in text:
        return _answer(503, "temporarily unavailable")
    if HANDLER_FAILED in text:
        return _answer(500, "internal error")
    return _answer(400, "malformed or undecryptable body")


class _QuietSdkRefusals(logging.Filter):
    """lark-oapi logs a full ERROR traceback for every request its dispatcher refuses (a forged signature,
    a wrong token, garbage): an outsider could fill the logs. `dispatch` logs one WARNING line per refused
    request instead, and our handlers log their own failures (bot.events), so the SDK's line is dropped."""

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
) -> Flask:
    """Build the web app. Tests pass their own settings, executor, clients or clock."""
    settings = settings or Settings.from_env()
    if seen is None:
        seen = (RedisSeenStore(connect(settings.redis_url), ttl=settings.dedup_ttl, prefix=f"okrbot:{settings.app_id}:")
                if settings.redis_url else MemorySeenStore(ttl=settings.dedup_ttl, maxsize=settings.dedup_max_keys))
    store, executor, router = reply_parts(settings, feishu=feishu, executor=executor, store=store, clock=clock)
    separate = settings.reply_worker == "separate"
    service = BotService(router, Inbox(seen, executor), defer_replies=separate,
                         instance_id=default_worker_id("web"))
    dispatcher = build_dispatcher(
        settings,
        on_message=service.on_message,
        on_bot_added=service.on_bot_added,
        on_p2p_entered=service.on_p2p_entered,
        on_card_action=service.on_card_action,
    )

    if resume and not separate:  # with a separate worker, resuming and retrying are the worker's
        service.resume()
    if retry_interval and not separate:
        service.start_retrying(retry_interval)
    app = Flask("bot")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["bot"] = service
    _quiet_sdk_logger()

    def refuse(status: int, reason: str) -> Response:
        log.warning("refused %s from %s: %d %s", request.path, request.remote_addr or "?", status, reason)
        return _answer(status, reason)

    def dispatch() -> Response:
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
        answer = to_http_answer(dispatcher.do(parse_req()))
        if answer.status_code >= 400:
            log.warning("refused %s from %s: %d %s", request.path, request.remote_addr or "?", answer.status_code,
                        (answer.get_json(silent=True) or {}).get("msg", ""))
        return answer

    app.add_url_rule("/webhook/event", "event", dispatch, methods=["POST"])
    app.add_url_rule("/webhook/card", "card", dispatch, methods=["POST"])

    @app.get("/oauth/callback")
    def oauth_callback() -> Response:
        status, page = handle_callback(
            code=request.args.get("code", ""), state=request.args.get("state", ""),
            error=request.args.get("error", ""), vault=router.vault, clients=router.clients, now=router.now,
            locale=settings.default_locale,
        )
        return Response(page, status=status, mimetype="text/html")

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True})

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
