"""Card builders: pure, valid card JSON 2.0, escaped. What a person reads is checked via render_text."""

from __future__ import annotations

import re

import pytest

from bot.feishu.errors import FeishuApiError, RateLimited, Unavailable
from bot.models import Department, Person
from bot.router import to_error_card
from cards.components import escape
from cards.help import (
    Example,
    HelpEntry,
    build_command_help_card,
    build_help_card,
    build_no_such_person_card,
    build_not_understood_card,
    build_small_talk_card,
    build_too_long_card,
)
from cards.notices import build_api_error_card, build_internal_error_card, build_refusal_card, build_sent_privately_card
from cards.people import build_not_found_card, build_person_card, build_pick_card, build_team_card, build_usage_card
from cards.welcome import build_welcome_card
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import render_text

EVIL = "*Star* [Lee](http://x) <at id=all></at> _x_ `y` ~z~ # h"
ALICE = Person(open_id="ou_a", name="爱丽丝", en_name=EVIL, job_title="Engineer <b>", city="上海",
               email="a@x.example", department_ids=("od-1",), leader_open_id="ou_boss")
BOB = Person(open_id="ou_b", name="Bob", job_title="PM", department_ids=("od-1",), is_active=False)
DEPT = Department("od-1", "研发部", "Engineering", leader_open_id="ou_a")


@pytest.mark.parametrize("locale", ["zh_cn", "en_us"])
def test_every_card_is_valid(locale):
    cards = [
        build_help_card([HelpEntry("whois", "whois <x>", ("查人",), "summary", ("whois Alex",), group="people",
                                   buttons=(Example(EVIL, {"cmd": "whois"}),))], locale=locale),
        build_command_help_card(HelpEntry("whois", "whois <x>", (EVIL,), "summary", (EVIL,),
                                          buttons=(Example("x", {"cmd": "whois"}),)), locale=locale),
        build_not_understood_card(EVIL * 50, [Example("okr", {"cmd": "okr"})], locale=locale),
        build_small_talk_card("hello", [Example("okr", {"cmd": "okr"})], locale=locale),
        build_too_long_card(12345, [], locale=locale),
        build_no_such_person_card(EVIL, locale=locale),
        build_person_card(ALICE, departments=[DEPT], locale=locale),
        build_person_card(BOB, departments=[], locale=locale),
        build_pick_card(EVIL, [ALICE, BOB], departments={"od-1": DEPT}, locale=locale,
                        value_for=lambda p: {"cmd": "whois", "open_id": p.open_id}),
        build_not_found_card(EVIL, locale=locale),
        build_usage_card("whois <x>", "whois Alex", locale=locale),
        build_team_card(DEPT, [ALICE, BOB] * 30, locale=locale, page=1, page_size=20,
                        value_for_page=lambda n: {"cmd": "team", "page": n}),
        to_error_card(FeishuApiError(40004, "no dept authority", "log-1"), locale=locale),
        to_error_card(RateLimited(99991400, "limit"), locale=locale),
        to_error_card(Unavailable(-1, "down"), locale=locale),
        to_error_card(FeishuApiError(12345, EVIL), locale=locale),
        build_internal_error_card(locale=locale, event_id="evt-1"),
        build_refusal_card(reason="no", locale=locale),
        build_sent_privately_card(locale=locale),
        build_welcome_card(bot_name=EVIL, locale=locale, in_group=True),
        build_welcome_card(bot_name="OKR 助手", locale=locale, in_group=False),
    ]
    for card in cards:
        assert_valid_card(card)
        markdown = "\n".join(_markdown_of(card))
        assert "<at" not in markdown
        assert "](" not in markdown
        assert "*Star*" not in markdown


def _markdown_of(node):
    if isinstance(node, dict):
        if node.get("tag") == "markdown":
            yield node["content"]
        for value in node.values():
            yield from _markdown_of(value)
    elif isinstance(node, list):
        for item in node:
            yield from _markdown_of(item)


def test_escape_neutralises_markdown_mentions_and_links():
    escaped = re.sub(r"&#\d+;", "", escape(EVIL + "\n# heading"))
    for forbidden in ("*", "[", "]", "(", ")", "<", ">", "_", "`", "~", "#", "\n"):
        assert forbidden not in escaped
    assert escape("&#60;at&#62;") == "&#38;&#35;60;at&#38;&#35;62;"  # entities typed by users stay text


def test_team_card_pages_and_counts():
    people = [Person(open_id=f"ou_{i}", name=f"人{i:02d}") for i in range(45)]
    card = build_team_card(DEPT, people, locale="en_us", page=2, page_size=20,
                           value_for_page=lambda n: {"cmd": "team", "page": n})
    text = render_text(card)
    assert "Page 3 of 3, 45 people" in text
    assert "人44" in text and "人39" not in text
    assert "[ Next (disabled) ]" in text and "[ Previous ]" in text


def test_error_card_says_what_an_admin_must_do_and_shows_the_code():
    card = to_error_card(FeishuApiError(1241004, "ehr not enabled", "lg"), locale="en_us")
    text = render_text(card)
    assert "Feishu People (Standard) is not enabled" in text
    assert "Feishu error code 1241004" in text and "log_id lg" in text


def test_error_card_is_built_from_plain_values():
    card = build_api_error_card(code=230002, message="Bot is not in the chat", log_id="lg-2",
                                what_to_do=("机器人不在这个群里。", "The bot is not a member of that chat."),
                                locale="zh_cn")
    text = render_text(card)
    assert "机器人不在这个群里。" in text and "飞书错误码 230002" in text and "log_id lg-2" in text
    plain = render_text(build_api_error_card(code=12345, message=EVIL, locale="en_us"))
    assert "Feishu answered with an error: " + EVIL in plain and "log_id" not in plain


def test_a_big_team_digest_shows_the_worst_first_and_how_many_more():
    import json

    from cards.digest import ChangeLine, ProblemLine, build_digest_card

    problems = [ProblemLine(f"ou_{i}", f"人{i:03d}", i % 3, "x" * 40, {"cmd": "nudge", "target": f"ou_{i}"})
                for i in range(120)]
    card = build_digest_card(manager_name="王磊", period_name="Q4", team_size=120, average_progress=40,
                             problems=problems, bars=[(f"人{i:03d}", i % 100) for i in range(120)],
                             roster_changes=[ChangeLine("🆕 x")] * 50, not_in_attendance=["y"] * 50, locale="en_us")
    assert_valid_card(card)
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 30 * 1024
    text = render_text(card)
    assert "…and 95 more (worst first)" in text
    assert "人002" in text and "人000" not in text  # the 25 shown are all of the worst severity


def test_reminder_card_mentions_only_the_people_it_lists():
    from cards.reminder import RiskLine, StaleLine, build_reminder_card

    card = build_reminder_card(period_name="Q4", stale_days=7, members=80, up_to_date=10, average_progress=50,
                               stale=[StaleLine(f"ou_s{i}", i) for i in range(60)],
                               risks=[RiskLine("ou_r", (("<font color='red'>Delayed</font>", EVIL),))],
                               skipped=3, snooze_value={"cmd": "snooze", "sub": 1}, locale="en_us")
    assert_valid_card(card)
    text = str(card)
    assert text.count("<at id=") == 51  # 50 stale listed + 1 at risk; the rest are counted
    assert "…and 10 more" in render_text(card)
    assert "<at id=all>" not in text
