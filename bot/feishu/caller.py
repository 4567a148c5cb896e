"""One way to call Feishu: rate limit, timeout, retries with backoff, token refresh, typed errors."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import lark_oapi as lark
import requests
from lark_oapi.core.exception import ObtainAccessTokenException
from lark_oapi.core.token.manager import TokenManager

from bot.feishu.errors import (
    RATE_LIMIT_CODES,
    TOKEN_INVALID_CODES,
    FeishuApiError,
    Unavailable,
    error_for,
)
from bot.feishu.ratelimit import Limiter

log = logging.getLogger(__name__)

R = TypeVar("R")


def _header(resp: Any, name: str) -> str | None:
    raw = getattr(resp, "raw", None)
    headers = getattr(raw, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _status(resp: Any) -> int:
    raw = getattr(resp, "raw", None)
    return int(getattr(raw, "status_code", 0) or 0)


class ApiCaller:
    """Runs lark-oapi calls for one client, with retries that follow Feishu's rules.

    Retried: rate-limit answers (99991400 / HTTP 429, honouring `x-ogw-ratelimit-reset`), 5xx answers
    and network errors, with exponential backoff and jitter. Never retried: other 4xx answers.
    An invalid tenant token (99991663) drops lark-oapi's cached token and retries once.
    """

    def __init__(
        self,
        client: lark.Client,
        *,
        app_id: str,
        attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self._app_id = app_id
        self._attempts = max(1, attempts)
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    @property
    def call_counts(self) -> dict[str, int]:
        with self._counts_lock:
            return dict(self._counts)

    def _count(self, api: str) -> None:
        with self._counts_lock:
            self._counts[api] += 1

    def drop_tenant_token(self) -> None:
        TokenManager.cache.set(f"self_tenant_token:{self._app_id}", "", 0)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._max_delay, self._base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def call(
        self,
        api: str,
        method: Callable[..., R],
        request: Any,
        *,
        limiter: Limiter | None = None,
        option: Any = None,
    ) -> R:
        token_retried = False
        attempt = 0
        while True:
            if limiter is not None:
                limiter.acquire()
            self._count(api)
            try:
                resp = method(request, option) if option is not None else method(request)
            except ObtainAccessTokenException as exc:
                raise error_for(int(exc.code or -1), f"tenant token: {exc.msg}", api=api) from exc
            except (requests.RequestException, ValueError) as exc:
                # Network failure, timeout, or a body that is not JSON (a proxy's 502 page).
                if attempt + 1 >= self._attempts:
                    raise Unavailable(-1, f"{type(exc).__name__}: {exc}", api=api) from exc
                delay = self._backoff(attempt)
                log.warning("%s failed (%s); retry %d in %.2fs", api, type(exc).__name__, attempt + 1, delay)
                self._sleep(delay)
                attempt += 1
                continue

            if resp.success():
                return resp

            code = int(resp.code if resp.code is not None else -1)
            status = _status(resp)
            log_id = resp.get_log_id()
            msg = resp.msg or ""

            as_user = bool(getattr(option, "user_access_token", None))
            if code in TOKEN_INVALID_CODES and not token_retried and not as_user:
                log.warning("%s: tenant token rejected (%s); fetching a new one", api, code)
                self.drop_tenant_token()
                token_retried = True
                continue

            retryable = code in RATE_LIMIT_CODES or status == 429 or status >= 500
            if not retryable or attempt + 1 >= self._attempts:
                if status >= 500 and code not in RATE_LIMIT_CODES:
                    raise Unavailable(code, msg or f"HTTP {status}", log_id, api=api)
                raise error_for(code, msg, log_id, api=api)

            delay = self._backoff(attempt)
            if code in RATE_LIMIT_CODES or status == 429:
                reset = _header(resp, "x-ogw-ratelimit-reset")
                try:
                    delay = max(delay, min(self._max_delay, float(reset))) if reset else delay
                except ValueError:
                    pass
                if limiter is not None:
                    limiter.penalise(delay)
            log.warning(
                "%s answered code %s (HTTP %s, log_id %s); retry %d in %.2fs",
                api, code, status, log_id, attempt + 1, delay,
            )
            self._sleep(delay)
            attempt += 1


    def pages(
        self,
        api: str,
        method: Callable[..., Any],
        build: Callable[[str], Any],
        *,
        limiter: Limiter | None = None,
    ) -> Iterator[Any]:
        """Each page's `data` of a page_token / has_more list; `build(page_token)` makes the request
        ("" for the first page)."""
        page_token = ""
        while True:
            data = self.call(api, method, build(page_token), limiter=limiter).data
            if data is None:
                return
            yield data
            page_token = getattr(data, "page_token", "") or ""
            if not (getattr(data, "has_more", False) and page_token):
                return


__all__ = ["ApiCaller", "FeishuApiError"]
