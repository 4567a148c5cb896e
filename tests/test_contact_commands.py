"""whois, team and help, end to end: HTTP in, lark-oapi out, cards read from the sandbox's outbox."""

from __future__ import annotations

from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, elements_of, render_text
from tests.conftest import card_title


def test_help_in_chinese_and_english(chat):
    [zh] = chat.say("周星河", "帮助")
    [en] = chat.say("周星河", "help")
    assert card_title(zh) == "我能做什么"
    assert card_title(en) == "What I can do"
    text = chat.text_of(en)
    for command in ("okr", "whois", "team", "roster", "remind", "digest", "help"):
        assert f"\n  {command} " in text, command  # one line per command, grouped
    assert "[ My OKRs ]" in text and "[ 我的OKR ]" in chat.text_of(zh)  # examples are buttons
    assert_valid_card(zh["content"])
    assert_valid_card(en["content"])


def test_help_for_one_command_shows_its_usage(chat):
    [entry] = chat.say("周星河", "help whois")
    assert card_title(entry) == "How to use: whois"
    assert "whois <name | @someone>" in chat.text_of(entry)
    [zh] = chat.say("周星河", "帮助 提醒")
    assert card_title(zh) == "用法：remind"


def test_unknown_command_gets_a_short_answer_with_the_closest_command(chat):
    [entry] = chat.say("周星河", "whoiss Alex")
    text = chat.text_of(entry)
    assert card_title(entry) == "Not sure what you mean"
    assert "whoiss Alex" in text
    assert "[ whois: how to ]" in text  # the closest command first, as a button


def test_whois_by_name_shows_the_allow_listed_person_card(chat):
    [entry] = chat.say("周星河", "whois Tong Wu")
    card = entry["content"]
    assert_valid_card(card)
    assert card_title(entry) == "吴桐"
    text = chat.text_of(entry)
    for expected in ("Tong Wu", "Engineering", "QA Manager", "杭州", "wutong@galaxy.example"):
        assert expected in text
    cto = chat.person("陈立")
    assert {"tag": "person", "user_id": cto.open_id, "size": "small", "show_avatar": True,
            "show_name": True} in elements_of(card)
    # never outside the allow-list: no mobile numbers, employee numbers or avatars
    wu = chat.person("吴桐")
    raw = str(card)
    assert wu.mobile not in raw


def test_whois_matches_prefix_case_insensitively_and_chinese(chat):
    [entry] = chat.say("周星河", "whois tong")
    assert card_title(entry) == "吴桐"
    [entry] = chat.say("周星河", "查人 吴")
    assert card_title(entry) == "吴桐"


def test_whois_by_mention(chat):
    [entry] = chat.say("周星河", "whois {0}", mentions=("陈立",))
    assert card_title(entry) == "陈立"


def test_whois_with_several_matches_gives_a_pick_list_and_a_click_opens_one(chat):
    [entry] = chat.say("周星河", "查人 张伟")
    assert card_title(entry) == "找到多个人"
    assert_valid_card(entry["content"])
    views = [b for b in buttons_of(entry["content"]) if b["text"]["content"] == "查看"]
    assert len(views) >= 2
    status, answer = chat.click("陈立", entry, "查看")  # someone else clicks: same directory card for them
    assert status == 200
    card = answer["card"]["data"]
    assert_valid_card(card)
    assert card["header"]["title"]["content"] == "张伟"


def test_whois_nobody(chat):
    [entry] = chat.say("周星河", "whois Nobody Atall")
    assert card_title(entry) == "No match"
    assert "Nobody" in chat.text_of(entry)


def test_whois_without_argument_explains_usage(chat):
    [entry] = chat.say("周星河", "whois")
    assert "whois <name | @someone>" in chat.text_of(entry)


def test_malicious_name_is_escaped_everywhere(chat):
    [entry] = chat.say("周星河", "查人 李星")
    card = entry["content"]
    assert_valid_card(card)
    markdown = [e["content"] for e in elements_of(card) if e.get("tag") == "markdown"]
    joined = "\n".join(markdown)
    assert "<at" not in joined
    assert "](" not in joined
    assert "*Star*" not in joined
    # ...and a person still reads the name as typed
    assert "*Star* [Lee](http://x) <at id=all></at>" in render_text(card)


def test_escaped_search_text_cannot_inject(chat):
    [entry] = chat.say("周星河", "whois <at id=all></at>**boom**")
    joined = str(entry["content"])
    assert "<at id=all>" not in joined
    assert "**boom**" not in joined


def test_team_lists_direct_members_with_titles(chat, sandbox):
    [entry] = chat.say("刘芳", "团队")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "团队：后端组"
    text = chat.text_of(entry)
    assert "王磊" in text and "后端负责人" in text
    assert "吴桐" not in text  # 研发部 direct member, not 后端组
    backend = sandbox.seed.members_of("backend")
    assert f"共 {len(backend)} 人" in text


def test_team_of_a_mentioned_person_in_a_group(chat):
    [entry] = chat.say("周星河", "team {0}", group="eng_weekly", mentions=("吴桐",))
    assert card_title(entry) == "Team: Engineering"
    assert entry["reply_to"]


def test_group_message_without_bot_mention_is_ignored(chat):
    assert chat.say("周星河", "help", group="eng_weekly", mention_bot=False) == []
    assert len(chat.say("周星河", "help", group="eng_weekly")) == 1


def test_api_error_becomes_a_readable_error_card(chat, sandbox):
    sandbox.state.faults.inject("/open-apis/contact/v3/users/find_by_department", times=10, http_status=403,
                               code=40004, msg="no dept authority error")
    [entry] = chat.say("刘芳", "团队")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "出错了"
    text = chat.text_of(entry)
    assert "通讯录权限范围" in text
    assert "40004" in text


def test_rate_limit_and_5xx_answers_are_retried(chat, sandbox):
    sandbox.state.faults.inject("/open-apis/contact/v3/users/find_by_department", times=1, http_status=429,
                               code=99991400, msg="request trigger frequency limit",
                               headers={"x-ogw-ratelimit-reset": "0"})
    sandbox.state.faults.inject("/open-apis/contact/v3/departments", times=1, http_status=500, code=1, msg="boom")
    [entry] = chat.say("刘芳", "团队")
    assert card_title(entry) == "团队：后端组"


def test_revoked_tenant_token_is_fetched_again(chat, sandbox):
    chat.say("刘芳", "团队")  # token cached by lark-oapi
    sandbox.state.tokens.revoke()
    [entry] = chat.say("刘芳", "帮助")
    assert card_title(entry) == "我能做什么"
    [entry] = chat.say("刘芳", "团队")
    assert card_title(entry) == "团队：后端组"


