"""attendance / 考勤组, end to end: HTTP in, lark-oapi out to the sandbox, cards read from the outbox."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pytest

from bot.inbound import InlineExecutor
from bot.models import AttendanceGroup, AttendanceMember, Department, Person, PunchResult
from bot.transports.webhook import create_app
from cards.attendance import build_attendance_card, build_groups_card
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, render_text
from tests.conftest import NOW, Chat, card_title

ADMIN = "张敏"  # a product manager with no reports, made a bot admin here
MANAGER = "刘洋"  # leads 前端组: ten reports, nine of them in 总部考勤组
NOBODY = "吴桐"  # neither admin nor manager


@pytest.fixture
def chat(sandbox, settings) -> Chat:
    """The bot with one admin; its clock is on the sandbox's anchor day, when punch results exist."""
    admins = frozenset({sandbox.seed.find_person(ADMIN).open_id})
    app = create_app(settings.with_(admins=admins), executor=InlineExecutor(), clock=lambda: NOW)
    return Chat(app.test_client(), sandbox, settings)


def _group(sandbox, key: str) -> Any:
    return sandbox.seed.group(key)


def _mark(sandbox) -> int:
    return len(sandbox.state.requests.entries())


def _requests_since(sandbox, mark: int, path: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.state.requests.matching(path) if r["seq"] >= mark]


def _plain(markdown: str) -> str:
    return html.unescape(re.sub(r"</?font[^>]*>", "", markdown).replace("**", ""))


def _panels(card: dict[str, Any]) -> dict[str, str]:
    """Department section title -> its text."""
    return {
        _plain(e["header"]["title"]["content"]).split(" · ")[0]: "\n".join(
            _plain(x["content"]) for x in e["elements"] if x.get("tag") == "markdown")
        for e in card["body"]["elements"] if e.get("tag") == "collapsible_panel"
    }


def _names_by_kind(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        label, _, names = line.partition("：")
        found[label] = names.split("、")
    return found


def _all_pages(chat: Chat, as_person: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    cards = [entry["content"]]
    while any(b["text"]["content"] == "下一页" and not b.get("disabled") for b in buttons_of(cards[-1])):
        status, answer = chat.click(as_person, {**entry, "content": cards[-1]}, "下一页")
        assert status == 200
        cards.append(answer["card"]["data"])
    return cards


# -- who may see what ------------------------------------------------------------------------------
def test_admin_sees_a_group_by_name_grouped_by_department_with_must_and_need_not(chat, sandbox):
    [entry] = chat.say(ADMIN, "考勤组 弹性工时组")
    card = entry["content"]
    assert_valid_card(card)
    assert card_title(entry) == "考勤组：弹性工时组"
    assert "共 3 人：需打卡 2，无需打卡 1" in chat.text_of(entry)
    panels = _panels(card)
    assert list(panels) == ["研发部"]
    kinds = _names_by_kind(panels["研发部"])
    assert sorted(kinds["需打卡"]) == sorted(["黄建国", "李星"])
    assert kinds["无需打卡"] == ["陈立"]


def test_admin_finds_a_group_by_id_in_english_and_names_stay_escaped(chat, sandbox):
    flex = _group(sandbox, "flex")
    mark = _mark(sandbox)
    [entry] = chat.say(ADMIN, f"attendance {flex.group_id}")
    card = entry["content"]
    assert_valid_card(card)
    assert card_title(entry) == "Attendance group: 弹性工时组"
    assert _requests_since(sandbox, mark, f"/attendance/v1/groups/{flex.group_id}")[0]["method"] == "GET"
    assert not _requests_since(sandbox, mark, "/attendance/v1/groups/search")
    markdown = str(card["body"])
    assert "<at" not in markdown and "](" not in markdown  # 李星's English name carries markdown and <at>
    assert "*Star* [Lee](http://x) <at id=all></at>" in chat.text_of(entry)
    assert "3 people: 2 must clock in, 1 need not" in chat.text_of(entry)


def test_list_user_reads_every_page_with_at_most_50_and_every_member_appears_once(chat, sandbox):
    hq = _group(sandbox, "hq")
    mark = _mark(sandbox)
    [entry] = chat.say(ADMIN, "考勤组 总部考勤组")  # Chinese command words: a Chinese answer
    calls = _requests_since(sandbox, mark, f"/attendance/v1/groups/{hq.group_id}/list_user")
    assert all(int(c["query"]["page_size"][0]) <= 50 for c in calls)
    must_pages = [c for c in calls if c["query"]["member_clock_type"] == ["1"]]
    assert len(must_pages) >= 2 and "page_token" in must_pages[-1]["query"]
    assert [c["query"]["member_clock_type"] for c in calls].count(["2"]) >= 1

    assert "共 55 人：需打卡 53，无需打卡 2" in chat.text_of(entry)
    pages = _all_pages(chat, ADMIN, entry)
    assert len(pages) == 3
    seen: dict[str, tuple[str, str]] = {}
    for page in pages:
        assert_valid_card(page)
        for dept, text in _panels(page).items():
            for kind, names in _names_by_kind(text).items():
                for name in names:
                    assert name not in seen, f"{name} listed twice"
                    seen[name] = (dept, kind)
    members = [sandbox.seed.person_by_id(m.user_id, "user_id") for m in hq.members]
    assert len(seen) == 55
    for member, person in zip(hq.members, members, strict=True):
        dept, kind = seen[person.name]
        assert dept == person.department_name
        assert kind == ("需打卡" if member.clock_type == 1 else "无需打卡")


def test_a_manager_sees_only_their_reports_and_how_many_were_left_out(chat, sandbox):
    [entry] = chat.say(MANAGER, "考勤组 总部考勤组")
    assert_valid_card(entry["content"])
    text = chat.text_of(entry)
    manager = sandbox.seed.find_person(MANAGER)
    reports = {p.name for p in sandbox.seed.people if p.leader_key == manager.key}
    hq_ids = {m.user_id for m in _group(sandbox, "hq").members}
    expected = {p.name for p in sandbox.seed.people if p.leader_key == manager.key and p.user_id in hq_ids}
    shown = {name for text_ in _panels(entry["content"]).values()
             for names in _names_by_kind(text_).values() for name in names}
    assert shown == expected and shown <= reports
    assert f"共 {len(expected)} 人" in text
    assert f"另有 {55 - len(expected)} 名成员不在你的汇报线上" in text
    assert "王磊" not in text


def test_someone_who_is_neither_admin_nor_manager_is_refused_without_any_attendance_call(chat, sandbox):
    mark = _mark(sandbox)
    [entry] = chat.say(NOBODY, "考勤组 总部考勤组")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "无法查看"
    assert "管理员" in chat.text_of(entry)
    [entry] = chat.say(NOBODY, "考勤组 没有这个组")
    assert card_title(entry) == "无法查看"
    assert "总部考勤组" not in chat.text_of(entry)
    assert not _requests_since(sandbox, mark, "/attendance")
    [entry] = chat.say(NOBODY, "考勤组")
    assert "attendance <group name | group id> [today]" in chat.text_of(entry)


def test_in_a_group_chat_the_card_goes_to_the_asker_alone(chat, sandbox):
    admin = sandbox.seed.find_person(ADMIN)
    entries = chat.say(ADMIN, "考勤组 总部考勤组", group="eng_weekly")
    private = [e for e in entries if e["receive_id"] == admin.open_id]
    public = [e for e in entries if e is not private[0]]
    assert len(private) == 1 and len(public) == 1
    assert card_title(private[0]) == "考勤组：总部考勤组"
    assert public[0]["reply_to"] and card_title(public[0]) == "已私信发送"
    assert "王磊" not in chat.text_of(public[0])
    for e in entries:
        assert_valid_card(e["content"])


# -- today -----------------------------------------------------------------------------------------
def test_today_adds_punch_results_queried_in_batches_of_at_most_50(chat, sandbox):
    hq = _group(sandbox, "hq")
    mark = _mark(sandbox)
    [entry] = chat.say(ADMIN, "考勤组 总部考勤组 today")
    assert_valid_card(entry["content"])
    calls = _requests_since(sandbox, mark, "/attendance/v1/user_tasks/query")
    assert len(calls) >= 2
    assert all(len(c["body"]["user_ids"]) <= 50 for c in calls)
    assert sorted(i for c in calls for i in c["body"]["user_ids"]) == sorted(m.user_id for m in hq.members)
    assert {c["body"]["check_date_from"] for c in calls} == {20261125}
    assert all(c["query"]["employee_type"] == ["employee_id"] for c in calls)

    tasks = [sandbox.seed.user_tasks[(m.user_id, 20261125)]["records"][0] for m in hq.members]
    late = sum(1 for r in tasks if r["check_in_result"] == "Late")
    early = sum(1 for r in tasks if r["check_out_result"] == "Early")
    text = chat.text_of(entry)
    assert entry["content"]["header"]["subtitle"]["content"] == "2026-11-25"
    assert "2026-11-25 打卡结果" in text
    assert f"迟到 {late}" in text and f"早退 {early}" in text
    pages = _all_pages(chat, ADMIN, entry)  # the next pages keep `today`...
    assert len(pages) == 3
    assert len(_requests_since(sandbox, mark, "/attendance/v1/user_tasks/query")) == len(calls)  # ...and reuse
    everything = "\n".join(render_text(p) for p in pages)
    for on_leave in ("刘芳", "冯超"):
        assert re.search(rf"• {on_leave}\s+上班 无需打卡 · 下班 无需打卡", everything)
    assert re.search(r"• 孙悦\s+无需打卡$", everything, re.MULTILINE)  # need not clock in at all
    late_names = {sandbox.seed.person_by_id(m.user_id, "user_id").name for m, r in zip(hq.members, tasks, strict=True)
                  if r["check_in_result"] == "Late"}
    for name in late_names:
        assert re.search(rf"• {name}\s+上班 迟到", everything)


def test_a_manager_may_ask_for_today_and_gets_their_reports_only(chat, sandbox):
    mark = _mark(sandbox)
    [entry] = chat.say(MANAGER, "考勤组 总部考勤组 today")
    assert_valid_card(entry["content"])
    [call] = _requests_since(sandbox, mark, "/attendance/v1/user_tasks/query")
    manager = sandbox.seed.find_person(MANAGER)
    reports = {p.user_id for p in sandbox.seed.people if p.leader_key == manager.key}
    assert set(call["body"]["user_ids"]) <= reports


# -- buttons are re-checked against the clicker ------------------------------------------------------
def test_next_page_clicked_by_someone_who_may_not_see_it_answers_with_a_toast(chat, sandbox):
    [entry] = chat.say(ADMIN, "考勤组 总部考勤组")
    before = sandbox.state.messages.content(entry["message_id"])
    assert "第 1/3 页" in chat.text_of(entry)

    status, answer = chat.click(NOBODY, entry, "下一页")
    assert status == 200
    assert "card" not in answer and answer["toast"]["content"]
    assert sandbox.state.messages.content(entry["message_id"]) == before

    status, answer = chat.click(ADMIN, entry, "下一页")
    assert status == 200
    card = answer["card"]["data"]
    assert_valid_card(card)
    assert "第 2/3 页" in render_text(card)


# -- finding the group -----------------------------------------------------------------------------
def test_an_unknown_group_lists_the_groups_that_exist_and_a_click_opens_one(chat, sandbox):
    mark = _mark(sandbox)
    [entry] = chat.say(ADMIN, "考勤组 不存在的组")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "没有找到考勤组"
    text = chat.text_of(entry)
    for group in sandbox.seed.groups:
        assert group.group_name in text
    listed = _requests_since(sandbox, mark, "/attendance/v1/groups")
    assert all(int(c["query"]["page_size"][0]) <= 50 for c in listed if c["path"].endswith("/groups"))
    status, answer = chat.click(ADMIN, entry, "查看")
    assert status == 200
    assert answer["card"]["data"]["header"]["title"]["content"].startswith("考勤组：")


def test_a_partial_name_opens_the_only_match_and_several_matches_offer_a_choice(chat, sandbox):
    [entry] = chat.say(ADMIN, "考勤组 外勤")
    assert card_title(entry) == "考勤组：市场外勤组"
    [entry] = chat.say(ADMIN, "考勤组 组")
    assert card_title(entry) == "找到多个考勤组"
    assert len([b for b in buttons_of(entry["content"]) if b["text"]["content"] == "查看"]) == 3


def test_no_argument_lists_the_groups_for_a_manager(chat, sandbox):
    [entry] = chat.say(MANAGER, "考勤组")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "考勤组"
    assert "总部考勤组" in chat.text_of(entry)


def test_a_missing_attendance_permission_reads_well(chat, sandbox):
    sandbox.state.faults.inject("/open-apis/attendance/v1/groups/search", times=5, http_status=400, code=1220006,
                               msg="enterprise tenant app has no privilege")
    [entry] = chat.say(ADMIN, "考勤组 总部考勤组")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "出错了"
    text = chat.text_of(entry)
    assert "考勤权限" in text and "1220006" in text


# -- the card builders on their own --------------------------------------------------------------
EVIL = "*Star* [Lee](http://x) <at id=all></at> _x_"


@pytest.mark.parametrize("locale", ["zh_cn", "en_us"])
def test_cards_are_valid_escaped_and_stay_within_limits(locale):
    dept = Department("od-1", EVIL, EVIL)
    people = [Person(open_id=f"ou_{i}", name=f"{EVIL}{i}", en_name=EVIL, user_id=f"u{i}") for i in range(300)]
    members = [(AttendanceMember(f"u{i}", ("od-1", "0"), must_clock=i % 3 != 0), p) for i, p in enumerate(people)]
    members.append((AttendanceMember("ghost"), None))
    punches = {f"u{i}": (PunchResult(f"u{i}", date(2026, 11, 25), "Late", "Weird<at>"),) for i in range(300)}
    group = AttendanceGroup("1", EVIL)
    cards = [
        build_attendance_card(group, members, departments={"od-1": dept}, locale=locale, page=7, page_size=20,
                              value_for_page=lambda n: {"cmd": "attendance", "page": n}, hidden=4,
                              day=date(2026, 11, 25), punches=punches),
        build_attendance_card(group, [], departments={}, locale=locale, page=0, page_size=20,
                              value_for_page=lambda n: {"cmd": "attendance", "page": n}, hidden=4),
        build_groups_card([AttendanceGroup(str(i), EVIL) for i in range(500)], locale=locale, query=EVIL,
                          value_for=lambda g: {"cmd": "attendance", "args": [g.group_id]}),
        build_groups_card([], locale=locale, value_for=lambda g: {}),
    ]
    for card in cards:
        assert_valid_card(card)
        body = str(card["body"])
        assert "<at" not in body and "](" not in body
