"""`whois <name | @someone>` / `查人`: a person's directory card."""

from __future__ import annotations

from collections.abc import Iterable

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.feishu.contact import Directory
from bot.models import Department, Mention, Person
from bot.textfold import MAX_NAME_CHARS, fold_name
from cards.components import t, with_source
from cards.people import build_not_found_card, build_person_card, build_pick_card, build_usage_card

MAX_MATCHES = 8


def _departments(ctx: Context, p: Person) -> list[Department]:
    return [ctx.clients.contact.get_department(d) for d in p.department_ids if d and d != "0"]


def _first_departments(directory: Directory, people: Iterable[Person]) -> dict[str, Department]:
    """The department a pick list shows for each person (their first), from the directory snapshot."""
    ids = {p.department_ids[0] for p in people if p.department_ids}
    found = {dept_id: directory.department(dept_id) for dept_id in ids}
    return {dept_id: dept for dept_id, dept in found.items() if dept is not None}


def person_reply(ctx: Context, p: Person, locale: str) -> Reply:
    return Reply(build_person_card(p, departments=_departments(ctx, p), locale=locale))


def _search_as_asker(call: CommandCall, ctx: Context, token: str, query: str, directory: Directory) -> Reply:
    """Search with the asker's own user token: Feishu returns only the people they may see."""
    found = ctx.clients.users.search(token, query)
    source = t(call.locale, "按你的飞书可见范围搜索", "searched as you (your Feishu visibility)")
    people = [directory.person(open_id) or Person(open_id=open_id, name=name, department_ids=depts)
              for open_id, name, depts in found][:MAX_MATCHES]
    if not people:
        return Reply(with_source(build_not_found_card(query, locale=call.locale), source))
    if len(people) == 1:
        reply = person_reply(ctx, ctx.clients.users.get_user(token, people[0].open_id), call.locale)
        return Reply(with_source(reply.card, source))
    pick = build_pick_card(
        query, people, departments=_first_departments(directory, people), locale=call.locale,
        value_for=lambda p: action_value(CommandCall(name="whois", locale=call.locale), open_id=p.open_id),
    )
    return Reply(with_source(pick, source))


def pick_person_reply(call: CommandCall, ctx: Context) -> Reply:
    """`okr 张伟` when several people are called 张伟: a pick list whose buttons run the same command for the one
    chosen (as whoever clicks)."""
    query = str(call.options.get("choose", ""))
    directory = ctx.clients.contact.directory()
    people = [p for p in directory.find(query, limit=MAX_MATCHES)
              if fold_name(query) in {fold_name(p.name), fold_name(p.en_name)}] or list(
        directory.find(query, limit=MAX_MATCHES))
    if not people:
        return Reply(build_not_found_card(query, locale=call.locale))
    options = {k: v for k, v in call.options.items() if k not in ("choose", "who")}

    def value_for(p: Person) -> dict[str, object]:
        chosen = CommandCall(name=call.name, args=call.args, locale=call.locale,
                             mentions=(Mention(key="", open_id=p.open_id, name=p.name),))
        return action_value(chosen, **options)

    return Reply(build_pick_card(query, people, departments=_first_departments(directory, people),
                                 locale=call.locale, value_for=value_for))


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
    if len(query) > MAX_NAME_CHARS:  # no one's name is this long: say so without a search (or an echo)
        return Reply(build_not_found_card(query, locale=call.locale))
    directory = contact.directory(fresh=bool(call.options.get("fresh")))
    token = ctx.vault.access_token(ctx.sender_open_id, now=ctx.now) if ctx.vault else None
    if token is not None:
        return _search_as_asker(call, ctx, token, query, directory)
    matches = directory.find(query, limit=MAX_MATCHES)
    if not matches:
        return Reply(build_not_found_card(query, locale=call.locale))
    source = t(call.locale, "按公司通讯录搜索（发送「授权」可按你的可见范围搜索）" if ctx.vault else "按公司通讯录搜索",
               "searched the company directory" + (" (send “login” to search as you)" if ctx.vault else ""))
    if len(matches) == 1:
        return Reply(with_source(person_reply(ctx, matches[0], call.locale).card, source))
    pick = build_pick_card(
        query, list(matches), departments=_first_departments(directory, matches), locale=call.locale,
        value_for=lambda p: action_value(CommandCall(name="whois", locale=call.locale), open_id=p.open_id),
    )
    return Reply(with_source(pick, source))


COMMAND = Command(
    name="whois",
    aliases=("查人", "谁是", "who is", "who", "找人", "查找"),
    usage="whois <name | @someone>",
    summary_zh="查看一个人的通讯录名片：部门、职位、城市、邮箱、上级。",
    summary_en="A person's directory card: department, title, city, email, manager.",
    examples=("whois Alex", "查人 张伟"),
    handler=run,
)
