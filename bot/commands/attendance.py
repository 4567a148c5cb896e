"""`attendance <group name | group id> [today]` / `考勤组`: who is in an attendance group, by department,
who must clock in and who need not; with `today`, the day's punch results.

Admins see the whole group; a manager sees their direct and indirect reports in it; anyone else gets a
polite refusal (and no group names). The card goes to the asker alone when asked in a group chat.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.access import has_reports, is_admin, visible_people
from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.feishu.errors import FeishuApiError, NotFound
from bot.models import AttendanceGroup, AttendanceMember, Department
from bot.textfold import fold_name
from cards.attendance import Member, build_attendance_card, build_groups_card
from cards.components import t
from cards.notices import build_refusal_card
from cards.people import build_usage_card

PAGE_SIZE = 20  # people per card page
TODAY_WORDS = frozenset({"today", "今天", "今日"})
ROOT = Department("0", "公司直属", "Company level")


def parse_args(args: tuple[str, ...]) -> tuple[str, bool]:
    """('总部考勤组', 'today') -> ('总部考勤组', True): the group's name or id, and whether to add punches."""
    words = list(args)
    today = bool(words) and words[-1].casefold() in TODAY_WORDS
    if today:
        words.pop()
    return " ".join(words), today



def find_group(ctx: Context, query: str) -> tuple[AttendanceGroup | None, tuple[AttendanceGroup, ...]]:
    """The group meant by `query` (an id, an exact name, or the only partial match), and the name matches."""
    attendance = ctx.clients.attendance
    if query.isascii() and query.isdigit():
        group = attendance.get_group(query)
        if group is not None:
            return group, (group,)
    matches = attendance.find_groups(query)
    exact = [g for g in matches if fold_name(g.name) == fold_name(query)]
    if len(exact) == 1:
        return exact[0], matches
    if len(matches) == 1:
        return matches[0], matches
    return None, matches


def resolve_members(ctx: Context, members: tuple[AttendanceMember, ...]) -> list[Member]:
    """employee_id (the contact user_id) -> Person, from the directory index, else one contact lookup."""
    contact = ctx.clients.contact
    directory = contact.directory()
    resolved: list[Member] = []
    for member in members:
        person = directory.person_by_user_id(member.employee_id)
        if person is None:
            try:
                person = contact.get_user(member.employee_id, id_type="user_id")
            except NotFound:
                person = None
        resolved.append((member, person))
    return resolved


def _departments(ctx: Context, members: list[Member]) -> dict[str, Department]:
    """Root, then the directory's departments as a tree (each followed by its sub-departments), then any
    other department a member is in."""
    contact = ctx.clients.contact
    departments = {ROOT.open_department_id: ROOT}
    known = contact.directory().departments
    children: dict[str, list[Department]] = {}
    for dept in known:
        children.setdefault(dept.parent_id or ROOT.open_department_id, []).append(dept)
    stack = list(reversed(children.get(ROOT.open_department_id, [])))
    while stack:
        dept = stack.pop()
        if dept.open_department_id not in departments:
            departments[dept.open_department_id] = dept
            stack.extend(reversed(children.get(dept.open_department_id, [])))
    departments.update((d.open_department_id, d) for d in known if d.open_department_id not in departments)
    for member, person in members:
        for dept_id in (*member.department_ids[:1], *(person.department_ids[:1] if person else ())):
            if dept_id and dept_id not in departments:
                try:
                    departments[dept_id] = contact.get_department(dept_id)
                except FeishuApiError:
                    continue
    return departments


def _refusal(locale: str) -> Reply:
    reason = t(locale, "考勤信息只对机器人管理员开放，经理也可以查看自己直接和间接下属的考勤。\n"
                       "如需查看整个考勤组，请联系管理员。",
               "Attendance data is for bot admins, and for managers about their own direct and indirect "
               "reports.\nAsk an admin if you need to see this group.")
    return Reply(build_refusal_card(reason=reason, locale=locale), refused=True)


def run(call: CommandCall, ctx: Context) -> Reply:
    locale = call.locale
    query, today = parse_args(call.args)
    admin = is_admin(ctx)
    if not admin and not has_reports(ctx):
        if not query and not today:
            return Reply(build_usage_card(COMMAND.usage, COMMAND.examples[0], locale=locale))
        return _refusal(locale)

    def value_for(group: AttendanceGroup) -> dict[str, Any]:
        args = (group.group_id, "today") if today else (group.group_id,)
        return action_value(CommandCall(name=COMMAND.name, args=args, locale=locale))

    attendance = ctx.clients.attendance
    fresh = bool(call.options.get("fresh"))
    if not query:
        return Reply(build_groups_card(attendance.list_groups(fresh=fresh), locale=locale, value_for=value_for),
                     private=True)
    group, matches = find_group(ctx, query)
    if group is None:
        if matches:
            card = build_groups_card(matches, locale=locale, value_for=value_for, query=query, several=True)
        else:
            card = build_groups_card(attendance.list_groups(fresh=fresh), locale=locale, value_for=value_for,
                                     query=query)
        return Reply(card, private=True)

    resolved = resolve_members(ctx, attendance.list_members(group.group_id, fresh=fresh))
    if admin:
        visible = resolved
    else:
        allowed = {p.open_id for p in visible_people(ctx, [p for _, p in resolved if p is not None])}
        visible = [(m, p) for m, p in resolved if p is not None and p.open_id in allowed]
    day = ctx.now.astimezone(ZoneInfo(ctx.settings.timezone)).date() if today else None
    punches = (attendance.list_punch_results([m.employee_id for m, _ in visible], day, fresh=fresh)
               if day is not None else None)
    page = call.options.get("page", 0)
    card = build_attendance_card(
        group, visible, departments=_departments(ctx, visible), locale=locale,
        page=page if isinstance(page, int) else 0, page_size=PAGE_SIZE,
        value_for_page=lambda n: action_value(call, page=n), hidden=len(resolved) - len(visible),
        day=day, punches=punches,
    )
    return Reply(card, private=True)


COMMAND = Command(
    name="attendance",
    aliases=("考勤组", "考勤", "attendance group"),
    usage="attendance <group name | group id> [today]",
    summary_zh="查看考勤组成员（按部门，需打卡/无需打卡）；加 today 显示今天的打卡结果。"
               "仅管理员和经理（看自己的下属）可用。",
    summary_en="An attendance group's members by department, who must clock in and who need not; add today "
               "for today's punch results. For admins, and managers (their own reports).",
    examples=("attendance 总部考勤组", "考勤组 弹性工时组 today"),
    handler=run,
)
