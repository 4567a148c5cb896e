"""From a message to a reply: parse the command, pick the handler, run it, send its card.

Parsing is pure (`parse_command`); `Router` is the one catch point for command errors.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.commands.base import Command, CommandCall, Context, Reply
from bot.feishu.errors import FeishuApiError, what_to_do
from bot.inbound import IncomingMessage
from bot.models import Chat, Mention
from bot.outbox import Outbox
from bot.settings import Settings
from bot.textfold import fold_word
from cards import notices as error_cards

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients
    from bot.store import Store
    from bot.tokens import TokenVault

__all__ = ["IncomingMessage", "Router", "detect_locale", "parse_command", "to_error_card"]

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"@_user_\d+|@_all")
# A command is a few words; Feishu lets a text message carry ~150 KB. Only the first MAX_COMMAND_CHARS characters
# are read (before and after NFKC, which can lengthen text), so no message makes parsing slow; the rest is ignored.
MAX_COMMAND_CHARS = 2000
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def to_error_card(exc: FeishuApiError, *, locale: str) -> dict:
    """The catch point's view of a failed Feishu call: its code, message, log_id and what to do, as plain
    values for the card (card builders know no API layer)."""
    return error_cards.build_api_error_card(code=exc.code, message=exc.msg, log_id=exc.log_id,
                                            what_to_do=what_to_do(exc), locale=locale)


def detect_locale(text: str, default: str = "zh_cn") -> str:
    """Answer in the language the person wrote in: any Chinese character means Chinese."""
    if _CJK.search(text):
        return "zh_cn"
    if re.search(r"[A-Za-z]", text):
        return "en_us"
    return default


def is_addressed_to_bot(msg: IncomingMessage, bot_open_id: str) -> bool:
    """p2p: always. Group: only when the bot itself is @-mentioned (@all does not count)."""
    if msg.chat_type == "p2p":
        return True
    return any(m.open_id == bot_open_id for m in msg.mentions)


def parse_command(
    text: str,
    mentions: Iterable[Mention],
    *,
    bot_open_id: str,
    aliases: Mapping[str, str],
    default_locale: str = "zh_cn",
) -> CommandCall:
    """Strip mention placeholders, match the longest alias at the start, split the rest into args.

    `aliases` maps a folded alias ("whois", "查人", "my okr") to its command's name. An unmatched
    first word becomes the call's name, so the router can answer with help and a suggestion.
    Mentions of people other than the bot are kept, in order, as structured arguments.
    Only the first MAX_COMMAND_CHARS characters of `text` are read.
    """
    text = text[:MAX_COMMAND_CHARS]
    by_key = {m.key: m for m in mentions}
    people: list[Mention] = []

    def drop_placeholder(match: re.Match[str]) -> str:
        mention = by_key.get(match.group(0))
        if mention is not None and mention.open_id != bot_open_id and mention not in people:
            people.append(mention)
        return " "

    plain = unicodedata.normalize("NFKC", _PLACEHOLDER.sub(drop_placeholder, text))
    plain = " ".join(plain[:MAX_COMMAND_CHARS].split())
    locale = detect_locale(plain, default_locale)
    if not plain:
        return CommandCall(name="help", mentions=tuple(people), locale=locale)

    folded = plain.casefold()
    for alias in sorted(aliases, key=len, reverse=True):
        if not folded.startswith(alias):
            continue
        rest = plain[len(alias):]
        boundary = not rest or rest[0].isspace() or bool(_CJK.match(alias[-1])) or bool(_CJK.match(rest[0]))
        if boundary:
            return CommandCall(name=aliases[alias], args=tuple(rest.split()), mentions=tuple(people),
                               locale=locale)
    word, *args = plain.split()
    return CommandCall(name=word, args=tuple(args), mentions=tuple(people), locale=locale)


class Router:
    def __init__(
        self,
        commands: Iterable[Command],
        *,
        clients: FeishuClients,
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
        store: Store | None = None,
        vault: TokenVault | None = None,
    ) -> None:
        self.commands: dict[str, Command] = {}
        self.aliases: dict[str, str] = {}
        for command in commands:
            if command.name in self.commands:
                raise ValueError(f"command {command.name!r} registered twice")
            self.commands[command.name] = command
            for alias in (command.name, *command.aliases):
                folded = fold_word(alias)
                if self.aliases.setdefault(folded, command.name) != command.name:
                    raise ValueError(f"alias {alias!r} used by two commands")
        self.clients = clients
        self.settings = settings
        self.store = store
        self.vault = vault
        self.outbox = Outbox.of(clients.messenger)  # the one place that sends
        tz = ZoneInfo(settings.timezone)
        self._clock = clock or (lambda: datetime.now(tz))

    # -- pure-ish helpers -----------------------------------------------------------------------
    def parse(self, msg: IncomingMessage, bot_open_id: str) -> CommandCall:
        return parse_command(msg.text, msg.mentions, bot_open_id=bot_open_id, aliases=self.aliases,
                             default_locale=self.settings.default_locale)

    def suggest(self, word: str) -> str | None:
        """The closest command name for a mistyped word."""
        folded = fold_word(word)
        match = difflib.get_close_matches(folded, list(self.aliases), n=1, cutoff=0.6)
        return self.commands[self.aliases[match[0]]].name if match else None

    def context(self, *, sender: str, chat: Chat, message_id: str = "", event_id: str = "") -> Context:
        return Context(sender_open_id=sender, chat=chat, clients=self.clients, settings=self.settings,
                       now=self._clock(), store=self.store, vault=self.vault, message_id=message_id,
                       event_id=event_id)

    def now(self) -> datetime:
        return self._clock()

    # -- running ----------------------------------------------------------------------------------
    def run(self, call: CommandCall, ctx: Context) -> Reply:
        """Run one command; every failure becomes an error card (the one catch point). Messages the command
        asks to send besides its answer go out through the outbox here; the answer is the caller's to send
        (a reply to the message, or a card callback's answer)."""
        from bot.commands.help import build_help_reply  # the help command knows every command

        command = self.commands.get(call.name)
        if command is None:
            return build_help_reply(call.locale, unknown=call.name, suggestion=self.suggest(call.name))
        try:
            reply = command.handler(call, ctx)
            if reply.outgoing:  # messages besides the answer (a nudge): sent here, the answer by the caller
                self.outbox.send_all(reply.outgoing)
                reply = replace(reply, outgoing=())
            return reply
        except FeishuApiError as exc:
            log.warning("command %s failed for event %s: %s", call.name, ctx.event_id, exc)
            return Reply(to_error_card(exc, locale=call.locale))
        except Exception:
            log.exception("command %s crashed for event %s", call.name, ctx.event_id)
            return Reply(error_cards.build_internal_error_card(locale=call.locale, event_id=ctx.event_id))

    def handle_message(self, msg: IncomingMessage) -> bool:
        """Answer one message (called on a worker thread). True when it is finished with: answered, or
        nothing to answer; False when no reply could be sent (the inbox keeps it to try again)."""
        bot_open_id = self.clients.bot.open_id()
        if msg.sender_open_id == bot_open_id or msg.sender_type != "user":
            return True
        if not is_addressed_to_bot(msg, bot_open_id):
            log.debug("group message %s not addressed to the bot; ignored", msg.message_id)
            return True
        call = self.parse(msg, bot_open_id)
        if msg.message_type not in ("text", "post"):
            call = CommandCall(name="help", locale=call.locale)
        ctx = self.context(sender=msg.sender_open_id, chat=Chat(msg.chat_id, msg.chat_type),
                           message_id=msg.message_id, event_id=msg.event_id)
        reply = self.run(call, ctx)
        return self.deliver(reply, ctx, locale=call.locale) is not None

    def deliver(self, reply: Reply, ctx: Context, *, locale: str) -> str | None:
        """Send a reply through the outbox: in the thread of the asking message, or privately to the asker;
        when it cannot be sent, an error card saying why."""
        return self.outbox.deliver(reply, ctx, locale=locale, error_card=lambda exc: to_error_card(exc, locale=locale))
