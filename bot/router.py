"""From a message to a reply: parse the command, pick the handler, run it, send its card.

Parsing is pure (`parse_command`); `Router` is the one catch point for command errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.commands.base import Command, CommandCall, Context, Reply
from bot.commands.whois import pick_person_reply
from bot.feishu.errors import FeishuApiError, what_to_do
from bot.inbound import IncomingMessage
from bot.models import Chat, Mention
from bot.outbox import Outbox
from bot.settings import Settings
from bot.textfold import fold_word
from bot.understand import (
    MAX_COMMAND_CHARS,
    NOT_UNDERSTOOD,
    SMALL_TALK,
    TOO_LONG,
    FindPeople,
    Parser,
    Understood,
    exact_name_finder,
)
from cards import notices as error_cards
from cards.help import build_no_such_person_card

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients
    from bot.store import Store
    from bot.tokens import TokenVault

__all__ = ["MAX_COMMAND_CHARS", "IncomingMessage", "Router", "parse_command", "to_error_card"]

log = logging.getLogger(__name__)

def to_error_card(exc: FeishuApiError, *, locale: str) -> dict:
    """The catch point's view of a failed Feishu call: its code, message, log_id and what to do, as plain
    values for the card (card builders know no API layer)."""
    return error_cards.build_api_error_card(code=exc.code, message=exc.msg, log_id=exc.log_id,
                                            what_to_do=what_to_do(exc), locale=locale)


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
    find_people: FindPeople | None = None,
) -> CommandCall:
    """The call a message means (bot/understand.py), for callers without a Router: aliases are folded ones
    ("whois", "查人", "my okr") mapped to their command's name. Only the first MAX_COMMAND_CHARS are read."""
    return Parser(aliases).understand(text, mentions, bot_open_id=bot_open_id, find_people=find_people,
                                      default_locale=default_locale).call


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
        self.parser = Parser(self.aliases)
        self.clients = clients
        self.settings = settings
        self.store = store
        self.vault = vault
        self.outbox = Outbox.of(clients.messenger)  # the one place that sends
        tz = ZoneInfo(settings.timezone)
        self._clock = clock or (lambda: datetime.now(tz))

    # -- understanding -------------------------------------------------------------------------------
    def remembered_language(self, open_id: str) -> str | None:
        """The language `open_id` chose or last typed a command in, if any."""
        if self.store is None:
            return None
        try:
            return self.store.people.language(open_id)
        except Exception:  # a preference is not worth failing an answer for
            log.warning("could not read the language of %s", open_id, exc_info=True)
            return None

    def understand(self, msg: IncomingMessage, bot_open_id: str) -> Understood:
        """What the message means (names looked up in the directory snapshot), in the language to answer in; the
        language of its words is remembered for what the bot sends the person later."""
        directory = self.clients.contact.directory
        understood = self.parser.understand(
            msg.text, msg.mentions, bot_open_id=bot_open_id,
            remembered_locale=self.remembered_language(msg.sender_open_id), default_locale=self.settings.default_locale,
            find_people=exact_name_finder(lambda name, limit: directory().find(name, limit=limit)))
        if understood.said_in and self.store is not None:
            try:
                self.store.people.remember_language(msg.sender_open_id, understood.said_in, self.now())
            except Exception:
                log.warning("could not remember the language of %s", msg.sender_open_id, exc_info=True)
        return understood

    def parse(self, msg: IncomingMessage, bot_open_id: str) -> CommandCall:
        return self.understand(msg, bot_open_id).call

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
        from bot.commands import help as helping  # the help command knows every command

        if call.name == SMALL_TALK:
            return helping.small_talk_reply(str(call.options.get("kind", "")), call.locale)
        if call.name == TOO_LONG:
            return helping.too_long_reply(int(call.options.get("length", 0)), call.locale)
        command = self.commands.get(call.name)
        if command is None:
            text = call.options.get("text") if call.name == NOT_UNDERSTOOD else call.name
            return helping.not_understood_reply(str(text or ""), self.aliases, call.locale)
        who = call.options.get("who")
        if isinstance(who, str) and who and not call.mentions and "choose" not in call.options \
                and call.name in ("okr", "team"):
            return Reply(build_no_such_person_card(who, locale=call.locale))
        try:
            if isinstance(call.options.get("choose"), str) and not call.mentions:
                return pick_person_reply(call, ctx)  # several people have that name: which one?
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
        if msg.message_type not in ("text", "post", "menu"):
            call = CommandCall(name=NOT_UNDERSTOOD, locale=call.locale)
        ctx = self.context(sender=msg.sender_open_id, chat=Chat(msg.chat_id, msg.chat_type),
                           message_id=msg.message_id, event_id=msg.event_id)
        reply = self.run(call, ctx)
        return self.deliver(reply, ctx, locale=call.locale) is not None

    def deliver(self, reply: Reply, ctx: Context, *, locale: str) -> str | None:
        """Send a reply through the outbox: in the thread of the asking message, or privately to the asker;
        when it cannot be sent, an error card saying why."""
        return self.outbox.deliver(reply, ctx, locale=locale, error_card=lambda exc: to_error_card(exc, locale=locale))
