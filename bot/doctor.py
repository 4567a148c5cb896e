"""`python -m bot doctor`: check a deployment against Feishu, line by line, and say what to fix.

Each check is read-only: the app's credentials (a tenant token asked for explicitly, so a wrong secret is named as
such), the bot's info, one call per API family the commands use (a refusal for a missing scope names the scope and
what breaks without it, from bot/feishu/scopes.py), the transport (the webhook reachable at BOT_PUBLIC_URL, or the
long connection's endpoint), the database, Redis, and what login needs. Exit 0 only when nothing needed is missing;
warnings (login off, what cannot be checked without sending a message) do not fail.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bot.settings import ConfigError, Settings

SCOPE_CODES = frozenset({99991672, 99991679})  # the app (or the user) lacks every scope the API accepts
TOKEN_CODES = frozenset({99991661, 99991663, 99991668})  # no token, or one Feishu does not take
CREDENTIAL_CODES = {10003: "FEISHU_APP_ID", 10014: "FEISHU_APP_SECRET"}
CONSOLE = "https://open.feishu.cn/app"
EVENTS = ("im.message.receive_v1", "im.chat.member.bot.added_v1", "im.chat.access_event.bot_p2p_chat_entered_v1")


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool | None  # True: right; False: needed and wrong; None: a warning or something to check by hand
    text: str
    fix: str = ""

    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "!"}[self.ok]
        return f"{mark} {self.text}" + (f"\n    → {self.fix}" if self.fix else "")


@dataclass(frozen=True, slots=True)
class Probe:
    """One read-only call standing for an API family: the method and path it calls (to look up its scopes and what
    needs it in bot/feishu/scopes.py) and how to make it with lark-oapi."""

    method: str
    path: str
    call: Callable[[Any], Any]  # lark.Client -> response


def _probes() -> tuple[Probe, ...]:
    from lark_oapi.api.attendance.v1 import ListGroupRequest, QueryUserApprovalRequest, QueryUserApprovalRequestBody
    from lark_oapi.api.contact.v3 import ChildrenDepartmentRequest, FindByDepartmentUserRequest
    from lark_oapi.api.ehr.v1 import ListEmployeeRequest
    from lark_oapi.api.im.v1 import ListChatRequest
    from lark_oapi.api.okr.v1 import ListPeriodRequest

    return (
        Probe("GET", "/open-apis/contact/v3/users/find_by_department", lambda c: c.contact.v3.user.find_by_department(
            FindByDepartmentUserRequest.builder().department_id("0").page_size(1).build())),
        Probe("GET", "/open-apis/contact/v3/departments/:department_id/children",
              lambda c: c.contact.v3.department.children(
                  ChildrenDepartmentRequest.builder().department_id("0").page_size(1).build())),
        Probe("GET", "/open-apis/okr/v1/periods",
              lambda c: c.okr.v1.period.list(ListPeriodRequest.builder().page_size(1).build())),
        Probe("GET", "/open-apis/ehr/v1/employees",
              lambda c: c.ehr.v1.employee.list(ListEmployeeRequest.builder().page_size(1).build())),
        Probe("GET", "/open-apis/attendance/v1/groups",
              lambda c: c.attendance.v1.group.list(ListGroupRequest.builder().page_size(1).build())),
        Probe("POST", "/open-apis/attendance/v1/user_approvals/query", lambda c: c.attendance.v1.user_approval.query(
            QueryUserApprovalRequest.builder().employee_type("employee_id").request_body(
                QueryUserApprovalRequestBody.builder().user_ids([]).check_date_from(20260101).check_date_to(20260101)
                .build()).build())),
        Probe("GET", "/open-apis/im/v1/chats/:chat_id",  # what needs the scope; the probe lists one page of chats
              lambda c: c.im.v1.chat.list(ListChatRequest.builder().page_size(1).build())),
    )


def _client(settings: Settings) -> Any:
    import lark_oapi as lark

    return (lark.Client.builder().app_id(settings.app_id).app_secret(settings.app_secret).domain(settings.domain)
            .timeout(settings.http_timeout).log_level(lark.LogLevel.CRITICAL).build())


def _credentials(client: Any, settings: Settings) -> Finding:
    from lark_oapi.api.auth.v3 import InternalTenantAccessTokenRequest, InternalTenantAccessTokenRequestBody

    request = InternalTenantAccessTokenRequest.builder().request_body(
        InternalTenantAccessTokenRequestBody.builder().app_id(settings.app_id).app_secret(settings.app_secret).build()
    ).build()
    try:
        response = client.auth.v3.tenant_access_token.internal(request)
    except Exception as exc:  # no answer at all: the network, the domain
        return Finding(False, f"cannot reach Feishu at {settings.domain}: {exc}",
                       "check FEISHU_DOMAIN (https://open.feishu.cn, or https://open.larksuite.com for Lark) and "
                       "that this machine can reach it")
    if response.code == 0:
        return Finding(True, f"App ID and App Secret: Feishu issued a tenant token for {settings.app_id}")
    variable = CREDENTIAL_CODES.get(response.code)
    if variable:
        return Finding(False, f"{variable} is wrong: Feishu says “{response.msg}” ({response.code})",
                       f"copy it again from the console ({CONSOLE}/{settings.app_id} → 凭证与基础信息 / "
                       "Credentials & Basic Info)")
    return Finding(False, f"Feishu refused the app's credentials: {response.code} {response.msg}",
                   "check FEISHU_APP_ID and FEISHU_APP_SECRET")


def _bot_info(client: Any) -> Finding:
    from lark_oapi.core.enum import AccessTokenType, HttpMethod
    from lark_oapi.core.model import BaseRequest

    request = BaseRequest.builder().http_method(HttpMethod.GET).uri("/open-apis/bot/v3/info") \
        .token_types({AccessTokenType.TENANT}).build()
    response = client.request(request)
    try:
        body = json.loads(response.raw.content or b"{}")
    except ValueError:
        body = {}
    bot = body.get("bot") or {}
    if response.code == 0 and bot.get("open_id"):
        return Finding(True, f"the bot: {bot.get('app_name', '')} ({bot['open_id']})")
    return Finding(False, f"the bot's info: {response.code} {response.msg}",
                   "turn on the Bot ability (应用能力 → 机器人 / Features → Bot) and publish a version")


def _scopes(client: Any) -> Iterator[Finding]:
    from bot.feishu.scopes import scope_for

    for probe in _probes():
        entry = scope_for(probe.method, probe.path)
        needed = " or ".join(entry.scopes) if entry else "?"
        breaks = entry.needed_by if entry else ""
        try:
            response = probe.call(client)
        except Exception as exc:
            yield Finding(None, f"{probe.method} {probe.path}: no answer ({exc})")
            continue
        if response.code in SCOPE_CODES:
            yield Finding(False, f"scope {needed} is not enabled: {breaks} will fail",
                          "enable it under 权限管理 / Permissions & Scopes, then publish a version")
        elif response.code in TOKEN_CODES:
            yield Finding(False, f"{probe.method} {probe.path}: {response.code} {response.msg}")
        else:  # past the scope gate (even a complaint about the probe's own parameters): the scope is on
            yield Finding(True, f"scope {needed} ({breaks})")
    yield Finding(None, "sending messages (im:message:send_as_bot) and writing OKR progress cannot be checked "
                        "without doing it: the bot's first answer and first check-in will tell")


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (an https URL we were given)
            return response.status, response.read(4096)
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def _webhook(settings: Settings) -> Iterator[Finding]:
    if not settings.verification_token:
        yield Finding(False, "FEISHU_VERIFICATION_TOKEN is not set: the webhook would accept forged events and "
                             "refuses to start", "copy it from 事件与回调 → 加密策略 / Events & Callbacks → Encryption")
    if not settings.encrypt_key:
        yield Finding(None, "FEISHU_ENCRYPT_KEY is not set: events arrive unencrypted and unsigned",
                      "set an Encrypt Key in the console and here")
    url = f"{settings.public_url}/healthz"
    try:
        status, body = _get(url, settings.http_timeout)
    except Exception as exc:
        yield Finding(False, f"the webhook is not reachable at {settings.public_url}: {exc}",
                      "start the bot (python -m bot serve) and check BOT_PUBLIC_URL, DNS and the proxy in front")
        return
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        answer = {}
    if status == 200 and answer.get("ok") and answer.get("app_id") == settings.app_id:
        yield Finding(True, f"the webhook answers at {settings.public_url}")
        yield Finding(None, f"in the console, set the event URL {settings.public_url}/webhook/event and the callback "
                            f"URL {settings.public_url}/webhook/card, subscribe to {', '.join(EVENTS)} (and "
                            "application.bot.menu_v6 with a bot menu) and to the callback card.action.trigger (Feishu "
                            "has no API to read them back)")
    elif status == 200 and answer.get("ok"):
        yield Finding(False, f"{settings.public_url} answers for another app ({answer.get('app_id') or 'unknown'})",
                      "point BOT_PUBLIC_URL at this bot")
    else:
        yield Finding(False, f"{url} answered HTTP {status}, not this bot",
                      "check BOT_PUBLIC_URL and the proxy in front of the bot")


def _long_connection(settings: Settings) -> Iterator[Finding]:
    body = json.dumps({"AppID": settings.app_id, "AppSecret": settings.app_secret}).encode()
    request = urllib.request.Request(f"{settings.domain}/callback/ws/endpoint", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "locale": "zh"})
    try:
        with urllib.request.urlopen(request, timeout=settings.http_timeout) as response:  # noqa: S310
            answer = json.loads(response.read(65536) or b"{}")
    except Exception as exc:
        yield Finding(False, f"the long connection's endpoint did not answer: {exc}",
                      "check FEISHU_DOMAIN and that this machine may open outbound WebSockets")
        return
    if answer.get("code") == 0 and (answer.get("data") or {}).get("URL"):
        yield Finding(True, "the long connection can open (Feishu gave a WebSocket address)")
        yield Finding(None, "in the console, choose 使用长连接接收事件/回调 (receive events and callbacks over the "
                            f"long connection) and subscribe to {', '.join(EVENTS)} and card.action.trigger")
    else:
        yield Finding(False, f"the long connection was refused: {answer.get('code')} {answer.get('msg')}",
                      "turn on 使用长连接接收事件 in the console (events and callbacks), then publish a version")


def _storage(settings: Settings) -> Iterator[Finding]:
    from sqlalchemy import text

    from bot.db import open_engine

    try:
        engine = open_engine(settings.database_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        yield Finding(True, f"the database ({settings.database_url.split('://')[0]})")
    except Exception as exc:
        yield Finding(False, f"the database at DATABASE_URL: {type(exc).__name__}: {str(exc)[:200]}",
                      "check DATABASE_URL (e.g. postgresql+psycopg://user:pass@host/db) and that it is running")
    if settings.redis_url:
        try:
            from bot.redis_client import connect

            connect(settings.redis_url).ping()
            yield Finding(True, "Redis (REDIS_URL)")
        except Exception as exc:
            yield Finding(False, f"Redis at REDIS_URL: {type(exc).__name__}: {exc}", "check REDIS_URL")


def _login(settings: Settings) -> Finding:
    if settings.secret_key and settings.public_url:
        return Finding(True, f"login: add {settings.public_url}/oauth/callback under 安全设置 → 重定向 URL "
                             "(Security → Redirect URLs)")
    missing = [name for name, value in (("BOT_SECRET_KEY", settings.secret_key),
                                        ("BOT_PUBLIC_URL", settings.public_url)) if not value]
    return Finding(None, f"login is off (no {' or '.join(missing)}): whois searches the company directory, "
                         "`me` is unavailable", "python -m bot secret-key prints a key; BOT_PUBLIC_URL is the bot's "
                                                "https address")


def diagnose(env: Mapping[str, str] | None = None, *, transport: str = "") -> list[Finding]:
    """Every finding, in order. `transport` "webhook" or "longconn"; by default webhook when BOT_PUBLIC_URL is set."""
    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        return [Finding(False, f"configuration: {exc}", "see README, Configuration; .env.example lists every "
                                                        "variable")]
    findings: list[Finding] = [Finding(True, f"configuration read (Feishu at {settings.domain})")]
    client = _client(settings)
    credentials = _credentials(client, settings)
    findings.append(credentials)
    if credentials.ok:
        findings.append(_bot_info(client))
        findings.extend(_scopes(client))
        if (transport or ("webhook" if settings.public_url else "longconn")) == "webhook":
            if settings.public_url:
                findings.extend(_webhook(settings))
            else:
                findings.append(Finding(False, "the webhook needs BOT_PUBLIC_URL (the https address Feishu posts to)",
                                        "set BOT_PUBLIC_URL, or use the long connection (python -m bot longconn)"))
        else:
            findings.extend(_long_connection(settings))
    findings.extend(_storage(settings))
    findings.append(_login(settings))
    return findings


def run(env: Mapping[str, str] | None = None, *, transport: str = "", out: Callable[[str], None] = print) -> int:
    findings = diagnose(env, transport=transport)
    for finding in findings:
        out(finding.line())
    failed = sum(1 for f in findings if f.ok is False)
    out(f"\n{failed} problem(s) to fix." if failed else "\nEverything the bot needs is in place.")
    return 1 if failed else 0
