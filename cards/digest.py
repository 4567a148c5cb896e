"""The manager digest card: problems first (with nudge buttons), a progress chart, roster changes,
attendance coverage. Sections with nothing to say are left out; a big team shows the worst first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cards.components import Card, button, card, columns, escape, hr, markdown, note, t

MAX_PROBLEM_LINES = 25  # each is a column set with a button: keeps the card under 200 elements and 30 KB
MAX_CHART_BARS = 40


@dataclass(frozen=True, slots=True)
class ProblemLine:
    open_id: str
    name: str
    severity: int  # higher first
    text: str  # our own markdown, user strings already escaped
    nudge_value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChangeLine:
    text: str  # escaped markdown


def _chart(bars: list[tuple[str, int]], locale: str) -> dict[str, Any]:
    values = [{"name": name, "progress": progress} for name, progress in bars[:MAX_CHART_BARS]]
    return {
        "tag": "chart",
        "aspect_ratio": "16:9",
        "chart_spec": {
            "type": "bar",
            "direction": "horizontal",
            "title": {"text": t(locale, "本周期 OKR 平均进度（%）", "Average OKR progress this period (%)")},
            "data": {"values": values},
            "xField": "progress",
            "yField": "name",
            "axes": [{"orient": "bottom", "min": 0, "max": 100}],
            "label": {"visible": True},
        },
    }


def build_digest_card(
    *,
    manager_name: str,
    period_name: str,
    team_size: int,
    average_progress: int,
    problems: list[ProblemLine],
    bars: list[tuple[str, int]],
    roster_changes: list[ChangeLine],
    not_in_attendance: list[str],
    locale: str,
) -> Card:
    elements: list[dict[str, Any]] = []
    headline = t(locale, f"直属下属 {team_size} 人，平均进度 **{average_progress}%**，{len(problems)} 项需要关注。",
                 f"{team_size} direct reports, average progress **{average_progress}%**, "
                 f"{len(problems)} need attention.")
    elements.append(markdown(headline))
    if problems:
        ordered = sorted(problems, key=lambda p: (-p.severity, p.name))
        elements += [hr(), markdown(t(locale, "**需要关注**", "**Needs attention**"))]
        for line in ordered[:MAX_PROBLEM_LINES]:
            elements.append(columns([markdown(f"**{escape(line.name)}** {line.text}")],
                                    [button(t(locale, "提醒一下", "Nudge"), line.nudge_value)], weights=(4, 1)))
        if len(ordered) > MAX_PROBLEM_LINES:
            more = len(ordered) - MAX_PROBLEM_LINES
            elements.append(note(t(locale, f"…以及另外 {more} 项（已按严重程度排序）",
                                   f"…and {more} more (worst first)")))
    if bars:
        elements += [hr(), _chart(bars, locale)]
    if roster_changes:
        elements += [hr(), markdown(t(locale, "**人员变动**", "**Roster changes**") + "\n"
                                    + "\n".join(f"- {c.text}" for c in roster_changes[:30]))]
    if not_in_attendance:
        names = "、".join(escape(n) for n in not_in_attendance[:30])
        elements += [hr(), markdown(t(locale, f"**不在任何考勤组**：{names}", f"**In no attendance group**: {names}"))]
    title = t(locale, f"{manager_name} 的团队周报", f"Team digest for {manager_name}")
    card_json = card(title, elements, template="red" if problems else "green", subtitle=period_name, summary=title,
                     forwardable=False)
    if len(json.dumps(card_json, ensure_ascii=False).encode("utf-8")) > 28 * 1024 and len(bars) > 10:
        return build_digest_card(manager_name=manager_name, period_name=period_name, team_size=team_size,
                                 average_progress=average_progress, problems=problems[:MAX_PROBLEM_LINES],
                                 bars=bars[:10], roster_changes=roster_changes[:10],
                                 not_in_attendance=not_in_attendance[:10], locale=locale)
    return card_json


def build_nudge_card(*, manager_name: str, locale: str) -> Card:
    text = t(locale, f"{escape(manager_name)} 提醒你抽空更新一下 OKR 进度 🙂 打开飞书 OKR 就能更新。",
             f"{escape(manager_name)} asked me to remind you to update your OKR progress 🙂 "
             "It only takes a minute in Feishu OKR.")
    return card(t(locale, "OKR 小提醒", "A friendly OKR reminder"), [markdown(text)], template="wathet")
