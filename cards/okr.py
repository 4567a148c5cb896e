"""The OKR card: objectives with progress, status, score, weight, deadline and freshness; KRs nested."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from bot.models import (
    OKR_STATUS_AT_RISK,
    OKR_STATUS_DELAYED,
    OKR_STATUS_NONE,
    OKR_STATUS_NORMAL,
    KeyResult,
    Objective,
    Okr,
    OkrPeriod,
    Person,
)
from cards.components import Card, button, button_row, card, escape, excerpt, hr, markdown, note, progress_bar, t

MAX_TEXT = 300  # characters of an objective or KR shown; keeps a full card well under 30 KB

_STATUS_TEXT = {
    OKR_STATUS_NORMAL: ("正常", "On track", "green"),
    OKR_STATUS_AT_RISK: ("有风险", "At risk", "orange"),
    OKR_STATUS_DELAYED: ("已延期", "Delayed", "red"),
    OKR_STATUS_NONE: ("未设置", "No status", "grey"),
}
_TEMPLATE = {OKR_STATUS_DELAYED: "red", OKR_STATUS_AT_RISK: "orange"}


def status_label(status: str, locale: str) -> str:
    zh, en, colour = _STATUS_TEXT.get(status, _STATUS_TEXT[OKR_STATUS_NONE])
    return f"<font color='{colour}'>{t(locale, zh, en)}</font>"


def _short(text: str) -> str:
    return escape(text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…")


def freshness(updated_at: datetime | None, now: datetime, locale: str) -> str:
    if updated_at is None:
        return t(locale, "从未更新进度", "progress never updated")
    days = max(0, (now - updated_at).days)
    if days == 0:
        return t(locale, "今天更新", "updated today")
    return t(locale, f"{days} 天前更新", f"updated {days} day{'s' if days != 1 else ''} ago")


def _facts(item: Objective | KeyResult, *, locale: str, now: datetime, tz: tzinfo) -> str:
    parts = [f"{progress_bar(item.progress)} **{item.progress}%**", status_label(item.status, locale)]
    if item.score is not None and item.score > 0:
        parts.append(t(locale, f"评分 {item.score / 100:.1f}", f"score {item.score / 100:.1f}"))
    if item.weight is not None:
        parts.append(t(locale, f"权重 {item.weight:g}%", f"weight {item.weight:g}%"))
    if item.deadline is not None:
        parts.append(t(locale, "截止 ", "due ") + item.deadline.astimezone(tz).strftime("%Y-%m-%d"))
    parts.append(freshness(item.updated_at, now, locale))
    return " · ".join(parts)


def _objective_block(index: int, obj: Objective, *, locale: str, now: datetime, tz: tzinfo) -> dict[str, Any]:
    if obj.hidden:
        return markdown(f"**O{index}** 🔒 " + t(locale, "你没有权限查看这个目标", "An objective you may not see"))
    lines = [f"**O{index}** {_short(obj.content)}", _facts(obj, locale=locale, now=now, tz=tz)]
    for k, kr in enumerate(obj.key_results, 1):
        lines.append(f"- **KR{k}** {_short(kr.content)}\n  <font color='grey'>"
                     f"{_facts(kr, locale=locale, now=now, tz=tz)}</font>")
    return markdown("\n".join(lines))


def worst_status(okrs: tuple[Okr, ...]) -> str:
    statuses = {o.status for okr in okrs for o in okr.objectives if not o.hidden}
    statuses |= {kr.status for okr in okrs for o in okr.objectives for kr in o.key_results}
    for status in (OKR_STATUS_DELAYED, OKR_STATUS_AT_RISK):
        if status in statuses:
            return status
    return OKR_STATUS_NORMAL


def build_okr_card(
    person: Person,
    okrs: tuple[Okr, ...],
    *,
    period: OkrPeriod,
    locale: str,
    now: datetime,
    tz: tzinfo,
    previous_value: dict[str, Any] | None,
    next_value: dict[str, Any] | None,
    refresh_value: dict[str, Any],
) -> Card:
    name = person.display_name(locale)
    elements: list[dict[str, Any]] = []
    objectives = [o for okr in okrs for o in okr.objectives]
    if any(okr.hidden for okr in okrs):
        elements.append(markdown("🔒 " + t(locale, "这份 OKR 设置了权限，你无法查看。",
                                          "These OKRs are restricted; you may not see them.")))
    elif not objectives:
        elements.append(markdown(t(locale, "这个周期还没有 OKR。", "No OKRs for this period yet.")))
    else:
        visible = [o for o in objectives if not o.hidden]
        if visible:
            average = round(sum(o.progress for o in visible) / len(visible))
            elements.append(markdown(t(locale, f"平均进度 **{average}%**，共 {len(objectives)} 个目标",
                                       f"Average progress **{average}%** across {len(objectives)} objectives")))
            elements.append(hr())
        for index, obj in enumerate(objectives, 1):
            elements.append(_objective_block(index, obj, locale=locale, now=now, tz=tz))
    buttons = []
    if previous_value is not None:
        buttons.append(button(t(locale, "◀ 上一周期", "◀ Previous period"), previous_value))
    if next_value is not None:
        buttons.append(button(t(locale, "下一周期 ▶", "Next period ▶"), next_value))
    buttons.append(button(t(locale, "刷新", "Refresh"), refresh_value))
    stamp = now.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    elements += [hr(), button_row(buttons), note(t(locale, "数据来自飞书 OKR · ", "From Feishu OKR · ") + stamp)]
    title = t(locale, f"{name} 的 OKR", f"{name}'s OKRs")
    status = worst_status(okrs)
    return card(title, elements, template=_TEMPLATE.get(status, "blue"), subtitle=period.display_name(locale),
                summary=title)


def build_periods_card(periods: tuple[OkrPeriod, ...], query: str, *, locale: str,
                       value_for: Callable[[OkrPeriod], dict[str, Any]] | None = None) -> Card:
    """A period that names none of Feishu's (`okr next next`, `okr 2019`): the periods, newest first, each a
    button running okr for it (`value_for`) — never a dead end. Echoes a short excerpt of `query`."""
    if not periods:
        text = t(locale, "飞书 OKR 里还没有周期。", "Feishu OKR has no periods yet.")
        return card(t(locale, "找不到这个周期", "Unknown period"), [markdown(text)], template="grey")
    text = t(locale, "没有找到周期「{0}」。可用的周期：", "No period matches “{0}”. Periods:").format(excerpt(query))
    newest_first = list(reversed(periods))
    if value_for is None:
        names = "\n".join(f"- {escape(p.display_name(locale))}" for p in newest_first)
        return card(t(locale, "找不到这个周期", "Unknown period"), [markdown(text + "\n" + names)], template="grey")
    buttons = [button(p.display_name(locale), value_for(p)) for p in newest_first]
    return card(t(locale, "找不到这个周期", "Unknown period"), [markdown(text), button_row(buttons)],
                template="grey")
