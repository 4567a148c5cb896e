"""Property-based tests: any text gives a command or help, never an exception; no user string can make a
mention, a link or formatting in a card."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import ALL
from bot.models import Mention, Person
from bot.router import parse_command
from cards.components import escape
from cards.help import Example, build_no_such_person_card, build_not_understood_card
from cards.people import build_not_found_card, build_person_card
from devkit.cardcheck import validate_card

ALIASES = {a.casefold(): c.name for c in ALL for a in (c.name, *c.aliases)}
NAMES = {c.name for c in ALL}
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
SPECIAL = st.text(alphabet="*_~`[]()<>#!-+|\\/:\"'$&@ \n\tatlink=id", max_size=80)
MENTIONS = st.lists(st.builds(Mention, key=st.sampled_from(["@_user_1", "@_user_2", "@_all"]),
                              open_id=st.sampled_from(["ou_bot", "ou_a", "ou_b"]), name=TEXT), max_size=3)


@settings(max_examples=300, deadline=None)
@given(text=TEXT, mentions=MENTIONS)
def test_any_text_parses_to_a_command_or_an_unknown_word(text, mentions):
    call = parse_command(text, mentions, bot_open_id="ou_bot", aliases=ALIASES)
    assert call.locale in ("zh_cn", "en_us")
    assert call.name in NAMES or call.name == text.split()[0] or call.name.strip()
    assert all(m.open_id != "ou_bot" for m in call.mentions)


def _markdown(card) -> str:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("tag") == "markdown":
                found.append(node["content"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(TEXT, SPECIAL))
def test_escaped_text_carries_no_markdown_syntax(text):
    out = escape(text)
    without_entities = re.sub(r"&#\d+;", "", out)
    assert not set(without_entities) & set("*_~`[]()<>#!-+|\\/:\"'$&\n")
    assert html.unescape(out) == " ".join(text.split())  # a person reads exactly what was typed


@settings(max_examples=150, deadline=None)
@given(name=st.one_of(TEXT, SPECIAL), query=st.one_of(TEXT, SPECIAL))
def test_user_strings_never_become_mentions_links_or_formatting(name, query):
    person = Person(open_id="ou_x", name=name or "x", en_name=name, job_title=name, city=name, email=name)
    cards = [
        build_person_card(person, departments=[], locale="en_us"),
        build_not_found_card(query, locale="zh_cn"),
        build_not_understood_card(query, [Example(query or "x", {"cmd": "help"})], locale="en_us"),
        build_no_such_person_card(query, locale="zh_cn"),
    ]
    for card in cards:
        assert validate_card(card) == [] or len(str(card).encode()) > 30 * 1024
        text = _markdown(card)
        users = text.replace("**", "")  # our own bold markers
        assert "<at" not in users and "<link" not in users and "](" not in users
        assert "<" not in re.sub(r"<font color='\w+'>|</font>", "", users)  # only our own colour tags
