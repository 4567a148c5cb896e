"""One message must not stall the bot: every parser of user text reads a capped input, matches in linear time,
and answers a correction (its own error type), never an internal error.

The bound on work is checked, not timed: the command parser's answer for a 100 KB message is its answer for the
first MAX_COMMAND_CHARS characters, a schedule phrase over MAX_PHRASE_CHARS is refused before it is read, and the
parsers behind the router only ever see what the router kept. Speed itself is measured in
benchmarks/parse_worst_case.py, not here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.commands import ALL
from bot.commands.attendance import parse_args
from bot.commands.base import Context
from bot.commands.okr import choose_period
from bot.commands.remind import StaleDaysError, _pick, _stale_days
from bot.models import Chat, Mention, OkrPeriod
from bot.router import MAX_COMMAND_CHARS, MAX_FREE_TEXT, TOO_LONG, parse_command
from bot.store import KIND_OKR_REMINDER, Store
from bot.timephrase import _ZONE_PATH, MAX_PHRASE_CHARS, Recurrence, WhenError, parse_when
from tests.conftest import NOW, card_title

TZ = "Asia/Shanghai"
ALIASES = {a.casefold(): c.name for c in ALL for a in (c.name, *c.aliases)}
BOT = Mention("@_user_1", "ou_bot", "OKR 助手")
ZHANG = Mention("@_user_2", "ou_zhang", "张伟")

# The shapes that made regexes backtrack or rescan, and the ones that broke int() and ZoneInfo.
UNITS = ("-", "+", "/", "9", "mon-", "a-", "a/", "A/a/", "Asia/", "᧚", "٣", "周一", "9:", "9 ", "utc+", "stale 5 ",
         "㍻", "@_user_2 ", " ", "*", "1-")
PREFIXES = ("", "remind okr ", "fri 17:00 ", "fri 17:00 Asia/", "monthly ", "cron ", "周五 ", "digest on ",
            "remind off ", "@_user_1 ")


def _repeat(units: list[str], length: int) -> str:
    unit = "".join(units)
    return (unit * (length // len(unit) + 1))[:length]


SHAPES = st.builds(
    lambda prefix, units, length: prefix + _repeat(units, length),
    st.sampled_from(PREFIXES),
    st.lists(st.sampled_from(UNITS), min_size=1, max_size=3),
    st.sampled_from((1, 50, 199, 200, 201, 1_000, 1_999, 2_000, 2_001, 10_000, 100_000)) | st.integers(1, 100_000),
)
NAMED = ("remind okr " + "mon-" * 8000, "mon-" * 25_000, "remind off ᧚", "remind off " + "9" * 5000,
         "remind okr fri 17:00 Asia/" + "a/" * 3000, "fri 17:00 A/" + "a/" * 50_000 + "a", "digest on " + "9" * 5000,
         "-" * 100_000, "+" * 100_000, "/" * 100_000, "9" * 100_000, "a" + "-a" * 50_000)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def parse(text: str):
    return parse_command(text, (BOT, ZHANG), bot_open_id="ou_bot", aliases=ALIASES)


def _named(test):
    for text in NAMED:
        test = example(text=text)(test)
    return test


# -- the command parser reads the first MAX_COMMAND_CHARS characters, nothing more ----------------------------

@PROPERTY
@given(text=SHAPES)
@_named
def test_the_command_parser_answers_a_huge_message_as_its_capped_prefix(text):
    call, capped = parse(text), parse(text[:MAX_COMMAND_CHARS])
    assert (call.name, call.args, call.mentions, call.locale) == (capped.name, capped.args, capped.mentions,
                                                                  capped.locale)
    assert len(call.text) <= MAX_FREE_TEXT


def test_what_follows_the_cap_is_ignored_even_a_mention_or_text_nfkc_lengthens():
    late_mention = parse("whois " + "x" * MAX_COMMAND_CHARS + " @_user_2")
    assert late_mention.mentions == ()
    widened = parse("whois " + "㍻" * 300)  # each ㍻ is 平成 after NFKC: twice as long, over MAX_FREE_TEXT
    assert widened.name == TOO_LONG
    assert parse("whois " + "㍻" * 200).name == "whois"


# -- the schedule parser refuses a long phrase before reading it, and answers WhenError or a Recurrence ----------

@PROPERTY
@given(text=SHAPES)
@_named
def test_a_schedule_phrase_is_read_only_when_short_and_answers_a_schedule_or_a_when_error(text):
    for phrase in (text, text[:MAX_PHRASE_CHARS]):
        try:
            result = parse_when(phrase, default_tz=TZ)
        except WhenError as exc:
            if len(phrase) > MAX_PHRASE_CHARS:
                assert exc.kind == "too_long"
                assert f"at most {MAX_PHRASE_CHARS}" in exc.message("en_us")
            assert exc.message("zh_cn") and exc.message("en_us")
        else:
            assert len(phrase) <= MAX_PHRASE_CHARS
            assert isinstance(result, Recurrence)


@pytest.mark.parametrize(
    ("phrase", "kind"),
    [
        ("fri 17:00 A/" + "a/" * 90 + "a", "unknown_timezone"),  # A/a/a/… made ZoneInfo recurse (RecursionError)
        ("fri 17:00 Asia/" + "Tokyo" * 20, "unknown_timezone"),  # longer than any IANA name
        ("fri 17:00 Etc/../Asia/Tokyo", "unknown"),  # `..` is not part of a zone path
        ("fri 17:00 posix/Asia/Tokyo", "unknown_timezone"),  # a file the zone database has, not an IANA name
        ("monthly " + "9" * 150 + " 10:00", "bad_day_of_month"),
        ("fri " + "1" * 150, "bad_time"),
        ("fri " + "9" * 60 + ":00", "bad_time"),
        ("fri ᧚:00", "unknown"),  # '᧚'.isdigit() is True, int('᧚') fails
        ("fri ١٧", "bad_time"),  # Arabic-Indic digits are not read as an hour
        ("9" * 150 + " * * * *", "bad_cron"),
    ],
)
def test_odd_numbers_and_zone_paths_are_corrections(phrase, kind):
    assert len(phrase) <= MAX_PHRASE_CHARS
    with pytest.raises(WhenError) as caught:
        parse_when(phrase, default_tz=TZ)
    assert caught.value.kind == kind


PATH_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/*")


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="aA/-+_9*. x", max_size=60))
@example(text="a-Asia/Tokyo")
@example(text="mon-mon-Asia/Tokyo")
def test_a_zone_path_is_tried_only_where_a_run_of_path_characters_starts(text):
    """What keeps _ZONE_PATH linear: it never starts inside a run of the characters a path is made of, so a run
    is scanned once, not again after every `-` (`mon-` × 8000 was 3.5 s)."""
    for match in _ZONE_PATH.finditer(text):
        start = match.start()
        assert start == 0 or text[start - 1] not in PATH_CHARS


# -- the parsers behind the router see only what it kept --------------------------------------------------------

@pytest.fixture
def picking(tmp_path):
    reminders = Store(f"sqlite:///{tmp_path}/bot.db")
    spec = {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri", "timezone": TZ}
    sub = reminders.subscriptions.add(kind=KIND_OKR_REMINDER, target="oc_group", created_by="ou_owner", schedule=spec,
                                 stale_days=7, locale="en_us")
    ctx = Context(sender_open_id="ou_owner", chat=Chat("oc_group", "group"), clients=None, settings=None, now=NOW,
                  store=reminders)
    return ctx, sub


PERIODS = tuple(
    OkrPeriod(f"p{i}", f"2026 年 {m} 月 - {m + 5} 月", f"Jan {m} 2026", datetime(2026, m, 1, tzinfo=ZoneInfo(TZ)),
              datetime(2026, m, 1, tzinfo=ZoneInfo(TZ)) + timedelta(days=180))
    for i, m in enumerate((1, 7))
)


@PROPERTY
@given(text=SHAPES)
@_named
def test_every_argument_parser_answers_on_what_the_router_kept(picking, text):
    ctx, sub = picking
    call = parse(text)
    words = list(call.args)
    assert len(" ".join(words)) <= MAX_COMMAND_CHARS

    try:
        rest, days = _stale_days(words)
    except StaleDaysError as exc:  # `stale 100`, `stale ٣`: refused with the range, never read as a time
        rest, days = exc.rest, exc.nearest
    assert 1 <= days <= 90 and len(rest) <= len(words)

    picked, subs = _pick(ctx, words)
    assert subs == [sub] and picked in (None, sub)

    assert choose_period(PERIODS, call.text, ctx) in (None, 0, 1)
    query, today = parse_args(call.args)
    assert isinstance(query, str) and isinstance(today, bool)


@pytest.mark.parametrize("word", ["᧚", "٣", "9" * 5000, "#" + "9" * 10, "0" * 12 + "1", "²"])
def test_a_number_that_is_not_a_reminder_id_picks_none_not_the_only_one(picking, word):
    ctx, _ = picking
    picked, subs = _pick(ctx, [word])
    assert picked is None and len(subs) == 1


def test_a_reminder_is_picked_by_its_number(picking):
    ctx, sub = picking
    assert _pick(ctx, [f"#{sub.id}"])[0] == sub
    assert _pick(ctx, [str(sub.id)])[0] == sub
    assert _pick(ctx, [])[0] == sub  # the group's only one


@pytest.mark.parametrize(
    ("phrase", "rest", "days"),
    [
        ("fri 17:00 stale 5 days", "fri 17:00", 5),  # was `fri 17:00 ays`
        ("fri 17:00 stale 5d", "fri 17:00", 5),
        ("Stale 4 Days weekdays 9:30", "weekdays 9:30", 4),
        ("周五 17:00 超过3天", "周五 17:00", 3),
        ("周五 17:00 5天未更新", "周五 17:00", 5),
        ("5 days stale fri 17:00", "fri 17:00", 5),
    ],
)
def test_stale_days_read_ascii_digits_and_whole_units(phrase, rest, days):
    assert _stale_days(phrase.split()) == (rest.split(), days)


@pytest.mark.parametrize(("phrase", "given", "rest"), [
    ("fri 17:00 stale 123", "123", "fri 17:00"),  # not 12 with a `3` left over as an hour: refused whole
    ("fri 17:00 stale ٣", "٣", "fri 17:00"),
    ("fri 17:00 stale " + "9" * 5000, "9" * 5000, "fri 17:00"),  # never handed to int()
])
def test_stale_days_out_of_range_are_refused_whole(phrase, given, rest):
    with pytest.raises(StaleDaysError) as caught:
        _stale_days(phrase.split())
    assert (caught.value.given, caught.value.rest) == (given, rest.split())


# -- end to end: the person gets a correction, never the internal error card ------------------------------------

INTERNAL_ERROR_TITLES = {"出错了", "Something went wrong"}


def _is_correction(entry) -> bool:
    return card_title(entry) not in INTERNAL_ERROR_TITLES and entry["content"]["header"]["template"] != "red"


@pytest.mark.parametrize(
    ("text", "title", "says"),
    [
        # longer than any command: answered by the parser, before any command reads it
        ("remind okr " + "mon-" * 8000, "Message too long", "characters long"),
        ("remind okr fri 17:00 Asia/" + "a/" * 3000, "Message too long", "characters"),
        ("remind off " + "9" * 5000, "Message too long", "characters"),
        # long, but not too long for the parser: the command's own bounds answer
        ("remind okr " + "mon-" * 100, "I could not read that time", "too long"),
        ("remind okr fri 17:00 Asia/" + "a/" * 200, "I could not read that time", "too long"),
        ("remind okr fri 17:00 A/" + "a/" * 40 + "a", "I could not read that time", "Unknown time zone"),
        ("remind okr fri 17:00 stale " + "9" * 300, "I could not read that time", "too long"),
        ("remind off ᧚", "No such reminder", ""),
        ("remind off " + "9" * 300, "No such reminder", ""),
        ("remind run #" + "9" * 300, "No such reminder", ""),
    ],
)
def test_pathological_reminder_messages_get_a_correction_card(bot, store, text, title, says):
    [entry] = bot.say("陈立", "remind okr fri 17:00", group="eng_weekly")  # the group owner
    [sub] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    [entry] = bot.say("陈立", text, group="eng_weekly")
    assert _is_correction(entry), bot.text_of(entry)
    assert card_title(entry) == title
    assert says in bot.text_of(entry)
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == [sub]  # nothing added, the only one not turned off


def test_a_digest_time_of_5000_digits_gets_a_correction_card(bot, store):
    [entry] = bot.say("王磊", "digest on " + "9" * 300)  # a manager
    assert _is_correction(entry)
    assert card_title(entry) == "I could not read that time"
    assert "too long" in bot.text_of(entry)
    assert store.subscriptions.find() == []
