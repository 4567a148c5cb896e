"""Retries and rate limits of the API layer, against the sandbox: what is retried, how long each wait is,
and how a rate-limit answer holds the whole API family back. Sleeps are recorded, not slept."""

from __future__ import annotations

import time

import pytest

from bot.feishu.caller import ApiCaller
from bot.feishu.clients import build_lark_client
from bot.feishu.errors import FeishuApiError, NotFound, RateLimited, Unavailable
from bot.feishu.okr import OkrClient
from bot.feishu.ratelimit import LocalPause, SlidingWindowLimiter

OKR = "/open-apis/okr/v1/periods"
RATE_LIMITED = dict(http_status=429, code=99991400, msg="request trigger frequency limit")


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _okr(settings, *, attempts=4, base_delay=0.001, max_delay=30.0, limiter=None):
    caller_time, limiter_time = FakeTime(), FakeTime()
    caller = ApiCaller(build_lark_client(settings), app_id=settings.app_id, attempts=attempts,
                       base_delay=base_delay, max_delay=max_delay, sleep=caller_time.sleep)
    limiter = limiter or SlidingWindowLimiter(((100, 60.0),), pause=LocalPause(clock=limiter_time),
                                              sleep=limiter_time.sleep)
    return OkrClient(caller, limiter=limiter), caller, caller_time, limiter_time


def _calls(sandbox):
    return [r for r in sandbox.state.requests.entries() if r["path"].startswith(OKR)]


def test_the_reset_header_wins_over_a_shorter_backoff_and_pauses_the_family(settings, sandbox):
    okr, _, caller_time, limiter_time = _okr(settings)
    sandbox.state.faults.inject(OKR, times=1, headers={"x-ogw-ratelimit-reset": "7"}, **RATE_LIMITED)
    assert okr.list_periods()
    assert caller_time.slept == [7.0]  # not the backoff's 0.5–1 ms
    assert limiter_time.slept == [7.0]  # every caller of the OKR family waits out Feishu's window
    assert [r["status"] for r in _calls(sandbox)] == [429, 200]


def test_the_reset_header_is_capped_by_the_longest_retry_delay(settings, sandbox):
    okr, _, caller_time, _ = _okr(settings, max_delay=2.0)
    sandbox.state.faults.inject(OKR, times=1, headers={"x-ogw-ratelimit-reset": "60"}, **RATE_LIMITED)
    assert okr.list_periods()
    assert caller_time.slept == [2.0]


def test_without_a_reset_header_the_backoff_doubles_with_jitter(settings, sandbox):
    okr, _, caller_time, limiter_time = _okr(settings, base_delay=0.1)
    sandbox.state.faults.inject(OKR, times=3, http_status=500, code=1, msg="boom")
    assert okr.list_periods()
    first, second, third = caller_time.slept
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2 and 0.2 <= third <= 0.4
    assert limiter_time.slept == []  # a 5xx is the server's trouble, not our rate: no pause


def test_a_4xx_answer_other_than_429_is_never_retried(settings, sandbox):
    okr, caller, caller_time, _ = _okr(settings)
    sandbox.state.faults.inject(OKR, times=1, http_status=400, code=1001003, msg="User not found.")
    with pytest.raises(NotFound):
        okr.list_periods()
    assert len(_calls(sandbox)) == 1 and caller_time.slept == []
    assert caller.call_counts == {"okr.period.list": 1}


@pytest.mark.parametrize("fault, error", [
    (dict(http_status=500, code=1, msg="boom"), Unavailable),
    (dict(http_status=429, code=99991400, msg="request trigger frequency limit"), RateLimited),
])
def test_retries_stop_after_the_attempts_with_a_typed_error(settings, sandbox, fault, error):
    okr, caller, caller_time, _ = _okr(settings, attempts=3)
    sandbox.state.faults.inject(OKR, times=None, **fault)
    with pytest.raises(error) as raised:
        okr.list_periods()
    assert type(raised.value) is error and raised.value.api == "okr.period.list"
    assert len(_calls(sandbox)) == 3 and len(caller_time.slept) == 2
    assert caller.call_counts == {"okr.period.list": 3}


def test_a_network_timeout_is_retried(settings, sandbox):
    okr, _, caller_time, _ = _okr(settings.with_(http_timeout=0.2))
    sandbox.state.faults.inject(OKR, times=1, delay=30.0)  # held past the client's timeout
    assert okr.list_periods()
    assert len(caller_time.slept) == 1
    sandbox.state.faults.clear()  # lets the held request finish, so that it is logged in this test, not the next
    deadline = time.monotonic() + 10
    while len(_calls(sandbox)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_calls(sandbox)) == 2


def test_an_invalid_tenant_token_is_fetched_again_once_without_using_an_attempt(settings, sandbox):
    okr, caller, caller_time, _ = _okr(settings, attempts=1)
    sandbox.state.faults.inject(OKR, times=2, http_status=400, code=99991663, msg="Invalid access token")
    with pytest.raises(FeishuApiError) as raised:
        okr.list_periods()
    assert raised.value.code == 99991663
    assert len(_calls(sandbox)) == 2 and caller_time.slept == []  # once again with a new token, not twice


PROGRESS = "/open-apis/okr/v1/progress_records"


def _a_key_result(sandbox) -> tuple[str, str]:
    person = sandbox.seed.find_person("杨帆")
    return person.open_id, str(sandbox.seed.okrs_of(person)[0]["objective_list"][0]["kr_list"][0]["id"])


@pytest.mark.parametrize("fault", [dict(http_status=500, code=1009998, msg="system exception"),
                                   dict(delay=30.0)])  # a 5xx or a timeout: the record may have been written
def test_a_progress_record_is_never_written_twice_by_a_retry(settings, sandbox, fault):
    """Feishu cannot deduplicate a progress record (no uuid): a 5xx or a timeout may mean it landed, so the write
    is not retried and the person is told it failed (they can look and try again)."""
    okr, caller, caller_time, _ = _okr(settings.with_(http_timeout=0.3))
    owner, kr = _a_key_result(sandbox)
    sandbox.state.faults.inject(PROGRESS, times=1, **fault)
    with pytest.raises(Unavailable):
        okr.create_progress_record(kr, "key_result", 60, "normal", "", owner_open_id=owner, source_url="https://x.example")
    assert caller_time.slept == [] and caller.call_counts == {"okr.progress_record.create": 1}
    sandbox.state.faults.clear()  # a held request finishes now, and is logged in this test, not the next
    deadline = time.monotonic() + 10
    while not [r for r in sandbox.state.requests.entries() if r["path"] == PROGRESS] and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_progress_record_refused_by_the_rate_limit_is_tried_again(settings, sandbox):
    okr, caller, caller_time, _ = _okr(settings)
    owner, kr = _a_key_result(sandbox)
    sandbox.state.faults.inject(PROGRESS, times=1, **RATE_LIMITED)  # refused before anything was written
    assert okr.create_progress_record(kr, "key_result", 60, "normal", "", owner_open_id=owner,
                                      source_url="https://x.example")
    assert len(caller_time.slept) == 1 and caller.call_counts == {"okr.progress_record.create": 2}
