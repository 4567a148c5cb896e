"""The end of the authorisation flow: Feishu sends the person back to /oauth/callback with a code."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.feishu.clients import FeishuClients
from bot.feishu.errors import FeishuApiError
from bot.outbox import Key, Outbox
from bot.tokens import TokenVault
from cards.components import card, markdown, t

if TYPE_CHECKING:
    from bot.store.preferences import PeopleStore

log = logging.getLogger(__name__)


def _page(title: str, text: str) -> str:
    return (f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<body style='font-family:sans-serif;max-width:32em;margin:4em auto'>"
            f"<h2>{html.escape(title)}</h2><p>{html.escape(text)}</p></body>")


def handle_callback(*, code: str, state: str, error: str, vault: TokenVault | None, clients: FeishuClients,
                    now: Callable[[], datetime], locale: str, outbox: Outbox | None = None,
                    people: PeopleStore | None = None) -> tuple[int, str]:
    """Check the state (made for one person, unexpired, unused), exchange the code, make sure the person
    who approved is the person the link was made for, store the token, tell them in chat (through `outbox`,
    by default the clients' one). Once the link's owner is known, pages and message are in their remembered
    language (`people`), else in `locale`."""
    if vault is None:
        return 503, _page("Not configured", "BOT_SECRET_KEY is not set, so the bot cannot keep user tokens.")
    owner = vault.use_state(state, now=now())
    if owner is None:
        return 400, _page(t(locale, "链接已失效", "This link is no longer valid"),
                          t(locale, "授权链接已过期或已使用。请在飞书里重新给机器人发送「授权」。",
                            "The authorisation link expired or was already used. Send “login” to the bot again."))
    locale = (people.language(owner) if people is not None else None) or locale
    if error or not code:
        return 400, _page(t(locale, "未授权", "Not authorised"),
                          t(locale, "你取消了授权。", "You cancelled the authorisation."))
    try:
        tokens = clients.users.exchange_code(code, now=now())
        who, _ = clients.users.whoami(tokens.access_token)
    except FeishuApiError as exc:
        log.warning("oauth code exchange failed: %s", exc)
        return 400, _page(t(locale, "授权失败", "Authorisation failed"),
                          t(locale, "飞书没有接受这次授权（授权码无效或已使用），请重新发送「授权」。",
                            "Feishu did not accept this authorisation (the code is invalid or used). "
                            "Send “login” again."))
    if who != owner:
        log.warning("authorisation link made for %s was approved by %s; refused", owner, who)
        return 403, _page(t(locale, "不是你的链接", "Not your link"),
                          t(locale, "这个授权链接是发给别人的。请自己给机器人发送「授权」获取链接。",
                            "This authorisation link was made for someone else. Send “login” to the bot "
                            "to get your own."))
    vault.save(owner, tokens)
    message = card(t(locale, "授权成功", "Authorised"), [markdown(t(
        locale, "之后「查人」会按你在飞书里能看到的范围搜索。随时发送「取消授权」撤销。",
        "From now on, “whois” searches the directory as you see it in Feishu. Send “logout” any time to undo."
    ))], template="green")
    try:
        (outbox or Outbox.of(clients.messenger)).send(owner, message, Key.login_done(state))
    except FeishuApiError as exc:
        log.warning("could not tell %s that authorisation worked: %s", owner, exc)
    return 200, _page(t(locale, "授权成功", "Authorised"),
                      t(locale, "可以关闭这个页面，回到飞书了。", "You can close this page and go back to Feishu."))
