"""`team [@someone]` / `团队`: the direct members of your (or their) department."""

from __future__ import annotations

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.models import Department
from cards.people import build_team_card

PAGE_SIZE = 20


def run(call: CommandCall, ctx: Context) -> Reply:
    contact = ctx.clients.contact
    target = call.mentions[0].open_id if call.mentions else ctx.sender_open_id
    who = contact.get_user(target, fresh=bool(call.options.get("fresh")))
    dept_id = who.department_ids[0] if who.department_ids else "0"
    dept = contact.get_department(dept_id) if dept_id != "0" else Department("0", "全公司", "Whole company")
    members = sorted(contact.list_department_members(dept_id),
                     key=lambda p: (p.open_id != dept.leader_open_id, p.name))
    page = call.options.get("page", 0)
    return Reply(build_team_card(
        dept, members, locale=call.locale, page=page if isinstance(page, int) else 0, page_size=PAGE_SIZE,
        value_for_page=lambda n: action_value(call, page=n),
    ))


COMMAND = Command(
    name="team",
    aliases=("团队", "我的团队", "my team", "部门"),
    usage="team [@someone]",
    summary_zh="列出你（或某人）所在部门的直属成员和职位。",
    summary_en="The direct members of your (or someone's) department, with titles.",
    examples=("team", "团队 @张伟"),
    handler=run,
)
