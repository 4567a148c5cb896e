"""Date/time helpers in China Standard Time (UTC+8, the seeded tenant's time zone)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "Asia/Shanghai")


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=CST)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def epoch_s(moment: datetime) -> int:
    return int(moment.timestamp())


def day_ms(day: date, hour: int = 0, minute: int = 0) -> int:
    return epoch_ms(at(day, hour, minute))


def yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def from_yyyymmdd(value: int | str) -> date:
    number = int(value)
    return date(number // 10000, number // 100 % 100, number % 100)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


class ManualClock:
    """A clock that moves only when told (tests pass it as the sandbox's `clock`)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
