"""Feishu-style API errors raised by sandbox handlers and the error codes the sandbox uses."""

from __future__ import annotations

from collections.abc import Mapping

# platform-wide
TOKEN_MISSING = 99991661
TOKEN_INVALID = 99991663
RATE_LIMITED = 99991400
FIELD_VALIDATION = 99992402
# auth
AUTH_INVALID_PARAM = 10003
AUTH_SECRET_INVALID = 10014
# IM
IM_INVALID_PARAM = 230001
IM_BOT_NOT_IN_CHAT = 230002
IM_NO_AVAILABILITY = 230013
IM_RATE_LIMITED = 230020
IM_CONTENT_TOO_LONG = 230025
IM_NO_PERMISSION = 230027
IM_UPDATE_TOO_OLD = 230031
IM_CARD_CONTENT = 230099
CHAT_INVALID = 232006
CHAT_OPERATOR_NOT_IN_CHAT = 232011
CARD_TOKEN_FORMAT = 300020
CARD_TOKEN_EXPIRED = 300030
CARD_TOKEN_OVERUSED = 300040
# contact
CONTACT_NO_DEPT_AUTHORITY = 40004
CONTACT_PAGE_SIZE = 40011
CONTACT_PAGE_TOKEN = 40012
CONTACT_NO_USER_AUTHORITY = 41050
# OKR
OKR_UNKNOWN = 1009999
OKR_INVALID_PARAM = 1001001
OKR_NO_PERMISSION = 1001002
OKR_USER_NOT_FOUND = 1001003
OKR_NOT_FOUND = 1001004
# EHR
EHR_INTERNAL = 1241001
EHR_INVALID_PARAM = 1241002
EHR_NOT_ENABLED = 1241004
# attendance
ATTENDANCE_INVALID_PARAM = 1220001
ATTENDANCE_BAD_EMPLOYEE_TYPE = 1220003
ATTENDANCE_SYSTEM = 1225000


class ApiError(Exception):
    """An error answer: HTTP status + Feishu `code`/`msg` (+ optional extra headers)."""

    def __init__(
        self, code: int, msg: str, http_status: int = 400, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.headers = dict(headers or {})


def invalid_token() -> ApiError:
    return ApiError(
        TOKEN_INVALID,
        "Invalid access token for authorization. Please make a request with token attached.",
        400,
    )


def field_validation(detail: str) -> ApiError:
    return ApiError(FIELD_VALIDATION, f"field validation failed: {detail}", 400)
