"""Errors raised by the API layer: one base class, a few kinds the bot reacts to."""

from __future__ import annotations

RATE_LIMIT_CODES = frozenset({99991400, 230020})
TOKEN_INVALID_CODES = frozenset({99991663, 99991664, 99991668})
NOT_FOUND_CODES = frozenset({41050, 230013, 1001003, 1001004})
FORBIDDEN_CODES = frozenset({40004, 99991672, 99991679, 230027, 230002, 1001002, 1220006, 1241004})


class FeishuApiError(Exception):
    """A Feishu Open Platform call failed after its retries."""

    def __init__(self, code: int, msg: str, log_id: str | None = None, *, api: str = "") -> None:
        super().__init__(f"{api or 'feishu'}: code {code}: {msg}" + (f" (log_id {log_id})" if log_id else ""))
        self.code = code
        self.msg = msg
        self.log_id = log_id
        self.api = api


class RateLimited(FeishuApiError):
    """Feishu kept answering 'frequency limit' after our retries."""


class NotFound(FeishuApiError):
    """The user, department or record does not exist or is outside the app's scope."""


class Forbidden(FeishuApiError):
    """The app lacks a scope, a grant or a data range for this call."""


class Unavailable(FeishuApiError):
    """Network failure or 5xx answers after our retries."""


def error_for(code: int, msg: str, log_id: str | None = None, *, api: str = "") -> FeishuApiError:
    if code in RATE_LIMIT_CODES:
        cls: type[FeishuApiError] = RateLimited
    elif code in NOT_FOUND_CODES:
        cls = NotFound
    elif code in FORBIDDEN_CODES:
        cls = Forbidden
    else:
        cls = FeishuApiError
    return cls(code, msg, log_id, api=api)


# What an admin (or the asker) must do, per Feishu error code, as (zh, en). Sources: FEISHU_FACTS.md §4/§6/§7 and
# the error tables in shared/feishu-api/. The catch point (the router) puts it on the error card.
_SCOPE_MISSING = ("应用缺少这项操作所需的权限。请管理员在开发者后台为应用开通相应权限并发布新版本。",
                  "The app lacks the permission scope for this. An admin must enable it in the developer "
                  "console and publish a new version.")
WHAT_TO_DO: dict[int, tuple[str, str]] = {
    99991672: _SCOPE_MISSING,
    99991679: _SCOPE_MISSING,
    40004: ("这个部门不在应用的通讯录权限范围内。请管理员在开发者后台调整「通讯录权限范围」。",
            "That department is outside the app's contact data range. An admin can widen it in the "
            "developer console."),
    41050: ("这个人不在应用的通讯录权限范围内，或者不存在。",
            "That person is outside the app's contact data range, or does not exist."),
    230002: ("机器人不在这个群里。", "The bot is not a member of that chat."),
    230013: ("对方不在机器人的可用范围内（或已离职）。", "That person is outside the bot's availability range "
             "(or has left)."),
    1001002: ("应用没有以应用身份读取 OKR 的授权。请管理员在 OKR 管理后台为应用开通「以应用身份访问 OKR 信息」。",
              "The app may not read OKRs as the app. An OKR admin must grant it access in the OKR admin "
              "console."),
    1001003: ("OKR 系统里找不到这个用户。", "OKR has no such user."),
    1001004: ("没有找到对应的 OKR 数据。", "No OKR data was found for that."),
    1241004: ("企业尚未开通飞书人事（标准版），花名册不可用。请管理员在飞书管理后台启用。",
              "Feishu People (Standard) is not enabled for this company, so the roster is unavailable. "
              "An admin can enable it in the Feishu admin console."),
    1220006: ("应用没有考勤权限。请管理员为应用开通考勤相关权限。",
              "The app has no attendance permission. An admin must grant the attendance scopes."),
}
_WHAT_TO_DO_BY_KIND: tuple[tuple[type[FeishuApiError], tuple[str, str]], ...] = (
    (RateLimited, ("飞书接口繁忙（触发频率限制），请一分钟后再试。",
                   "Feishu is busy (rate limit reached). Please try again in a minute.")),
    (Unavailable, ("暂时连不上飞书开放平台，请稍后再试。",
                   "Feishu's Open Platform could not be reached. Please try again shortly.")),
    (Forbidden, ("应用没有权限完成这项操作。", "The app is not allowed to do this.")),
    (NotFound, ("没有找到。", "Not found.")),
)


def what_to_do(exc: FeishuApiError) -> tuple[str, str] | None:
    """What a person can do about this failure, (zh, en); None when only Feishu's own message can say."""
    advice = WHAT_TO_DO.get(exc.code)
    if advice is None:
        advice = next((text for kind, text in _WHAT_TO_DO_BY_KIND if isinstance(exc, kind)), None)
    return advice
