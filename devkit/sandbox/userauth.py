"""Signing in as a person: OAuth authorisation codes, user access tokens and their refresh tokens.

Codes are random, single use, valid AUTH_CODE_TTL seconds on the sandbox clock and bound to the app and the
approving person. An exchange issues a "u-..." access token (USER_TOKEN_TTL) and an "ur-..." refresh token
(REFRESH_TOKEN_TTL). A refresh issues a new pair; the refresh token used stops working (20073), the old access
token lives on until it expires. Tokens are random and live only in this sandbox instance (lark-oapi does not
cache user tokens, so nothing needs to survive a restart). Thread-safe.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import api_errors as errors
from .api_errors import ApiError
from .records import Person
from .seed import Seed

AUTH_CODE_TTL = 300.0  # "授权码的有效期为 5 分钟，且只能被使用一次"
USER_TOKEN_TTL = 7200
REFRESH_TOKEN_TTL = 2_592_000  # 30 days, as the oidc endpoints' refresh_expires_in
DEFAULT_SCOPE = (
    "contact:user:search contact:user.base:readonly contact:user.employee_id:readonly "
    "contact:contact.base:readonly offline_access"
)


@dataclass
class _Code:
    open_id: str
    app_id: str
    scope: str
    redirect_uri: str
    issued_at: float
    used: bool = False


@dataclass
class _Access:
    open_id: str
    scope: str
    issued_at: float
    expired: bool = False


@dataclass
class _Refresh:
    open_id: str
    app_id: str
    scope: str
    issued_at: float
    used: bool = False
    revoked: bool = False


class UserAuth:
    """Codes and user tokens of one sandbox instance (`state.user_auth`)."""

    def __init__(self, seed: Seed, app_id: str, clock: Callable[[], float]) -> None:
        self._seed = seed
        self._app_id = app_id
        self._clock = clock
        self._lock = threading.RLock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._refreshes: dict[str, int] = {}  # open_id -> successful refreshes

    # ---- people ---------------------------------------------------------------------------------------
    def active_person(self, open_id: str) -> Person:
        """The active contact user with this open_id; KeyError otherwise (resigned people cannot sign in)."""
        person = self._seed.person_by_id(open_id, "open_id")
        if person is None or not person.is_active:
            raise KeyError(open_id)
        return person

    # ---- codes ----------------------------------------------------------------------------------------
    def issue_code(
        self, open_id: str, *, app_id: str | None = None, scope: str | None = None, redirect_uri: str = ""
    ) -> str:
        self.active_person(open_id)
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = _Code(
                open_id, app_id or self._app_id, scope or DEFAULT_SCOPE, redirect_uri, self._clock()
            )
        return code

    def exchange_code(self, code: object, app_id: str) -> dict[str, Any]:
        if not isinstance(code, str) or not code:
            raise ApiError(errors.OAUTH_MISSING_PARAM, "The request is missing a required parameter: code.", 400)
        with self._lock:
            found = self._codes.get(code)
            if found is None:
                raise ApiError(
                    errors.OAUTH_CODE_NOT_FOUND,
                    "The authorization code is not found. Please note that an authorization code can only be "
                    "used once.",
                    400,
                )
            if found.app_id != app_id:
                raise ApiError(
                    errors.OAUTH_CLIENT_MISMATCH,
                    "The provided authorization code or refresh token does not match the provided client ID.",
                    400,
                )
            if found.used:
                raise ApiError(
                    errors.OAUTH_CODE_USED,
                    "The authorization code has been used. Please note that an authorization code can only be "
                    "used once.",
                    400,
                )
            if self._clock() - found.issued_at > AUTH_CODE_TTL:
                raise ApiError(errors.OAUTH_CODE_EXPIRED, "The authorization code has expired.", 400)
            found.used = True
            return self._issue_pair(found.open_id, found.app_id, found.scope)

    # ---- tokens ---------------------------------------------------------------------------------------
    def issue_tokens(self, open_id: str, scope: str | None = None) -> dict[str, Any]:
        """A token pair for `open_id` without the code dance (tests and scripts)."""
        self.active_person(open_id)
        with self._lock:
            return self._issue_pair(open_id, self._app_id, scope or DEFAULT_SCOPE)

    def _issue_pair(self, open_id: str, app_id: str, scope: str) -> dict[str, Any]:
        now = self._clock()
        access = "u-" + secrets.token_urlsafe(24)
        refresh = "ur-" + secrets.token_urlsafe(24)
        self._access[access] = _Access(open_id, scope, now)
        self._refresh[refresh] = _Refresh(open_id, app_id, scope, now)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": USER_TOKEN_TTL,
            "refresh_expires_in": REFRESH_TOKEN_TTL,
            "scope": scope,
        }

    def refresh(self, refresh_token: object, app_id: str) -> dict[str, Any]:
        if not isinstance(refresh_token, str) or not refresh_token:
            raise ApiError(
                errors.OAUTH_MISSING_PARAM, "The request is missing a required parameter: refresh_token.", 400
            )
        with self._lock:
            found = self._refresh.get(refresh_token)
            if found is None:
                raise ApiError(errors.REFRESH_TOKEN_INVALID, "The refresh token passed is invalid.", 400)
            if found.app_id != app_id:
                raise ApiError(
                    errors.OAUTH_CLIENT_MISMATCH,
                    "The provided authorization code or refresh token does not match the provided client ID.",
                    400,
                )
            if found.revoked:
                raise ApiError(errors.REFRESH_TOKEN_REVOKED, "The refresh token has been revoked.", 400)
            if found.used:
                raise ApiError(
                    errors.REFRESH_TOKEN_USED,
                    "The refresh token has been used. Please note that a refresh token can only be used once.",
                    400,
                )
            if self._clock() - found.issued_at > REFRESH_TOKEN_TTL:
                raise ApiError(errors.REFRESH_TOKEN_EXPIRED, "The refresh token has expired.", 400)
            found.used = True
            self._refreshes[found.open_id] = self._refreshes.get(found.open_id, 0) + 1
            return self._issue_pair(found.open_id, found.app_id, found.scope)

    def person_for(self, access_token: str) -> Person:
        """The person an access token speaks for; ApiError 99991668 (unknown) / 99991677 (expired)."""
        with self._lock:
            found = self._access.get(access_token)
            if found is None:
                raise errors.user_token_invalid()
            if found.expired or self._clock() - found.issued_at >= USER_TOKEN_TTL:
                raise errors.user_token_expired()
            open_id = found.open_id
        person = self._seed.person_by_id(open_id, "open_id")
        if person is None:
            raise errors.user_token_invalid()
        return person

    def expire(self, open_id: str | None = None) -> int:
        """Expire the access tokens of `open_id` (None: everyone's); returns how many were live."""
        with self._lock:
            count = 0
            for token in self._access.values():
                if (open_id is None or token.open_id == open_id) and not token.expired:
                    token.expired = True
                    count += 1
            return count

    def revoke_refresh(self, open_id: str | None = None) -> int:
        """Revoke the refresh tokens of `open_id` (None: everyone's); using one then answers 20064."""
        with self._lock:
            count = 0
            for token in self._refresh.values():
                if (open_id is None or token.open_id == open_id) and not token.revoked:
                    token.revoked = True
                    count += 1
            return count

    def refreshes(self, open_id: str | None = None) -> int:
        with self._lock:
            if open_id is None:
                return sum(self._refreshes.values())
            return self._refreshes.get(open_id, 0)

    def rebase(self) -> None:
        """Restart every code/token lifetime at the clock's now (after the clock was replaced)."""
        with self._lock:
            now = self._clock()
            for item in (*self._codes.values(), *self._access.values(), *self._refresh.values()):
                item.issued_at = now

    def forget_codes(self) -> None:
        with self._lock:
            self._codes.clear()
