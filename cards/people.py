"""Cards about people from the directory: one person, a pick list, a team."""

from __future__ import annotations

from typing import Any

from bot.models import Department, Person
from cards.components import (
    Card,
    button,
    card,
    columns,
    escape,
    excerpt,
    fields,
    markdown,
    note,
    page_window,
    pager,
    person,
    t,
)


def _name_line(p: Person, locale: str) -> str:
    name = escape(p.name or p.en_name)
    if p.en_name and p.en_name != p.name:
        name += f" ({escape(p.en_name)})"
    return name


def build_person_card(p: Person, *, departments: list[Department], locale: str, forwardable: bool = True) -> Card:
    """A person's directory card: allow-listed fields only, leader shown (not @-notified). One's own profile
    (`me`, read as the person) is not forwardable."""
    dept_names = "、".join(escape(d.display_name(locale)) for d in departments if d.display_name(locale))
    rows = [
        (t(locale, "英文名", "English name"), escape(p.en_name) if p.en_name != p.name else ""),
        (t(locale, "部门", "Department"), dept_names),
        (t(locale, "职位", "Title"), escape(p.job_title)),
        (t(locale, "城市", "City"), escape(p.city)),
        (t(locale, "工作邮箱", "Work email"), escape(p.email)),
    ]
    elements: list[dict[str, Any]] = [fields(rows)]
    if p.leader_open_id:
        elements.append(columns([markdown(f"**{t(locale, '直属上级', 'Manager')}**")],
                                [person(p.leader_open_id)], weights=(1, 3)))
    if not p.is_active:
        elements.append(note(t(locale, "此人已离职或账号已停用。", "This person has left or the account is "
                                                                  "deactivated.")))
    title = p.name or p.en_name
    subtitle = p.en_name if p.en_name and p.en_name != p.name else ""
    return card(title, elements, template="indigo" if p.is_active else "grey", subtitle=subtitle,
                summary=t(locale, "人员信息", "Person"), forwardable=forwardable)


def build_pick_card(query: str, matches: list[Person], *, departments: dict[str, Department], locale: str,
                    value_for: Any) -> Card:
    """Several people match: one line each with a button that opens that person's card."""
    elements: list[dict[str, Any]] = [markdown(
        t(locale, "有 {0} 人匹配「{1}」，请选择：", "{0} people match “{1}”. Pick one:").format(
            len(matches), excerpt(query)))]
    for p in matches:
        dept = departments.get(p.department_ids[0]) if p.department_ids else None
        detail = " · ".join(x for x in (escape(dept.display_name(locale)) if dept else "", escape(p.job_title))
                            if x)
        elements.append(columns(
            [markdown(f"**{_name_line(p, locale)}**" + (f"\n<font color='grey'>{detail}</font>" if detail else ""))],
            [button(t(locale, "查看", "View"), value_for(p))],
            weights=(4, 1),
        ))
    return card(t(locale, "找到多个人", "Several matches"), elements, template="wathet")


def build_not_found_card(query: str, *, locale: str) -> Card:
    text = t(locale, "通讯录里没有找到「{0}」。可以试试中文名、英文名或昵称的开头。",
             "No one in the directory matches “{0}”. Try the start of a Chinese name, English name or "
             "nickname.").format(excerpt(query))
    return card(t(locale, "没有找到", "No match"), [markdown(text)], template="grey")


def build_usage_card(usage: str, example: str, *, locale: str) -> Card:
    text = t(locale, "用法：**{0}**\n例如：**{1}**", "Usage: **{0}**\nFor example: **{1}**").format(
        escape(usage), escape(example))
    return card(t(locale, "缺少参数", "Something is missing"), [markdown(text)], template="grey")


def build_team_card(dept: Department, members: list[Person], *, locale: str, page: int, page_size: int,
                    value_for_page: Any) -> Card:
    """The direct members of a department, a page at a time."""
    total = len(members)
    page, pages = page_window(total, page, page_size)
    shown = members[page * page_size:(page + 1) * page_size]
    lines = []
    for p in shown:
        line = f"• **{_name_line(p, locale)}**"
        if p.job_title:
            line += f" — {escape(p.job_title)}"
        if dept.leader_open_id and p.open_id == dept.leader_open_id:
            line += " " + t(locale, "（负责人）", "(lead)")
        lines.append(line)
    elements: list[dict[str, Any]] = [markdown("\n".join(lines) or t(locale, "这个部门没有直属成员。",
                                                                     "No direct members."))]
    if dept.leader_open_id:
        elements.append(columns([markdown(f"**{t(locale, '负责人', 'Lead')}**")], [person(dept.leader_open_id)],
                                weights=(1, 3)))
    elements += pager(page, pages, total, value_for_page, locale=locale)
    title = t(locale, "团队：", "Team: ") + (dept.display_name(locale) or dept.open_department_id)
    return card(title, elements, template="turquoise", summary=title)


def build_whoami_card(person: Person, *, admin: bool, reports: int, admins_configured: bool, locale: str) -> Card:
    """Who the bot takes the asker to be: ids to copy, and the roles that decide what they may see."""
    rows = [("open_id", escape(person.open_id)), ("user_id", escape(person.user_id or "—"))]
    role = t(locale, "机器人管理员", "bot admin") if admin else t(locale, "不是管理员", "not an admin")
    rows.append((t(locale, "管理员", "Admin"), role))
    rows.append((t(locale, "直属下属", "Direct reports"), str(reports)))
    hint = t(locale, "要让某人成为管理员，把 TA 的 open_id 加到 BOT_ADMINS（逗号分隔）后重启机器人。",
             "To make someone an admin, add their open_id to BOT_ADMINS (comma-separated) and restart the bot.")
    if not admins_configured:
        unset = t(locale, "BOT_ADMINS 还没有设置：现在没有人是管理员。",
                  "BOT_ADMINS is not set: nobody is an admin yet.")
        hint = f"{unset} {hint}"
    return card(person.name or person.open_id, [fields(rows), note(hint)],
                template="indigo", subtitle=t(locale, "你在飞书里的身份", "You, as Feishu knows you"),
                forwardable=False)

