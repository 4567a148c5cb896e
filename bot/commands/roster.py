"""`roster [new | leaving | probation | dept <name> | all]` / `花名册`: the EHR roster, allow-listed fields only."""

from __future__ import annotations

from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from bot.access import has_reports, is_admin
from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.feishu.roster import ALL_STATUSES
from bot.models import Department, Employee
from bot.textfold import fold_name
from cards.components import excerpt, t
from cards.notices import build_refusal_card
from cards.roster import build_department_pick_card, build_roster_card

if TYPE_CHECKING:
    from bot.feishu.contact import Directory

WINDOW_DAYS = 30
CLOSEST = 5  # departments offered when a name matches none
CURRENT = (2, 4)  # Feishu: "actually employed" = active + leaving
FILTERS = {
    "new": "new", "新人": "new", "新入职": "new", "入职": "new",
    "leaving": "leaving", "待离职": "leaving", "离职": "leaving",
    "probation": "probation", "转正": "probation", "试用期": "probation",
    "dept": "dept", "department": "dept", "部门": "dept",
    "all": "all", "全部": "all",
}



def _titles(kind: str, locale: str, dept_name: str = "") -> str:
    return {
        "current": t(locale, "花名册", "Roster"),
        "new": t(locale, "花名册：近 30 天入职", "Roster: hired in the last 30 days"),
        "leaving": t(locale, "花名册：待离职", "Roster: leaving"),
        "probation": t(locale, "花名册：30 天内转正", "Roster: probation ends within 30 days"),
        "all": t(locale, "花名册：全部状态", "Roster: every status"),
        "dept": t(locale, f"花名册：{dept_name}", f"Roster: {dept_name}"),
    }[kind]


def _department_ids(departments: tuple[Department, ...], query: str) -> tuple[Department | None, set[str]]:
    """The department called `query` (zh or en name, prefix) and the ids of it and everything below it."""
    folded = fold_name(query)
    match = next((d for d in departments if folded in (fold_name(d.name), fold_name(d.en_name))), None) or next(
        (d for d in departments if fold_name(d.name).startswith(folded) or fold_name(d.en_name).startswith(folded)),
        None)
    if match is None or not folded:
        return None, set()
    ids = {match.open_department_id}
    changed = True
    while changed:
        below = {d.open_department_id for d in departments if d.parent_id in ids}
        changed = not below <= ids
        ids |= below
    return match, ids


def pickable_departments(ctx: Context, directory: Directory, *, admin: bool) -> list[Department]:
    """The departments worth offering the asker: every one to an admin; to a manager, those their reports sit
    in and the departments above them (whose roster shows them too)."""
    departments = directory.departments
    if admin:
        return list(departments)
    by_id = {d.open_department_id: d for d in departments}
    held = {d for p in directory.all_reports(ctx.sender_open_id) for d in p.department_ids if d in by_id}
    frontier = set(held)
    while frontier:  # and their parents, up to the top (a cycle in bad data stops: nothing new)
        frontier = {by_id[d].parent_id for d in frontier if by_id[d].parent_id in by_id} - held
        held |= frontier
    return [d for d in departments if d.open_department_id in held]


def closest_departments(departments: list[Department], query: str, count: int = CLOSEST) -> list[Department]:
    """The `count` departments whose zh or en name is most like `query` (directory order among equals)."""
    folded = fold_name(query)[:60]  # a department name is short; a long query is compared by its start

    def likeness(d: Department) -> float:
        return max(SequenceMatcher(None, folded, fold_name(name)).ratio() for name in (d.name, d.en_name or d.name))

    return sorted(departments, key=likeness, reverse=True)[:count]


def _pick_department(call: CommandCall, ctx: Context, directory: Directory, *, admin: bool, query: str) -> Reply:
    """`roster dept` with no name (the departments to pick from), or a name that matches none (the closest
    ones): each a button running `roster dept <name>`. Not a refusal: the asker may see the roster."""
    locale = call.locale
    pickable = pickable_departments(ctx, directory, admin=admin)

    def choice(d: Department) -> tuple[str, dict]:
        name = d.display_name(locale)
        return name, action_value(CommandCall(name="roster", args=("dept", name), locale=locale))

    if not query:
        title = t(locale, "选择部门", "Pick a department")
        text = (t(locale, "要看哪个部门的花名册？点一个：", "Which department's roster? Pick one:") if pickable
                else t(locale, "你的团队成员都不在任何部门里。", "None of your reports is in a department."))
        choices = [choice(d) for d in pickable]
    else:
        title = t(locale, "没有这个部门", "No such department")
        typed = excerpt(query)
        text = t(locale, f"没有名为「{typed}」的部门。最接近的：", f"No department named “{typed}”. The closest:")
        choices = [choice(d) for d in closest_departments(pickable, query)]
        choices.append((t(locale, "全部部门…", "All departments…"),
                        action_value(CommandCall(name="roster", args=("dept",), locale=locale))))
    return Reply(build_department_pick_card(title=title, text=text, choices=choices, locale=locale), private=True)


def select(employees: tuple[Employee, ...], kind: str, today: date) -> list[Employee]:
    window = timedelta(days=WINDOW_DAYS)
    if kind == "new":
        return [e for e in employees if e.status in CURRENT and e.hire_date and today - window <= e.hire_date <= today]
    if kind == "leaving":
        return [e for e in employees if e.status == 4]
    if kind == "probation":
        return [e for e in employees
                if e.status in CURRENT and e.conversion_date and today <= e.conversion_date <= today + window]
    if kind == "all":
        return list(employees)
    return [e for e in employees if e.status in CURRENT]


def run(call: CommandCall, ctx: Context) -> Reply:
    admin = is_admin(ctx)
    if not admin and not has_reports(ctx):
        reason = t(call.locale, "花名册只对管理员和有下属的负责人开放；负责人只能看到自己团队的人。",
                   "The roster is open to admins, and to managers for their own reports.")
        return Reply(build_refusal_card(reason=reason, locale=call.locale), refused=True)
    words = list(call.args)
    kind = FILTERS.get(fold_name(words[0]), "") if words else "current"
    if not kind:
        kind, words = "dept", ["dept", *words]  # `roster 后端组` means the department
    today = ctx.now.date()
    directory = ctx.clients.contact.directory()
    all_departments = directory.departments
    departments = {d.open_department_id: d for d in all_departments}
    dept_name, dept_ids = "", None
    if kind == "dept":
        query = " ".join(words[1:])
        dept, dept_ids = _department_ids(all_departments, query)
        if dept is None:
            return _pick_department(call, ctx, directory, admin=admin, query=query.strip())
        dept_name = dept.display_name(call.locale)
    scope, reports = "", None
    if not admin:
        reports = [p.open_id for p in directory.all_reports(ctx.sender_open_id)]
        scope = t(call.locale, "只显示你的直接和间接下属", "showing your direct and indirect reports only")
    # the roster snapshot is filtered in SQL: by department, and to the asker's reports
    employees = ctx.clients.roster.list_employees(ALL_STATUSES if kind == "all" else CURRENT,
                                                  fresh=bool(call.options.get("fresh")),
                                                  department_ids=dept_ids, open_ids=reports)
    selected = select(employees, kind, today)
    selected.sort(key=lambda e: (e.department_id, e.hire_date or date.min, e.name))
    current = select(employees, "current", today)
    summary = [
        (t(call.locale, "在职", "Employed"), len(current)),
        (t(call.locale, "近 30 天入职", "New (30 days)"), len(select(employees, "new", today))),
        (t(call.locale, "待离职", "Leaving"), len(select(employees, "leaving", today))),
        (t(call.locale, "30 天内转正", "Probation ends (30 days)"), len(select(employees, "probation", today))),
    ]
    page = call.options.get("page", 0)
    card = build_roster_card(
        selected, title=_titles(kind, call.locale, dept_name), summary=summary, departments=departments,
        locale=call.locale, page=page if isinstance(page, int) else 0,
        value_for_page=lambda n: action_value(call, page=n), scope_note=scope,
    )
    return Reply(card, private=True)


COMMAND = Command(
    name="roster",
    aliases=("花名册", "员工", "人员"),
    usage="roster [new | leaving | probation | dept <name> | all]",
    summary_zh="花名册（管理员，或负责人看自己的团队）：近 30 天入职、待离职、30 天内转正、按部门。",
    summary_en="The roster (admins, or managers for their own reports): new hires, leaving, probation due, "
               "by department.",
    examples=("roster", "花名册 新人", "roster dept Backend"),
    handler=run,
)
