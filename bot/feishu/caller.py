"""One way to call Feishu: rate limit, timeout, retries with backoff (tenacity), token refresh, typed errors."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import lark_oapi as lark
import requests
from lark_oapi.core.exception import ObtainAccessTokenException
from lark_oapi.core.token.manager import TokenManager
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)

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


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _status(resp: Any) -> int:
    raw = getattr(resp, "raw", None)
    return int(getattr(raw, "status_code", 0) or 0)


class _Retry(Exception):
    """An answer worth retrying: `error` is raised when the attempts run out."""

    def __init__(self, error: FeishuApiError, reason: str, *, rate_limited: bool = False,
                 reset: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.reason = reason
        self.rate_limited = rate_limited
        self.reset = reset


class ApiCaller:
    """Runs lark-oapi calls for one client, with retries that follow Feishu's rules.

    Retried: rate-limit answers (99991400 / HTTP 429, honouring `x-ogw-ratelimit-reset`), 5xx answers
    and network errors, with exponential backoff and jitter. Never retried: other 4xx answers.
    An invalid tenant token (99991663) drops lark-oapi's cached token and retries once, within the attempt.
    tenacity runs the attempts (stop after `attempts`, backoff with jitter); the wait honours the reset header.
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
        self._max_delay = max_delay
        # Equal jitter: half of each delay fixed, half random; retries spread out, and none comes right away.
        self._backoff = (wait_exponential(multiplier=base_delay / 2, max=max_delay / 2)
                         + wait_random_exponential(multiplier=base_delay / 2, max=max_delay / 2))
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

    def drop_app_tokens(self) -> None:
        """Forget lark-oapi's cached app-level tokens (tenant and app access token; both are refused once Feishu
        revokes the app's credentials), so the next call fetches fresh ones."""
        for key in (f"self_tenant_token:{self._app_id}", f"self_app_token:{self._app_id}"):
            TokenManager.cache.set(key, "", 0)

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter; after a rate-limit answer, at least until Feishu's window resets."""
        delay = self._backoff(state)
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Retry) and failure.reset is not None:
            delay = max(delay, min(self._max_delay, failure.reset))
        return delay

    def call(
        self,
        api: str,
        method: Callable[..., R],
        request: Any,
        *,
        limiter: Limiter | None = None,
        option: Any = None,
        idempotent: bool = True,
    ) -> R:
        """Call `method(request[, option])`, retrying what Feishu's rules allow. `idempotent=False` for a write that
        Feishu cannot deduplicate (an OKR progress record, unlike a message with its uuid): a network failure or a
        5xx may mean the write landed, so it is not retried; a rate-limit or token refusal (nothing done) still is."""
        token_retried = False
        as_user = bool(getattr(option, "user_access_token", None))

        def attempt() -> R:
            nonlocal token_retried
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
                    error = Unavailable(-1, f"{type(exc).__name__}: {exc}", api=api)
                    error.__cause__ = exc
                    if not idempotent:
                        raise error from exc
                    raise _Retry(error, type(exc).__name__) from exc

                if resp.success():
                    return resp

                code = int(resp.code if resp.code is not None else -1)
                if code in TOKEN_INVALID_CODES and not token_retried and not as_user:
                    log.warning("%s: tenant token rejected (%s); fetching a new one", api, code)
                    self.drop_app_tokens()
                    token_retried = True
                    continue

                status = _status(resp)
                log_id = resp.get_log_id()
                msg = resp.msg or ""
                rate_limited = code in RATE_LIMIT_CODES or status == 429
                if status >= 500 and code not in RATE_LIMIT_CODES:
                    error = Unavailable(code, msg or f"HTTP {status}", log_id, api=api)
                else:
                    error = error_for(code, msg, log_id, api=api)
                if not (rate_limited or (status >= 500 and idempotent)):
                    raise error  # other 4xx answers: retrying would get the same answer
                reset = _seconds(_header(resp, "x-ogw-ratelimit-reset")) if rate_limited else None
                raise _Retry(error, f"code {code}, HTTP {status}, log_id {log_id}", rate_limited=rate_limited,
                             reset=reset)

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            if isinstance(failure, _Retry):
                if failure.rate_limited and limiter is not None:
                    limiter.penalise(delay)
                log.warning("%s failed (%s); retry %d in %.2fs", api, failure.reason, state.attempt_number, delay)

        retrying = Retrying(
            stop=stop_after_attempt(self._attempts), wait=self._wait, retry=retry_if_exception_type(_Retry),
            before_sleep=before_sleep, sleep=self._sleep, reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retry as final:
            raise final.error from final.error.__cause__

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
