"""Every permission check, both ways: someone who must be refused is refused AND nothing was done (no
subscription changed, nothing sent to the group or the person, no profile changed), and someone allowed gets
what they asked for. What was done is read from the store and from what the bot SENT (the request log).

Cast (the sandbox seed): 郭芳 is the bot admin here; 陈立 owns the group eng_weekly and leads 研发部;
王磊 leads 后端组; 刘芳 and 杨帆 are engineers in 后端组 with no reports; 何静 leads 市场部."""

from __future__ import annotations

from typing import Any

import pytest

from bot.inbound import InlineExecutor
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER, Store
from bot.transports.webhook import create_app
from devkit.cardtext import buttons_of
from tests.conftest import NOW, Chat, card_title

REFUSED_TITLES = {"无法查看", "Not available to you"}


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/bot.db")


@pytest.fixture
def bot_settings(settings, sandbox, tmp_path):
    return settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                          database_url=f"sqlite:///{tmp_path}/bot.db")


@pytest.fixture
def bot(bot_settings, sandbox, store) -> Chat:
    app = create_app(bot_settings, executor=InlineExecutor(), clock=lambda: NOW, store=store)
    return Chat(app.test_client(), sandbox, bot_settings)


def sent_to(sandbox: Any, receive_id: str) -> list[dict[str, Any]]:
    """Every new message the bot asked Feishu to send to `receive_id` (a chat or a person), duplicates included."""
    return [r for r in sandbox.state.requests.matching("/im/v1/messages", "POST")
            if isinstance(r["body"], dict) and r["body"].get("receive_id") == receive_id]


def group_id(sandbox: Any, key: str = "eng_weekly") -> str:
    return sandbox.seed.chat(key).chat_id


def open_id(sandbox: Any, key: str) -> str:
    return sandbox.seed.person(key).open_id


def refused(entries: list[dict[str, Any]]) -> bool:
    return len(entries) == 1 and card_title(entries[0]) in REFUSED_TITLES


# -- admin-only and manager-only commands (table-driven) -----------------------------------------------------

# (command, who is refused, who is allowed, a title the allowed answer has)
ASKS = [
    ("stats", "刘芳", "郭芳", "statistics"),
    ("stats", "王磊", "郭芳", "statistics"),  # a manager is not an admin
    ("roster", "刘芳", "王磊", "Roster"),
    ("roster", "刘芳", "郭芳", "Roster"),
    ("attendance 总部考勤组", "刘芳", "王磊", "总部考勤组"),
    ("attendance 总部考勤组", "刘芳", "郭芳", "总部考勤组"),
]


@pytest.mark.parametrize(("text", "refused_person", "allowed_person", "allowed_title"), ASKS)
def test_admin_and_manager_commands_both_ways(bot, sandbox, text, refused_person, allowed_person, allowed_title):
    mark = len(sandbox.state.requests.entries())
    entries = bot.say(refused_person, text)
    assert refused(entries), [card_title(e) for e in entries]
    reads = [r["path"] for r in sandbox.state.requests.entries()[mark:]
             if r["path"].startswith(("/open-apis/ehr", "/open-apis/attendance"))]
    assert reads == []  # refused before any roster or attendance data was read
    [entry] = [e for e in bot.say(allowed_person, text) if e.get("receive_id") != group_id(sandbox)]
    assert card_title(entry) not in REFUSED_TITLES
    assert allowed_title.casefold() in (card_title(entry) + bot.text_of(entry)).casefold()


def test_digest_on_for_everyone_is_for_admins_only(bot, store, sandbox):
    assert refused(bot.say("王磊", "digest on all"))
    assert store.subscriptions.find(kind=KIND_MANAGER_DIGEST) == []
    bot.say("郭芳", "digest on all")
    assert len(store.subscriptions.find(kind=KIND_MANAGER_DIGEST)) > 1


def test_digest_on_is_for_managers_only(bot, store, sandbox):
    assert refused(bot.say("刘芳", "digest on"))
    assert store.subscriptions.find(kind=KIND_MANAGER_DIGEST) == []
    bot.say("王磊", "digest on")
    assert [s.target for s in store.subscriptions.find(kind=KIND_MANAGER_DIGEST)] == [open_id(sandbox, "wanglei")]


def test_digest_now_is_for_managers_only_and_sends_nothing_to_others(bot, sandbox):
    assert refused(bot.say("刘芳", "digest now"))
    assert sent_to(sandbox, open_id(sandbox, "liufang")) == []
    bot.say("王磊", "digest now")
    assert len(sent_to(sandbox, open_id(sandbox, "wanglei"))) == 1


# -- a group's reminders: only its owner or managers, or a bot admin ------------------------------------------

def _reminder(store, sandbox):
    return store.subscriptions.add(kind=KIND_OKR_REMINDER, target=group_id(sandbox), created_by=open_id(
        sandbox, "cto"), schedule={"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri",
                                   "timezone": "Asia/Shanghai"})


@pytest.mark.parametrize("allowed", ["陈立", "郭芳"])  # the group's owner; a bot admin who is not a member
def test_remind_add_both_ways(bot, store, sandbox, allowed):
    assert refused(bot.say("刘芳", "提醒 OKR 周五 17:00", group="eng_weekly"))
    assert store.subscriptions.find() == []
    [entry] = bot.say(allowed, "提醒 OKR 周五 17:00", group="eng_weekly")
    assert card_title(entry) == "OKR 提醒已开启"
    assert [s.target for s in store.subscriptions.find()] == [group_id(sandbox)]


@pytest.mark.parametrize("allowed", ["陈立", "郭芳"])
def test_remind_off_both_ways(bot, store, sandbox, allowed):
    sub = _reminder(store, sandbox)
    assert refused(bot.say("刘芳", f"remind off {sub.id}", group="eng_weekly"))
    assert [s.id for s in store.subscriptions.find()] == [sub.id]  # still on
    [entry] = bot.say(allowed, f"remind off {sub.id}", group="eng_weekly")
    assert card_title(entry) == "OKR reminder off"
    assert store.subscriptions.find() == []


@pytest.mark.parametrize("allowed", ["陈立", "郭芳"])
def test_remind_run_both_ways(bot, store, sandbox, allowed):
    _reminder(store, sandbox)
    assert refused(bot.say("刘芳", "remind run", group="eng_weekly"))
    assert sent_to(sandbox, group_id(sandbox)) == []  # nothing posted to the group
    assert all(s["status"] != "sent" for sub in store.subscriptions.find() for s in store.subscriptions.sends(sub.id))
    bot.say(allowed, "remind run", group="eng_weekly")
    assert len(sent_to(sandbox, group_id(sandbox))) == 1


# -- card buttons: nudge, roster paging, confirming a profile change -----------------------------------------

def test_nudge_is_for_the_reports_managers_only(bot, sandbox):
    manager = open_id(sandbox, "wanglei")
    digest = next(e for e in bot.say("王磊", "digest now") if e["receive_id"] == manager)
    nudge = next(b for b in buttons_of(digest["content"]) if b["text"]["content"] == "Nudge")
    target = nudge["behaviors"][0]["value"]["target"]
    for outsider in ("刘芳", "何静"):  # a teammate; another department's manager
        status, answer = bot.click(outsider, digest, "Nudge")
        assert status == 200 and answer["toast"]["type"] == "warning"
    assert sent_to(sandbox, target) == []
    status, answer = bot.click("陈立", digest, "Nudge")  # the report's manager's manager
    assert answer["toast"]["content"].startswith("Nudged")
    assert len(sent_to(sandbox, target)) == 1


def test_a_roster_page_clicked_by_someone_not_allowed_keeps_the_card(bot, sandbox):
    [entry] = bot.say("郭芳", "花名册 全部")
    mark = len(sandbox.state.requests.entries())
    status, answer = bot.click("刘芳", entry, "下一页")
    assert "card" not in answer and answer["toast"]["type"] == "warning"
    assert [r["path"] for r in sandbox.state.requests.entries()[mark:] if r["path"].startswith("/open-apis/ehr")] == []
    status, answer = bot.click("郭芳", entry, "下一页")
    assert "第 2/3 页" in str(answer["card"]["data"])


def test_a_manager_paging_an_admins_roster_sees_only_their_reports(bot, sandbox):
    [entry] = bot.say("郭芳", "花名册 全部")
    status, answer = bot.click("王磊", entry, "下一页")  # the click runs as 王磊: his reports only
    text = str(answer.get("card", {}).get("data", answer))
    reports = {p.name for p in sandbox.seed.people if p.leader_key == "wanglei"}
    outsiders = [p.name for p in sandbox.seed.people
                 if p.department_key in ("hr", "finance", "marketing") and p.name not in reports]
    assert "card" in answer and outsiders
    assert not [name for name in outsiders if name in text]


def test_a_profile_change_is_confirmed_by_its_owner_only(settings, sandbox, tmp_path):
    from tests.test_user_token import PUBLIC_URL, SECRET_KEY, login

    configured = settings.with_(secret_key=SECRET_KEY, public_url=PUBLIC_URL,
                                database_url=f"sqlite:///{tmp_path}/bot.db")
    bot = Chat(create_app(configured, executor=InlineExecutor(), clock=lambda: NOW).test_client(), sandbox,
               configured)
    login(bot, "杨帆")
    login(bot, "邵华")  # logged in too: only the owner check stands between her click and a change
    [entry] = bot.say("杨帆", "我 设置 城市 杭州")
    status, answer = bot.click("邵华", entry, "确认修改")
    assert "card" not in answer and answer["toast"]["type"] == "warning"
    assert sandbox.state.profiles.of(open_id(sandbox, "yangfan")) == {}
    assert sandbox.state.profiles.of(open_id(sandbox, "shaohua")) == {}
    assert sandbox.state.requests.matching("/contact/v3/users", "PATCH") == []
    status, answer = bot.click("杨帆", entry, "确认修改")
    assert sandbox.state.profiles.of(open_id(sandbox, "yangfan"))["city"] == "杭州"


# -- OKR visibility -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("policy", "refused_person", "allowed_person"), [
    ("self", "王磊", "刘芳"),  # only oneself (and admins)
    ("self", "陈立", "郭芳"),
    ("team", "何静", "杨帆"),  # another department / the same department
    ("team", "何静", "王磊"),  # the manager
])
def test_okr_of_someone_else_by_policy_both_ways(bot_settings, sandbox, store, policy, refused_person,
                                                  allowed_person):
    configured = bot_settings.with_(okr_visibility=policy)
    bot = Chat(create_app(configured, executor=InlineExecutor(), clock=lambda: NOW, store=store).test_client(),
               sandbox, configured)
    entries = bot.say(refused_person, "okr {0}", mentions=("刘芳",))
    assert refused(entries)
    assert "Objective" not in str(entries) and sandbox.state.requests.matching("/okr/v1/users") == []
    [entry] = bot.say(allowed_person, "okr {0}", mentions=("刘芳",))
    assert card_title(entry) not in REFUSED_TITLES
    assert sandbox.state.requests.matching("/okr/v1/users")  # the OKRs were read for the allowed asker only
