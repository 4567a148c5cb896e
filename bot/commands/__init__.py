"""Every command the bot understands. Adding a command is one module and one line here."""

from __future__ import annotations

from bot.commands import help, team, whois
from bot.commands.base import Command

ALL: tuple[Command, ...] = (
    whois.COMMAND,
    team.COMMAND,
    help.COMMAND,
)
