"""Cards for authorising the bot with one's own Feishu account, and for changing one's profile."""

from __future__ import annotations

from typing import Any

from cards.components import Card, button, button_row, card, escape, link_button, markdown, note, t


def build_login_card(url: str, *, locale: str) -> Card:
    text = t(locale, "授权后，「查人」会用你自己的飞书身份搜索：你在飞书里看得到谁，就能查到谁；看不到的也查不到。",
             "Once you authorise, “whois” searches as you: exactly the people you can see in Feishu.")
    return card(t(locale, "用你的飞书身份授权", "Authorise with your Feishu account"), [
        markdown(text),
        button_row([link_button(t(locale, "去授权", "Authorise"), url)]),
        note(t(locale, "链接只对你有效，10 分钟内使用一次。发送「取消授权」可随时撤销。",
               "The link works once, for you only, within 10 minutes. Send “logout” to undo any time.")),
    ], template="blue")


def build_not_configured_card(*, locale: str) -> Card:
    text = t(locale, "管理员还没有配置 BOT_SECRET_KEY 和 BOT_PUBLIC_URL，暂时不能用个人身份授权。",
             "An admin has not set BOT_SECRET_KEY and BOT_PUBLIC_URL yet, so personal authorisation is off.")
    return card(t(locale, "未配置", "Not configured"), [markdown(text)], template="grey")


def build_logout_card(*, had_token: bool, locale: str) -> Card:
    text = (t(locale, "已删除你的授权。「查人」回到使用公司通讯录。",
              "Your authorisation is deleted; “whois” uses the company directory again.") if had_token
            else t(locale, "你还没有授权过。", "You had not authorised the bot."))
    return card(t(locale, "取消授权", "Logged out"), [markdown(text)], template="grey")


def build_confirm_update_card(field_label: str, value: str, *, confirm_value: dict[str, Any], locale: str) -> Card:
    text = t(locale, f"把你的 **{field_label}** 改为 **{escape(value)}**？",
             f"Change your **{field_label}** to **{escape(value)}**?")
    return card(t(locale, "确认修改", "Confirm the change"), [
        markdown(text),
        button_row([button(t(locale, "确认修改", "Change it"), confirm_value, kind="primary")]),
        note(t(locale, "只有你本人可以确认。", "Only you can confirm this.")),
    ], template="yellow")
