"""Cards for things that went wrong: a readable sentence first, Feishu's code in small print."""

from __future__ import annotations

from cards.components import Card, card, escape, markdown, note, t

# What an admin (or the asker) must do, per Feishu error code. Sources: FEISHU_FACTS.md §4/§6/§7 and
# the error tables in shared/feishu-api/.
_ADVICE: dict[int, tuple[str, str]] = {
    99991672: ("应用缺少这项操作所需的权限。请管理员在开发者后台为应用开通相应权限并发布新版本。",
               "The app lacks the permission scope for this. An admin must enable it in the developer "
               "console and publish a new version."),
    99991679: ("应用缺少这项操作所需的权限。请管理员在开发者后台为应用开通相应权限并发布新版本。",
               "The app lacks the permission scope for this. An admin must enable it in the developer "
               "console and publish a new version."),
    40004: ("这个部门不在应用的通讯录权限范围内。请管理员在开发者后台调整「通讯录权限范围」。",
            "That department is outside the app's contact data range. An admin can widen it in the "
            "developer console."),
    41050: ("这个人不在应用的通讯录权限范围内，或者不存在。",
            "That person is outside the app's contact data range, or does not exist."),
    230002: ("机器人不在这个群里。", "The bot is not a member of that chat."),
    230013: ("对方不在机器人的可用范围内（或已离职）。", "That person is outside the bot's availability range "
             "(or has left)."),
    1001002: ("应用没有以应用身份读取 OKR 的授权。请管理员在 OKR 管理后台为应用开通「以应用身份访问 OKR 信息」。",
              "The app may not read OKRs as the app. An OKR admin must grant it access in the OKR admin "
              "console."),
    1001003: ("OKR 系统里找不到这个用户。", "OKR has no such user."),
    1001004: ("没有找到对应的 OKR 数据。", "No OKR data was found for that."),
    1241004: ("企业尚未开通飞书人事（标准版），花名册不可用。请管理员在飞书管理后台启用。",
              "Feishu People (Standard) is not enabled for this company, so the roster is unavailable. "
              "An admin can enable it in the Feishu admin console."),
    1220006: ("应用没有考勤权限。请管理员为应用开通考勤相关权限。",
              "The app has no attendance permission. An admin must grant the attendance scopes."),
}


def build_api_error_card(exc: object, *, locale: str) -> Card:
    """Turn a FeishuApiError (or anything with code/msg/log_id) into a card."""
    from bot.feishu.errors import Forbidden, NotFound, RateLimited, Unavailable

    code = getattr(exc, "code", None)
    advice = _ADVICE.get(code) if isinstance(code, int) else None
    if advice:
        detail = t(locale, *advice)
    elif isinstance(exc, RateLimited):
        detail = t(locale, "飞书接口繁忙（触发频率限制），请一分钟后再试。",
                   "Feishu is busy (rate limit reached). Please try again in a minute.")
    elif isinstance(exc, Unavailable):
        detail = t(locale, "暂时连不上飞书开放平台，请稍后再试。",
                   "Feishu's Open Platform could not be reached. Please try again shortly.")
    elif isinstance(exc, Forbidden):
        detail = t(locale, "应用没有权限完成这项操作。", "The app is not allowed to do this.")
    elif isinstance(exc, NotFound):
        detail = t(locale, "没有找到。", "Not found.")
    else:
        detail = t(locale, "飞书接口返回了错误：", "Feishu answered with an error: ") + escape(
            getattr(exc, "msg", "") or "")
    title = t(locale, "出错了", "Something went wrong")
    elements = [markdown(detail)]
    small = t(locale, "飞书错误码", "Feishu error code") + f" {code}"
    log_id = getattr(exc, "log_id", None)
    if log_id:
        small += f" · log_id {escape(log_id)}"
    elements.append(note(small))
    return card(title, elements, template="red")


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
