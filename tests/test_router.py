"""The pure parser: mentions, aliases in both languages, locale."""

from __future__ import annotations

import pytest

from bot.commands import ALL
from bot.models import Mention
from bot.router import MAX_FREE_TEXT, NOT_UNDERSTOOD, TOO_LONG, parse_command
from bot.textfold import language_of

ALIASES = {a.casefold(): c.name for c in ALL for a in (c.name, *c.aliases)}
BOT = Mention("@_user_1", "ou_bot", "OKR 助手")
ZHANG = Mention("@_user_2", "ou_zhang", "张伟")


def parse(text: str, mentions=(BOT, ZHANG)):
    return parse_command(text, mentions, bot_open_id="ou_bot", aliases=ALIASES)


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("help", "help", ()),
        ("帮助", "help", ()),
        ("HELP", "help", ()),
        ("whois Alex", "whois", ("Alex",)),
        ("查人 张伟", "whois", ("张伟",)),
        ("查人张伟", "whois", ("张伟",)),
        ("who is Alex Johnson", "whois", ("Alex", "Johnson")),
        ("team", "team", ()),
        ("团队", "team", ()),
        ("my team", "team", ()),
        ("  whois   Alex  ", "whois", ("Alex",)),
        ("teamwork", NOT_UNDERSTOOD, ()),  # an alias must end at a word boundary
        ("", "help", ()),
    ],
)
def test_aliases(text, name, args):
    call = parse(text)
    assert (call.name, call.args) == (name, args)


def test_bot_mention_is_stripped_and_other_mentions_kept_in_order():
    call = parse("@_user_1 whois @_user_2")
    assert call.name == "whois"
    assert call.args == ()
    assert call.mentions == (ZHANG,)


def test_only_the_bot_mentioned_means_help():
    assert parse("@_user_1").name == "help"


def test_at_all_is_not_an_argument():
    call = parse("@_all team")
    assert call.name == "team"
    assert call.mentions == ()


def test_locale_follows_the_language_typed():
    assert parse("whois Alex").locale == "en_us"
    assert parse("查人 Alex").locale == "zh_cn"
    assert language_of("123") is None
    assert language_of("") is None


def test_a_message_far_longer_than_any_command_is_too_long_whatever_it_starts_with():
    call = parse("remind okr " + "mon-" * 8000)
    assert call.name == TOO_LONG and call.options["length"] == len("remind okr " + "mon-" * 8000)
    assert parse("remind okr " + "x" * (MAX_FREE_TEXT - 11)).name == "remind"
