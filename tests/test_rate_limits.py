"""The client-side limiter: limits' moving windows in memory and in a real redis-server, and what the bot
adds on top (several windows per family, the family's pause, keys per app). A wait longer than a second
is not slept: the sleep raises it, so the test reads how long the limiter would have waited."""

from __future__ import annotations

import time

import pytest

from bot.feishu.ratelimit import SlidingWindowLimiter, scaled
from bot.feishu.shared_limits import RedisLimiter
from bot.redis_client import connect
from tests.services import redis_server


class Waited(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def short_sleeps(seconds: float) -> None:
    if seconds > 1:
        raise Waited(seconds)
    time.sleep(seconds)


def wait_of(limiter) -> float:
    """How long the next call would wait (0 when it goes at once)."""
    try:
        return limiter.acquire()
    except Waited as waited:
        return waited.seconds


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_client(redis_url):
    client = connect(redis_url)
    client.flushdb()
    return client


def test_a_call_takes_a_slot_in_every_window_of_its_family():
    limiter = SlidingWindowLimiter(((2, 0.05), (3, 60.0)), sleep=short_sleeps)
    assert wait_of(limiter) == wait_of(limiter) == 0
    assert 0 < wait_of(limiter) <= 0.05  # the short window is full; the long one still has room
    assert 55 < wait_of(limiter) <= 60  # now the long one is full too


def test_limiters_in_one_process_count_apart():
    first, second = (SlidingWindowLimiter(((1, 60.0),), sleep=short_sleeps) for _ in range(2))
    assert wait_of(first) == 0 and wait_of(second) == 0
    assert wait_of(first) > 55


def test_instances_sharing_redis_share_an_apps_windows_and_apps_keep_their_own(redis_client):
    windows = ((3, 60.0),)
    here, there = (RedisLimiter(redis_client, "cli_a:okr", windows, sleep=short_sleeps) for _ in range(2))
    other_app = RedisLimiter(redis_client, "cli_b:okr", windows, sleep=short_sleeps)
    assert [wait_of(here), wait_of(there), wait_of(here)] == [0, 0, 0]
    assert 55 < wait_of(there) <= 60  # the app's three calls a minute were taken, one instance or the other
    assert wait_of(other_app) == 0  # another app on the same Redis has its own windows
    assert all(key.startswith(b"okrbot:rate:cli_a:okr/") or key.startswith(b"okrbot:rate:cli_b:okr/")
               for key in redis_client.keys("*"))


def test_a_rate_limit_answer_pauses_the_family_on_every_instance(redis_client):
    windows = ((100, 60.0),)
    here, there = (RedisLimiter(redis_client, "cli_a:okr", windows, sleep=short_sleeps) for _ in range(2))
    other_family = RedisLimiter(redis_client, "cli_a:ehr", windows, sleep=short_sleeps)
    here.penalise(5.0)
    assert 4 < wait_of(there) <= 5
    assert wait_of(other_family) == 0
    here.penalise(2.0)  # a shorter penalty does not cut the pause short
    assert 4 < wait_of(there) <= 5


def test_windows_shorter_than_a_second_work_in_redis(redis_client):
    """limits' script gives Redis's EXPIRE the window, in whole seconds only: the bot's windows (1.03 s,
    and milliseconds when scaled) expire in milliseconds instead."""
    limiter = RedisLimiter(redis_client, "cli_a:im", scaled(((2, 1.0),), 20.0), sleep=short_sleeps)
    assert wait_of(limiter) == wait_of(limiter) == 0
    assert 0 < wait_of(limiter) <= 0.0515
    [key] = redis_client.keys("okrbot:rate:cli_a:im/*")
    assert 0 < redis_client.pttl(key) <= 52
