"""`login` / `授权` and `logout` / `取消授权`: let the bot act as you (user token), or stop it."""

from __future__ import annotations

from bot.commands.base import Command, CommandCall, Context, Reply
from cards.auth import build_login_card, build_logout_card, build_not_configured_card


def login(call: CommandCall, ctx: Context) -> Reply:
    if ctx.vault is None or not ctx.settings.public_url:
        return Reply(build_not_configured_card(locale=call.locale), private=True)
    state = ctx.vault.new_state(ctx.sender_open_id, now=ctx.now)
    url = ctx.clients.users.authorize_url(state=state, redirect_uri=f"{ctx.settings.public_url}/oauth/callback")
    return Reply(build_login_card(url, locale=call.locale), private=True)


def logout(call: CommandCall, ctx: Context) -> Reply:
    had = ctx.vault.forget(ctx.sender_open_id) if ctx.vault is not None else False
    return Reply(build_logout_card(had_token=had, locale=call.locale), private=True)


LOGIN = Command(
    name="login",
    aliases=("授权", "登录", "authorize", "authorise"),
    usage="login",
    summary_zh="用你自己的飞书身份授权：之后「查人」按你能看到的范围搜索。",
    summary_en="Authorise the bot with your own Feishu account: “whois” then searches as you see it.",
    examples=("login", "授权"),
    handler=login,
)
LOGOUT = Command(
    name="logout",
    aliases=("取消授权", "退出登录", "deauthorize"),
    usage="logout",
    summary_zh="删除你的授权。",
    summary_en="Delete your authorisation.",
    examples=("logout",),
    handler=logout,
)
