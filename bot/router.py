"""From a message to a reply: understand the text (a pure function: the parser below), pick the command, run it,
send its card through the outbox. `Router` is the one catch point for command errors.

Understanding — what a person meant, from the text of a message (and the directory, for names) to a `CommandCall` —
is a pure function of the text, the mentions, the aliases and a name finder; no API call of its own. It reads
text the way people type in Feishu: full-width and half-width forms, spaces an input method puts between
Chinese and Latin (`我的 OKR`), punctuation and emoji around a command (`🎯 我的OKR。`), polite words around it
(`帮我看看…`, `please …`, `…吗`), possessives (`张伟的OKR`, `Nana's okr`), questions (`张伟是谁`, `who's Nana`),
a bare name (`张伟`), and small talk (`你好`, `thanks!`).

Language: the answer follows the command words (`whois 张伟` is English, `谁是 Nana` Chinese). Words both
languages use (`okr`, `?`) and bare names say nothing; then the person's remembered language is used, else the
letters typed (Latin: English), else the bot's default. `Understood.said_in` is the language the words were in.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.commands.base import Command, CommandCall, Context, Reply
from bot.commands.whois import pick_person_reply
from bot.feishu.errors import FeishuApiError, what_to_do
from bot.inbound import IncomingMessage
from bot.models import Chat, Mention, Person
from bot.outbox import Outbox
from bot.settings import Settings
from bot.textfold import MAX_NAME_CHARS, fold_name, fold_word, language_of
from cards import notices as error_cards
from cards.help import build_no_such_person_card

if TYPE_CHECKING:
    from bot.feishu.clients import FeishuClients
    from bot.store import Store
    from bot.tokens import TokenVault

__all__ = ["MAX_COMMAND_CHARS", "NOT_UNDERSTOOD", "SMALL_TALK", "TOO_LONG", "IncomingMessage", "Parser", "Router",
           "Understood", "exact_name_finder", "parse_command", "to_error_card"]

# A command is a few words; Feishu lets a text message carry ~150 KB. Only the first MAX_COMMAND_CHARS characters
# are read (before and after NFKC, which can lengthen text), so no message makes parsing slow.
MAX_COMMAND_CHARS = 2000
# Longer than this, and not a command the bot knows: "too long", not a guess (and never an echo of it all).
MAX_FREE_TEXT = 500

# Calls the router answers itself (not registered commands; a person cannot type them: they contain a space).
SMALL_TALK = "small talk"
NOT_UNDERSTOOD = "not understood"
TOO_LONG = "too long"

_PLACEHOLDER = re.compile(r"@_user_\d+|@_all")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Emoji and pictographs, their joiners and variation selectors, and other symbols are not words.
_SYMBOL_CATEGORIES = {"So", "Sk", "Cs", "Co", "Cn"}
_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u200b", "\u2060"}
# Punctuation that may end or start a command without meaning anything ("我的OKR。", "okr?", "「whois」").
_EDGE_PUNCT = "。．.，,！!？?、；;：:~～…·'\"“”‘’「」『』()（）[]【】<>《》"  # not * / - #: cron and "#3" use them

# Words in both languages: they say nothing about the language to answer in.
NEUTRAL_WORDS = frozenset({"okr", "okrs", "?", "？", "h"})

# Polite words and verbs before a command, longest first when matched ("请帮我看看我的OKR").
_POLITE_PREFIXES_ZH = ("麻烦你", "麻烦", "请你", "请帮我", "请", "帮我", "帮忙", "给我", "我想看看", "我想看",
                       "我要看", "我想知道", "我想查", "想看", "看一下", "看看", "看下", "查看一下", "查看", "查一下",
                       "查查", "查询", "查下", "显示", "打开", "告诉我")
_POLITE_PREFIXES_EN = ("please", "pls", "plz", "can you", "could you", "would you", "can i see", "show me",
                       "show", "let me see", "tell me", "i want to see", "i'd like to see", "what is", "what's",
                       "get", "check", "view", "open", "list", "see", "the")
_POLITE_SUFFIXES = ("please", "pls", "plz", "thanks", "thank you", "thx", "吧", "吗", "呢", "呀", "啊", "嘛", "哈",
                    "一下", "谢谢", "好吗", "可以吗", "行吗")
_MINE_PREFIXES = ("我的", "my", "我")

# Possessive and question shapes: (regex on the compact text, command, whether the captured text is a person).
_OKR_WORDS = r"(?:okrs?|目标|进度|o\s*k\s*r)"
_POSSESSIVE = (
    (re.compile(rf"^(?P<who>.+?)\s*的\s*{_OKR_WORDS}$", re.I), "okr"),
    (re.compile(rf"^(?P<who>.+?)'s\s+{_OKR_WORDS}$", re.I), "okr"),
    (re.compile(rf"^{_OKR_WORDS}\s+(?:of|for)\s+(?P<who>.+)$", re.I), "okr"),
    (re.compile(r"^(?P<who>.+?)\s*的\s*(?:团队|部门)$"), "team"),
    (re.compile(r"^(?P<who>.+?)'s\s+team$", re.I), "team"),
    (re.compile(r"^(?P<who>.+?)\s*的\s*(?:名片|资料|联系方式|信息|邮箱|上级|职位)$"), "whois"),
    (re.compile(r"^(?P<who>.+?)\s*(?:是谁|是哪位|是干什么的|是做什么的|在哪个部门|在哪|是哪个部门的?)$"), "whois"),
    (re.compile(r"^(?:who'?s|who\s+is|who\s+are)\s+(?P<who>.+)$", re.I), "whois"),
    (re.compile(r"^(?:find|look\s*up|search(?:\s+for)?)\s+(?P<who>.+)$", re.I), "whois"),
)
_SELF_WORDS = frozenset({"我", "我自己", "自己", "me", "my", "mine", "myself", "i"})

# Small talk: a short friendly answer, not the help card. Each word maps to (kind, language).
_SMALL_TALK = {
    **{w: ("hello", "zh_cn") for w in ("你好", "您好", "嗨", "哈喽", "哈罗", "喂", "早", "早上好", "上午好",
                                      "中午好", "下午好", "晚上好", "大家好", "你好啊", "你好呀", "在吗", "在不在",
                                      "在么", "在嘛")},
    **{w: ("hello", "en_us") for w in ("hi", "hello", "hey", "hiya", "yo", "good morning", "good afternoon",
                                      "good evening", "morning", "are you there", "anyone there", "hi there",
                                      "hello there", "hey there", "sup", "howdy")},
    **{w: ("thanks", "zh_cn") for w in ("谢谢", "多谢", "谢了", "谢啦", "感谢", "谢谢你", "谢谢啦", "辛苦了", "好的",
                                       "好", "收到", "明白", "知道了", "好的谢谢", "ok谢谢", "赞", "棒")},
    **{w: ("thanks", "en_us") for w in ("thanks", "thank you", "thx", "ty", "cheers", "ok", "okay", "great",
                                       "cool", "nice", "got it", "thanks a lot", "many thanks", "perfect")},
    **{w: ("bye", "zh_cn") for w in ("再见", "拜拜", "回头见", "晚安")},
    **{w: ("bye", "en_us") for w in ("bye", "goodbye", "see you", "good night", "see ya")},
    **{w: ("who", "zh_cn") for w in ("你是谁", "你是什么", "你能做什么", "你会什么", "你会做什么", "你有什么用")},
    **{w: ("who", "en_us") for w in ("who are you", "what are you", "what can you do", "what do you do")},
}


@dataclass(frozen=True, slots=True)
class Understood:
    call: CommandCall
    said_in: str | None  # the language of the command words, None when they are in both (okr) or a bare name


FindPeople = Callable[[str], Sequence[Person]]


def _clean(text: str) -> str:
    """NFKC, emoji and symbols out, runs of spaces as one, punctuation trimmed at both ends."""
    text = unicodedata.normalize("NFKC", text)[:MAX_COMMAND_CHARS]
    text = "".join(" " if ch in _JOINERS or unicodedata.category(ch) in _SYMBOL_CATEGORIES else ch for ch in text)
    text = " ".join(text.split())
    stripped = text.strip(_EDGE_PUNCT + " ")
    return stripped if stripped else text  # "?" alone is help


def _clean_emoji_only(text: str) -> bool:
    """Whether the text is only emoji and symbols (🎯, 👍): something was said, but no words."""
    return any(unicodedata.category(ch) in _SYMBOL_CATEGORIES for ch in text) and not _PLACEHOLDER.search(text)


def _is_boundary(alias: str, rest: str) -> bool:
    """Whether an alias ends where a word ends: at the end, before a space, or where Chinese meets anything
    (Chinese has no spaces: "查人张伟"). A one-character Chinese alias ("我") must stand alone."""
    if not rest or rest[0].isspace():
        return True
    if _CJK.match(alias[-1]) and len(alias) == 1:
        return False
    return bool(_CJK.match(alias[-1]) or _CJK.match(rest[0]))


def _match_prefix(plain: str, word: str) -> int | None:
    """The length of `plain`'s start that spells `word` (folded, spaces in either ignored), or None."""
    i = 0
    for ch in word:
        if ch.isspace():
            continue
        while i < len(plain) and plain[i].isspace():
            i += 1
        if i >= len(plain) or plain[i].casefold() != ch:
            return None
        i += 1
    return i


def _longest_alias(plain: str, aliases: Sequence[tuple[str, str]]) -> tuple[str, str, str] | None:
    """(alias, command, rest) for the longest alias `plain` starts with, at a word boundary."""
    for alias, command in aliases:
        end = _match_prefix(plain, alias)
        if end is not None and _is_boundary(alias, plain[end:]):
            return alias, command, plain[end:].strip()
    return None


def _strip_prefix(plain: str, words: Iterable[str]) -> tuple[str, str] | None:
    """(word, rest) when `plain` starts with one of `words` at a word boundary and something follows."""
    for word in words:
        end = _match_prefix(plain, word)
        if end is None or end >= len(plain):
            continue
        rest = plain[end:]
        if rest[0].isspace() or _CJK.match(word[-1]) or _CJK.match(rest[0]):
            return word, rest.strip()
    return None


def _strip_suffixes(plain: str, *, whole: bool = False) -> str:
    """`plain` without polite words at its end ("…吗", "… please"); with `whole`, also when nothing else is left
    (the arguments of a command: "okr please")."""
    changed = True
    while changed and plain:
        changed = False
        folded = plain.casefold()
        if whole and folded in _POLITE_SUFFIXES:
            return ""
        for word in _POLITE_SUFFIXES:
            if folded.endswith(word) and len(plain) > len(word):
                before = plain[: len(plain) - len(word)]
                if _CJK.match(word[0]) or before[-1] in " ,，":
                    plain = before.rstrip().rstrip(_EDGE_PUNCT + " ")
                    changed = True
                    break
    return plain


def _sorted_words(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({w.casefold() for w in words}, key=len, reverse=True))


_PREFIXES = _sorted_words(_POLITE_PREFIXES_ZH + _POLITE_PREFIXES_EN)


class Parser:
    """The aliases of the registered commands, sorted once; `understand` reads one message with them."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        # folded alias → command name; matched spaces-insensitively, longest first
        self.aliases = tuple(sorted(((a.casefold(), c) for a, c in aliases.items()), key=lambda ac: -len(ac[0])))
        self.commands = frozenset(aliases.values())

    def understand(
        self,
        text: str,
        mentions: Iterable[Mention] = (),
        *,
        bot_open_id: str = "",
        find_people: FindPeople | None = None,
        remembered_locale: str | None = None,
        default_locale: str = "zh_cn",
    ) -> Understood:
        """Read one message. `find_people(name)` returns the people whose name is exactly `name` (it is called
        only for text that could be a name). When the words are in both languages (`okr @张伟`), the answer is in
        `remembered_locale` (the person's), else in the language of the letters typed, else `default_locale`."""
        raw = text[:MAX_COMMAND_CHARS]
        by_key = {m.key: m for m in mentions}
        people: list[Mention] = []

        def drop_placeholder(match: re.Match[str]) -> str:
            mention = by_key.get(match.group(0))
            if mention is not None and mention.open_id != bot_open_id and mention not in people:
                people.append(mention)
            return " "

        plain = _clean(_PLACEHOLDER.sub(drop_placeholder, raw))
        mentioned = tuple(people)

        def call(name: str, args: Iterable[str] = (), said_in: str | None = None, **options: object) -> Understood:
            locale = said_in or remembered_locale or language_of(plain) or default_locale
            return Understood(CommandCall(name=name, args=tuple(args), mentions=mentioned, locale=locale,
                                          options=dict(options)), said_in)

        if not plain:
            if mentioned:  # only someone @-mentioned: who is it
                return call("whois")
            if _clean_emoji_only(raw):
                return call(SMALL_TALK, kind="emoji")  # 👍
            return call("help")
        if len(plain) > MAX_FREE_TEXT:
            return call(TOO_LONG, said_in=language_of(plain[:MAX_FREE_TEXT]), length=len(text))
        found = self._understand(plain, mentioned, find_people)
        if found is None:
            return call(NOT_UNDERSTOOD, said_in=language_of(plain), text=plain)
        name, args, said_in, options = found
        if name == SMALL_TALK:
            return call(name, said_in=said_in, **options)
        resolved = self._resolve_person(name, args, mentioned, find_people)
        if resolved is not None:
            person, args, options = resolved[0], resolved[1], {**options, **resolved[2]}
            if person is not None:
                mentioned = (*mentioned, person)
        return call(name, args, said_in, **options)

    # -- the steps ------------------------------------------------------------------------------
    def _match(self, plain: str) -> tuple[str, str, str] | None:
        return _longest_alias(plain, self.aliases)

    def _understand(
        self, plain: str, mentioned: tuple[Mention, ...], find_people: FindPeople | None,
    ) -> tuple[str, list[str], str | None, dict[str, object]] | None:
        """(command, args, language of the words, options), or None when nothing fits."""
        said: list[str] = []  # languages of the words taken off (polite words), first wins
        for _ in range(8):  # polite words may stack: "请帮我看看我的OKR吗"
            small = _SMALL_TALK.get(plain.casefold())
            if small is not None and not mentioned:
                return SMALL_TALK, [], small[1], {"kind": small[0]}
            matched = self._match(plain)
            if matched is not None:
                alias, name, rest = matched
                args = _strip_suffixes(rest, whole=True)
                said_in = (_alias_language(alias) or next((s for s in said if s), None)
                           or language_of(rest[len(args):]))  # "okr please"
                return name, args.split(), said_in, {}
            if mentioned and plain.startswith("的"):  # "@张伟 的OKR": the mention was the possessor
                plain = plain[1:].strip()
                said.append("zh_cn")
                continue
            stripped = _strip_prefix(plain, _PREFIXES)
            if stripped is None:
                shaped = self._possessive(plain)
                if shaped is not None:
                    return shaped
                trimmed = _strip_suffixes(plain)
                if trimmed != plain and trimmed:
                    stripped = ("", trimmed)
                    said.append(language_of(plain[len(trimmed):]) or "")
                else:
                    stripped = _strip_prefix(plain, _MINE_PREFIXES)
            if stripped is None or not stripped[1]:
                break
            if stripped[0]:
                said.append(language_of(stripped[0]) or "")
            plain = stripped[1]
        said_in = next((s for s in said if s), None)
        if mentioned and plain.casefold() in _PREFIXES:
            return "whois", [], said_in or language_of(plain), {}  # "看看 @张伟"
        if find_people is not None and _could_be_name(plain) and find_people(plain):
            return "whois", plain.split(), said_in, {}  # a bare name: who is it
        return None

    def _possessive(self, plain: str) -> tuple[str, list[str], str | None, dict[str, object]] | None:
        for pattern, name in _POSSESSIVE:
            match = pattern.match(plain)
            if match is None or name not in self.commands:
                continue
            who = match.group("who").strip(_EDGE_PUNCT + " ")
            words = re.sub(_OKR_WORDS, " ", plain.replace(who, " ", 1), flags=re.I)
            said_in = "zh_cn" if _CJK.search(words) else "en_us" if _LATIN.search(words) or "'" in words else None
            if who.casefold() in _SELF_WORDS:
                return name, [], said_in, {}
            return name, who.split(), said_in, {"who": who}
        return None

    def _resolve_person(
        self, name: str, args: list[str], mentioned: tuple[Mention, ...], find_people: FindPeople | None,
    ) -> tuple[Mention | None, list[str], dict[str, object]] | None:
        """For `okr` and `team` (which take a person, and otherwise a period or nothing): the leading words that
        name someone in the directory become that person (a person before a period when both could match);
        several people with that name → `options["choose"]`, for a pick list. None when nothing changes."""
        if name not in ("okr", "team") or mentioned or not args or find_people is None:
            return None
        if args[0].casefold() in ("of", "for") and len(args) > 1:  # "okr of Nana"
            args = args[1:]
        for take in range(min(len(args), 3), 0, -1):  # "Li Wei last": try the longest name first
            who = " ".join(args[:take])
            if not _could_be_name(who):
                continue
            found = find_people(who)
            if len(found) == 1:
                person = found[0]
                return Mention(key="", open_id=person.open_id, name=person.name), args[take:], {}
            if len(found) > 1:
                return None, args[take:], {"choose": who}
        return None


def _alias_language(alias: str) -> str | None:
    if alias.casefold() in NEUTRAL_WORDS:
        return None
    return language_of(alias)


def _could_be_name(text: str) -> bool:
    return 0 < len(text) <= MAX_NAME_CHARS and not any(ch.isdigit() for ch in text)


def exact_name_finder(find: Callable[..., Sequence[Person]]) -> FindPeople:
    """A FindPeople over a directory's prefix search (`Directory.find`): the people whose Chinese name, English
    name or nickname is the text, or has it as a whole word ("Nana" is Nana Ouyang), case-insensitively; never
    a mere prefix ("Li" is no one, "Na" is not Nana)."""

    def find_people(name: str) -> Sequence[Person]:
        wanted = fold_name(name)
        if not wanted:
            return ()
        found = find(name, limit=20)
        exact = tuple(p for p in found if wanted in {fold_name(p.name), fold_name(p.en_name), fold_name(p.nickname)})
        if exact:
            return exact
        return tuple(p for p in found
                     if any(wanted in fold_name(n).split() for n in (p.name, p.en_name, p.nickname)))

    return find_people


# -- from a call to a reply --------------------------------------------------------------------------------------

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
    """The call a message means (the Parser above), for callers without a Router: aliases are folded ones
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
