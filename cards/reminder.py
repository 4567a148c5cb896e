"""The group OKR reminder card: who should update, who is at risk (mentioned), a team summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.components import Card, button, button_row, card, escape, hr, link_button, markdown, note, t

FEISHU_OKR_URL = "https://okr.feishu.cn/"
MAX_LISTED = 50  # people per section; the rest are counted (keeps the card far below 30 KB)
MAX_ITEMS = 2  # risky items shown per person


@dataclass(frozen=True, slots=True)
class StaleLine:
    open_id: str
    days: int | None  # None: never updated


@dataclass(frozen=True, slots=True)
class RiskLine:
    """One person and what of theirs is at risk: (status label, KR or objective text) pairs."""

    open_id: str
    items: tuple[tuple[str, str], ...]


def mention(open_id: str) -> str:
    """An @-mention that notifies. Only ever for people the reminder is about."""
    return f"<at id={open_id}></at>"


def build_reminder_card(
    *,
    period_name: str,
    stale_days: int,
    members: int,
    up_to_date: int,
    average_progress: int,
    stale: list[StaleLine],
    risks: list[RiskLine],
    skipped: int,
    snooze_value: dict[str, Any],
    locale: str,
    show_items: bool = True,
) -> Card:
    """The group's card. `show_items=False` (OKR_VISIBILITY team or self): names and counts only, no
    objective or key-result text; each person gets their own items privately (build_personal_reminder_card)."""
    summary = t(locale,
                f"{members} 人中 {up_to_date} 人已及时更新，{len(stale)} 人需要更新进度，"
                f"{len(risks)} 人有风险或延期；平均进度 {average_progress}%。",
                f"Of {members} people, {up_to_date} are up to date, {len(stale)} need to update their "
                f"progress and {len(risks)} have something at risk or delayed; "
                f"average progress {average_progress}%.")
    elements: list[dict[str, Any]] = [markdown(summary)]
    if stale:
        lines = []
        for line in stale[:MAX_LISTED]:
            when = (t(locale, "从未更新", "never updated") if line.days is None
                    else t(locale, f"{line.days} 天未更新", f"{line.days} days since the last update"))
            lines.append(f"- {mention(line.open_id)} {when}")
        if len(stale) > MAX_LISTED:
            lines.append(t(locale, f"…以及另外 {len(stale) - MAX_LISTED} 人", f"…and {len(stale) - MAX_LISTED} more"))
        elements += [hr(), markdown(t(locale, f"**超过 {stale_days} 天没有更新进度**",
                                      f"**No progress update in {stale_days}+ days**") + "\n" + "\n".join(lines))]
    if risks:
        lines = []
        for r in risks[:MAX_LISTED]:
            if not show_items:
                lines.append(f"- {mention(r.open_id)} " + t(locale, f"{len(r.items)} 项", f"{len(r.items)} item(s)"))
                continue
            shown = "；".join(f"{label} {escape(what[:60])}" for label, what in r.items[:MAX_ITEMS])
            more = len(r.items) - MAX_ITEMS
            lines.append(f"- {mention(r.open_id)} {shown}" + (t(locale, f" 等 {more} 项", f" and {more} more")
                                                              if more > 0 else ""))
        if len(risks) > MAX_LISTED:
            lines.append(t(locale, f"…以及另外 {len(risks) - MAX_LISTED} 人", f"…and {len(risks) - MAX_LISTED} more"))
        elements += [hr(), markdown(t(locale, "**有风险或延期**", "**At risk or delayed**") + "\n" + "\n".join(lines))]
    if not stale and not risks:
        elements.append(markdown(t(locale, "🎉 大家的 OKR 都是最新的。", "🎉 Everyone's OKRs are up to date.")))
    elements += [hr(), button_row([
        link_button(t(locale, "打开飞书 OKR", "Open Feishu OKR"), FEISHU_OKR_URL),
        button(t(locale, "明天再提醒我", "Remind me tomorrow"), snooze_value),
    ])]
    if risks and not show_items:
        elements.append(note(t(locale, "每个人的具体目标和关键结果已私聊发给本人。",
                               "Each person got their own objectives and key results in a private message.")))
    if skipped:
        elements.append(note(t(locale, f"{skipped} 人因请假、离职或没有可见的 OKR 未被提醒。",
                               f"{skipped} people were not reminded (on leave, leaving, or no visible OKR).")))
    title = t(locale, "OKR 进度提醒", "OKR progress reminder")
    return card(title, elements, template="orange" if stale or risks else "green", subtitle=period_name,
                summary=title)


def build_personal_reminder_card(
    *,
    period_name: str,
    group_name: str,
    items: tuple[tuple[str, str], ...],
    snooze_value: dict[str, Any],
    locale: str,
) -> Card:
    """One person's own at-risk items, sent privately when the group card may carry names and counts only."""
    lines = [f"- {label} {escape(what[:200])}" for label, what in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(t(locale, f"…以及另外 {len(items) - MAX_LISTED} 项", f"…and {len(items) - MAX_LISTED} more"))
    where = escape(group_name) if group_name else t(locale, "群", "the group")
    intro = t(locale, f"「{where}」的 OKR 提醒提到了你：这些目标或关键结果有风险或延期。",
              f"The OKR reminder in “{where}” mentioned you: these objectives or key results are at risk or delayed.")
    elements: list[dict[str, Any]] = [markdown(intro + "\n" + "\n".join(lines)), hr(), button_row([
        link_button(t(locale, "打开飞书 OKR", "Open Feishu OKR"), FEISHU_OKR_URL),
        button(t(locale, "明天再提醒我", "Remind me tomorrow"), snooze_value),
    ])]
    title = t(locale, "你的 OKR 提醒", "Your OKR reminder")
    return card(title, elements, template="orange", subtitle=period_name, summary=title)
