"""The bot in conversation, end to end: what people type in Feishu reaches the right command through the webhook,
the answers are short where they should be, and the language is the person's (issue 14)."""

from __future__ import annotations

import json

import pytest

from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of
from tests.conftest import card_title


def labels(entry) -> list[str]:
    return [b["text"]["content"] for b in buttons_of(entry["content"])]


def size(entry) -> int:
    return len(json.dumps(entry["content"], ensure_ascii=False).encode())


@pytest.mark.parametrize("text", ["我的 OKR", "我的OKR。", "查看我的 okr", "看看我的OKR", "我的目标", "🎯 我的OKR 🚀",
                                  "my okr please"])
def test_my_okr_however_it_is_typed(chat, text):
    [entry] = chat.say("杨帆", text)
    assert card_title(entry).startswith(("杨帆", "Fan Yang")), chat.text_of(entry)
    assert "授权" not in chat.text_of(entry) and "login" not in chat.text_of(entry)


def test_my_okr_with_a_space_in_a_group_is_answered_in_the_group(chat):
    entries = chat.say("杨帆", "我的 OKR", group="eng_weekly")
    assert len(entries) == 1 and card_title(entries[0]).startswith("杨帆")  # not "sent privately"


def test_a_name_without_at_is_a_person_before_a_period(chat):
    [entry] = chat.say("杨帆", "okr 王磊")
    assert card_title(entry).startswith("王磊"), chat.text_of(entry)
    [entry] = chat.say("杨帆", "王磊的OKR")
    assert card_title(entry).startswith("王磊")


def test_several_people_with_one_name_get_a_pick_list_whose_buttons_answer_for_the_one_picked(chat, sandbox):
    [entry] = chat.say("杨帆", "张伟的OKR")
    buttons = labels(entry)
    assert len(buttons) == 2, chat.text_of(entry)
    status, answer = chat.click("杨帆", entry, buttons[1])
    assert status == 200
    assert answer["card"]["data"]["header"]["title"]["content"].startswith("张伟")


def test_no_one_by_that_name_is_said_plainly(chat):
    [entry] = chat.say("杨帆", "查无此人的OKR")
    assert card_title(entry) == "没有这个人"
    assert "查无此人" in chat.text_of(entry)


@pytest.mark.parametrize(("text", "title"), [("张伟是谁", "张伟"), ("查一下吴桐", "吴桐"), ("吴桐", "吴桐"),
                                             ("who's Nana", "欧阳娜娜")])
def test_questions_and_bare_names_find_the_person(chat, text, title):
    [entry] = chat.say("杨帆", text)
    text_shown = chat.text_of(entry)
    assert card_title(entry) == title or title in text_shown, text_shown


@pytest.mark.parametrize("text", ["你好", "谢谢", "hi", "thanks!", "在吗", "👍"])
def test_small_talk_gets_a_short_friendly_answer_with_suggestions(chat, text):
    [entry] = chat.say("杨帆", text)
    assert_valid_card(entry["content"])
    assert len(entry["content"]["body"]["elements"]) <= 2
    assert 2 <= len(labels(entry)) <= 3
    assert "不认识" not in chat.text_of(entry) and "don't know" not in chat.text_of(entry)


def test_a_suggestion_button_runs_its_command_as_the_clicker(chat):
    [entry] = chat.say("杨帆", "你好")
    status, answer = chat.click("杨帆", entry, "我的OKR")
    assert status == 200 and answer["card"]["data"]["header"]["title"]["content"].startswith("杨帆")


def test_text_not_understood_is_a_short_card_with_the_closest_commands(chat):
    [entry] = chat.say("杨帆", "whoiss Alex")
    assert card_title(entry) == "Not sure what you mean"
    assert labels(entry)[0] == "whois: how to"
    status, answer = chat.click("杨帆", entry, "whois: how to")
    assert status == 200 and answer["card"]["data"]["header"]["title"]["content"] == "How to use: whois"


@pytest.mark.parametrize("length", [3_000, 11_000])
def test_an_over_long_message_gets_a_short_answer_not_an_echo_or_a_feishu_error(chat, length):
    [entry] = chat.say("杨帆", "whois " + "张" * length)
    assert card_title(entry) in ("消息太长", "Message too long")
    assert size(entry) < 2_000 and "张张张张张张张张" not in json.dumps(entry["content"], ensure_ascii=False)


def test_a_long_name_is_quoted_as_an_excerpt(chat):
    [entry] = chat.say("杨帆", "whois " + "x" * 300)
    assert "x" * 31 not in chat.text_of(entry) and "…" in chat.text_of(entry)


def test_the_help_card_is_short_grouped_and_its_examples_run(chat):
    [entry] = chat.say("杨帆", "help")
    assert size(entry) < 6_000  # was ~1,300 px tall with every alias and example
    assert "My OKRs" in labels(entry)
    status, answer = chat.click("杨帆", entry, "My OKRs")
    assert status == 200 and answer["card"]["data"]["header"]["title"]["content"].startswith("Fan Yang")


# -- language ---------------------------------------------------------------------------------------------------

def test_the_answer_follows_the_command_words(chat):
    [entry] = chat.say("杨帆", "whois 吴桐")
    assert "Department" in chat.text_of(entry) or "Email" in chat.text_of(entry), chat.text_of(entry)
    [entry] = chat.say("杨帆", "谁是 Nana")
    assert "部门" in chat.text_of(entry), chat.text_of(entry)


def test_words_in_both_languages_answer_in_the_language_last_used(chat):
    chat.say("杨帆", "my team")  # English words: remembered
    [entry] = chat.say("杨帆", "okr")
    assert card_title(entry).startswith("Fan Yang")
    chat.say("杨帆", "我的团队")
    [entry] = chat.say("杨帆", "okr")
    assert card_title(entry).startswith("杨帆")


def test_a_chosen_language_is_kept_for_words_in_both_languages(chat):
    chat.say("杨帆", "lang en")
    chat.say("杨帆", "我的团队")  # Chinese words: this answer in Chinese, the choice stays
    [entry] = chat.say("杨帆", "okr")
    assert card_title(entry).startswith("Fan Yang")


def test_a_reminder_every_other_week(chat):
    [entry] = chat.say("陈立", "提醒 OKR 双周五 17:00", group="eng_weekly")  # the group's owner
    assert "每两周周五 17:00" in chat.text_of(entry), chat.text_of(entry)
    [entry] = chat.say("陈立", "remind list", group="eng_weekly")
    assert "Every other Friday at 17:00" in chat.text_of(entry)
