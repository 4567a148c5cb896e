"""Who may see what. Every command asks here, with the person who is asking (or clicking).

A message and a card click reach a command the same way (Router.context, then Router.run), so they meet the
same checks. This module sits below the commands: it asks only for what it reads (`Asking`), which their
`Context` provides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.models import Person

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients
    from bot.settings import Settings


class Asking(Protocol):
    """Who asks, and where to look them up: what every check here reads (bot.commands.base.Context has it)."""

    @property
    def sender_open_id(self) -> str: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def clients(self) -> FeishuClients: ...


def is_admin(ctx: Asking, open_id: str | None = None) -> bool:
    """The one admin check (BOT_ADMINS): of the asker, or of `open_id` when given."""
    return (ctx.sender_open_id if open_id is None else open_id) in ctx.settings.admins


def manages(ctx: Asking, target_open_id: str) -> bool:
    """True when the asker is the target's manager, directly or further up the line."""
    directory = ctx.clients.contact.directory()
    return ctx.sender_open_id in directory.manager_chain(target_open_id)


def visible_people(ctx: Asking, people: list[Person] | tuple[Person, ...]) -> list[Person]:
    """The subset of `people` whose roster/attendance data the asker may see."""
    if is_admin(ctx):
        return list(people)
    reports = {p.open_id for p in ctx.clients.contact.directory().all_reports(ctx.sender_open_id)}
    return [p for p in people if p.open_id in reports]


def has_reports(ctx: Asking) -> bool:
    return ctx.clients.contact.directory().has_reports(ctx.sender_open_id)


def may_see_okrs(ctx: Asking, target_open_id: str, *, viewer: str | None = None) -> bool:
    """OKRs: your own always; others' by OKR_VISIBILITY (all | team | self). `viewer` defaults to the asker;
    pass another open_id to ask the same rule for someone else (e.g. every member of a group the answer
    would be posted to). Feishu's own `permission` field still applies on top of this, objective by
    objective, but it is evaluated for the app, not for the viewer (see the README)."""
    viewer = ctx.sender_open_id if viewer is None else viewer
    if target_open_id == viewer or is_admin(ctx, viewer):
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


def okr_outsiders(ctx: Asking, target_open_id: str, viewers: tuple[str, ...] | list[str]) -> list[str]:
    """The viewers (e.g. a group's members) who may not see the target's OKRs."""
    return [v for v in viewers if not may_see_okrs(ctx, target_open_id, viewer=v)]
