"""Real cards for the card renderer tests (tests/test_webchat_render.py): each built by the bot's own
builders in `cards/` from small model objects, with the names the chat page would pass to the renderer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands.help import build_help_reply, not_understood_reply, small_talk_reply
from bot.feishu.errors import FeishuApiError, RateLimited
from bot.models import (
    OKR_STATUS_AT_RISK,
    OKR_STATUS_DELAYED,
    OKR_STATUS_NORMAL,
    AttendanceGroup,
    AttendanceMember,
    Department,
    Employee,
    KeyResult,
    Objective,
    Okr,
    OkrPeriod,
    Person,
    PunchResult,
)
from bot.router import to_error_card
from cards.attendance import build_attendance_card, build_groups_card
from cards.auth import build_confirm_update_card, build_login_card, build_logout_card
from cards.digest import ChangeLine, ProblemLine, build_digest_card, build_nudge_card
from cards.notices import build_internal_error_card, build_refusal_card
from cards.okr import build_okr_card, build_periods_card
from cards.people import build_not_found_card, build_person_card, build_pick_card, build_team_card
from cards.reminder import RiskLine, StaleLine, build_reminder_card
from cards.roster import build_roster_card
from cards.subscriptions import SubscriptionLine, build_list_card, build_stats_card, build_why_card
from cards.welcome import build_welcome_card

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
# What a user might type, aimed at every markdown construct: it must show as these very characters.
EVIL = "*Star* [Lee](http://x) <at id=all></at> _x_ `y` ~~z~~ # h &lt;b&gt;"
LOGIN_URL = "https://sandbox.example/authorize?state=abc"

WANG = Person(open_id="ou_wang", name="王磊", en_name="Wang Lei", department_ids=("od_eng",), job_title="研发总监",
              city="杭州", email="wang@galaxy.example", leader_open_id="ou_zhou")
ZHOU = Person(open_id="ou_zhou", name="周星河", en_name="Zhou", department_ids=("od_ceo",), job_title="CEO")
LI = Person(open_id="ou_li", name="李娜", en_name="Li Na", department_ids=("od_eng",), job_title="工程师")
CHEN = Person(open_id="ou_chen", name="陈立", en_name="Chen Li", department_ids=("od_eng",), job_title="设计师")
ZHANG = Person(open_id="ou_zhang", name="张伟", en_name=EVIL, department_ids=("od_eng",), job_title="PM <b>",
               is_active=False)
PEOPLE = (WANG, ZHOU, LI, CHEN, ZHANG)
NAMES = {p.open_id: p.name for p in PEOPLE}
ENG = Department("od_eng", "研发部", "Engineering", leader_open_id="ou_wang")
CEO_OFFICE = Department("od_ceo", "总裁办", "CEO office")
DEPARTMENTS = {d.open_department_id: d for d in (ENG, CEO_OFFICE)}
PERIOD = OkrPeriod("p_2026h2", "2026 下半年", "2026 H2", datetime(2026, 7, 1, tzinfo=TZ),
                   datetime(2027, 1, 1, tzinfo=TZ))


def _page(n: int) -> dict[str, Any]:
    return {"cmd": "page", "page": n}


def okr_card(locale: str = "zh_cn") -> dict[str, Any]:
    krs = (
        KeyResult("kr1", "上线新版搜索 *beta*", 80, OKR_STATUS_NORMAL, score=70, weight=50,
                  deadline=NOW + timedelta(days=20), updated_at=NOW - timedelta(days=2)),
        KeyResult("kr2", "P99 延迟 < 200ms", 30, OKR_STATUS_DELAYED, updated_at=NOW - timedelta(days=12)),
    )
    objectives = (
        Objective("o1", "提升搜索体验 " + EVIL, 55, OKR_STATUS_AT_RISK, weight=60, updated_at=NOW - timedelta(days=1),
                  key_results=krs),
        Objective("o2", "secret", 0, OKR_STATUS_NORMAL, hidden=True),
    )
    return build_okr_card(WANG, (Okr("okr1", PERIOD.id, "2026 H2", objectives),), period=PERIOD, locale=locale,
                          now=NOW, tz=TZ, previous_value={"cmd": "okr", "period": "prev"}, next_value=None,
                          refresh_value={"cmd": "okr", "refresh": "ou_wang"})


def digest_card(locale: str = "zh_cn") -> dict[str, Any]:
    problems = [
        ProblemLine("ou_li", "李娜", 2, "<font color='red'>延期</font> 12 天未更新",
                    {"cmd": "nudge", "target": "ou_li"}),
        ProblemLine("ou_chen", "陈立", 1, "<font color='orange'>有风险</font>", {"cmd": "nudge", "target": "ou_chen"}),
    ]
    return build_digest_card(manager_name="王磊", period_name=PERIOD.zh_name, team_size=3, average_progress=48,
                             problems=problems, bars=[("李娜", 30), ("陈立", 55), ("张伟", 80)],
                             roster_changes=[ChangeLine("🆕 陈立 入职"), ChangeLine("👋 张伟 待离职")],
                             not_in_attendance=["张伟"], locale=locale)


def roster_card(count: int = 23, locale: str = "zh_cn") -> dict[str, Any]:
    employees = [Employee(open_id=f"ou_e{i}", name=f"员工{i:02d}", en_name=f"Emp {i}", department_id="od_eng",
                          job="工程师", employee_type=1 + i % 2, status=2 if i % 5 else 4,
                          hire_date=date(2024, 1, 1) + timedelta(days=i), last_day=date(2026, 12, 31))
                 for i in range(count)]
    employees[0] = Employee(open_id="ou_e0", name=EVIL, department_id="od_eng", job="<at id=ou_wang></at>", status=2)
    return build_roster_card(employees, title="花名册", summary=[("在职", count), ("待离职", 5)],
                             departments=DEPARTMENTS, locale=locale, page=0, value_for_page=_page)


def attendance_card(locale: str = "zh_cn") -> dict[str, Any]:
    people = {"e_li": LI, "e_chen": CHEN, "e_wang": WANG}
    members = [(AttendanceMember(emp, ("od_eng",), must_clock=emp != "e_wang"), p) for emp, p in people.items()]
    punches = {"e_li": [PunchResult("e_li", NOW.date(), "Late", "Normal")],
               "e_chen": [PunchResult("e_chen", NOW.date(), "Normal", "Lack")]}
    return build_attendance_card(AttendanceGroup("g1", "研发考勤"), members, departments=DEPARTMENTS, locale=locale,
                                 page=0, page_size=20, value_for_page=_page, day=NOW.date(), punches=punches)


def reminder_card(locale: str = "zh_cn") -> dict[str, Any]:
    return build_reminder_card(period_name=PERIOD.zh_name, stale_days=7, members=5, up_to_date=2, average_progress=50,
                               stale=[StaleLine("ou_li", 9), StaleLine("ou_chen", None)],
                               risks=[RiskLine("ou_wang", (("<font color='red'>已延期</font>", EVIL),))],
                               skipped=1, snooze_value={"cmd": "snooze", "sub": 7}, locale=locale)


def all_cards() -> dict[str, dict[str, Any]]:
    """Every card the bot sends, by a short name, in both languages where the text differs."""
    cards: dict[str, dict[str, Any]] = {}
    for locale in ("zh_cn", "en_us"):
        cards |= {
            f"help/{locale}": build_help_reply(locale).card,
            f"not-understood/{locale}": not_understood_reply(EVIL, {"whois": "whois"}, locale).card,
            f"small-talk/{locale}": small_talk_reply("hello", locale).card,
            f"okr/{locale}": okr_card(locale),
            f"digest/{locale}": digest_card(locale),
            f"roster/{locale}": roster_card(locale=locale),
            f"attendance/{locale}": attendance_card(locale),
            f"reminder/{locale}": reminder_card(locale),
        }
    cards |= {
        "periods": build_periods_card((PERIOD,), EVIL, locale="zh_cn"),
        "nudge": build_nudge_card(manager_name=EVIL, locale="zh_cn"),
        "person": build_person_card(WANG, departments=[ENG], locale="zh_cn"),
        "person-left": build_person_card(ZHANG, departments=[], locale="en_us"),
        "pick": build_pick_card("张", [ZHANG, WANG], departments=DEPARTMENTS, locale="zh_cn",
                                value_for=lambda p: {"cmd": "whois", "open_id": p.open_id}),
        "not-found": build_not_found_card(EVIL, locale="zh_cn"),
        "team": build_team_card(ENG, [WANG, LI, CHEN, ZHANG] * 6, locale="zh_cn", page=0, page_size=10,
                                value_for_page=_page),
        "groups": build_groups_card([AttendanceGroup("g1", "研发考勤"), AttendanceGroup("g2", EVIL)], locale="en_us",
                                    value_for=lambda g: {"cmd": "attendance", "group": g.group_id}),
        "login": build_login_card(LOGIN_URL, locale="zh_cn"),
        "logout": build_logout_card(had_token=True, locale="zh_cn"),
        "confirm": build_confirm_update_card("城市", EVIL, confirm_value={"cmd": "me", "city": "x"}, locale="zh_cn"),
        "api-error": to_error_card(FeishuApiError(12345, EVIL, "log-1"), locale="zh_cn"),
        "rate-limited": to_error_card(RateLimited(99991400, "limit"), locale="en_us"),
        "internal-error": build_internal_error_card(locale="zh_cn", event_id="evt-1"),
        "refusal": build_refusal_card(reason="只有管理员可以查看。", locale="zh_cn"),
        "welcome": build_welcome_card(bot_name="OKR 助手", locale="zh_cn", in_group=True),
        "subscriptions": build_list_card(title="提醒", lines=[SubscriptionLine(1, "每周五 17:00", "2026-11-27 17:00")],
                                         empty="", locale="zh_cn", hint="提醒 关闭 1"),
        "why": build_why_card(name=EVIL, when="2026-11-20 17:00", reason="9 天未更新", locale="zh_cn"),
        "stats": build_stats_card(month="2026-11", scheduled={"okr.v1.okr.batch_get": 12}, live={}, locale="zh_cn"),
    }
    return cards
