"""The group OKR reminder card (a team summary, @-mentioning only who needs to act) and each such person's own
private check-in card (their key results and the "Update progress" button)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.models import Okr
from cards.components import Card, button, button_row, card, escape, hr, link_button, markdown, note, progress_bar, t
from cards.okr import status_label

FEISHU_OKR_URL = "https://okr.feishu.cn/"
MAX_LISTED = 50  # people per section; the rest are counted (keeps the card far below 30 KB)
MAX_ITEMS = 2  # risky items shown per person
MIN_FOR_CHART = 3  # people with progress before the group card draws their spread (fewer would single people out)
PROGRESS_BUCKETS = ((0, 24), (25, 49), (50, 74), (75, 100))
MAX_CHECKIN_TEXT = 120  # characters of an objective or KR on the check-in card


@dataclass(frozen=True, slots=True)
class StaleLine:
    open_id: str
    days: int | None  # None: never updated


@dataclass(frozen=True, slots=True)
class RiskLine:
    """One person and what of theirs is at risk: (status label, KR or objective text) pairs."""

    open_id: str
    items: tuple[tuple[str, str], ...]
    name: str = ""  # shown instead of an @-mention when the reminder does not mention them


def mention(open_id: str) -> str:
    """An @-mention that notifies. Only ever for people the reminder is about."""
    return f"<at id={open_id}></at>"


def _progress_chart(progress: list[int], locale: str) -> dict[str, Any]:
    """How many people's average progress falls in each quarter: the team's spread, no one's own number."""
    values = [{"range": f"{low}–{high}%", "people": sum(1 for p in progress if low <= p <= high)}
              for low, high in PROGRESS_BUCKETS]
    return {
        "tag": "chart",
        "aspect_ratio": "2:1",
        "chart_spec": {
            "type": "bar",
            "title": {"text": t(locale, "成员平均进度分布（人数）", "Members by average progress (people)")},
            "data": {"values": values},
            "xField": "range",
            "yField": "people",
            "label": {"visible": True},
        },
    }


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
    mention_stale: bool = True,
    mention_risks: bool = True,
    progress: list[int] | None = None,
    sent_privately: int = 0,
) -> Card:
    """The group's card: how many are up to date, the average progress (and, given `progress`, each person's
    average as an anonymous spread), then the people who need to act.

    `mention_stale`: the stale are listed and @-mentioned (else only counted). `mention_risks`: those with
    something at risk or delayed are listed, @-mentioned, with `show_items` their items' text too (else they
    are counted, or with `show_items` listed by name without a mention). `sent_privately`: how many people got
    their own check-in card."""
    summary = t(locale,
                f"{members} 人中 **{up_to_date}** 人已及时更新，{len(stale)} 人超过 {stale_days} 天没有更新进度，"
                f"{len(risks)} 人有风险或延期；平均进度 **{average_progress}%**。",
                f"Of {members} people, **{up_to_date}** are up to date, {len(stale)} have no progress update in "
                f"{stale_days}+ days and {len(risks)} have something at risk or delayed; "
                f"average progress **{average_progress}%**.")
    elements: list[dict[str, Any]] = [markdown(summary)]
    if progress and len(progress) >= MIN_FOR_CHART:
        elements.append(_progress_chart(progress, locale))
    if stale and mention_stale:
        lines = []
        for line in stale[:MAX_LISTED]:
            when = (t(locale, "从未更新", "never updated") if line.days is None
                    else t(locale, f"{line.days} 天未更新", f"{line.days} days since the last update"))
            lines.append(f"- {mention(line.open_id)} {when}")
        if len(stale) > MAX_LISTED:
            lines.append(t(locale, f"…以及另外 {len(stale) - MAX_LISTED} 人", f"…and {len(stale) - MAX_LISTED} more"))
        elements += [hr(), markdown(t(locale, f"**超过 {stale_days} 天没有更新进度**",
                                      f"**No progress update in {stale_days}+ days**") + "\n" + "\n".join(lines))]
    if risks and (mention_risks or show_items):
        lines = []
        for r in risks[:MAX_LISTED]:
            who = mention(r.open_id) if mention_risks else f"**{escape(r.name or '?')}**"
            if not show_items:
                lines.append(f"- {who} " + t(locale, f"{len(r.items)} 项", f"{len(r.items)} item(s)"))
                continue
            shown = "；".join(f"{label} {escape(what[:60])}" for label, what in r.items[:MAX_ITEMS])
            more = len(r.items) - MAX_ITEMS
            lines.append(f"- {who} {shown}" + (t(locale, f" 等 {more} 项", f" and {more} more") if more > 0 else ""))
        if len(risks) > MAX_LISTED:
            lines.append(t(locale, f"…以及另外 {len(risks) - MAX_LISTED} 人", f"…and {len(risks) - MAX_LISTED} more"))
        elements += [hr(), markdown(t(locale, "**有风险或延期**", "**At risk or delayed**") + "\n" + "\n".join(lines))]
    if not stale and not risks:
        elements.append(markdown(t(locale, "🎉 大家的 OKR 都是最新的。", "🎉 Everyone's OKRs are up to date.")))
    elements += [hr(), button_row([
        link_button(t(locale, "打开飞书 OKR", "Open Feishu OKR"), FEISHU_OKR_URL),
        button(t(locale, "明天再提醒我", "Remind me tomorrow"), snooze_value),
    ])]
    if sent_privately:
        elements.append(note(t(locale, f"需要更新的 {sent_privately} 人已私聊收到自己的关键结果，"
                                       "可以直接在私聊里更新进度。",
                               f"The {sent_privately} people who need to update got their own key results in a "
                               "private message, where they can update their progress.")))
    if skipped:
        elements.append(note(t(locale, f"{skipped} 人因请假、离职或没有可见的 OKR 未被提醒。",
                               f"{skipped} people were not reminded (on leave, leaving, or no visible OKR).")))
    title = t(locale, "OKR 进度提醒", "OKR progress reminder")
    return card(title, elements, template="orange" if stale or risks else "green", subtitle=period_name,
                summary=title)


def build_checkin_card(
    *,
    period_name: str,
    group_name: str,
    okrs: tuple[Okr, ...],
    days_since_update: int | None,
    stale: bool,
    at_risk: int,
    update_value: dict[str, Any],
    snooze_value: dict[str, Any],
    locale: str,
) -> Card:
    """One person's own check-in card, sent privately: why the group's reminder is about them, their key
    results this period (numbered as their OKR card numbers them: objective 1, key result 1.2) with progress
    and status, and the buttons to update progress (`update_value`) or be reminded tomorrow."""
    where = escape(group_name) if group_name else t(locale, "群", "the group")
    if stale:
        since = (t(locale, "你还没有更新过进度", "you have not updated your progress yet") if days_since_update is None
                 else t(locale, f"你已经 {days_since_update} 天没有更新进度了",
                        f"your last progress update was {days_since_update} days ago"))
        why = t(locale, f"「{where}」的 OKR 提醒：{since}。花一分钟更新一下吧。",
                f"The OKR reminder in “{where}”: {since}. It takes a minute to update.")
    else:
        why = t(locale, f"「{where}」的 OKR 提醒：你有 {at_risk} 项有风险或延期，看看进度是否需要更新。",
                f"The OKR reminder in “{where}”: {at_risk} of your items are at risk or delayed; is their "
                "progress up to date?")
    elements: list[dict[str, Any]] = [markdown(why)]
    objectives = [o for okr in okrs for o in okr.objectives]  # numbered as the OKR card numbers them
    shown = 0
    for index, objective in enumerate(objectives, 1):
        if objective.hidden:
            continue
        lines = [f"**{index}** {_cut(objective.content)}",
                 f"{progress_bar(objective.progress)} **{objective.progress}%** · "
                 f"{status_label(objective.status, locale)}"]
        for number, kr in enumerate(objective.key_results, 1):
            lines.append(f"- **{index}.{number}** {_cut(kr.content)} · **{kr.progress}%** · "
                         f"{status_label(kr.status, locale)}")
        elements += [hr(), markdown("\n".join(lines))]
        shown += 1
        if shown >= MAX_LISTED:
            break
    if not shown:
        elements.append(markdown(t(locale, "这个周期还没有 OKR。", "No OKRs for this period yet.")))
    elements += [hr(), button_row([
        button(t(locale, "更新进度", "Update progress"), update_value, kind="primary"),
        button(t(locale, "明天再提醒我", "Remind me tomorrow"), snooze_value),
        link_button(t(locale, "打开飞书 OKR", "Open Feishu OKR"), FEISHU_OKR_URL),
    ]), note(t(locale, "也可以直接发给我：进度 1.2 60% 有风险 灰度完成一半",
                      "Or send me: progress 1.2 60% at risk halfway through the rollout"))]
    title = t(locale, "你的 OKR 提醒", "Your OKR reminder")
    return card(title, elements, template="orange", subtitle=period_name, summary=title, forwardable=False)


def _cut(text: str) -> str:
    return escape(text if len(text) <= MAX_CHECKIN_TEXT else text[:MAX_CHECKIN_TEXT] + "…")


def build_score_reminder_card(
    *,
    period_name: str,
    last_day: str,
    days_left: int,
    assessed: int,
    unscored: list[str],
    skipped: int,
    locale: str,
) -> Card:
    """The group's scoring reminder, days before the OKR period ends: when it ends, how many of the `assessed`
    (members with OKRs the bot can see) have scored, and an @-mention of each who has not (`unscored`, open_ids);
    with nobody left, a short thank-you instead."""
    name = escape(period_name) if period_name else t(locale, "当前", "current")
    scored = assessed - len(unscored)
    when = t(locale, f"（还有 {days_left} 天）", f" ({days_left} days left)") if days_left > 0 else ""
    elements: list[dict[str, Any]] = [
        markdown(t(locale, f"OKR 周期 **{name}** 将于 **{last_day}** 结束{when}，请给自己的 OKR 评分。",
                   f"The OKR period **{name}** ends on **{last_day}**{when}: please score your OKRs.")),
        markdown(t(locale, f"{assessed} 人中 **{scored}** 人已评分。",
                   f"**{scored}** of {assessed} people have scored.")),
    ]
    if unscored:
        lines = [f"- {mention(open_id)}" for open_id in unscored[:MAX_LISTED]]
        if len(unscored) > MAX_LISTED:
            more = len(unscored) - MAX_LISTED
            lines.append(t(locale, f"…以及另外 {more} 人", f"…and {more} more"))
        elements += [hr(), markdown(t(locale, "**还没有评分**", "**Not scored yet**") + "\n" + "\n".join(lines))]
    else:
        elements.append(markdown(t(locale, "🎉 大家都已评分，谢谢！", "🎉 Everyone has scored. Thank you!")))
    elements += [hr(), button_row([link_button(t(locale, "打开飞书 OKR", "Open Feishu OKR"), FEISHU_OKR_URL)])]
    if skipped:
        elements.append(note(t(locale, f"{skipped} 人因请假、离职或没有可见的 OKR 未被提醒。",
                               f"{skipped} people were not reminded (on leave, leaving, or no visible OKR).")))
    title = t(locale, "OKR 评分提醒", "OKR scoring reminder")
    return card(title, elements, template="orange" if unscored else "green", subtitle=period_name, summary=title)
