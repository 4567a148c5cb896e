"""Half-commands: a command missing its argument, or given one that names nothing, gets a card that says what is
wrong and offers what to do as buttons (issue 14) — never a permission refusal, a silent list, or a dead end."""

from __future__ import annotations

import pytest

from bot.inbound import InlineExecutor
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, callback_value
from tests.conftest import NOW, Chat, card_title

REFUSAL_TITLES = {"无法查看", "Not available to you"}


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/bot.db")


@pytest.fixture
def bot(settings, sandbox, store, tmp_path):
    """BOT_ADMINS is the head of HR, 郭芳; 陈立 (the CTO) owns the eng_weekly group; 王磊 manages a team."""
    admin_settings = settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                                    database_url=f"sqlite:///{tmp_path}/bot.db")
    app = create_app(admin_settings, executor=InlineExecutor(), clock=lambda: NOW, store=store)
    return Chat(app.test_client(), sandbox, admin_settings)


def labels(entry) -> list[str]:
    return [b["text"]["content"] for b in buttons_of(entry["content"])]


def said(bot, *args, **kwargs):
    """The card the bot answered with, checked against the card schema; a click on it names its chat, as
    Feishu's callback does."""
    entry = bot.say(*args, **kwargs)[-1]
    assert_valid_card(entry["content"])
    if kwargs.get("group"):
        entry = {**entry, "chat_id": bot.sandbox.seed.chat(kwargs["group"]).chat_id}
    return entry


def clicked(bot, as_person, entry, label):
    status, answer = bot.click(as_person, entry, label)
    assert status == 200 and "card" in answer, answer
    card = answer["card"]["data"]
    assert_valid_card(card)
    return {**entry, "content": card}


def no_backticks(bot, entry) -> None:
    assert "`" not in bot.text_of(entry), bot.text_of(entry)


# -- remind off / run: which reminder ---------------------------------------------------------------------------

def _three_reminders(bot, store) -> list:
    for day in ("mon", "wed", "fri"):
        assert card_title(said(bot, "陈立", f"remind okr {day} 17:00", group="eng_weekly")) == "OKR reminder on"
    return store.subscriptions.find(kind=KIND_OKR_REMINDER)


def test_remind_off_an_unknown_number_says_so_and_offers_the_groups_reminders(bot, store):
    subs = _three_reminders(bot, store)
    entry = said(bot, "陈立", "remind off 99", group="eng_weekly")
    assert card_title(entry) == "No such reminder"
    assert "no reminder #99 in this group" in bot.text_of(entry)
    assert labels(entry) == [f"Turn off #{s.id}" for s in subs]
    no_backticks(bot, entry)
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == subs  # nothing turned off
    entry = clicked(bot, "陈立", entry, f"Turn off #{subs[1].id}")
    assert card_title(entry) == "OKR reminder off"
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == [subs[0], subs[2]]


def test_remind_off_a_word_says_it_is_not_a_number_even_with_one_reminder(bot, store):
    said(bot, "陈立", "remind okr fri 17:00", group="eng_weekly")
    [sub] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    entry = said(bot, "陈立", "remind off abc", group="eng_weekly")
    assert card_title(entry) == "Not a reminder number"
    assert "“abc” is not a reminder number" in bot.text_of(entry)
    assert labels(entry) == [f"Turn off #{sub.id}"]
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == [sub]  # the only one is not turned off
    entry = said(bot, "陈立", "提醒 关闭 " + "很长的一段话" * 20, group="eng_weekly")
    assert card_title(entry) == "不是提醒编号"
    assert "很长的一段话" * 6 not in bot.text_of(entry) and "…" in bot.text_of(entry)  # a short excerpt


def test_remind_off_with_several_asks_which_and_with_one_turns_it_off(bot, store):
    subs = _three_reminders(bot, store)
    entry = said(bot, "陈立", "提醒 关闭", group="eng_weekly")
    assert card_title(entry) == "要关闭哪一个？"
    assert labels(entry) == [f"关闭 #{s.id}" for s in subs]
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == subs
    for sub in subs[1:]:
        said(bot, "陈立", f"remind off {sub.id}", group="eng_weekly")
    entry = said(bot, "陈立", "remind off", group="eng_weekly")
    assert card_title(entry) == "OKR reminder off"
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == []


def test_remind_run_with_several_asks_which_and_the_button_runs_that_one(bot, store, sandbox):
    subs = _three_reminders(bot, store)
    entry = said(bot, "陈立", "提醒 立即", group="eng_weekly")
    assert card_title(entry) == "要立即发送哪一个？"
    assert labels(entry) == [f"立即发送 #{s.id}" for s in subs]
    assert not store.subscriptions.sends(subs[0].id)  # nothing ran
    entry = clicked(bot, "陈立", entry, f"立即发送 #{subs[2].id}")
    assert card_title(entry) == "立即提醒"
    assert store.subscriptions.sends(subs[2].id) and not store.subscriptions.sends(subs[0].id)
    entry = said(bot, "陈立", "remind run 99", group="eng_weekly")
    assert card_title(entry) == "No such reminder" and labels(entry) == [f"Run now #{s.id}" for s in subs]


def test_a_reminder_button_clicked_by_a_member_who_may_not_change_them_changes_nothing(bot, store):
    subs = _three_reminders(bot, store)
    entry = said(bot, "陈立", "remind off 99", group="eng_weekly")
    status, answer = bot.click("刘芳", entry, f"Turn off #{subs[0].id}")
    assert status == 200 and "card" not in answer
    assert store.subscriptions.find(kind=KIND_OKR_REMINDER) == subs


# -- remind okr ... stale N ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "given", "fixed"), [
    ("remind okr fri 17:00 stale 100", "100", "remind okr fri 17:00 stale 90"),
    ("remind okr fri 17:00 stale 0", "0", "remind okr fri 17:00 stale 1"),
    ("remind okr weekdays 9:30 stale", "stale", "remind okr weekdays 9:30"),
    ("remind okr fri 17:00 stale " + "9" * 150, "9" * 29 + "…", "remind okr fri 17:00 stale 90"),
])
def test_stale_days_out_of_range_get_the_range_and_a_corrected_example(bot, store, text, given, fixed):
    entry = said(bot, "陈立", text, group="eng_weekly")
    assert card_title(entry) == "Stale days must be 1–90"
    words = bot.text_of(entry)
    assert f"“{given}” is not a number of days from 1 to 90" in words and "One time" not in words
    assert labels(entry) == [f"Try: {fixed}"]
    no_backticks(bot, entry)
    assert store.subscriptions.find() == []
    entry = clicked(bot, "陈立", entry, f"Try: {fixed}")
    assert card_title(entry) == "OKR reminder on"
    [sub] = store.subscriptions.find(kind=KIND_OKR_REMINDER)
    assert sub.stale_days == (int(fixed.rsplit(" ", 1)[1]) if "stale" in fixed else 7)


def test_stale_days_in_range_still_work_in_both_languages(bot, store):
    said(bot, "陈立", "remind okr fri 17:00 stale 90", group="eng_weekly")
    said(bot, "陈立", "提醒 OKR 周一 9:00 超过14天", group="eng_weekly")
    assert sorted(s.stale_days for s in store.subscriptions.find(kind=KIND_OKR_REMINDER)) == [14, 90]


# -- time phrases: no backticks, the corrected command is a button ----------------------------------------------

@pytest.mark.parametrize(("text", "fixed"), [
    ("remind okr fri 25:00", "Try: remind okr fri 17:00"),
    ("remind okr fri 9:00 17:00 stale 3", "Try: remind okr fri 17:00 stale 3"),
    ("remind okr fri 17:00 Asia/Tokio", "Try: remind okr fri 17:00 Asia/Tokyo"),
    ("提醒 OKR 周五 25:00", "试试：提醒 OKR 周五 17:00"),
])
def test_a_time_that_does_not_read_offers_the_corrected_command_as_a_button(bot, store, text, fixed):
    entry = said(bot, "陈立", text, group="eng_weekly")
    assert card_title(entry) in ("I could not read that time", "没看懂这个时间")
    no_backticks(bot, entry)
    assert labels(entry) == [fixed]
    assert card_title(clicked(bot, "陈立", entry, fixed)) in ("OKR reminder on", "OKR 提醒已开启")
    assert len(store.subscriptions.find(kind=KIND_OKR_REMINDER)) == 1


def test_a_digest_time_that_does_not_read_offers_the_corrected_command_as_a_button(bot, store):
    entry = said(bot, "王磊", "digest on mon 25:00")
    no_backticks(bot, entry)
    [label] = labels(entry)
    assert label.startswith("Try: digest on ")
    assert "on" in bot.text_of(clicked(bot, "王磊", entry, label))
    assert len(store.subscriptions.find(kind=KIND_MANAGER_DIGEST)) == 1


def test_a_button_value_carries_the_command_words_only(bot, store):
    entry = said(bot, "陈立", "remind okr fri 25:00", group="eng_weekly")
    [button] = buttons_of(entry["content"])
    assert callback_value(button) == {"cmd": "remind", "locale": "en_us", "args": ["okr", "fri", "17:00"]}


# -- digest: the bare command is the status; on again moves it ------------------------------------------------

def test_bare_digest_from_someone_without_reports_says_why_and_what_instead(bot, store):
    entry = said(bot, "刘芳", "digest")
    assert card_title(entry) == "No digest for you"
    text = bot.text_of(entry)
    assert "you have no direct reports, so there is no digest for you" in text.lower()
    assert "Nothing sent yet" not in text and "Digest log" not in text
    assert labels(entry) == ["My OKRs"]
    assert "OKR" in card_title(clicked(bot, "刘芳", entry, "My OKRs"))



def test_bare_digest_from_a_bot_admin_without_reports_offers_on_all(settings, sandbox, store):
    admin = sandbox.seed.person("liufang").open_id  # no reports
    app = create_app(settings.with_(admins=frozenset({admin})), executor=InlineExecutor(), clock=lambda: NOW,
                     store=store)
    entry = said(Chat(app.test_client(), sandbox, settings), "刘芳", "周报")
    assert card_title(entry) == "没有你的周报" and labels(entry) == ["我的 OKR", "为所有负责人开启"]


def test_bare_digest_from_a_manager_shows_its_state_with_buttons(bot, store, sandbox):
    entry = said(bot, "王磊", "digest")
    assert card_title(entry) == "Team digest" and "off" in bot.text_of(entry)
    assert labels(entry) == ["Turn on (Mon 09:00)", "Send one now"]
    entry = clicked(bot, "王磊", entry, "Turn on (Mon 09:00)")
    [sub] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    entry = said(bot, "王磊", "digest")
    text = bot.text_of(entry)
    assert "on: Mondays at 09:00" in text and "Next: 2026-11-30 09:00" in text and "last sent: not yet" in text
    assert labels(entry) == ["Send one now", "Turn off", "Log"]
    clicked(bot, "王磊", entry, "Turn off")
    assert store.subscriptions.find(kind=KIND_MANAGER_DIGEST) == []
    assert sub.target == sandbox.seed.person("wanglei").open_id


def test_digest_on_again_moves_the_one_digest(bot, store):
    said(bot, "王磊", "digest on mon 09:00")
    [before] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    entry = said(bot, "王磊", "digest on fri 17:00")
    assert card_title(entry) == "Digest moved"
    assert "Digest moved to Fridays at 17:00 (Asia/Shanghai) (was Mondays at 09:00" in bot.text_of(entry)
    [after] = store.subscriptions.find(kind=KIND_MANAGER_DIGEST)
    assert after.id == before.id and after.schedule["day_of_week"] == "fri"
    entry = said(bot, "王磊", "周报 开启 周二 8:00")
    assert card_title(entry) == "周报时间已修改" and "改到 每周二 08:00" in bot.text_of(entry)
    assert len(store.subscriptions.find(kind=KIND_MANAGER_DIGEST)) == 1


# -- roster dept: the departments to pick from ------------------------------------------------------------------

@pytest.fixture
def hr_bot(settings, sandbox):
    """BOT_ADMINS is the head of HR, 郭芳 (as in tests/test_roster.py)."""
    admin = sandbox.seed.person("guofang").open_id
    app = create_app(settings.with_(admins=frozenset({admin})), executor=InlineExecutor(), clock=lambda: NOW)
    return Chat(app.test_client(), sandbox, settings)


def test_roster_dept_without_a_name_lists_the_departments_as_buttons(hr_bot, sandbox):
    entry = said(hr_bot, "郭芳", "roster dept")
    assert card_title(entry) == "Pick a department" and card_title(entry) not in REFUSAL_TITLES
    assert sorted(labels(entry)) == sorted(d.en_name for d in sandbox.seed.departments)
    entry = clicked(hr_bot, "郭芳", entry, "Backend")
    assert card_title(entry) == "Roster: Backend"
    entry = said(hr_bot, "郭芳", "花名册 部门")
    assert card_title(entry) == "选择部门" and "后端组" in labels(entry)


def test_roster_dept_offers_a_manager_only_the_departments_of_their_reports(hr_bot, sandbox):
    entry = said(hr_bot, "陈立", "roster dept")  # the CTO: Engineering and the teams below it
    assert labels(entry) == ["Engineering", "Backend", "Frontend"]


def test_roster_dept_with_an_unknown_name_offers_the_closest(hr_bot):
    entry = said(hr_bot, "郭芳", "roster dept Backnd")
    assert card_title(entry) == "No such department" and card_title(entry) not in REFUSAL_TITLES
    assert "No department named “Backnd”" in hr_bot.text_of(entry)
    assert labels(entry)[0] == "Backend" and labels(entry)[-1] == "All departments…" and len(labels(entry)) == 6
    assert card_title(clicked(hr_bot, "郭芳", entry, "Backend")) == "Roster: Backend"
    entry = said(hr_bot, "郭芳", "roster dept Sales")
    assert "No department named “Sales”" in hr_bot.text_of(entry) and len(labels(entry)) == 6
    entry = said(hr_bot, "郭芳", "roster dept " + "销售" * 40)
    assert "销售" * 16 not in hr_bot.text_of(entry) and "…" in hr_bot.text_of(entry)


def test_roster_dept_from_someone_who_may_not_see_the_roster_is_still_refused(hr_bot):
    for text in ("roster dept", "roster dept Sales"):
        entry = said(hr_bot, "刘芳", text)
        assert card_title(entry) == "Not available to you" and labels(entry) == []


# -- okr: an unknown period lists the periods as buttons ---------------------------------------------------------

def test_an_unknown_period_lists_the_periods_as_buttons_for_the_same_person(chat, sandbox):
    entry = said(chat, "王磊", "my okrs next next")
    assert card_title(entry) == "Unknown period"
    assert labels(entry) == ["Jan - Mar 2027", "Oct - Dec 2026", "Jul - Sep 2026", "Apr - Jun 2026"]
    assert "“next next”" in chat.text_of(entry)
    no_backticks(chat, entry)
    entry = clicked(chat, "王磊", entry, "Jul - Sep 2026")
    assert card_title(entry) == "Lei Wang's OKRs"
    assert entry["content"]["header"]["subtitle"]["content"] == "Jul - Sep 2026"
    entry = said(chat, "王磊", "OKR {0} 下下期", mentions=("刘芳",))  # someone else's: the buttons keep them
    assert card_title(entry) in ("找不到这个周期", "Unknown period") and len(labels(entry)) == 4
    entry = clicked(chat, "王磊", entry, labels(entry)[0])
    assert card_title(entry) in ("刘芳 的 OKR", "Fang Liu's OKRs")
