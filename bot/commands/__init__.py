"""Every command the bot understands. Adding a command is one module and one line here."""

from __future__ import annotations

from bot.commands import (
    attendance,
    auth,
    buttons,
    digest,
    help,
    lang,
    me,
    okr,
    progress,
    remind,
    roster,
    stats,
    team,
    whoami,
    whois,
)
from bot.commands.base import Command

ALL: tuple[Command, ...] = (
    okr.COMMAND,
    whois.COMMAND,
    team.COMMAND,
    roster.COMMAND,
    attendance.COMMAND,
    remind.COMMAND,
    digest.COMMAND,
    stats.COMMAND,
    auth.LOGIN,
    auth.LOGOUT,
    me.COMMAND,
    lang.COMMAND,
    whoami.COMMAND,
    progress.COMMAND,
    help.COMMAND,
    buttons.SNOOZE,
    buttons.NUDGE,
)
