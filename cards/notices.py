"""Notice cards: something went wrong (a readable sentence first, Feishu's code in small print), a polite no,
and "sent to you privately"."""

from __future__ import annotations

from cards.components import Card, card, escape, markdown, note, t


def build_api_error_card(*, code: int | None, message: str, log_id: str | None = None,
                         what_to_do: tuple[str, str] | None = None, locale: str) -> Card:
    """A failed Feishu call: what the person (or an admin) can do about it, as a (zh, en) pair, or else
    Feishu's own message; the code and log_id in small print. The catch point works these out."""
    if what_to_do:
        detail = t(locale, *what_to_do)
    else:
        detail = t(locale, "飞书接口返回了错误：", "Feishu answered with an error: ") + escape(message or "")
    small = t(locale, "飞书错误码", "Feishu error code") + f" {code}"
    if log_id:
        small += f" · log_id {escape(log_id)}"
    return card(t(locale, "出错了", "Something went wrong"), [markdown(detail), note(small)], template="red")


def build_internal_error_card(*, locale: str, event_id: str = "") -> Card:
    detail = t(locale, "处理这条消息时出了问题，已记录日志。请稍后再试。",
               "Something broke while handling this message; it has been logged. Please try again.")
    elements = [markdown(detail)]
    if event_id:
        elements.append(note(f"event_id {escape(event_id)}"))
    return card(t(locale, "出错了", "Something went wrong"), elements, template="red")


def build_refusal_card(*, reason: str, locale: str) -> Card:
    """A polite no. `reason` is our own markdown."""
    return card(t(locale, "无法查看", "Not available to you"), [markdown(reason)], template="orange")


def build_sent_privately_card(*, locale: str) -> Card:
    return card(t(locale, "已私信发送", "Sent to you privately"),
                [markdown(t(locale, "结果包含人员信息，已通过私聊发给你。",
                            "The answer contains people's data, so I sent it to you in a direct message."))],
                template="grey")

