"""When a subscription fires, from the phrase people type: `fri 17:00`, `周五 17:00`, `weekdays 9:30`, `每天 18:00`,
`monthly 1 10:00`, cron.

`parse_when(text, default_tz=...)` turns a phrase into a `Recurrence` (APScheduler cron fields plus an IANA time
zone) or raises `WhenError`, whose `message(locale)` says what was not understood and how to write it.

Accepted (case-insensitive, NFKC so full-width digits and colons work, extra spaces and quotes ignored):
  days     `fri`, `friday(s)`, `tue/tues/thu/thur/thurs`, `周五`, `星期五`, `礼拜五`, `周日/周天`, lists `mon,wed,fri`,
           `mon wed`, `周一三五`, `周一、周三`, ranges `mon-fri`, `monday to friday`, `周一至周五`, `周一到五`;
           `weekdays`, `工作日`, `每个工作日`; `weekends`, `周末`; `daily`, `every day`, `每天`, `每日`;
           `monthly 1`, `monthly on the 1st`, `每月 1`, `每月1号`, `每月1日`, `monthly last`, `每月最后一天`
  times    `9:30`, `09:30`, `9：30`, `9.30`, `9点`, `9点30`, `9点半`, `十点一刻`, `下午5点`, `晚上6点`, `5pm`,
           `5:30pm`, `17h`, `17h30`, `noon`, or a bare hour `17`; exactly one time is required
  zone     an IANA name anywhere (`Asia/Tokyo`, `asia/tokyo`, `UTC`) or `北京时间`; else the caller's default
  cron     five classic fields `minute hour day month day_of_week` (optionally after the word `cron`)

Bounded: a phrase longer than MAX_PHRASE_CHARS is refused before it is read (WhenError("too_long")), every
pattern below matches in linear time, and a time-zone name is looked up in a dict of the IANA names, never
handed to the file system, so no phrase can hold the interpreter for long or raise anything but WhenError.

Pure: no I/O beyond the time-zone database that `zoneinfo` reads once, no clock, no logging.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger

__all__ = ["MAX_PHRASE_CHARS", "Recurrence", "WhenError", "parse_when"]

# A schedule phrase is a few dozen characters (`每个工作日 下午5点半 Asia/Shanghai` is 27): anything longer is refused
# before it is read, so no message can make the parser work for long.
MAX_PHRASE_CHARS = 200
_MAX_ZONE_CHARS = 64  # the longest IANA name, America/Argentina/ComodRivadavia, has 32

# Weekdays are numbered as APScheduler and `datetime.weekday()` do: 0 = Monday … 6 = Sunday.
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_PLURALS_EN = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
_DAY_CHARS_ZH = "一二三四五六日"
_ALL_DAYS = frozenset(range(7))
_WORK_DAYS = frozenset(range(5))
_WEEKEND = frozenset({5, 6})
_LAST = -1  # day_of_month value for "the last day of the month"

_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_CRON_FIELD_NAMES = {
    "minute": ("minute", "分钟"),
    "hour": ("hour", "小时"),
    "day": ("day of month", "日期"),
    "month": ("month", "月份"),
    "day_of_week": ("day of week", "星期"),
}
_CRON_EXAMPLE = "30 9 * * 1-5"


# ---------------------------------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True, slots=True)
class _Example:
    en: str
    zh: str


_DEFAULT_EXAMPLE = _Example("fri 17:00", "周五 17:00")


class WhenError(ValueError):
    """A phrase that cannot be read. `kind` names the problem; `message(locale)` is the text for the chat card.

    Kinds: empty, too_long, unknown, bad_time, missing_time, two_times, missing_day, missing_weekday,
    missing_day_of_month, bad_day_of_month, two_days_of_month, needs_monthly, conflict, unknown_timezone,
    timezone_offset, two_timezones, bad_cron, cron_field_count, cron_day_and_weekday, cron_never_fires.
    """

    def __init__(
        self,
        kind: str,
        *,
        fragments: tuple[str, ...] = (),
        example: _Example = _DEFAULT_EXAMPLE,
        field: str = "",
    ) -> None:
        self.kind = kind
        self.fragments = tuple(_shorten(f) for f in fragments)
        self.example = example
        self.field = field
        super().__init__(self.message("en_us"))

    @property
    def fragment(self) -> str:
        return self.fragments[0] if self.fragments else ""

    def message(self, locale: str = "zh_cn") -> str:
        en = locale.lower().startswith("en")
        template = _MESSAGES[self.kind][0 if en else 1]
        field_en, field_zh = _CRON_FIELD_NAMES.get(self.field, ("", ""))
        return template.format(
            f=self.fragment,
            g=self.fragments[1] if len(self.fragments) > 1 else "",
            all=", ".join(self.fragments) if en else "、".join(self.fragments),
            ex=self.example.en if en else self.example.zh,
            field=field_en if en else field_zh,
            cron=_CRON_EXAMPLE,
            limit=MAX_PHRASE_CHARS,
        )


_FORMS_EN = "“fri 17:00”, “weekdays 9:30”, “daily 18:00”, “monthly 1 10:00” or a cron like “{cron}”"
_FORMS_ZH = "周五 17:00、工作日 9:30、每天 18:00、每月1号 10:00，或 cron「{cron}」"

# (en_us, zh_cn) per kind. Short: they go into a chat card.
_MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("No time given — try “{ex}”", "没有写时间，试试「{ex}」"),
    "too_long": (
        "That time is too long ({f} characters, at most {limit}) — write it in a few words, like “{ex}”",
        "时间写得太长了（{f} 个字符，最多 {limit} 个），几个字就够，比如「{ex}」",
    ),
    "unknown": ("Can't read “{f}” — try " + _FORMS_EN, "看不懂「{f}」，可以写：" + _FORMS_ZH),
    "bad_time": ("{f} is not a time of day — try “{ex}”", "「{f}」不是有效的时间，试试「{ex}」"),
    "missing_time": ("“{f}” needs a time of day — try “{ex}”", "「{f}」缺少时间，试试「{ex}」"),
    "two_times": (
        "One time per schedule, got {all} — try “{ex}”",
        "一个订阅只能有一个时间（写了 {all}），试试「{ex}」",
    ),
    "missing_day": ("“{f}” needs a day — try “{ex}”", "「{f}」缺少日期，试试「{ex}」"),
    "missing_weekday": ("Which day of the week? Try “{ex}”", "每周哪一天？试试「{ex}」"),
    "missing_day_of_month": ("Which day of the month? Try “{ex}”", "每月哪一天？试试「{ex}」"),
    "bad_day_of_month": (
        "{f} is not a day of the month (1–31 or “last”) — try “{ex}”",
        "「{f}」不是有效的日期（1–31 或「最后一天」），试试「{ex}」",
    ),
    "two_days_of_month": (
        "One day of the month per schedule, got {all} — try “{ex}”",
        "每月只能写一天（写了 {all}），试试「{ex}」",
    ),
    "needs_monthly": ("“{f}” needs “monthly” — try “{ex}”", "「{f}」要按月写，试试「{ex}」"),
    "conflict": ("“{f}” and “{g}” don't go together — try “{ex}”", "「{f}」和「{g}」不能同时用，试试「{ex}」"),
    "unknown_timezone": ("Unknown time zone “{f}” — try “{ex}”", "不认识时区「{f}」，试试「{ex}」"),
    "timezone_offset": (
        "{f} is an offset, not a time zone — try “{ex}”",
        "「{f}」是时差而不是时区，试试「{ex}」",
    ),
    "two_timezones": ("Two time zones ({all}) — keep one", "写了两个时区（{all}），只保留一个"),
    "bad_cron": (
        "cron {field} “{f}” is not valid — fields are minute hour day month weekday, e.g. “{cron}”",
        "cron 的{field}字段「{f}」无效；五个字段依次是 分 时 日 月 周，如「{cron}」",
    ),
    "cron_field_count": (
        "cron needs 5 fields (minute hour day month weekday), got “{f}” — e.g. “{cron}”",
        "cron 需要 5 个字段（分 时 日 月 周），「{f}」不对，如「{cron}」",
    ),
    "cron_day_and_weekday": (
        "cron “{f}” sets both a day of month and a weekday — make one of them “*”",
        "cron「{f}」同时限定了日期和星期，请把其中一个写成 *",
    ),
    "biweekly_needs_weekdays": (
        "Every other week needs a weekday and a time — try “every other fri 17:00”",
        "隔周需要写星期几和时间，试试「双周五 17:00」",
    ),
    "cron_never_fires": (
        "cron “{f}” never fires — check the day and month",
        "cron「{f}」永远不会触发，请检查日期和月份",
    ),
}


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------------------------
# Recurrence


@dataclass(frozen=True, slots=True)
class _Days:
    """What the day part of a phrase means: weekly on `weekdays` (all seven = daily) or monthly on `day_of_month`."""

    weekdays: frozenset[int] = frozenset()
    day_of_month: int | None = None  # 1..31 or _LAST; None for weekly


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When something recurs (a subscription's schedule): APScheduler cron fields (weekdays as names, so no
    numbering ambiguity) and an IANA zone."""

    minute: str
    hour: str
    day: str
    month: str
    day_of_week: str
    timezone: str
    # ISO weeks it fires in: "*" every week; "1-53/2" or "2-53/2" every other week (odd or even ISO weeks). After a
    # 53-week year (once every five or six) the rhythm shifts by a week at New Year: one gap of one or three weeks.
    week: str = "*"

    def __post_init__(self) -> None:
        for name in (*_CRON_FIELDS, "timezone", "week"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or value != "".join(value.split()):
                raise ValueError(f"schedule field {name} must be a non-empty string without spaces, got {value!r}")
        if _find_zone(self.timezone) != self.timezone:
            raise ValueError(f"unknown time zone {self.timezone!r}")
        self.to_trigger()  # raises ValueError for fields APScheduler rejects

    @property
    def source(self) -> str:
        """The normalised cron form `minute hour day month day_of_week` (APScheduler's dialect, weekday names)."""
        return " ".join(getattr(self, name) for name in _CRON_FIELDS)

    @property
    def every_other_week(self) -> bool:
        return self.week != "*"

    def to_trigger(self) -> CronTrigger:
        if self.week == "*":
            return CronTrigger.from_crontab(self.source, timezone=ZoneInfo(self.timezone))
        return CronTrigger(minute=self.minute, hour=self.hour, day=self.day, month=self.month,
                           day_of_week=self.day_of_week, week=self.week, timezone=ZoneInfo(self.timezone))

    def to_spec(self) -> dict[str, str]:
        """A JSON-safe dict for storage; `Recurrence.from_spec` reads it back (a spec without `week` is weekly)."""
        spec = {name: getattr(self, name) for name in (*_CRON_FIELDS, "timezone")}
        if self.week != "*":
            spec["week"] = self.week
        return spec

    @classmethod
    def from_spec(cls, spec: Mapping[str, str]) -> Recurrence:
        missing = [name for name in (*_CRON_FIELDS, "timezone") if name not in spec]
        if missing:
            raise ValueError(f"schedule spec is missing {', '.join(missing)}")
        return cls(**{name: spec[name] for name in (*_CRON_FIELDS, "timezone")}, week=spec.get("week", "*"))

    def describe(self, locale: str = "zh_cn", *, default_tz: str | None = None) -> str:
        """Human text, e.g. `每周五 17:00 (Asia/Shanghai)` / `Fridays at 17:00 (Asia/Shanghai)`.

        The time zone is appended unless it equals `default_tz`.
        """
        en = locale.lower().startswith("en")
        shape = _read_shape(self)
        if shape is None:
            text = f"cron `{self.source}`"
        else:
            days, hour, minute = shape
            clock = f"{hour:02d}:{minute:02d}"
            if self.every_other_week:
                names = "、".join("周" + _DAY_CHARS_ZH[d] for d in sorted(days.weekdays))
                plural = " and ".join(_DAY_PLURALS_EN[d][:-1] for d in sorted(days.weekdays))
                text = f"Every other {plural} at {clock}" if en else f"每两周{names} {clock}"
            else:
                text = f"{_describe_days_en(days)} at {clock}" if en else f"{_describe_days_zh(days)} {clock}"
        if self.timezone != default_tz:
            text += f" ({self.timezone})"
        return text

    def next_runs(self, after: datetime, count: int) -> list[datetime]:
        """The next `count` fire times strictly after `after` (timezone-aware), in the schedule's time zone."""
        if after.tzinfo is None:
            raise ValueError("after must be timezone-aware")
        trigger = self.to_trigger()
        runs: list[datetime] = []
        previous: datetime | None = None
        cursor = after
        while len(runs) < count:
            # get_next_fire_time returns the first time >= its `now` (rounded up to the second): nudge past it.
            fire = trigger.get_next_fire_time(previous, cursor + timedelta(microseconds=1))
            if fire is None:
                break
            runs.append(fire)
            previous = cursor = fire
        return runs


def _read_shape(schedule: Recurrence) -> tuple[_Days, int, int] | None:
    """The phrase form of a schedule (days, hour, minute), or None when only cron can say it."""
    if not (schedule.minute.isdigit() and schedule.hour.isdigit()) or schedule.month != "*":
        return None
    hour, minute = int(schedule.hour), int(schedule.minute)
    if schedule.day == "*":
        weekdays = _read_weekdays(schedule.day_of_week)
        return None if weekdays is None else (_Days(weekdays=weekdays), hour, minute)
    if schedule.day_of_week != "*":
        return None
    if schedule.day == "last":
        return _Days(day_of_month=_LAST), hour, minute
    if schedule.day.isdigit():
        return _Days(day_of_month=int(schedule.day)), hour, minute
    return None


def _read_weekdays(expr: str) -> frozenset[int] | None:
    """`mon,wed-fri` (names only) → {0, 2, 3, 4}; None for anything else (steps, numbers, positions)."""
    if expr == "*":
        return _ALL_DAYS
    days: set[int] = set()
    for item in expr.split(","):
        first, _, last = item.partition("-")
        if first not in _DAY_NAMES or (last and last not in _DAY_NAMES):
            return None
        start, end = _DAY_NAMES.index(first), _DAY_NAMES.index(last or first)
        if end < start:
            return None
        days.update(range(start, end + 1))
    return frozenset(days)


def _format_weekdays(days: frozenset[int]) -> str:
    """{0, 1, 2, 3, 4} → `mon-fri`, {5, 6} → `sat,sun`, all → `*`: runs of three or more become ranges."""
    if days == _ALL_DAYS:
        return "*"
    parts: list[str] = []
    ordered = sorted(days)
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        if last - first >= 2:
            parts.append(f"{_DAY_NAMES[first]}-{_DAY_NAMES[last]}")
        else:
            parts.extend(_DAY_NAMES[d] for d in range(first, last + 1))
        start = end + 1
    return ",".join(parts)


def _describe_days_en(days: _Days) -> str:
    if days.day_of_month is not None:
        return "Monthly on the last day" if days.day_of_month == _LAST else f"Monthly on day {days.day_of_month}"
    if days.weekdays == _ALL_DAYS:
        return "Daily"
    if days.weekdays == _WORK_DAYS:
        return "Weekdays"
    if days.weekdays == _WEEKEND:
        return "Weekends"
    names = [_DAY_PLURALS_EN[d] for d in sorted(days.weekdays)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _describe_days_zh(days: _Days) -> str:
    if days.day_of_month is not None:
        return "每月最后一天" if days.day_of_month == _LAST else f"每月 {days.day_of_month} 日"
    if days.weekdays == _ALL_DAYS:
        return "每天"
    if days.weekdays == _WORK_DAYS:
        return "每个工作日"
    if days.weekdays == _WEEKEND:
        return "每个周末"
    return "每周" + "、".join(_DAY_CHARS_ZH[d] for d in sorted(days.weekdays))


def _phrase(days: _Days, hour: int, minute: int) -> _Example:
    """A phrase `parse_when` accepts, in both languages, for corrected examples."""
    clock = f"{hour:02d}:{minute:02d}"
    if days.day_of_month is not None:
        if days.day_of_month == _LAST:
            return _Example(f"monthly last {clock}", f"每月最后一天 {clock}")
        return _Example(f"monthly {days.day_of_month} {clock}", f"每月{days.day_of_month}号 {clock}")
    if days.weekdays == _ALL_DAYS:
        return _Example(f"daily {clock}", f"每天 {clock}")
    if days.weekdays == _WORK_DAYS:
        return _Example(f"weekdays {clock}", f"工作日 {clock}")
    if days.weekdays == _WEEKEND:
        return _Example(f"weekends {clock}", f"周末 {clock}")
    ordered = sorted(days.weekdays)
    en = _format_weekdays(days.weekdays)
    zh = "、".join("周" + _DAY_CHARS_ZH[d] for d in ordered)
    return _Example(f"{en} {clock}", f"{zh} {clock}")


def _example_for(days: _Days | None, time: tuple[int, int] | None = None) -> _Example:
    """A corrected example keeping what was understood; the issue's own examples fill in the rest."""
    if days is None:
        days = _Days(weekdays=frozenset({4}))
    if time is None:
        if days.day_of_month is not None:
            time = (10, 0)
        elif days.weekdays == _ALL_DAYS:
            time = (18, 0)
        elif days.weekdays == _WORK_DAYS:
            time = (9, 30)
        else:
            time = (17, 0)
    return _phrase(days, *time)


# ---------------------------------------------------------------------------------------------------------------
# Time zones


@cache
def _zone_names() -> dict[str, str]:
    """Lower-cased IANA name → canonical spelling (read once from the time-zone database)."""
    return {name.lower(): name for name in available_timezones() if name not in ("Factory", "localtime")}


def _find_zone(name: str) -> str | None:
    """The canonical IANA name for `name` (any case), or None.

    Looked up among the names the time-zone database lists, never opened as a path: `ZoneInfo` turns a key
    into a file (or a tzdata resource) name, so `../x` escapes, a 6,000-character `A/a/a/…` raises
    RecursionError inside importlib, and a long one OSError.
    """
    if not name or len(name) > _MAX_ZONE_CHARS:
        return None
    return _zone_names().get(name.lower())


# `Area/City` (`America/Argentina/Buenos_Aires`, `Etc/GMT+8`). The look-behind excludes every character the path
# itself may contain, so a match is tried only at the start of a run and each run is scanned once: `a-a-a-…`
# or `mon-mon-…` no longer restarts after every `-` (which made a 32 KB phrase take seconds).
_ZONE_PATH = re.compile(r"(?<![A-Za-z0-9_+\-/*])([A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)+)(?![A-Za-z0-9_/])")
_ZONE_OFFSET = re.compile(r"(?<![A-Za-z])((?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?)(?!\d)", re.IGNORECASE)
_ZONE_WORDS_ZH = {"北京时间": "Asia/Shanghai", "东京时间": "Asia/Tokyo", "香港时间": "Asia/Hong_Kong"}
_OFFSET_ZONES = {
    0: "UTC", 60: "Europe/Berlin", 120: "Europe/Athens", 180: "Europe/Moscow", 240: "Asia/Dubai",
    300: "Asia/Karachi", 330: "Asia/Kolkata", 420: "Asia/Bangkok", 480: "Asia/Shanghai", 540: "Asia/Tokyo",
    600: "Australia/Sydney", -300: "America/New_York", -360: "America/Chicago", -420: "America/Denver",
    -480: "America/Los_Angeles",
}  # fmt: skip


def _suggest_zone(name: str) -> _Example:
    close = difflib.get_close_matches(name[:_MAX_ZONE_CHARS].lower(), list(_zone_names()), n=1, cutoff=0.75)
    suggestion = _zone_names()[close[0]] if close else "Asia/Shanghai"
    return _Example(suggestion, suggestion)


def _extract_zones(text: str) -> tuple[str, list[str]]:
    """Remove `Area/City` names and reject `UTC+8`-style offsets; returns the rest and the zones found."""
    offset = _ZONE_OFFSET.search(text)
    if offset:
        sign, hours, minutes = offset.group(2), int(offset.group(3)), int(offset.group(4) or 0)
        total = (hours * 60 + minutes) * (1 if sign == "+" else -1)
        suggestion = _OFFSET_ZONES.get(total, "Asia/Shanghai")
        raise WhenError("timezone_offset", fragments=(offset.group(1),), example=_Example(suggestion, suggestion))
    zones: list[str] = []

    def take(match: re.Match[str]) -> str:
        candidate = match.group(1)
        zone = _find_zone(candidate)
        if zone is not None:
            zones.append(zone)
            return " "
        if all(part.lower() in _EN_DAYS for part in candidate.split("/")):
            return candidate  # `mon/wed` is a list of days: leave it to the phrase reader
        raise WhenError("unknown_timezone", fragments=(candidate,), example=_suggest_zone(candidate))

    return _ZONE_PATH.sub(take, text), zones


# ---------------------------------------------------------------------------------------------------------------
# Cron


def _parse_cron(words: list[str], zone: str) -> Recurrence:
    expression = " ".join(words)
    if len(words) != 5:
        raise WhenError("cron_field_count", fragments=(expression,))
    minute, hour, day, month, weekdays = words
    fields: dict[str, str] = {}
    for name, value in (("minute", minute), ("hour", hour), ("day", day), ("month", month)):
        fields[name] = _normalise_cron_field(name, "*" if value == "?" else value)
    try:
        fields["day_of_week"] = _convert_cron_weekdays(weekdays)
    except ValueError:
        raise WhenError("bad_cron", fragments=(weekdays,), field="day_of_week") from None
    if fields["day"] != "*" and fields["day_of_week"] != "*":
        # Classic cron ORs the two; APScheduler ANDs them. Refuse rather than guess.
        raise WhenError("cron_day_and_weekday", fragments=(expression,))
    try:
        schedule = Recurrence(**fields, timezone=zone)  # validated with CronTrigger.from_crontab
    except ValueError:
        raise WhenError("cron_field_count", fragments=(expression,)) from None
    if not _fires_some_month(schedule.to_trigger()):
        raise WhenError("cron_never_fires", fragments=(expression,))
    return schedule


def _normalise_cron_field(name: str, value: str) -> str:
    """APScheduler's own spelling of one field, or WhenError naming the field."""
    try:
        trigger = CronTrigger(**{name: value}, timezone=UTC)
    except ValueError:
        raise WhenError("bad_cron", fragments=(value,), field=name) from None
    return next(str(f) for f in trigger.fields if f.name == name)


_CRON_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # classic cron: 0 (and 7) = Sunday
_CRON_WEEKDAY_ITEM = re.compile(r"(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/(\d+))?")


def _convert_cron_weekdays(expr: str) -> str:
    """A classic-cron day-of-week field → APScheduler's, written with day names.

    Classic cron counts 0 (or 7) = Sunday, 1 = Monday … 6 = Saturday. APScheduler 3.x's CronTrigger counts
    0 = Monday … 6 = Sunday, and `CronTrigger.from_crontab` passes the field through unconverted (a documented
    historical mistake, apscheduler#286), so `1-5` would mean Tuesday–Saturday there. We expand the classic
    field to a set of days and write it back with names (`mon-fri`), which no one can misnumber.
    """
    if expr in ("*", "?"):
        return "*"
    days: set[int] = set()
    for item in expr.split(","):
        match = _CRON_WEEKDAY_ITEM.fullmatch(item)
        if not match:
            raise ValueError(item)
        first, last, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(item)
        if first == "*":
            if last:
                raise ValueError(item)
            start, end = 0, 6
        else:
            start = _read_cron_weekday(first, is_end=False)
            end = _read_cron_weekday(last, is_end=True) if last else (6 if step_text else start)
            if end < start:
                raise ValueError(item)
        for classic in range(start, end + 1, step):
            days.add((classic % 7 - 1) % 7)  # classic 0 = Sunday → 6; classic 1 = Monday → 0
    return _format_weekdays(frozenset(days))


def _read_cron_weekday(text: str, *, is_end: bool) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _CRON_WEEKDAY_NAMES:
        index = _CRON_WEEKDAY_NAMES.index(text)
        return 7 if index == 0 and is_end else index  # `fri-sun` ends on Sunday = 7
    raise ValueError(text)


def _fires_some_month(trigger: CronTrigger) -> bool:
    """Whether some (month, day) pair exists, checked in a leap year so `29 2` counts (`31 2` does not)."""
    fields = {f.name: f for f in trigger.fields}
    for month in range(1, 13):
        first = datetime(2000, month, 1)
        if fields["month"].get_next_value(first) == month and fields["day"].get_next_value(first) is not None:
            return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# Phrases


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # days, daily, weekly, monthly, dom, time, num, period, zone
    text: str
    days: frozenset[int] = frozenset()
    number: int | None = None  # hour (time), value (num), day of month (dom), None if unreadable
    minute: int = 0
    suffix: str = ""  # am / pm / a Chinese period such as 下午
    zone: str = ""


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "[零〇一二两三四五六七八九十]+"
_AMPM = r"(?P<ampm>a\.?m\.?|p\.?m\.?)(?![a-z])"
_EN_DAYS = {
    "mon": 0, "monday": 0, "mondays": 0,
    "tue": 1, "tues": 1, "tuesday": 1, "tuesdays": 1,
    "wed": 2, "weds": 2, "wednesday": 2, "wednesdays": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "thursdays": 3,
    "fri": 4, "friday": 4, "fridays": 4,
    "sat": 5, "saturday": 5, "saturdays": 5,
    "sun": 6, "sunday": 6, "sundays": 6,
}  # fmt: skip
_EN_DAY = "(?:" + "|".join(sorted(_EN_DAYS, key=len, reverse=True)) + ")(?![a-z])"
_ZH_WEEK = "(?:周|週|星期|礼拜|禮拜)"
_ZH_DAY = "[一二三四五六日天]"
_ZH_DAY_VALUES = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("sep", r"(?:[\s,;/&()\[\]、]|and(?![a-z])|以及|和|及)+"),
        ("dom_last", r"last(?:\s+day)?(?![a-z])|最后一[天日]|最后1[天日]|最後一[天日]|月底|月末"),
        ("daily", r"daily(?![a-z])|every\s*day(?![a-z])|each\s+day(?![a-z])|每一?天|每日|天天"),
        ("weekdays", r"(?:weekdays?|workdays?|business\s+days?|working\s+days?)(?![a-z])|(?:每一?个?)?(?:工作日|平日)"),
        ("weekends", r"weekends?(?![a-z])|(?:每一?个?)?(?:周末|週末)"),
        (
            "zh_days",
            rf"(?:每一?个?)?{_ZH_WEEK}(?P<a>{_ZH_DAY}(?:[、,]?{_ZH_DAY})*|[1-7](?!\d))"
            rf"(?:\s*(?:至|到|-|~)\s*{_ZH_WEEK}?(?P<b>{_ZH_DAY}|[1-7](?!\d)))?",
        ),
        ("en_days", rf"(?P<a>{_EN_DAY})(?:\s*(?:-|~|to|through|thru)\s*(?P<b>{_EN_DAY}))?"),
        ("weekly", rf"weekly(?![a-z])|every\s+week(?![a-z])|每一?个?{_ZH_WEEK}"),
        ("monthly", r"monthly(?![a-z])|months?(?![a-z])|每一?个?月"),
        ("time_colon", rf"(?P<h>\d+)\s*[:.]\s*(?P<m>\d+)(?:\s*{_AMPM})?"),
        (
            "time_zh",
            rf"(?P<h>\d+|{_CN})\s*[点點时時](?:钟|鐘)?"
            rf"(?:(?P<half>半)|(?P<q1>一刻)|(?P<q3>三刻)|整|(?P<m>\d+|{_CN})分?)?",
        ),
        ("time_ampm", rf"(?P<h>\d+)\s*{_AMPM}"),
        ("time_h", r"(?P<h>\d+)h(?P<m>\d{2})?(?![a-z0-9])"),
        ("noon", r"noon(?![a-z])|midday(?![a-z])|正午"),
        ("midnight", r"midnight(?![a-z])|午夜"),
        ("dom", rf"(?P<n>\d+|{_CN})\s*[号號日]|(?P<o>\d+)(?:st|nd|rd|th)(?![a-z])"),
        ("period", r"上午|早上|早晨|清晨|中午|下午|傍晚|晚上|夜里|夜间|凌晨|早|晚"),
        ("num", r"\d+"),
        ("filler", r"(?:every|each|on|at|the|of|in|day|cron)(?![a-z])|的|在|于|每"),
        ("zone_zh", "|".join(_ZONE_WORDS_ZH)),
        ("word", r"[a-z][a-z0-9_+\-]*"),
        ("other", r"[^\s\d,;/&()、:.a-z]+|\S"),
    )
)


def _read_number(text: str) -> int | None:
    """`17` or Chinese numerals up to 99 (`十五`, `二十三`, `两`) → int; None for anything else, including digits
    other than 0-9 and more than nine of them (`int()` refuses 4,300 and more)."""
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 9 else None
    if "十" in text:
        tens_text, _, ones_text = text.partition("十")
        if len(tens_text) > 1 or len(ones_text) > 1:
            return None
        tens = _CN_DIGITS.get(tens_text) if tens_text else 1
        ones = _CN_DIGITS.get(ones_text) if ones_text else 0
        return None if tens is None or ones is None else tens * 10 + ones
    return _CN_DIGITS.get(text) if len(text) == 1 else None


def _day_range(first: int, last: int) -> set[int]:
    """Inclusive, wrapping past Sunday: fri-mon is fri, sat, sun, mon."""
    return {(first + i) % 7 for i in range((last - first) % 7 + 1)}


def _scan(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        kind, match = _match_at(text, position)
        position = match.end()
        token = _read_token(kind, match)
        if token is not None:
            tokens.append(token)
    return tokens


def _match_at(text: str, position: int) -> tuple[str, re.Match[str]]:
    for kind, pattern in _PATTERNS:
        match = pattern.match(text, position)
        if match:
            return kind, match
    raise AssertionError(text[position:])  # unreachable: `other` matches any character


def _read_token(kind: str, match: re.Match[str]) -> _Token | None:
    text = match.group(0).strip()
    groups = match.groupdict()
    if kind in ("sep", "filler"):
        return None
    if kind == "dom_last":
        return _Token("dom", text, number=_LAST)
    if kind == "daily":
        return _Token("daily", text, days=_ALL_DAYS)
    if kind == "weekdays":
        return _Token("days", text, days=_WORK_DAYS)
    if kind == "weekends":
        return _Token("days", text, days=_WEEKEND)
    if kind in ("zh_days", "en_days"):
        return _Token("days", text, days=_read_days(kind, groups["a"], groups["b"]))
    if kind in ("weekly", "monthly", "period"):
        return _Token(kind, text)
    if kind.startswith("time_"):
        return _read_time(kind, text, groups)
    if kind == "noon":
        return _Token("time", text, number=12)
    if kind == "midnight":
        return _Token("time", text, number=0)
    if kind == "dom":
        return _Token("dom", text, number=_read_number(groups["n"] or groups["o"]))
    if kind == "num":
        return _Token("num", text, number=_read_number(text))
    if kind == "zone_zh":
        return _Token("zone", text, zone=_ZONE_WORDS_ZH[text])
    if kind == "word":
        zone = _zone_names().get(text)  # single-word zones: UTC, GMT, Japan…
        if zone is not None:
            return _Token("zone", text, zone=zone)
    raise WhenError("unknown", fragments=(text,))


def _read_days(kind: str, first: str, last: str | None) -> frozenset[int]:
    if kind == "en_days":
        values = [_EN_DAYS[first]]
        end = _EN_DAYS[last] if last else None
    else:
        values = [_read_zh_day(c) for c in first if c not in "、,"]
        end = _read_zh_day(last) if last else None
    days = set(values)
    if end is not None:
        days |= _day_range(values[-1], end)
    return frozenset(days)


def _read_zh_day(char: str) -> int:
    return int(char) - 1 if char.isdigit() else _ZH_DAY_VALUES[char]


def _read_time(kind: str, text: str, groups: dict[str, str | None]) -> _Token:
    hour = _read_number(groups["h"] or "")
    minute_text = groups.get("m")
    if groups.get("half"):
        minute: int | None = 30
    elif groups.get("q1"):
        minute = 15
    elif groups.get("q3"):
        minute = 45
    elif minute_text is None:
        minute = 0
    elif kind == "time_colon" and len(minute_text) != 2:
        minute = None  # `9:5` is not a time people mean
    else:
        minute = _read_number(minute_text)
    ampm = (groups.get("ampm") or "").replace(".", "")
    if minute is None:
        hour = None
    return _Token("time", text, number=hour, minute=minute or 0, suffix=ampm)


_MORNING = frozenset({"上午", "早上", "早晨", "清晨", "早"})
_EVENING = frozenset({"下午", "傍晚", "晚上", "夜里", "夜间", "晚"})


def _resolve_hour(hour: int, suffix: str) -> int | None:
    """Apply `am`/`pm` or a Chinese period (下午5点 → 17) to an hour; None when they contradict."""
    if suffix == "am":
        return (0 if hour == 12 else hour) if 1 <= hour <= 12 else None
    if suffix == "pm":
        return (12 if hour == 12 else hour + 12) if 1 <= hour <= 12 else None
    if suffix in _MORNING:
        return hour if hour <= 12 else None
    if suffix == "凌晨":
        return 0 if hour == 12 else hour if hour < 12 else None
    if suffix == "中午":
        return hour + 12 if 1 <= hour <= 3 else hour if 11 <= hour <= 13 else None
    if suffix in _EVENING:
        if 1 <= hour <= 11:
            return hour + 12
        if hour == 12:
            return 12 if suffix == "下午" else None  # 晚上12点: midnight of which day? ask for 00:00 instead
        return hour if 12 < hour <= 23 else None
    return hour


def _resolve_time(token: _Token) -> tuple[int, int] | None:
    if token.number is None or not 0 <= token.minute <= 59:
        return None
    hour = _resolve_hour(token.number, token.suffix)
    return (hour, token.minute) if hour is not None and 0 <= hour <= 23 else None


def _merge_periods(tokens: list[_Token], phrase: str) -> list[_Token]:
    """下午 + 5点 → one time token carrying the period."""
    merged: list[_Token] = []
    pending: _Token | None = None
    for token in tokens:
        if pending is not None:
            if token.kind not in ("time", "num"):
                raise WhenError("missing_time", fragments=(pending.text,))
            token = _Token(
                "time",
                pending.text + token.text,
                number=token.number,
                minute=token.minute,
                suffix=token.suffix or pending.text,
            )
            pending = None
        if token.kind == "period":
            pending = token
        else:
            merged.append(token)
    if pending is not None:
        raise WhenError("missing_time", fragments=(phrase,))
    return merged


def _parse_phrase(text: str, zones: list[str]) -> tuple[_Days, int, int]:
    tokens = _merge_periods(_scan(text), text)
    zones.extend(t.zone for t in tokens if t.kind == "zone")

    day_tokens: list[_Token] = []
    dom_tokens: list[_Token] = []
    time_tokens: list[_Token] = []
    markers: dict[str, _Token] = {}
    for token in tokens:
        if token.kind == "num":
            if "monthly" in markers and not dom_tokens:
                token = _Token("dom", token.text, number=token.number)
            else:
                token = _Token("time", token.text, number=token.number)
        if token.kind == "days":
            day_tokens.append(token)
        elif token.kind == "dom":
            dom_tokens.append(token)
        elif token.kind == "time":
            time_tokens.append(token)
        elif token.kind in ("daily", "weekly", "monthly"):
            markers.setdefault(token.kind, token)

    # Which form is it? daily, weekly (days or `weekly`) or monthly (`monthly` or a day of the month): only one.
    forms: dict[str, _Token] = {}
    if "daily" in markers:
        forms["daily"] = markers["daily"]
    if day_tokens or "weekly" in markers:
        forms["weekly"] = day_tokens[0] if day_tokens else markers["weekly"]
    if dom_tokens or "monthly" in markers:
        forms["monthly"] = markers.get("monthly") or dom_tokens[0]
    if len(forms) > 1:
        first, second = sorted(forms.values(), key=tokens.index)[:2]
        raise WhenError("conflict", fragments=(first.text, second.text), example=_example_for(None))

    days: _Days | None = None
    if "daily" in forms:
        days = _Days(weekdays=_ALL_DAYS)
    elif "weekly" in forms:
        if not day_tokens:
            raise WhenError("missing_weekday", example=_example_for(None))
        days = _Days(weekdays=frozenset().union(*(t.days for t in day_tokens)))
    elif "monthly" in forms:
        fallback = _Days(day_of_month=1)
        if "monthly" not in markers:
            dom = dom_tokens[0].number
            known = _Days(day_of_month=dom) if dom is not None and (dom == _LAST or 1 <= dom <= 31) else fallback
            raise WhenError("needs_monthly", fragments=(dom_tokens[0].text,), example=_example_for(known))
        if not dom_tokens:
            raise WhenError("missing_day_of_month", example=_example_for(fallback))
        if len(dom_tokens) > 1:
            raise WhenError(
                "two_days_of_month", fragments=tuple(t.text for t in dom_tokens), example=_example_for(fallback)
            )
        dom = dom_tokens[0].number
        if dom is None or not (dom == _LAST or 1 <= dom <= 31):
            raise WhenError("bad_day_of_month", fragments=(dom_tokens[0].text,), example=_example_for(fallback))
        days = _Days(day_of_month=dom)

    if not time_tokens:
        raise WhenError("missing_time", fragments=(text,), example=_example_for(days))
    if len(time_tokens) > 1:
        raise WhenError("two_times", fragments=tuple(t.text for t in time_tokens), example=_example_for(days))
    time = _resolve_time(time_tokens[0])
    if time is None:
        raw = time_tokens[0].number
        keep_hour = raw is not None and 0 <= raw <= 23 and not time_tokens[0].suffix
        suggestion = (raw, 0) if keep_hour and raw is not None else None
        raise WhenError("bad_time", fragments=(time_tokens[0].text,), example=_example_for(days, suggestion))
    if days is None:
        raise WhenError("missing_day", fragments=(text,), example=_example_for(_Days(weekdays=_ALL_DAYS), time))
    return days, *time


# ---------------------------------------------------------------------------------------------------------------
# Entry point

_TRANSLATE = str.maketrans({c: " " for c in "`\"'“”‘’「」『』《》<>"} | {c: "-" for c in "–—−‐"} | {"〜": "~"})
_CRON_WORD = re.compile(r"[0-9a-z*/,\-?]+")
_CRON_NUMERIC = re.compile(r"[0-9*/,\-]+")


def _normalise(text: str) -> str:
    """NFKC (full-width digits and colons), quotes dropped, dashes unified, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).split())


def _is_cron(words: list[str]) -> bool:
    if any("*" in w for w in words):
        return True
    return (
        len(words) == 5
        and all(_CRON_WORD.fullmatch(w) for w in words)
        and all(_CRON_NUMERIC.fullmatch(w) for w in words[:2])
    )


_EVERY_OTHER_WEEK = re.compile(
    r"^(?:every\s+other\s+(?:week\s+(?:on\s+)?)?|every\s+(?:2|two)\s+weeks\s+(?:on\s+)?|bi-?weekly\s+(?:on\s+)?|"
    r"fortnightly\s+(?:on\s+)?|双周|隔周|每隔一周|每两周|每2周)", re.IGNORECASE)


def parse_when(text: str, *, default_tz: str, default: str | None = None, now: datetime | None = None) -> Recurrence:
    """Read a schedule phrase (see module doc) in `default_tz` unless it names a zone.

    An empty phrase reads `default` instead (e.g. `mon 09:00` for `digest on`), or raises WhenError("empty").
    Every other week (`双周五 17:00`, `every other fri 17:00`, `biweekly mon 9:00`) fires on one or more weekdays in
    alternate ISO weeks, starting with the first such day after `now` (default: odd weeks).
    """
    biweekly = _EVERY_OTHER_WEEK.match(_normalise(text)[:MAX_PHRASE_CHARS])
    if biweekly:
        rest = _normalise(text)[biweekly.end():]
        if rest[:1] in tuple("一二三四五六日天"):  # 双周五 = every other 周五
            rest = "周" + rest
        try:
            weekly = parse_when(rest, default_tz=default_tz)
        except WhenError as exc:
            if exc.kind in ("missing_day", "missing_weekday", "empty"):
                raise WhenError("biweekly_needs_weekdays", fragments=(_shorten(text),)) from None
            raise
        shape = _read_shape(weekly)
        if shape is None or shape[0].day_of_month is not None or shape[0].weekdays == _ALL_DAYS:
            raise WhenError("biweekly_needs_weekdays", fragments=(_shorten(text),))
        first = weekly.next_runs(now, 1)[0] if now is not None else None
        parity = 2 - first.isocalendar().week % 2 if first is not None else 1
        return replace(weekly, week=f"{parity}-53/2")
    zone = _find_zone(default_tz)
    if zone is None:
        raise WhenError("unknown_timezone", fragments=(default_tz,), example=_suggest_zone(default_tz))
    if len(text) > MAX_PHRASE_CHARS:
        raise WhenError("too_long", fragments=(str(len(text)),))
    cleaned = _normalise(text)
    if len(cleaned) > MAX_PHRASE_CHARS:  # NFKC can lengthen a few characters (`㍻` → `平成`)
        raise WhenError("too_long", fragments=(str(len(cleaned)),))
    if not cleaned:
        if default is None or not _normalise(default):
            raise WhenError("empty")
        return parse_when(default, default_tz=default_tz)

    rest, zones = _extract_zones(cleaned)
    words = rest.lower().split()
    cron_requested = bool(words) and words[0] == "cron"
    if cron_requested:
        words = words[1:]
    if cron_requested or _is_cron(words):
        kept: list[str] = []
        for word in words:
            found = _zone_names().get(word) if word.isalpha() and word not in _CRON_WEEKDAY_NAMES else None
            if found is not None:
                zones.append(found)
            else:
                kept.append(word)
        zone = _check_zones(zones, zone)
        return _parse_cron(kept, zone)

    days, hour, minute = _parse_phrase(" ".join(words), zones)
    zone = _check_zones(zones, zone)
    return Recurrence(
        minute=str(minute),
        hour=str(hour),
        day="*" if days.day_of_month is None else "last" if days.day_of_month == _LAST else str(days.day_of_month),
        month="*",
        day_of_week="*" if days.day_of_month is not None else _format_weekdays(days.weekdays),
        timezone=zone,
    )


def _check_zones(zones: list[str], default: str) -> str:
    distinct = list(dict.fromkeys(zones))
    if len(distinct) > 1:
        raise WhenError("two_timezones", fragments=tuple(distinct))
    return distinct[0] if distinct else default
