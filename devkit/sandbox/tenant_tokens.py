"""Tenant and app access tokens ("t-sbx-..." / "a-sbx-..."): issued for the app's credentials, 2 hours each.

Tokens are stable per app_id/secret and generation (lark-oapi caches them process-wide by app_id): a token
stays valid in any sandbox instance with the same credentials until that instance revokes it. A fetch within
the last 30 minutes of a token's life issues the next generation. Thread-safe.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable

from .api_errors import AUTH_INVALID_PARAM, AUTH_SECRET_INVALID, ApiError

log = logging.getLogger(__name__)

TOKEN_TTL = 7200.0  # seconds a tenant/app token lives
TOKEN_RENEW_WINDOW = 1800.0  # a fetch within the last 30 min of a token's life issues a new one
_TOKEN_RE = re.compile(r"^([ta])-sbx-([0-9a-f]{24})-g(\d+)$")


class TenantTokens:
    def __init__(self, app_id: str, app_secret: str, clock: Callable[[], float]) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._clock = clock
        self._lock = threading.Lock()
        self._generation = 0
        self._issued: dict[int, float] = {}  # generation -> when it was first issued or seen

    def _token(self, kind: str, app_id: str, generation: int) -> str:
        digest = hashlib.sha256(f"{kind}:{app_id}:{self._app_secret}".encode()).hexdigest()[:24]
        return f"{kind}-sbx-{digest}-g{generation}"

    def issue(self, app_id: str | None, app_secret: str | None, kind: str = "t") -> tuple[str, int]:
        """(token, expire seconds) for the app credentials; ApiError 10003/10014 on bad credentials."""
        if not app_id or not app_secret:
            raise ApiError(AUTH_INVALID_PARAM, "app_id or app_secret is empty", 400)
        if app_id != self._app_id:
            raise ApiError(AUTH_INVALID_PARAM, "app_id is invalid", 400)
        if app_secret != self._app_secret:
            raise ApiError(AUTH_SECRET_INVALID, "app secret invalid", 400)
        with self._lock:
            now = self._clock()
            issued = self._issued.setdefault(self._generation, now)
            remaining = TOKEN_TTL - (now - issued)
            if remaining < TOKEN_RENEW_WINDOW:
                self._generation += 1
                self._issued[self._generation] = now
                remaining = TOKEN_TTL
            return self._token(kind, app_id, self._generation), int(remaining)

    def is_valid(self, token: str, kinds: str = "t") -> bool:
        """True for a live token of one of `kinds` ("t" tenant, "a" app)."""
        match = _TOKEN_RE.match(token or "")
        if not match or match.group(1) not in kinds:
            return False
        generation = int(match.group(3))
        if token != self._token(match.group(1), self._app_id, generation):
            return False
        with self._lock:
            if generation < self._generation:
                return False
            issued = self._issued.get(generation)
            if issued is None:  # minted by another sandbox instance with the same credentials
                self._issued[generation] = self._clock()
                self._generation = generation
                return True
            return self._clock() - issued < TOKEN_TTL

    def revoke(self) -> None:
        """Invalidate every issued token: calls get 99991663 until a new token is fetched."""
        with self._lock:
            self._generation += 1
            self._issued = {self._generation: self._clock()}
            log.info("sandbox: tokens revoked, generation %d", self._generation)

    def rebase(self) -> None:
        """Restart every token's lifetime at the clock's now (after the clock was replaced)."""
        with self._lock:
            self._issued = dict.fromkeys(self._issued, self._clock())
