"""What people type, and what the bot takes it to mean: a table of phrasings in Chinese and English, with the
spacing, punctuation, emoji, polite words, typos and names people use in Feishu — read by the real parser with the
real directory (the sandbox company's, through the bot's contact client).

Each row: the text, the command (or what the router answers itself: small talk, not understood, too long), its
arguments, the people it resolved (by name), and the language of the words (None: the words say nothing, e.g.
`okr` or a bare name — the remembered language is used).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.commands import ALL
from bot.commands.help import closest_commands
from bot.feishu.clients import FeishuClients
from bot.models import Mention
from bot.router import NOT_UNDERSTOOD, SMALL_TALK, TOO_LONG, Parser, exact_name_finder
from bot.settings import Settings
from tests.conftest import APP_ID, APP_SECRET

ALIASES = {a.casefold(): c.name for c in ALL for a in (c.name, *c.aliases)}
PARSER = Parser(ALIASES)
BOT = Mention("@_user_1", "ou_bot", "OKR 助手")
ZHANG = Mention("@_user_2", "ou_zhang", "张伟")
ZH, EN = "zh_cn", "en_us"
NU, ST, TL = NOT_UNDERSTOOD, SMALL_TALK, TOO_LONG


@pytest.fixture(scope="module")
def find_people(sandbox):
    clients = FeishuClients.create(Settings(app_id=APP_ID, app_secret=APP_SECRET, domain=sandbox.url))
    directory = clients.contact.directory()
    return exact_name_finder(lambda name, limit: directory.find(name, limit=limit))


def understand(text: str, find_people, mentions=(BOT, ZHANG)):
    return PARSER.understand(text, mentions, bot_open_id="ou_bot", find_people=find_people,
                              remembered_locale="fallback")


# (text, command, args, people resolved by name, language of the words)
TABLE = [
    # -- my OKR, every way people type it --------------------------------------------------------------------
    ("okr", "okr", (), (), None),
    ("OKR", "okr", (), (), None),
    ("Okr", "okr", (), (), None),
    ("ｏｋｒ", "okr", (), (), None),  # full-width letters
    ("okrs", "okr", (), (), None),
    ("okr?", "okr", (), (), None),
    ("okr。", "okr", (), (), None),
    ("  okr  ", "okr", (), (), None),
    ("我的OKR", "okr", (), (), ZH),
    ("我的 OKR", "okr", (), (), ZH),  # the space input methods put between Chinese and Latin
    ("我的okr", "okr", (), (), ZH),
    ("我的 okr", "okr", (), (), ZH),
    ("我的ＯＫＲ", "okr", (), (), ZH),
    ("我的OKR。", "okr", (), (), ZH),
    ("我的OKR！", "okr", (), (), ZH),
    ("我的OKR?", "okr", (), (), ZH),
    ("我的OKR？", "okr", (), (), ZH),
    ("「我的OKR」", "okr", (), (), ZH),
    ("🎯 我的OKR 🚀", "okr", (), (), ZH),
    ("🎯我的OKR", "okr", (), (), ZH),
    ("我的OKR👍", "okr", (), (), ZH),
    ("我的目标", "okr", (), (), ZH),
    ("我的 目标", "okr", (), (), ZH),
    ("目标", "okr", (), (), ZH),
    ("查看我的 okr", "okr", (), (), ZH),
    ("查看我的OKR", "okr", (), (), ZH),
    ("看看我的OKR", "okr", (), (), ZH),
    ("看一下我的OKR", "okr", (), (), ZH),
    ("帮我看看我的OKR", "okr", (), (), ZH),
    ("请帮我看看我的OKR", "okr", (), (), ZH),
    ("请帮我看看我的OKR吧", "okr", (), (), ZH),
    ("我的OKR呢", "okr", (), (), ZH),
    ("我的OKR呢？", "okr", (), (), ZH),
    ("麻烦查一下我的OKR", "okr", (), (), ZH),
    ("我想看看我的OKR", "okr", (), (), ZH),
    ("显示我的OKR", "okr", (), (), ZH),
    ("我okr", "okr", (), (), ZH),
    ("my okr", "okr", (), (), EN),
    ("My OKR", "okr", (), (), EN),
    ("my okrs", "okr", (), (), EN),
    ("My OKRs!", "okr", (), (), EN),
    ("myokr", "okr", (), (), EN),
    ("show my okr", "okr", (), (), EN),
    ("show me my okrs", "okr", (), (), EN),
    ("please show my okr", "okr", (), (), EN),
    ("can you show me my okr please", "okr", (), (), EN),
    ("could you show my OKRs?", "okr", (), (), EN),
    ("my okr please", "okr", (), (), EN),
    ("okr please", "okr", (), (), EN),
    ("okr pls", "okr", (), (), EN),
    # -- periods ---------------------------------------------------------------------------------------------
    ("okr 上期", "okr", ("上期",), (), None),
    ("OKR 上期", "okr", ("上期",), (), None),
    ("okr上期", "okr", ("上期",), (), None),
    ("okr last", "okr", ("last",), (), None),
    ("okr next", "okr", ("next",), (), None),
    ("我的OKR 上期", "okr", ("上期",), (), ZH),
    ("my okr last", "okr", ("last",), (), EN),
    ("okr 2026 Q4", "okr", ("2026", "Q4"), (), None),
    ("目标 下期", "okr", ("下期",), (), ZH),
    # -- someone's OKR ---------------------------------------------------------------------------------------
    ("okr @_user_2", "okr", (), ("张伟",), None),
    ("OKR @_user_2 上期", "okr", ("上期",), ("张伟",), None),
    ("@_user_1 okr @_user_2", "okr", (), ("张伟",), None),
    ("okr 王磊", "okr", (), ("王磊",), None),
    ("okr 王磊 上期", "okr", ("上期",), ("王磊",), None),
    ("OKR 王磊", "okr", (), ("王磊",), None),
    ("okr Lei Wang", "okr", (), ("王磊",), None),
    ("okr lei wang last", "okr", ("last",), ("王磊",), None),
    ("okr Nana", "okr", (), ("欧阳娜娜",), None),  # a whole word of the English name
    ("okr of Nana", "okr", (), ("欧阳娜娜",), None),
    ("okr for Alex Johnson", "okr", (), ("Alex Johnson",), None),
    ("okr AJ", "okr", (), ("Alex Johnson",), None),  # a nickname
    ("okr 星河", "okr", (), ("周星河",), None),
    ("王磊的OKR", "okr", (), ("王磊",), ZH),
    ("王磊的 OKR", "okr", (), ("王磊",), ZH),
    ("王磊 的 okr", "okr", (), ("王磊",), ZH),
    ("王磊的目标", "okr", (), ("王磊",), ZH),
    ("王磊的okr？", "okr", (), ("王磊",), ZH),
    ("看看王磊的OKR", "okr", (), ("王磊",), ZH),
    ("查一下王磊的OKR", "okr", (), ("王磊",), ZH),
    ("帮我看看王磊的OKR吧", "okr", (), ("王磊",), ZH),
    ("Nana's okr", "okr", (), ("欧阳娜娜",), EN),
    ("Nana's OKRs", "okr", (), ("欧阳娜娜",), EN),
    ("Lei Wang's okr", "okr", (), ("王磊",), EN),
    ("show Nana's okr", "okr", (), ("欧阳娜娜",), EN),
    ("OKR of Nana", "okr", (), ("欧阳娜娜",), None),
    ("@_user_2 的OKR", "okr", (), ("张伟",), ZH),
    ("@_user_2的okr", "okr", (), ("张伟",), ZH),
    ("张伟的OKR", "okr", (), (), ZH),  # two people are called 张伟: a pick list (options["choose"])
    ("okr 张伟", "okr", (), (), None),
    ("okr Li", "okr", (), (), None),  # Li Chen, Li Sun
    ("查无此人的OKR", "okr", ("查无此人",), (), ZH),  # no one: the router says so
    # -- who is ----------------------------------------------------------------------------------------------
    ("whois 张伟", "whois", ("张伟",), (), EN),
    ("whois Alex", "whois", ("Alex",), (), EN),
    ("WHOIS alex", "whois", ("alex",), (), EN),
    ("whois @_user_2", "whois", (), ("张伟",), EN),
    ("who is Nana", "whois", ("Nana",), (), EN),
    ("Who is Nana?", "whois", ("Nana",), (), EN),
    ("who's Nana", "whois", ("Nana",), (), EN),
    ("who is @_user_2", "whois", (), ("张伟",), EN),
    ("find Alex", "whois", ("Alex",), (), EN),
    ("look up Alex Johnson", "whois", ("Alex", "Johnson"), (), EN),
    ("search for Nana", "whois", ("Nana",), (), EN),
    ("谁是 Nana", "whois", ("Nana",), (), ZH),
    ("谁是Nana", "whois", ("Nana",), (), ZH),
    ("谁是张伟", "whois", ("张伟",), (), ZH),
    ("谁是张伟？", "whois", ("张伟",), (), ZH),
    ("查人 张伟", "whois", ("张伟",), (), ZH),
    ("查人张伟", "whois", ("张伟",), (), ZH),
    ("找人 王磊", "whois", ("王磊",), (), ZH),
    ("查找 吴桐", "whois", ("吴桐",), (), ZH),
    ("张伟是谁", "whois", ("张伟",), (), ZH),
    ("张伟是谁？", "whois", ("张伟",), (), ZH),
    ("张伟是谁呀", "whois", ("张伟",), (), ZH),
    ("王磊是哪个部门的", "whois", ("王磊",), (), ZH),
    ("王磊在哪个部门", "whois", ("王磊",), (), ZH),
    ("王磊的名片", "whois", ("王磊",), (), ZH),
    ("王磊的联系方式", "whois", ("王磊",), (), ZH),
    ("查一下张伟", "whois", ("张伟",), (), ZH),
    ("帮我查一下王磊", "whois", ("王磊",), (), ZH),
    ("查查吴桐", "whois", ("吴桐",), (), ZH),
    ("看看 @_user_2", "whois", (), ("张伟",), ZH),
    ("王磊", "whois", ("王磊",), (), None),  # a bare name: who is it
    ("吴桐", "whois", ("吴桐",), (), None),
    ("Alex Johnson", "whois", ("Alex", "Johnson"), (), None),
    ("Nana", "whois", ("Nana",), (), None),
    ("@_user_2", "whois", (), ("张伟",), None),
    # -- team ------------------------------------------------------------------------------------------------
    ("team", "team", (), (), EN),
    ("my team", "team", (), (), EN),
    ("My Team.", "team", (), (), EN),
    ("团队", "team", (), (), ZH),
    ("我的团队", "team", (), (), ZH),
    ("我的 团队", "team", (), (), ZH),
    ("我团队", "team", (), (), ZH),
    ("看看我的团队", "team", (), (), ZH),
    ("部门", "team", (), (), ZH),
    ("team @_user_2", "team", (), ("张伟",), EN),
    ("team 王磊", "team", (), ("王磊",), EN),
    ("王磊的团队", "team", (), ("王磊",), ZH),
    ("Nana's team", "team", (), ("欧阳娜娜",), EN),
    # -- roster, attendance ----------------------------------------------------------------------------------
    ("roster", "roster", (), (), EN),
    ("花名册", "roster", (), (), ZH),
    ("花名册 新人", "roster", ("新人",), (), ZH),
    ("roster new", "roster", ("new",), (), EN),
    ("roster dept Sales", "roster", ("dept", "Sales"), (), EN),
    ("员工 待离职", "roster", ("待离职",), (), ZH),
    ("查看花名册", "roster", (), (), ZH),
    ("show the roster", "roster", (), (), EN),
    ("attendance 研发考勤组", "attendance", ("研发考勤组",), (), EN),
    ("考勤组 研发考勤组", "attendance", ("研发考勤组",), (), ZH),
    ("考勤 研发考勤组 today", "attendance", ("研发考勤组", "today"), (), ZH),
    ("attendance group Sales", "attendance", ("Sales",), (), EN),
    # -- reminders and digests -------------------------------------------------------------------------------
    ("remind okr fri 17:00", "remind", ("okr", "fri", "17:00"), (), EN),
    ("提醒 OKR 周五 17:00", "remind", ("OKR", "周五", "17:00"), (), ZH),
    ("remind okr */5 * * * *", "remind", ("okr", "*/5", "*", "*", "*", "*"), (), EN),  # cron: * is not punctuation
    ("digest on 0,30 9 * * 1-5", "digest", ("on", "0,30", "9", "*", "*", "1-5"), (), EN),
    ("remind run #3", "remind", ("run", "#3"), (), EN),
    ("提醒 列表", "remind", ("列表",), (), ZH),
    ("remind list", "remind", ("list",), (), EN),
    ("reminders", "remind", (), (), EN),
    ("my reminders", "remind", (), (), EN),
    ("我的提醒", "remind", (), (), ZH),
    ("remind off 3", "remind", ("off", "3"), (), EN),
    ("提醒 关闭 3", "remind", ("关闭", "3"), (), ZH),
    ("提醒 提及 全部", "remind", ("提及", "全部"), (), ZH),
    ("remind mention off 3", "remind", ("mention", "off", "3"), (), EN),
    ("提醒 详情 开启", "remind", ("详情", "开启"), (), ZH),
    ("remind details on #2", "remind", ("details", "on", "#2"), (), EN),
    ("提醒 为什么 @_user_2", "remind", ("为什么",), ("张伟",), ZH),
    ("remind why @_user_2", "remind", ("why",), ("张伟",), EN),
    ("提醒 立即", "remind", ("立即",), (), ZH),
    ("提醒 评分", "remind", ("评分",), (), ZH),
    ("remind score 5", "remind", ("score", "5"), (), EN),
    ("提醒 评分 5 9:30", "remind", ("评分", "5", "9:30"), (), ZH),
    ("digest", "digest", (), (), EN),
    ("digest on mon 9:00", "digest", ("on", "mon", "9:00"), (), EN),
    ("周报 开启 周一 9:00", "digest", ("开启", "周一", "9:00"), (), ZH),
    ("周报 立即", "digest", ("立即",), (), ZH),
    ("我的周报", "digest", (), (), ZH),
    ("team digest", "digest", (), (), EN),
    ("团队周报", "digest", (), (), ZH),
    # -- the rest --------------------------------------------------------------------------------------------
    ("login", "login", (), (), EN),
    ("授权", "login", (), (), ZH),
    ("登录", "login", (), (), ZH),
    ("logout", "logout", (), (), EN),
    ("取消授权", "logout", (), (), ZH),
    ("me", "me", (), (), EN),
    ("我", "me", (), (), ZH),
    ("我的资料", "me", (), (), ZH),
    ("me set city 杭州", "me", ("set", "city", "杭州"), (), EN),
    ("stats", "stats", (), (), EN),
    ("whoami", "whoami", (), (), EN),
    ("who am i?", "whoami", (), (), EN),
    ("我是谁", "whoami", (), (), ZH),
    ("我是谁？", "whoami", (), (), ZH),
    ("统计", "stats", (), (), ZH),
    ("进度 1.2 60% 有风险 灰度完成一半", "progress", ("1.2", "60%", "有风险", "灰度完成一半"), (), ZH),
    ("progress 1.1 65 halfway through the rollout", "progress", ("1.1", "65", "halfway", "through", "the", "rollout"),
     (), EN),
    ("更新进度", "progress", (), (), ZH),
    ("check in 2 50%", "progress", ("2", "50%"), (), EN),
    ("lang en", "lang", ("en",), (), EN),
    ("语言 中文", "lang", ("中文",), (), ZH),
    ("help", "help", (), (), EN),
    ("HELP", "help", (), (), EN),
    ("帮助", "help", (), (), ZH),
    ("?", "help", (), (), None),
    ("？", "help", (), (), None),
    ("", "help", (), (), None),
    ("@_user_1", "help", (), (), None),
    ("菜单", "help", (), (), ZH),
    ("怎么用", "help", (), (), ZH),
    ("帮助 提醒", "help", ("提醒",), (), ZH),
    ("help remind", "help", ("remind",), (), EN),
    # -- small talk ------------------------------------------------------------------------------------------
    ("你好", ST, (), (), ZH),
    ("您好", ST, (), (), ZH),
    ("你好！", ST, (), (), ZH),
    ("你好👋", ST, (), (), ZH),
    ("在吗", ST, (), (), ZH),
    ("在吗？", ST, (), (), ZH),
    ("谢谢", ST, (), (), ZH),
    ("谢谢！", ST, (), (), ZH),
    ("好的", ST, (), (), ZH),
    ("收到", ST, (), (), ZH),
    ("再见", ST, (), (), ZH),
    ("你是谁", ST, (), (), ZH),
    ("你能做什么", ST, (), (), ZH),
    ("hi", ST, (), (), EN),
    ("Hi!", ST, (), (), EN),
    ("hello", ST, (), (), EN),
    ("Hello there", ST, (), (), EN),
    ("hey", ST, (), (), EN),
    ("thanks!", ST, (), (), EN),
    ("Thank you.", ST, (), (), EN),
    ("thx", ST, (), (), EN),
    ("ok", ST, (), (), EN),
    ("good morning", ST, (), (), EN),
    ("bye", ST, (), (), EN),
    ("who are you?", ST, (), (), EN),
    ("what can you do", ST, (), (), EN),
    # -- not understood, too long ----------------------------------------------------------------------------
    ("asdfgh", NU, (), (), EN),
    ("okrr", NU, (), (), EN),
    ("hlep", NU, (), (), EN),
    ("whoiss Alex", NU, (), (), EN),
    ("teamwork", NU, (), (), EN),
    ("今天天气怎么样", NU, (), (), ZH),
    ("🎯", ST, (), (), None),  # emoji alone: a friendly answer
    ("👍", ST, (), (), None),
    ("12345", NU, (), (), None),
    ("我的工资", NU, (), (), ZH),
    ("whois " + "x" * 600, TL, (), (), EN),
    ("a" * 501, TL, (), (), EN),
    ("你" * 501, TL, (), (), ZH),
]


def test_the_table_has_at_least_150_phrasings():
    assert len(TABLE) >= 150
    assert len({row[0] for row in TABLE}) == len(TABLE)  # no row twice


@pytest.mark.parametrize(("text", "name", "args", "people", "said_in"), TABLE, ids=[r[0][:30] for r in TABLE])
def test_what_people_type_is_understood(find_people, text, name, args, people, said_in):
    understood = understand(text, find_people)
    call = understood.call
    assert call.name == name
    if name not in (NU, TL, ST):
        assert call.args == args
    assert tuple(m.name for m in call.mentions) == people
    assert understood.said_in == said_in
    assert call.locale == (said_in or "fallback")


def test_without_a_remembered_language_words_in_both_languages_answer_in_the_letters_typed(find_people):
    def locale(text):
        return PARSER.understand(text, (BOT, ZHANG), bot_open_id="ou_bot", find_people=find_people,
                                 default_locale="zh_cn").call.locale

    assert locale("okr @_user_2") == "en_us"  # Latin letters
    assert locale("okr 上期") == "zh_cn"
    assert locale("?") == "zh_cn"  # nothing to go by: the default
    assert PARSER.understand("okr", default_locale="zh_cn", remembered_locale="zh_cn").call.locale == "zh_cn"


def test_several_people_with_the_name_ask_which_and_no_one_says_so(find_people):
    assert understand("张伟的OKR", find_people).call.options["choose"] == "张伟"
    assert understand("okr Li last", find_people).call.options["choose"] == "Li"
    assert understand("okr Li last", find_people).call.args == ("last",)
    assert understand("查无此人的OKR", find_people).call.options["who"] == "查无此人"
    assert "choose" not in understand("okr 王磊", find_people).call.options


def test_a_person_comes_before_a_period_of_the_same_name(find_people):
    """Names are looked up first: someone called like a period word is that person (the rest is the period)."""
    people = [p for p in ("田野", "方圆", "夏雨")]  # seed names that are also ordinary words
    for name in people:
        call = understand(f"okr {name} 上期", find_people).call
        assert [m.name for m in call.mentions] == [name] and call.args == ("上期",)


def test_what_is_not_understood_keeps_the_text_for_the_answer_and_suggests_the_closest_command(find_people):
    call = understand("whoiss Alex", find_people).call
    assert call.options["text"] == "whoiss Alex"
    assert closest_commands("whoiss Alex", ALIASES)[0] == "whois"
    assert closest_commands("hlep", ALIASES)[0] == "help"
    assert closest_commands("okrr", ALIASES)[0] == "okr"
    assert closest_commands("今天天气怎么样", ALIASES) == ["okr", "team", "help"]  # nothing close: the usual


def test_mentions_of_the_bot_and_at_all_are_never_arguments(find_people):
    call = understand("@_user_1 @_all team", find_people, mentions=(BOT, ZHANG)).call
    assert call.name == "team" and call.mentions == ()


def test_the_parser_reads_names_only_where_a_name_can_be(find_people):
    """No directory lookup for a command that does not take a name, nor for long text or numbers."""
    asked: list[str] = []

    def recording(name):
        asked.append(name)
        return find_people(name)

    for text in ("remind okr fri 17:00", "digest on mon 9:00", "help", "12345", "okr 2026 Q4", "x" * 600):
        PARSER.understand(text, (), bot_open_id="ou_bot", find_people=recording)
    assert asked == []


# -- every alias the README's command table promises works ---------------------------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_command_rows() -> list[tuple[str, list[str]]]:
    """(command name, the aliases its row lists) for each row of README's command table."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| command | aliases | what it does |"):]
    table = table[: table.index("\n\n")]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        usage, aliases = cells[0], cells[1]
        names = re.findall(r"`([^`]+)`", usage)
        aliases = aliases.split("(")[0]  # "(filters also …)" lists arguments, not aliases
        rows.append((names[0].split()[0], [*(n for n in names), *re.findall(r"`([^`]+)`", aliases)]))
    return rows


def test_the_readme_command_table_lists_every_command():
    listed = {name for name, _ in _readme_command_rows()}
    assert listed == {c.name for c in ALL if not c.hidden}


@pytest.mark.parametrize(("command", "phrases"), _readme_command_rows(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_alias_in_the_readme_runs_its_command(find_people, command, phrases):
    for phrase in phrases:
        phrase = re.sub(r"@\S+", "@_user_2", phrase.replace("\\|", "|"))
        phrase = re.sub(r"\[[^\]]*\]|<[^>]*>", "", phrase)  # usage placeholders: [period | last], <when>
        assert understand(phrase, find_people).call.name == command, phrase


@pytest.mark.parametrize("command", [c for c in ALL if not c.hidden], ids=lambda c: c.name)
def test_every_registered_alias_runs_its_command(find_people, command):
    for alias in (command.name, *command.aliases):
        assert understand(alias, find_people).call.name == command.name, alias
