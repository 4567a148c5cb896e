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
