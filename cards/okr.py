"""The OKR card: objectives with progress, status, score, weight, deadline and freshness; KRs nested."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from cards.components import (
    Card,
    button,
    button_row,
    card,
    columns,
    escape,
    excerpt,
    hr,
    markdown,
    note,
    progress_bar,
    t,
)

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


@dataclass(frozen=True, slots=True)
class Numbered:
    """An objective ("1") or key result ("1.2") as the OKR card numbers it; `objective` is the KR's own."""

    number: str
    kind: str  # "objective" | "key_result"
    item: Objective | KeyResult
    objective: Objective


def numbered(okrs: tuple[Okr, ...]) -> list[Numbered]:
    """Every objective and key result of `okrs` in the card's order, with the card's numbers: objectives 1, 2, …
    across the period's OKRs (a hidden one keeps its number), key results 1.1, 1.2, … under theirs."""
    found: list[Numbered] = []
    for index, obj in enumerate((o for okr in okrs for o in okr.objectives), 1):
        found.append(Numbered(str(index), "objective", obj, obj))
        found += [Numbered(f"{index}.{k}", "key_result", kr, obj) for k, kr in enumerate(obj.key_results, 1)]
    return found


def _objective_block(index: int, obj: Objective, *, locale: str, now: datetime, tz: tzinfo) -> dict[str, Any]:
    if obj.hidden:
        return markdown(f"**{index}** 🔒 " + t(locale, "你没有权限查看这个目标", "An objective you may not see"))
    lines = [f"**{index}** {_short(obj.content)}", _facts(obj, locale=locale, now=now, tz=tz)]
    for k, kr in enumerate(obj.key_results, 1):
        lines.append(f"- **{index}.{k}** {_short(kr.content)}\n  <font color='grey'>"
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
    progress_value: dict[str, Any] | None = None,
    banner: str = "",
) -> Card:
    """`progress_value`: the "Update progress" button's value (only on the asker's own current-period card that
    they alone see); `banner`: a markdown line on top (what a check-in just wrote)."""
    name = person.display_name(locale)
    elements: list[dict[str, Any]] = [markdown(banner), hr()] if banner else []
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
    if progress_value is not None and objectives:
        buttons.append(button(t(locale, "更新进度", "Update progress"), progress_value, kind="primary"))
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


MAX_FORM_KRS = 25  # key results in one update form: 6 components each, well under the card's 200
STATUS_CHOICES = (OKR_STATUS_NORMAL, OKR_STATUS_AT_RISK, OKR_STATUS_DELAYED, OKR_STATUS_NONE)


def _status_option(status: str, locale: str) -> dict[str, Any]:
    zh, en, _ = _STATUS_TEXT[status]
    return {"text": {"tag": "plain_text", "content": t(locale, zh, en)}, "value": status}


def build_progress_form_card(
    person: Person,
    key_results: list[Numbered],
    *,
    period: OkrPeriod,
    locale: str,
    submit_value: dict[str, Any],
    cancel_value: dict[str, Any],
    max_note: int = 500,
) -> Card:
    """The update form: per key result (numbered as on the OKR card) its percent, prefilled, and a status
    select, prefilled; one note for all; submit. Field names carry the KR id (p_<id>, s_<id>); the bot checks
    on submit that each belongs to the person who submits."""
    title = t(locale, "更新 OKR 进度", "Update OKR progress")
    subtitle = period.display_name(locale)
    if not key_results:
        text = t(locale, "你本周期的 OKR 还没有关键结果。可以发送「进度 1 50%」更新目标的进度。",
                 "Your OKRs for this period have no key results. Send “progress 1 50%” to update an objective.")
        return card(title, [markdown(text), button_row([button(t(locale, "我的 OKR", "My OKRs"), cancel_value)])],
                    subtitle=subtitle, forwardable=False)
    shown = key_results[:MAX_FORM_KRS]
    fields_: list[dict[str, Any]] = [markdown(t(
        locale, "改你要更新的数字和状态，只有改动过的关键结果会写入飞书 OKR。",
        "Change the numbers and statuses you want to update; only key results you change are written to Feishu OKR."))]
    options = [_status_option(s, locale) for s in STATUS_CHOICES]
    for entry in shown:
        kr = entry.item
        fields_.append(markdown(f"**{entry.number}** {_short(kr.content)}"))
        percent_input = {
            "tag": "input", "name": f"p_{kr.id}", "default_value": str(kr.progress), "max_length": 4,
            "placeholder": {"tag": "plain_text", "content": "0–100"}, "width": "fill",
        }
        status_select = {
            "tag": "select_static", "name": f"s_{kr.id}", "options": options, "width": "fill",
            "initial_option": kr.status if kr.status in STATUS_CHOICES else OKR_STATUS_NONE,
        }
        fields_.append(columns([percent_input], [status_select], weights=(1, 2)))
    fields_.append({
        "tag": "input", "name": "note", "max_length": max_note, "input_type": "multiline_text", "rows": 2,
        "placeholder": {"tag": "plain_text", "content": t(locale, "进展说明（可选）", "What happened (optional)")},
    })
    fields_.append({
        "tag": "button", "name": "submit", "form_action_type": "submit", "type": "primary",
        "text": {"tag": "plain_text", "content": t(locale, "提交", "Submit")},
        "behaviors": [{"type": "callback", "value": submit_value}],
    })
    elements: list[dict[str, Any]] = [{"tag": "form", "name": "progress_form", "elements": fields_}]
    if len(key_results) > len(shown):
        more = len(key_results) - len(shown)
        elements.append(note(t(locale, f"还有 {more} 个关键结果，请用文字更新，例如「进度 1.2 60%」。",
                               f"{more} more key results: update them by text, e.g. “progress 1.2 60%”.")))
    elements.append(button_row([button(t(locale, "取消", "Cancel"), cancel_value)]))
    return card(title, elements, subtitle=subtitle, summary=title, forwardable=False)


def build_progress_correction_card(
    reason: str,
    *,
    locale: str,
    form_value: dict[str, Any],
    example: str = "",
    example_value: dict[str, Any] | None = None,
    listing: list[Numbered] | None = None,
) -> Card:
    """A check-in that could not be read: why (our own markdown), the right way as text (a button that runs
    it when `example_value` is given), the person's own numbers when they picked none or a wrong one, and the
    update form."""
    elements: list[dict[str, Any]] = [markdown(reason)]
    if listing is not None:
        lines = [f"**{e.number}** {excerpt(e.item.content, 40)} · {e.item.progress}%"
                 for e in listing if not (e.kind == "objective" and e.objective.hidden)]
        elements.append(markdown("\n".join(lines) if lines else t(
            locale, "你本周期还没有 OKR。", "You have no OKRs for this period.")))
    if example and example_value is None:
        elements.append(markdown(t(locale, "例如：", "For example: ") + f"**{escape(example)}**"))
    buttons = [button(example, example_value, kind="primary")] if example and example_value is not None else []
    buttons.append(button(t(locale, "用表单更新", "Update with the form"), form_value))
    elements.append(button_row(buttons))
    return card(t(locale, "没能更新进度", "Progress not updated"), elements, template="orange",
                forwardable=False)
