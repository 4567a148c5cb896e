"""`me` / `我`: your own profile (as you); `me set city <city>`: change it, after a confirmation."""

from __future__ import annotations

from bot.commands.base import Command, CommandCall, Context, Reply, action_value
from bot.feishu.user_api import EDITABLE_FIELDS
from cards.auth import build_confirm_update_card
from cards.components import t
from cards.notices import build_refusal_card
from cards.people import build_person_card

FIELD_WORDS = {"city": "city", "城市": "city"}
SET_WORDS = {"set", "设置", "修改", "改"}


def _need_login(locale: str) -> Reply:
    reason = t(locale, "这个功能要用你自己的飞书身份。先发送「授权」。",
               "This needs your own Feishu account. Send “login” first.")
    return Reply(build_refusal_card(reason=reason, locale=locale), private=True)


def run(call: CommandCall, ctx: Context) -> Reply:
    confirm = call.options.get("confirm")
    if confirm and call.options.get("owner") != ctx.sender_open_id:  # a click by someone else changes nothing
        return Reply({}, toast=t(call.locale, "只有本人可以确认。", "Only the person who asked can confirm."),
                     refused=True)
    token = ctx.vault.access_token(ctx.sender_open_id, now=ctx.now) if ctx.vault else None
    if token is None:
        return _need_login(call.locale)
    if confirm:
        if confirm not in EDITABLE_FIELDS:
            return Reply({}, toast=t(call.locale, "这个字段不能修改。", "That field cannot be changed."), refused=True)
        ctx.clients.users.update_me(token, ctx.sender_open_id, str(confirm), str(call.options.get("value", "")))
        me = ctx.clients.users.get_user(token, ctx.sender_open_id)
        return Reply(build_person_card(me, departments=[], locale=call.locale, forwardable=False),
                     toast=t(call.locale, "已修改。", "Changed."))
    words = list(call.args)
    if len(words) >= 3 and words[0].casefold() in SET_WORDS and words[1].casefold() in FIELD_WORDS:
        field = FIELD_WORDS[words[1].casefold()]
        value = " ".join(words[2:])[:50]
        confirm_value = action_value(CommandCall(name="me", locale=call.locale), confirm=field, value=value,
                                     owner=ctx.sender_open_id)
        label = t(call.locale, "城市", "city")
        return Reply(build_confirm_update_card(label, value, confirm_value=confirm_value, locale=call.locale),
                     private=True)
    me = ctx.clients.users.get_user(token, ctx.sender_open_id)
    departments = [ctx.clients.contact.get_department(d) for d in me.department_ids if d and d != "0"]
    return Reply(build_person_card(me, departments=departments, locale=call.locale, forwardable=False),
                 private=True)


COMMAND = Command(
    name="me",
    aliases=("我", "我的资料", "profile"),
    usage="me [set city <city>]",
    summary_zh="（需授权）查看你自己的资料；「我 设置 城市 杭州」修改城市（先确认）。",
    summary_en="(After login) your own profile; `me set city Hangzhou` changes your city after a confirmation.",
    examples=("me", "me set city Hangzhou", "我 设置 城市 杭州"),
    handler=run,
)
