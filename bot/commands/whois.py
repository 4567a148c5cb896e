"""`whois <name | @someone>` / `查人`: a person's directory card."""

from __future__ import annotations

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.models import Department, Person
from cards.people import build_not_found_card, build_person_card, build_pick_card, build_usage_card

MAX_MATCHES = 8


def _departments(ctx: Context, p: Person) -> list[Department]:
    return [ctx.clients.contact.get_department(d) for d in p.department_ids if d and d != "0"]


def person_reply(ctx: Context, p: Person, locale: str) -> Reply:
    return Reply(build_person_card(p, departments=_departments(ctx, p), locale=locale))


def run(call: CommandCall, ctx: Context) -> Reply:
    contact = ctx.clients.contact
    chosen = call.options.get("open_id")
    if isinstance(chosen, str) and chosen:
        return person_reply(ctx, contact.get_user(chosen), call.locale)
    if call.mentions:
        return person_reply(ctx, contact.get_user(call.mentions[0].open_id), call.locale)
    query = call.text.strip()
    if not query:
        return Reply(build_usage_card(COMMAND.usage, COMMAND.examples[0], locale=call.locale))
    directory = contact.directory(fresh=bool(call.options.get("fresh")))
    matches = directory.find(query, limit=MAX_MATCHES)
    if not matches:
        return Reply(build_not_found_card(query, locale=call.locale))
    if len(matches) == 1:
        return person_reply(ctx, matches[0], call.locale)
    departments = {d.open_department_id: d for d in directory.departments}
    pick = build_pick_card(
        query, list(matches), departments=departments, locale=call.locale,
        value_for=lambda p: action_value(CommandCall(name="whois", locale=call.locale), open_id=p.open_id),
    )
    return Reply(pick)


COMMAND = Command(
    name="whois",
    aliases=("查人", "谁是", "who is", "who", "找人", "查找"),
    usage="whois <name | @someone>",
    summary_zh="查看一个人的通讯录名片：部门、职位、城市、邮箱、上级。",
    summary_en="A person's directory card: department, title, city, email, manager.",
    examples=("whois Alex", "查人 张伟"),
    handler=run,
)
