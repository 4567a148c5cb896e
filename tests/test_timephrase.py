"""Schedule phrases: every accepted form (zh and en), describe(), storage round trip, next runs, bad phrases."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.timephrase import Recurrence, WhenError, parse_when

TZ = "Asia/Shanghai"
SHANGHAI = ZoneInfo(TZ)
# 2026-11-25 is a Wednesday; the suite's clock is pinned there too.
AFTER = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)

# phrase → normalised cron source (minute hour day month day_of_week, APScheduler dialect), in Asia/Shanghai
ACCEPTED = [
    # the issue's own examples
    ("fri 17:00", "0 17 * * fri"),
    ("周五 17:00", "0 17 * * fri"),
    ("weekdays 9:30", "30 9 * * mon-fri"),
    ("每天 18:00", "0 18 * * *"),
    ("monthly 1 10:00", "0 10 1 * *"),
    ("30 9 * * 1-5", "30 9 * * mon-fri"),
    ("mon 09:00", "0 9 * * mon"),
    # English weekdays
    ("Friday 17:00", "0 17 * * fri"),
    ("every friday at 5pm", "0 17 * * fri"),
    ("tue 8:00", "0 8 * * tue"),
    ("tues 8:00", "0 8 * * tue"),
    ("thu 8:00", "0 8 * * thu"),
    ("thur 8:00", "0 8 * * thu"),
    ("thurs 8:00", "0 8 * * thu"),
    ("sunday 20:00", "0 20 * * sun"),
    ("mon,wed,fri 9:00", "0 9 * * mon,wed,fri"),
    ("mon wed 9:00", "0 9 * * mon,wed"),
    ("mon/wed 9:00", "0 9 * * mon,wed"),
    ("mon and thu 9:00", "0 9 * * mon,thu"),
    ("mon-fri 9:00", "0 9 * * mon-fri"),
    ("monday to wednesday 9:00", "0 9 * * mon-wed"),
    ("fri-mon 8:00", "0 8 * * mon,fri-sun"),
    ("MON 9:00", "0 9 * * mon"),
    # Chinese weekdays
    ("周一 9:00", "0 9 * * mon"),
    ("周日 9:00", "0 9 * * sun"),
    ("周天 9:00", "0 9 * * sun"),
    ("星期三 9:00", "0 9 * * wed"),
    ("星期天 9:00", "0 9 * * sun"),
    ("星期日 9:00", "0 9 * * sun"),
    ("礼拜二 9:00", "0 9 * * tue"),
    ("每周五 17:00", "0 17 * * fri"),
    ("周5 17:00", "0 17 * * fri"),
    ("周一三五 9:00", "0 9 * * mon,wed,fri"),
    ("周一、周三 9:00", "0 9 * * mon,wed"),
    ("周一、三、五 9:00", "0 9 * * mon,wed,fri"),
    ("周一至周五 9:00", "0 9 * * mon-fri"),
    ("周一到五 9:00", "0 9 * * mon-fri"),
    ("周五17:00", "0 17 * * fri"),
    # weekdays / weekends / daily
    ("every weekday 9:30", "30 9 * * mon-fri"),
    ("工作日 9:30", "30 9 * * mon-fri"),
    ("每个工作日 9:30", "30 9 * * mon-fri"),
    ("weekends 10:00", "0 10 * * sat,sun"),
    ("周末 10:00", "0 10 * * sat,sun"),
    ("daily 18:00", "0 18 * * *"),
    ("every day 18:00", "0 18 * * *"),
    ("每日 18:00", "0 18 * * *"),
    # monthly
    ("monthly last 10:00", "0 10 last * *"),
    ("monthly on the 15th at 10:00", "0 10 15 * *"),
    ("every month on day 31 at 10:00", "0 10 31 * *"),
    ("每月 1 10:00", "0 10 1 * *"),
    ("每月1号 10:00", "0 10 1 * *"),
    ("每月1号10:00", "0 10 1 * *"),
    ("每月15日 10:00", "0 10 15 * *"),
    ("每个月十五号 十点", "0 10 15 * *"),
    ("每月最后一天 18:00", "0 18 last * *"),
    # times of day
    ("fri 9", "0 9 * * fri"),
    ("fri 17", "0 17 * * fri"),
    ("fri 9:05", "5 9 * * fri"),
    ("fri 9.30", "30 9 * * fri"),
    ("fri 9：30", "30 9 * * fri"),
    ("周五 １７：００", "0 17 * * fri"),
    ("fri 5:30pm", "30 17 * * fri"),
    ("fri 12am", "0 0 * * fri"),
    ("fri 12 pm", "0 12 * * fri"),
    ("fri 17h", "0 17 * * fri"),
    ("fri 17h30", "30 17 * * fri"),
    ("fri noon", "0 12 * * fri"),
    ("周五 9点", "0 9 * * fri"),
    ("周五 9点30", "30 9 * * fri"),
    ("周五 9点30分", "30 9 * * fri"),
    ("周五 9点半", "30 9 * * fri"),
    ("周五 十点一刻", "15 10 * * fri"),
    ("周五 两点", "0 2 * * fri"),
    ("周五下午5点", "0 17 * * fri"),
    ("每天晚上6点", "0 18 * * *"),
    ("每天 早上8点", "0 8 * * *"),
    ("每天中午12点", "0 12 * * *"),
    ("每天 下午5:30", "30 17 * * *"),
    ("17:00 fri", "0 17 * * fri"),
    # spacing, quotes copied from a help card
    ("  fri    17:00  ", "0 17 * * fri"),
    ("`fri 17:00`", "0 17 * * fri"),
    ("「周五 17:00」", "0 17 * * fri"),
    # cron: classic weekday numbers (0 and 7 = Sunday) become names
    ("0 9 * * 0", "0 9 * * sun"),
    ("0 9 * * 7", "0 9 * * sun"),
    ("0 9 * * 1", "0 9 * * mon"),
    ("0 9 * * 6", "0 9 * * sat"),
    ("0 9 * * 5-7", "0 9 * * fri-sun"),
    ("0 9 * * 0,6", "0 9 * * sat,sun"),
    ("0 9 * * */2", "0 9 * * tue,thu,sat,sun"),
    ("0 9 * * mon-fri", "0 9 * * mon-fri"),
    ("0 9 * * sat-sun", "0 9 * * sat,sun"),
    ("*/15 9-17 * * 1-5", "*/15 9-17 * * mon-fri"),
    ("0 0 1 * *", "0 0 1 * *"),
    ("0 8 29 2 *", "0 8 29 2 *"),
    ("cron 30 9 * * 1-5", "30 9 * * mon-fri"),
]


@pytest.mark.parametrize(("phrase", "source"), ACCEPTED)
def test_accepted_phrases(phrase: str, source: str) -> None:
    schedule = parse_when(phrase, default_tz=TZ)
    assert schedule.source == source
    assert schedule.timezone == TZ
    assert isinstance(schedule.to_trigger(), CronTrigger)


@pytest.mark.parametrize(("phrase", "source"), ACCEPTED)
def test_spec_round_trip(phrase: str, source: str) -> None:
    schedule = parse_when(phrase, default_tz=TZ)
    spec = schedule.to_spec()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in spec.items())
    assert Recurrence.from_spec(spec) == schedule


@pytest.mark.parametrize(
    ("phrase", "timezone"),
    [
        ("fri 17:00 Asia/Tokyo", "Asia/Tokyo"),
        ("Asia/Tokyo fri 17:00", "Asia/Tokyo"),
        ("fri asia/tokyo 17:00", "Asia/Tokyo"),
        ("fri 17:00 UTC", "UTC"),
        ("fri 17:00 utc", "UTC"),
        ("周五 17:00 America/New_York", "America/New_York"),
        ("周五 17:00 北京时间", "Asia/Shanghai"),
        ("30 9 * * 1-5 Europe/London", "Europe/London"),
        ("30 9 * * 1-5 UTC", "UTC"),
        ("fri 17:00", TZ),
    ],
)
def test_time_zone_named_in_the_phrase_wins(phrase: str, timezone: str) -> None:
    assert parse_when(phrase, default_tz=TZ).timezone == timezone


def test_time_zone_default_comes_from_the_caller() -> None:
    assert parse_when("fri 17:00", default_tz="Europe/Berlin").timezone == "Europe/Berlin"


def test_empty_phrase_uses_the_callers_default() -> None:
    assert parse_when("", default_tz=TZ, default="mon 09:00").source == "0 9 * * mon"
    assert parse_when("   ", default_tz=TZ, default="mon 09:00").source == "0 9 * * mon"
    with pytest.raises(WhenError) as caught:
        parse_when("", default_tz=TZ)
    assert caught.value.kind == "empty"


@pytest.mark.parametrize(
    ("phrase", "zh", "en"),
    [
        ("fri 17:00", "每周五 17:00 (Asia/Shanghai)", "Fridays at 17:00 (Asia/Shanghai)"),
        ("weekdays 9:30", "每个工作日 09:30 (Asia/Shanghai)", "Weekdays at 09:30 (Asia/Shanghai)"),
        ("monthly 1 10:00", "每月 1 日 10:00 (Asia/Shanghai)", "Monthly on day 1 at 10:00 (Asia/Shanghai)"),
        ("每天 18:00", "每天 18:00 (Asia/Shanghai)", "Daily at 18:00 (Asia/Shanghai)"),
        ("周末 10:00", "每个周末 10:00 (Asia/Shanghai)", "Weekends at 10:00 (Asia/Shanghai)"),
        (
            "周一三五 9点",
            "每周一、三、五 09:00 (Asia/Shanghai)",
            "Mondays, Wednesdays and Fridays at 09:00 (Asia/Shanghai)",
        ),
        (
            "每月最后一天 18:00",
            "每月最后一天 18:00 (Asia/Shanghai)",
            "Monthly on the last day at 18:00 (Asia/Shanghai)",
        ),
        ("30 9 * * 1-5", "每个工作日 09:30 (Asia/Shanghai)", "Weekdays at 09:30 (Asia/Shanghai)"),
        (
            "*/15 9-17 * * 1-5",
            "cron `*/15 9-17 * * mon-fri` (Asia/Shanghai)",
            "cron `*/15 9-17 * * mon-fri` (Asia/Shanghai)",
        ),
    ],
)
def test_describe_in_both_languages(phrase: str, zh: str, en: str) -> None:
    schedule = parse_when(phrase, default_tz=TZ)
    assert schedule.describe("zh_cn") == zh
    assert schedule.describe("en_us") == en


def test_describe_leaves_out_the_default_time_zone() -> None:
    assert parse_when("weekdays 9:30", default_tz=TZ).describe("zh_cn", default_tz=TZ) == "每个工作日 09:30"
    tokyo = parse_when("fri 17:00 Asia/Tokyo", default_tz=TZ)
    assert tokyo.describe("en_us", default_tz=TZ) == "Fridays at 17:00 (Asia/Tokyo)"


@pytest.mark.parametrize(
    "phrase", ["fri 17:00", "周一三五 9点半", "monthly 1 10:00", "每月最后一天 18:00", "周末 10:00"]
)
@pytest.mark.parametrize("locale", ["zh_cn", "en_us"])
def test_describe_reads_back_as_the_same_schedule(phrase: str, locale: str) -> None:
    schedule = parse_when(phrase, default_tz=TZ)
    assert parse_when(schedule.describe(locale), default_tz="UTC") == schedule


def _at(*fields: int, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(*fields, tzinfo=tz)


@pytest.mark.parametrize(
    ("phrase", "runs"),
    [
        ("fri 17:00", [_at(2026, 11, 27, 17), _at(2026, 12, 4, 17), _at(2026, 12, 11, 17)]),
        ("周五 17:00", [_at(2026, 11, 27, 17), _at(2026, 12, 4, 17), _at(2026, 12, 11, 17)]),
        ("weekdays 9:30", [_at(2026, 11, 26, 9, 30), _at(2026, 11, 27, 9, 30), _at(2026, 11, 30, 9, 30)]),
        # classic cron 1-5 is Monday–Friday (not APScheduler's Tuesday–Saturday)
        ("30 9 * * 1-5", [_at(2026, 11, 26, 9, 30), _at(2026, 11, 27, 9, 30), _at(2026, 11, 30, 9, 30)]),
        ("0 9 * * 0", [_at(2026, 11, 29, 9), _at(2026, 12, 6, 9), _at(2026, 12, 13, 9)]),
        ("每天 18:00", [_at(2026, 11, 25, 18), _at(2026, 11, 26, 18), _at(2026, 11, 27, 18)]),
        ("monthly 1 10:00", [_at(2026, 12, 1, 10), _at(2027, 1, 1, 10), _at(2027, 2, 1, 10)]),
        ("monthly last 10:00", [_at(2026, 11, 30, 10), _at(2026, 12, 31, 10), _at(2027, 1, 31, 10)]),
        ("每天 10:00", [_at(2026, 11, 26, 10), _at(2026, 11, 27, 10), _at(2026, 11, 28, 10)]),  # strictly after
    ],
)
def test_next_runs_from_a_fixed_moment(phrase: str, runs: list[datetime]) -> None:
    assert parse_when(phrase, default_tz=TZ).next_runs(AFTER, 3) == runs


def test_next_runs_in_the_named_time_zone() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    runs = parse_when("fri 17:00 Asia/Tokyo", default_tz=TZ).next_runs(AFTER, 2)
    assert runs == [_at(2026, 11, 27, 17, tz=tokyo), _at(2026, 12, 4, 17, tz=tokyo)]
    assert runs[0].utcoffset().total_seconds() == 9 * 3600


def test_next_runs_edges() -> None:
    schedule = parse_when("fri 17:00", default_tz=TZ)
    assert schedule.next_runs(AFTER, 0) == []
    assert schedule.next_runs(datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("UTC")), 1) == [_at(2026, 12, 4, 17)]
    with pytest.raises(ValueError):
        schedule.next_runs(datetime(2026, 11, 25, 10, 0), 1)


# phrase, kind, words the English message must contain, words the Chinese message must contain
REJECTED = [
    (
        "fri 25:00",
        "bad_time",
        ["25:00 is not a time of day", "“fri 17:00”"],
        ["「25:00」不是有效的时间", "「周五 17:00」"],
    ),
    ("周五 25:00", "bad_time", ["25:00", "“fri 17:00”"], ["「25:00」", "「周五 17:00」"]),
    ("weekdays 9:75", "bad_time", ["9:75", "“weekdays 09:00”"], ["「9:75」", "「工作日 09:00」"]),
    ("fri 9:5", "bad_time", ["9:5"], ["「9:5」"]),
    ("fri 13pm", "bad_time", ["13pm"], ["「13pm」"]),
    ("周五 晚上12点", "bad_time", ["晚上12点"], ["「晚上12点」"]),
    ("someday 9:00", "unknown", ["someday", "“weekdays 9:30”", "“monthly 1 10:00”"], ["「someday」", "工作日 9:30"]),
    ("下周五 9:00", "unknown", ["下周五"], ["看不懂「下周五」"]),
    ("周八 9:00", "unknown", ["周八"], ["「周八」"]),
    ("fri", "missing_time", ["“fri” needs a time of day", "“fri 17:00”"], ["「fri」缺少时间", "「周五 17:00」"]),
    ("每天", "missing_time", ["“daily 18:00”"], ["「每天 18:00」"]),
    ("9:00", "missing_day", ["needs a day", "“daily 09:00”"], ["缺少日期", "「每天 09:00」"]),
    ("fri 9:00 17:00", "two_times", ["9:00, 17:00"], ["9:00、17:00"]),
    ("weekly 9:00", "missing_weekday", ["day of the week", "“fri 17:00”"], ["每周哪一天", "「周五 17:00」"]),
    ("monthly 10:00", "missing_day_of_month", ["day of the month", "“monthly 1 10:00”"], ["每月哪一天"]),
    ("每月32号 10:00", "bad_day_of_month", ["32号", "1–31"], ["「32号」不是有效的日期", "「每月1号 10:00」"]),
    ("monthly 0 10:00", "bad_day_of_month", ["0 is not a day of the month"], ["「0」"]),
    ("1号 10:00", "needs_monthly", ["“monthly 1 10:00”"], ["「每月1号 10:00」"]),
    ("daily fri 9:00", "conflict", ["“daily” and “fri”"], ["「daily」和「fri」"]),
    ("每月1号 周五 9:00", "conflict", ["每月", "周五"], ["「每月」和「周五」"]),
    ("fri 17:00 Asia/Tokio", "unknown_timezone", ["Asia/Tokio", "“Asia/Tokyo”"], ["不认识时区「Asia/Tokio」"]),
    ("fri 17:00 Mars/Base", "unknown_timezone", ["Mars/Base", "“Asia/Shanghai”"], ["「Mars/Base」"]),
    ("fri 17:00 UTC+8", "timezone_offset", ["UTC+8 is an offset", "“Asia/Shanghai”"], ["「UTC+8」是时差"]),
    ("fri 17:00 Asia/Tokyo UTC", "two_timezones", ["Asia/Tokyo, UTC"], ["Asia/Tokyo、UTC"]),
    ("0 25 * * *", "bad_cron", ["cron hour “25”"], ["cron 的小时字段「25」无效"]),
    ("61 9 * * *", "bad_cron", ["cron minute “61”"], ["分钟字段「61」"]),
    ("0 9 32 * *", "bad_cron", ["day of month “32”"], ["日期字段「32」"]),
    ("0 9 * 13 *", "bad_cron", ["cron month “13”"], ["月份字段「13」"]),
    ("0 9 * * 8", "bad_cron", ["day of week “8”"], ["星期字段「8」"]),
    ("0 9 * * 5-1", "bad_cron", ["day of week “5-1”"], ["星期字段「5-1」"]),
    ("30 9 * *", "cron_field_count", ["5 fields"], ["5 个字段"]),
    ("0 0 30 2 *", "cron_never_fires", ["never fires"], ["永远不会触发"]),
    ("30 9 1 * 1", "cron_day_and_weekday", ["both a day of month and a weekday"], ["同时限定了日期和星期"]),
    ("fri 17:00 " + "mon-" * 60, "too_long", ["too long (250 characters, at most 200)", "“fri 17:00”"],
     ["太长了（250 个字符，最多 200 个）", "「周五 17:00」"]),
    ("fri 17:00 A/" + "a/" * 80 + "a", "unknown_timezone", ["Unknown time zone “A/a/a/"], ["不认识时区「A/a/a/"]),
]


@pytest.mark.parametrize(("phrase", "kind", "en_words", "zh_words"), REJECTED)
def test_rejected_phrases_say_what_is_wrong(phrase: str, kind: str, en_words: list[str], zh_words: list[str]) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(phrase, default_tz=TZ)
    error = caught.value
    assert error.kind == kind
    en, zh = error.message("en_us"), error.message("zh_cn")
    for words in en_words:
        assert words in en
    for words in zh_words:
        assert words in zh
    assert en != zh and str(error) == en
    assert len(en) <= 160 and len(zh) <= 120  # they go into a chat card


def test_exact_messages_from_the_issue() -> None:
    with pytest.raises(WhenError) as caught:
        parse_when("fri 25:00", default_tz=TZ)
    assert caught.value.message("en_us") == "25:00 is not a time of day — try “fri 17:00”"
    assert caught.value.message("zh_cn") == "「25:00」不是有效的时间，试试「周五 17:00」"


def test_when_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_when("someday", default_tz=TZ)


def test_unknown_default_time_zone_is_refused() -> None:
    with pytest.raises(WhenError) as caught:
        parse_when("fri 17:00", default_tz="Mars/Olympus")
    assert caught.value.kind == "unknown_timezone"


@pytest.mark.parametrize(
    "spec",
    [
        {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri"},  # no timezone
        {"minute": "0", "hour": "25", "day": "*", "month": "*", "day_of_week": "fri", "timezone": TZ},
        {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri", "timezone": "Nowhere/City"},
        {"minute": "0", "hour": "1 7", "day": "*", "month": "*", "day_of_week": "fri", "timezone": TZ},
    ],
)
def test_from_spec_refuses_broken_rows(spec: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Recurrence.from_spec(spec)


# -- every other week ---------------------------------------------------------------------------------------

WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # ISO week 48


@pytest.mark.parametrize("phrase", ["双周五 17:00", "隔周五 17:00", "每两周周五 17:00", "every other fri 17:00",
                                    "Every other Friday 5pm", "biweekly fri 17:00", "every 2 weeks on fri 17:00",
                                    "fortnightly fri 17:00"])
def test_every_other_week_starts_with_the_next_such_day_and_skips_a_week(phrase: str) -> None:
    schedule = parse_when(phrase, default_tz="Asia/Shanghai", now=WEDNESDAY)
    runs = schedule.next_runs(WEDNESDAY, 3)
    assert [r.strftime("%Y-%m-%d %H:%M") for r in runs] == ["2026-11-27 17:00", "2026-12-11 17:00", "2026-12-25 17:00"]
    assert schedule.describe("zh_cn", default_tz="Asia/Shanghai") == "每两周周五 17:00"
    assert schedule.describe("en_us", default_tz="Asia/Shanghai") == "Every other Friday at 17:00"
    assert Recurrence.from_spec(schedule.to_spec()) == schedule


def test_every_other_week_after_this_weeks_day_has_passed_starts_next_week() -> None:
    schedule = parse_when("双周一 9:00", default_tz="Asia/Shanghai", now=WEDNESDAY)  # Monday of week 48 is past
    assert [r.strftime("%m-%d") for r in schedule.next_runs(WEDNESDAY, 2)] == ["11-30", "12-14"]


def test_a_weekly_spec_stored_before_every_other_week_reads_as_weekly() -> None:
    old = {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri", "timezone": "Asia/Shanghai"}
    schedule = Recurrence.from_spec(old)
    assert not schedule.every_other_week and schedule.to_spec() == old
    assert len({r.isocalendar().week for r in schedule.next_runs(WEDNESDAY, 2)}) == 2  # two weeks in a row


@pytest.mark.parametrize("phrase", ["双周 每天 9:00", "every other week 17:00", "双周 每月1号 10:00"])
def test_every_other_week_needs_weekdays(phrase: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(phrase, default_tz="Asia/Shanghai", now=WEDNESDAY)
    assert caught.value.kind == "biweekly_needs_weekdays"
    assert "双周五 17:00" in caught.value.message("zh_cn")
