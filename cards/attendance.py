"""Cards for attendance groups: the members (by department, must / need not clock in), today's punches,
and the list of groups to pick from."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from bot.models import AttendanceGroup, AttendanceMember, Department, Person, PunchResult
from cards.components import (
    Card,
    Element,
    button,
    card,
    columns,
    escape,
    markdown,
    note,
    page_window,
    pager,
    t,
)

MAX_GROUP_BUTTONS = 10
MAX_GROUP_NAMES = 60

# Feishu's check_in_result / check_out_result values, as short words, and whether they are a problem.
_RESULTS: dict[str, tuple[str, str, str]] = {
    "Normal": ("正常", "OK", ""),
    "SystemCheck": ("系统打卡", "System", ""),
    "NoNeedCheck": ("无需打卡", "Not needed", "grey"),
    "Late": ("迟到", "Late", "red"),
    "Early": ("早退", "Left early", "orange"),
    "Lack": ("缺卡", "Missing", "red"),
    "Todo": ("未打卡", "Not yet", "grey"),
}

Member = tuple[AttendanceMember, Person | None]


def result_word(result: str, locale: str) -> str:
    """A punch result as a short word, coloured when it is a problem (unknown values shown as sent)."""
    if not result:
        return f"<font color='grey'>{t(locale, '无', '—')}</font>"
    zh, en, color = _RESULTS.get(result, (result, result, ""))
    word = escape(t(locale, zh, en))
    return f"<font color='{color}'>{word}</font>" if color else word


def _name(member: AttendanceMember, person: Person | None, locale: str) -> str:
    if person is None:
        return t(locale, "未知成员 ", "Unknown ") + escape(member.employee_id)
    name = escape(person.display_name(locale))
    return name if person.is_active else name + t(locale, "（已离职）", " (left)")


def _department_of(member: AttendanceMember, person: Person | None, departments: Mapping[str, Department]) -> str:
    for dept_id in (*member.department_ids[:1], *(person.department_ids[:1] if person else ())):
        if dept_id in departments:
            return dept_id
    return "0"


def _punch_line(punches: Sequence[PunchResult], locale: str) -> str:
    if not punches:
        return f"<font color='grey'>{t(locale, '暂无记录', 'No record')}</font>"
    return " / ".join(
        f"{t(locale, '上班', 'In')} {result_word(p.check_in, locale)} · "
        f"{t(locale, '下班', 'Out')} {result_word(p.check_out, locale)}"
        for p in punches
    )


def punch_summary(members: Sequence[Member], punches: Mapping[str, Sequence[PunchResult]],
                  locale: str) -> str:
    """One line of counts, by person: on time, late, left early, missing, not needed, no record."""
    counts = {"ok": 0, "Late": 0, "Early": 0, "Lack": 0, "NoNeedCheck": 0, "none": 0}
    for member, _ in members:
        results = punches.get(member.employee_id) or ()
        ins = {p.check_in for p in results}
        outs = {p.check_out for p in results}
        if not results:
            counts["none"] += 1
            continue
        if ins | outs <= {"NoNeedCheck"}:
            counts["NoNeedCheck"] += 1
            continue
        if "Late" in ins:
            counts["Late"] += 1
        if "Early" in outs:
            counts["Early"] += 1
        if "Lack" in ins | outs:
            counts["Lack"] += 1
        if ins | outs <= {"Normal", "SystemCheck", "NoNeedCheck"}:
            counts["ok"] += 1
    labels = (
        ("ok", t(locale, "正常", "On time")),
        ("Late", t(locale, "迟到", "Late")),
        ("Early", t(locale, "早退", "Left early")),
        ("Lack", t(locale, "缺卡", "Missing punch")),
        ("NoNeedCheck", t(locale, "无需打卡", "Not needed")),
        ("none", t(locale, "暂无记录", "No record")),
    )
    return " · ".join(f"{label} **{counts[key]}**" for key, label in labels if counts[key] or key == "ok")


def _panel(title: str, elements: list[Element]) -> Element:
    """A department section; expanded, so it reads like a list and folds away on a phone."""
    return {
        "tag": "collapsible_panel",
        "expanded": True,
        "header": {"title": {"tag": "markdown", "content": title}, "vertical_align": "center",
                   "icon": {"tag": "standard_icon", "token": "down-small-ccm_outlined", "size": "16px 16px"},
                   "icon_position": "right", "icon_expanded_angle": -180},
        "border": {"color": "grey", "corner_radius": "5px"},
        "vertical_spacing": "4px",
        "padding": "4px 8px 4px 8px",
        "elements": elements,
    }


def build_attendance_card(
    group: AttendanceGroup,
    members: Sequence[Member],
    *,
    departments: Mapping[str, Department],
    locale: str,
    page: int,
    page_size: int,
    value_for_page: Callable[[int], dict[str, Any]],
    hidden: int = 0,
    day: date | None = None,
    punches: Mapping[str, Sequence[PunchResult]] | None = None,
) -> Card:
    """The members of an attendance group the asker may see, by department, a page at a time.

    `departments` maps open_department_id to Department, in the order sections should appear;
    `hidden` is how many members were left out because the asker may not see them; `punches`
    (with `day`) adds each member's check-in/check-out results.
    """
    order = {dept_id: i for i, dept_id in enumerate(departments)}

    def dept_key(m: Member) -> str:
        return _department_of(m[0], m[1], departments)

    ordered = sorted(members, key=lambda m: (order.get(dept_key(m), len(order)), not m[0].must_clock,
                                             _name(m[0], m[1], locale)))
    total = len(ordered)
    must = sum(1 for m, _ in ordered if m.must_clock)
    page, pages = page_window(total, page, page_size)
    shown = ordered[page * page_size:(page + 1) * page_size]
    per_dept = {}
    for m in ordered:
        per_dept[dept_key(m)] = per_dept.get(dept_key(m), 0) + 1

    summary = t(locale, "共 **{0}** 人：需打卡 **{1}**，无需打卡 **{2}**",
                "**{0}** people: **{1}** must clock in, **{2}** need not").format(total, must, total - must)
    elements: list[Element] = [markdown(summary)]
    if punches is not None and day is not None:
        elements.append(markdown(t(locale, "**{0} 打卡结果**：", "**Punches on {0}**: ").format(day.isoformat())
                                 + punch_summary(ordered, punches, locale)))
    if hidden:
        elements.append(note(t(locale, "只显示你的直接和间接下属；另有 {0} 名成员不在你的汇报线上，未显示。",
                               "Only your direct and indirect reports are shown; {0} other members are "
                               "left out.").format(hidden)))
    if not ordered:
        elements.append(markdown(t(locale, "这里没有你可以查看的成员。", "There is no one here you may see.")
                                 if hidden else t(locale, "这个考勤组没有成员。", "This group has no members.")))

    sections: dict[str, list[Member]] = {}
    for m in shown:
        sections.setdefault(dept_key(m), []).append(m)
    for dept_id, section in sections.items():
        dept = departments.get(dept_id)
        dept_name = escape(dept.display_name(locale)) if dept else t(locale, "其他", "Other")
        if len(section) < per_dept[dept_id]:  # the department runs over into the next or previous page
            count = t(locale, "本页 {0} / 共 {1} 人", "{0} of {1} here").format(len(section), per_dept[dept_id])
        else:
            count = t(locale, "{0} 人", "{0} people").format(per_dept[dept_id])
        title = f"**{dept_name}** <font color='grey'>· {count}</font>"
        if punches is not None:
            lines = []
            for member, person in section:
                results = punches.get(member.employee_id) or ()
                free = f"<font color='grey'>{t(locale, '无需打卡', 'Need not clock in')}</font>"
                if member.must_clock:
                    detail = _punch_line(results, locale)
                elif all(p.check_in in ("", "NoNeedCheck") and p.check_out in ("", "NoNeedCheck") for p in results):
                    detail = free
                else:
                    detail = f"{_punch_line(results, locale)} ({free})"
                lines.append(f"• {_name(member, person, locale)}　{detail}")
        else:
            must_names = [_name(m, p, locale) for m, p in section if m.must_clock]
            free_names = [_name(m, p, locale) for m, p in section if not m.must_clock]
            lines = []
            if must_names:
                lines.append(f"**{t(locale, '需打卡', 'Must clock in')}**：" + "、".join(must_names))
            if free_names:
                lines.append(f"**{t(locale, '无需打卡', 'Need not clock in')}**：" + "、".join(free_names))
        elements.append(_panel(title, [markdown("\n".join(lines))]))

    if pages > 1:
        elements += pager(page, pages, total, value_for_page, locale=locale)
    title = t(locale, "考勤组：", "Attendance group: ") + group.name
    subtitle = day.isoformat() if punches is not None and day is not None else ""
    return card(title, elements, template="turquoise", subtitle=subtitle, summary=title, forwardable=False)


def build_groups_card(
    groups: Sequence[AttendanceGroup],
    *,
    locale: str,
    value_for: Callable[[AttendanceGroup], dict[str, Any]],
    query: str = "",
    several: bool = False,
) -> Card:
    """The attendance groups that exist (or that match `query`), each with a button to open it."""
    if several:
        title = t(locale, "找到多个考勤组", "Several attendance groups match")
        intro = t(locale, "有 {0} 个考勤组匹配「{1}」，请选择：", "{0} groups match “{1}”. Pick one:").format(
            len(groups), escape(query))
    elif query:
        title = t(locale, "没有找到考勤组", "No such attendance group")
        intro = t(locale, "没有名为「{0}」的考勤组。", "There is no attendance group called “{0}”.").format(
            escape(query))
        intro += t(locale, "现有的考勤组：", " These exist:") if groups else ""
    else:
        title = t(locale, "考勤组", "Attendance groups")
        intro = t(locale, "要查看哪个考勤组？", "Which attendance group?")
    if not groups:
        intro += "\n" + t(locale, "应用看不到任何考勤组。", "The app sees no attendance groups.")
    elements: list[Element] = [markdown(intro)]
    for group in groups[:MAX_GROUP_BUTTONS]:
        elements.append(columns(
            [markdown(f"**{escape(group.name)}**\n<font color='grey'>{escape(group.group_id)}</font>")],
            [button(t(locale, "查看", "View"), value_for(group))],
            weights=(4, 1),
        ))
    rest = groups[MAX_GROUP_BUTTONS:]
    if rest:
        names = "、".join(escape(g.name) for g in rest[:MAX_GROUP_NAMES])
        if len(rest) > MAX_GROUP_NAMES:
            names += t(locale, " 等", " and more")
        elements.append(markdown(names))
    if groups:
        usage = t(locale, "考勤组 <名称或 ID> [today]", "attendance <name or id> [today]")
        elements.append(note(t(locale, "共 {0} 个考勤组 · 用法：{1}", "{0} groups · usage: {1}").format(
            len(groups), escape(usage))))
    return card(title, elements, template="wathet" if groups else "grey")
