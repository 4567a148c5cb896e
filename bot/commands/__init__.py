"""Every command the bot understands. Adding a command is one module and one line here."""

from __future__ import annotations

from bot.commands import attendance, help, okr, roster, team, whois
from bot.commands.base import Command

ALL: tuple[Command, ...] = (
    okr.COMMAND,
    whois.COMMAND,
    team.COMMAND,
    roster.COMMAND,
    attendance.COMMAND,
    help.COMMAND,
)
