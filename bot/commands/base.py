"""What every command module shares: the parsed call, the context it runs in, what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.models import Chat, Mention

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients
    from bot.outbox import Outgoing
    from bot.settings import Settings
    from bot.store import Store
    from bot.tokens import TokenVault


@dataclass(frozen=True, slots=True)
class CommandCall:
    """A parsed command: `name` is the canonical command name, or the unknown word typed."""

    name: str
    args: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    locale: str = "zh_cn"
    options: dict[str, Any] = field(default_factory=dict)  # page, period, fresh (from card buttons)

    @property
    def text(self) -> str:
        return " ".join(self.args)


@dataclass(frozen=True, slots=True)
class Context:
    sender_open_id: str
    chat: Chat
    clients: FeishuClients
    settings: Settings
    now: datetime
    store: Store | None = None
    vault: TokenVault | None = None  # None when BOT_SECRET_KEY is not set
    message_id: str = ""
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """A card to answer with. `private` cards go to the asker alone, even in a group."""

    card: dict[str, Any]
    private: bool = False
    refused: bool = False  # a polite no: a card button answers it with a toast, keeping the card
    toast: str = ""  # for a button: a short answer shown as a toast; with an empty card the card stays
    outgoing: tuple[Outgoing, ...] = ()  # messages to send besides the answer (a nudge); the router sends them


Handler = Callable[[CommandCall, Context], Reply]


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    usage: str
    summary_zh: str
    summary_en: str
    examples: tuple[str, ...]
    handler: Handler
    hidden: bool = False  # reached only from card buttons (snooze, nudge): not listed in help

    def summary(self, locale: str) -> str:
        return self.summary_en if locale == "en_us" else self.summary_zh


def action_value(call: CommandCall, **options: Any) -> dict[str, Any]:
    """The small value a card button carries: enough to run the command again, as the clicker."""
    value: dict[str, Any] = {"cmd": call.name, "locale": call.locale}
    if call.args:
        value["args"] = list(call.args)
    if call.mentions:
        value["mentions"] = [[m.open_id, m.name] for m in call.mentions]
    value.update({k: v for k, v in options.items() if v is not None})
    return value


def call_from_action(value: dict[str, Any]) -> CommandCall | None:
    """Rebuild a CommandCall from a button's value (which the client sends back as-is)."""
    if not isinstance(value, dict) or not isinstance(value.get("cmd"), str):
        return None
    args = value.get("args") or []
    mentions = value.get("mentions") or []
    try:
        return CommandCall(
            name=value["cmd"],
            args=tuple(str(a) for a in args),
            mentions=tuple(Mention(key="", open_id=str(m[0]), name=str(m[1])) for m in mentions),
            locale="en_us" if value.get("locale") == "en_us" else "zh_cn",
            options={k: v for k, v in value.items() if k not in {"cmd", "args", "mentions", "locale"}},
        )
    except (TypeError, IndexError):
        return None
