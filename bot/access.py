"""Who may see what. Every command asks here, with the person who is asking (or clicking)."""

from __future__ import annotations

from bot.commands.base import Context
from bot.models import Person


def is_admin(ctx: Context) -> bool:
    return ctx.sender_open_id in ctx.settings.admins


def manages(ctx: Context, target_open_id: str) -> bool:
    """True when the asker is the target's manager, directly or further up the line."""
    directory = ctx.clients.contact.directory()
    return ctx.sender_open_id in directory.manager_chain(target_open_id)


def may_see_people_data(ctx: Context, target_open_id: str) -> bool:
    """Roster and attendance data: admins, and a manager for their direct and indirect reports."""
    return is_admin(ctx) or manages(ctx, target_open_id)


def visible_people(ctx: Context, people: list[Person] | tuple[Person, ...]) -> list[Person]:
    """The subset of `people` whose roster/attendance data the asker may see."""
    if is_admin(ctx):
        return list(people)
    reports = {p.open_id for p in ctx.clients.contact.directory().all_reports(ctx.sender_open_id)}
    return [p for p in people if p.open_id in reports]


def has_reports(ctx: Context) -> bool:
    return ctx.clients.contact.directory().has_reports(ctx.sender_open_id)


def may_see_okrs(ctx: Context, target_open_id: str, *, viewer: str | None = None) -> bool:
    """OKRs: your own always; others' by OKR_VISIBILITY (all | team | self). `viewer` defaults to the asker;
    pass another open_id to ask the same rule for someone else (e.g. every member of a group the answer
    would be posted to). Feishu's own `permission` field still applies on top of this, objective by
    objective, but it is evaluated for the app, not for the viewer (see the README)."""
    viewer = ctx.sender_open_id if viewer is None else viewer
    if target_open_id == viewer or viewer in ctx.settings.admins:
        return True
    policy = ctx.settings.okr_visibility
    if policy == "all":
        return True
    if policy == "self":
        return False
    directory = ctx.clients.contact.directory()
    me, them = directory.person(viewer), directory.person(target_open_id)
    if me is None or them is None:
        return False
    same_department = bool(set(me.department_ids) & set(them.department_ids))
    same_line = viewer in directory.manager_chain(target_open_id) or (
        target_open_id in directory.manager_chain(viewer))
    return same_department or same_line


def okr_outsiders(ctx: Context, target_open_id: str, viewers: tuple[str, ...] | list[str]) -> list[str]:
    """The viewers (e.g. a group's members) who may not see the target's OKRs."""
    return [v for v in viewers if not may_see_okrs(ctx, target_open_id, viewer=v)]
