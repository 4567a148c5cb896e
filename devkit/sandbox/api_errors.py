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
# user access tokens on Open Platform APIs. Source: larksuite/openclaw-lark src/core/auth-errors.ts (LARK_ERROR:
# TOKEN_INVALID 99991668 "access_token 无效", TOKEN_EXPIRED 99991677 "access_token 已过期"); both are the codes
# Feishu's own plugin refreshes-and-retries on.
USER_TOKEN_INVALID = 99991668
USER_TOKEN_EXPIRED = 99991677
# OAuth code exchange. Source: open.feishu.cn/document/authentication-management/access-token/get-user-access-token
# (error table, shared by the authen v1 oidc endpoints): 20001 missing parameter, 20003 "The authorization code
# is not found", 20004 "The authorization code has expired" (5 min), 20024 "code or refresh token does not match
# the provided client ID", 20036 "grant_type is not supported", 20065 "The authorization code has been used".
OAUTH_MISSING_PARAM = 20001
OAUTH_CODE_NOT_FOUND = 20003
OAUTH_CODE_EXPIRED = 20004
OAUTH_CLIENT_MISMATCH = 20024
OAUTH_BAD_GRANT_TYPE = 20036
OAUTH_CODE_USED = 20065
# OAuth refresh. Source: larksuite/openclaw-lark src/core/auth-errors.ts: 20026 REFRESH_TOKEN_INVALID,
# 20037 REFRESH_TOKEN_EXPIRED, 20064 REFRESH_TOKEN_REVOKED, 20073 REFRESH_TOKEN_ALREADY_USED (single use).
REFRESH_TOKEN_INVALID = 20026
REFRESH_TOKEN_EXPIRED = 20037
REFRESH_TOKEN_REVOKED = 20064
REFRESH_TOKEN_USED = 20073
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


def user_token_invalid(detail: str = "") -> ApiError:
    """99991668: not a user_access_token this sandbox issued (unknown, malformed, or a tenant/app token)."""
    msg = "Invalid access token for authorization. Please make a request with a valid user_access_token attached."
    return ApiError(USER_TOKEN_INVALID, f"{msg} {detail}".strip(), 400)


def user_token_expired() -> ApiError:
    """99991677: a user_access_token that was valid once; refresh it."""
    return ApiError(USER_TOKEN_EXPIRED, "Authentication token expired. Please refresh the user_access_token.", 400)


def field_validation(detail: str) -> ApiError:
    return ApiError(FIELD_VALIDATION, f"field validation failed: {detail}", 400)
