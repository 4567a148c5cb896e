"""Quota guards shared by `remind` and `digest`: how often one subscription may fire, and the cool-down of
the commands that run one now. Each refusal is a card that says the limit and what to do instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.commands.base import Context, Reply
from bot.timephrase import Recurrence
from cards.components import t
from cards.subscriptions import build_confirmation_card

# Fire times looked at to find a schedule's shortest gap: a cron repeats its within-hour and within-day gaps
# every day it fires, so a hundred runs cover them and the step from one firing day to the next.
GAP_RUNS = 100
SAME_TIMES_RUNS = 20  # fire times compared to call two schedules the same


def same_times(spec: dict[str, str], schedule: Recurrence, now: datetime) -> bool:
    """Whether the stored schedule `spec` fires exactly when `schedule` does (however each was written)."""
    try:
        theirs = Recurrence.from_spec(spec)
    except ValueError:
        return False
    return theirs.next_runs(now, SAME_TIMES_RUNS) == schedule.next_runs(now, SAME_TIMES_RUNS)


def shortest_gap(schedule: Recurrence, now: datetime, *, runs: int = GAP_RUNS) -> timedelta | None:
    """The shortest real time between two consecutive runs of `schedule` after `now` (None: fires once or never)."""
    times = [moment.astimezone(UTC) for moment in schedule.next_runs(now, runs)]
    return min((later - earlier for earlier, later in zip(times, times[1:], strict=False)), default=None)


def _minutes(value: float) -> str:
    return f"{value:g}"


def refuse_too_often(schedule: Recurrence, ctx: Context, locale: str, *, example: tuple[str, str]) -> Reply | None:
    """A correction card when `schedule` fires more often than BOT_MIN_SCHEDULE_MINUTES allows, else None."""
    minimum = ctx.settings.min_schedule_minutes
    gap = shortest_gap(schedule, ctx.now)
    if gap is None or gap >= timedelta(minutes=minimum):
        return None
    every = _minutes(round(gap.total_seconds() / 60, 1))
    text = t(locale,
             f"{schedule.describe(locale)} 每 {every} 分钟就会运行一次。同一个订阅两次运行之间至少要隔 "
             f"{_minutes(minimum)} 分钟（OKR 每小时看一次足够了）。\n例如：`{example[0]}`",
             f"{schedule.describe(locale)} runs every {every} minutes. One subscription runs at most once every "
             f"{_minutes(minimum)} minutes (hourly is plenty for OKRs).\nFor example: `{example[1]}`")
    return Reply(build_confirmation_card(title=t(locale, "时间太频繁", "Too often"), text=text, locale=locale,
                                         ok=False), refused=True)


def refuse_during_cooldown(ctx: Context, key: str, locale: str, *, what: tuple[str, str],
                           scope: tuple[str, str]) -> Reply | None:
    """Start `key`'s cool-down (BOT_RUN_COOLDOWN_MINUTES, held in the store so every process shares it), or,
    while one runs, a card saying when the command may be run again."""
    minutes = ctx.settings.run_cooldown_minutes
    if minutes <= 0:
        return None
    until = ctx.store.usage.start_cooldown(key, now=ctx.now, seconds=minutes * 60)
    if until is None:
        return None
    local = until.astimezone(ZoneInfo(ctx.settings.timezone))
    shown = local.strftime("%H:%M" if local.date() == ctx.now.astimezone(local.tzinfo).date() else "%Y-%m-%d %H:%M")
    text = t(locale,
             f"`{what[0]}` {scope[0]}每 {_minutes(minutes)} 分钟最多运行一次，{shown} 之后可以再试。定时发送不受影响。",
             f"`{what[1]}` runs at most once every {_minutes(minutes)} minutes {scope[1]}; try again after "
             f"{shown}. Scheduled sends are not affected.")
    return Reply(build_confirmation_card(title=t(locale, "稍后再试", "Try again later"), text=text, locale=locale,
                                         ok=False), refused=True)
