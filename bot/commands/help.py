"""`help [command]` / `帮助`: what the bot can do, short and grouped, with buttons that run examples; and the
short answers for what is not a command (small talk, text not understood, a message far too long)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.textfold import fold_spaceless, fold_word, language_of
from cards.help import (
    Example,
    HelpEntry,
    build_command_help_card,
    build_help_card,
    build_not_understood_card,
    build_small_talk_card,
    build_too_long_card,
)

# Where each command sits on the help card, its one-line summary there, and the examples it offers as buttons
# ((zh label, en label, args)). A command missing here is listed under "you" with its own summary.
_HELP = {
    "okr": ("okr", "查看你或某人的 OKR，可切换周期", "your or someone's OKRs, any period",
            (("我的OKR", "My OKRs", ()), ("上期 OKR", "Last period", ("上期",)))),
    "remind": ("okr", "给群订阅 OKR 进度提醒", "OKR reminders for a group",
               (("本群的提醒", "This group's reminders", ("列表",)),)),
    "progress": ("okr", "更新你自己的 OKR 进度", "update your own OKR progress",
                 (("更新进度", "Update progress", ()),)),
    "digest": ("okr", "经理每周收到团队周报", "a weekly digest of your reports, for managers",
               (("我的周报", "My digest", ()),)),
    "whois": ("people", "查一个人的名片", "a person's directory card", ()),
    "team": ("people", "看部门成员", "the members of a department", (("我的团队", "My team", ()),)),
    "roster": ("people", "花名册（HR、经理）", "the roster (HR and managers)", (("花名册", "Roster", ()),)),
    "attendance": ("people", "考勤组的成员", "an attendance group's members", ()),
    "login": ("you", "用你的飞书身份授权", "sign in with your Feishu account", ()),
    "logout": ("you", "取消授权", "sign out", ()),
    "me": ("you", "你的资料（授权后）", "your profile (after login)", ()),
    "lang": ("you", "回答用的语言", "the language I answer in", (("English", "English", ("en",)),
                                                             ("中文", "中文", ("zh",)))),
    "whoami": ("you", "你的 open_id，以及你是不是管理员", "your open_id, and whether you are an admin",
               (("我是谁", "Who am I", ()),)),
    "stats": ("you", "（管理员）API 调用次数", "(admins) API calls this month", ()),
    "help": ("you", "这份说明", "this overview", ()),
}
# What small talk and "didn't understand" offer first.
_SUGGESTED = ("okr", "team", "help")


def _examples(name: str, locale: str) -> tuple[Example, ...]:
    entry = _HELP.get(name)
    if entry is None:
        return ()
    return tuple(Example(label=zh if locale == "zh_cn" else en,
                         value=action_value(CommandCall(name=name, args=args, locale=locale)))
                 for zh, en, args in entry[3])


def _help_button(name: str, aliases: Mapping[str, str], locale: str) -> Example:
    """A button that shows how to use `name` (for a command that needs something typed: whois <name>)."""
    if name == "help":
        return Example(label="帮助" if locale == "zh_cn" else "Help",
                       value=action_value(CommandCall(name="help", locale=locale)))
    chinese = next((a for a, n in aliases.items() if n == name and language_of(a) == "zh_cn"), name)
    label = f"{chinese} 怎么用" if locale == "zh_cn" else f"{name}: how to"
    return Example(label=label, value=action_value(CommandCall(name="help", args=(name,), locale=locale)))


def entry_for(command: Command, locale: str) -> HelpEntry:
    group, zh, en, _ = _HELP.get(command.name, ("you", command.summary_zh, command.summary_en, ()))
    return HelpEntry(name=command.name, usage=command.usage, aliases=command.aliases, summary=zh if locale == "zh_cn"
                     else en, examples=command.examples, group=group, buttons=_examples(command.name, locale))


def _visible() -> tuple[Command, ...]:
    from bot.commands import ALL  # every registered command, in the order listed there

    return tuple(c for c in ALL if not c.hidden)


def build_help_reply(locale: str) -> Reply:
    return Reply(build_help_card([entry_for(c, locale) for c in _visible()], locale=locale))


def suggestions(names: tuple[str, ...] | list[str], aliases: Mapping[str, str], locale: str) -> list[Example]:
    """A button per command: its first example when it has one that needs nothing typed, else its help."""
    found: list[Example] = []
    for name in names:
        examples = _examples(name, locale)
        found.append(examples[0] if examples else _help_button(name, aliases, locale))
    return found[:3]


def closest_commands(text: str, aliases: Mapping[str, str]) -> list[str]:
    """The commands whose names or aliases look most like the first words of `text` (a typo), best first; the
    usual suggestions when none does."""
    words = text.split()
    tries = [fold_word(words[0])] if words else []
    tries.append(fold_spaceless(text)[:20])
    names: list[str] = []
    for word in tries:
        for alias in difflib.get_close_matches(word, list(aliases), n=3, cutoff=0.6):
            if aliases[alias] not in names:
                names.append(aliases[alias])
    for name in _SUGGESTED:
        if len(names) >= 3:
            break
        if name not in names:
            names.append(name)
    return names[:3]


def small_talk_reply(kind: str, locale: str) -> Reply:
    return Reply(build_small_talk_card(kind, suggestions(_SUGGESTED, {}, locale), locale=locale))


def not_understood_reply(text: str, aliases: Mapping[str, str], locale: str) -> Reply:
    found = suggestions(closest_commands(text, aliases), aliases, locale)
    return Reply(build_not_understood_card(text, found, locale=locale))


def too_long_reply(length: int, locale: str) -> Reply:
    return Reply(build_too_long_card(length, suggestions(_SUGGESTED, {}, locale), locale=locale))


def run(call: CommandCall, ctx: Context) -> Reply:
    if call.args:
        wanted = fold_spaceless(call.text)
        for command in _visible():
            if wanted in {fold_spaceless(n) for n in (command.name, *command.aliases)}:
                entry = replace(entry_for(command, call.locale), summary=command.summary(call.locale))  # in full
                return Reply(build_command_help_card(entry, locale=call.locale))
    return build_help_reply(call.locale)


COMMAND = Command(
    name="help",
    aliases=("帮助", "?", "？", "h", "菜单", "menu", "怎么用", "使用说明", "说明", "commands"),
    usage="help [command]",
    summary_zh="显示这份说明；「帮助 命令」显示某个命令的全部用法。",
    summary_en="Show this overview; “help <command>” shows one command in full.",
    examples=("help", "帮助 提醒"),
    handler=run,
)
