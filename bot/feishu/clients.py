"""The bundle of API clients the bot uses, built from settings in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import lark_oapi as lark

from bot.feishu.attendance import AttendanceClient
from bot.feishu.botinfo import BotInfo
from bot.feishu.caller import ApiCaller
from bot.feishu.chats import ChatClient
from bot.feishu.contact import ContactClient
from bot.feishu.messenger import Messenger
from bot.feishu.okr import OkrClient
from bot.feishu.ratelimit import (
    ATTENDANCE_LIMITS,
    CONTACT_LIMITS,
    EHR_LIMITS,
    IM_LIMITS,
    OKR_LIMITS,
    Limiter,
    SlidingWindowLimiter,
    scaled,
)
from bot.feishu.roster import RosterClient
from bot.feishu.snapshot import SnapshotStore
from bot.feishu.user_api import UserApi
from bot.settings import Settings


def build_lark_client(settings: Settings) -> lark.Client:
    return (
        lark.Client.builder().app_id(settings.app_id).app_secret(settings.app_secret)
        .domain(settings.domain).timeout(settings.http_timeout).log_level(lark.LogLevel.WARNING)
        .enable_set_token(True)  # per-request user tokens (FEISHU_FACTS §6); tenant tokens still automatic
        .build()
    )


@dataclass(frozen=True, slots=True)
class FeishuClients:
    caller: ApiCaller
    contact: ContactClient
    messenger: Messenger
    bot: BotInfo
    okr: OkrClient
    roster: RosterClient
    attendance: AttendanceClient
    chats: ChatClient
    users: UserApi

    @classmethod
    def create(cls, settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> FeishuClients:
        caller = ApiCaller(
            build_lark_client(settings), app_id=settings.app_id, attempts=settings.retry_attempts,
            base_delay=settings.retry_base_delay, max_delay=settings.retry_max_delay, sleep=sleep,
        )
        scale = settings.rate_limit_scale
        shared = None
        if settings.redis_url:  # imported only then: redis and its client cost ~0.5 s and ~19 MB at start-up
            from bot.feishu.shared_limits import RedisLimiter
            from bot.redis_client import connect

            shared = connect(settings.redis_url)

        def limiter(family: str, windows: tuple[tuple[int, float], ...]) -> Limiter:
            """One limiter per API family: in Redis when several instances share the app's limits."""
            if shared is not None:
                return RedisLimiter(shared, f"{settings.app_id}:{family}", scaled(windows, scale), sleep=sleep)
            return SlidingWindowLimiter(scaled(windows, scale), sleep=sleep)

        contact, im = limiter("contact", CONTACT_LIMITS), limiter("im", IM_LIMITS)
        snapshots = SnapshotStore(settings.database_url)  # the directory and roster, out of process memory
        return cls(
            caller=caller,
            contact=ContactClient(caller, limiter=contact, snapshots=snapshots, directory_ttl=settings.directory_ttl,
                                  user_ttl=settings.directory_ttl, cache_size=settings.people_cache_size),
            messenger=Messenger(caller, limiter=im, scale=scale),
            bot=BotInfo(caller),
            okr=OkrClient(caller, limiter=limiter("okr", OKR_LIMITS), ttl=settings.okr_ttl),
            roster=RosterClient(caller, limiter=limiter("ehr", EHR_LIMITS), ttl=settings.roster_ttl,
                                snapshots=snapshots),
            attendance=AttendanceClient(caller, limiter=limiter("attendance", ATTENDANCE_LIMITS)),
            chats=ChatClient(caller, limiter=im),
            users=UserApi(caller, domain=settings.domain, app_id=settings.app_id, limiter=contact),
        )
