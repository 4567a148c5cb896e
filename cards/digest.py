"""The manager digest card: problems first (with nudge buttons), a progress chart, roster changes,
attendance coverage. Sections with nothing to say are left out; a big team shows the worst first."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from cards.components import (
    Card,
    button,
    button_row,
    card,
    chat_link,
    columns,
    escape,
    hr,
    link_button,
    markdown,
    note,
    t,
)
from cards.reminder import FEISHU_OKR_URL

MAX_PROBLEM_LINES = 25  # each is a column set with a button: keeps the card under 200 elements and 30 KB
# The chart has one horizontal bar per person with the person's name beside it, worst first. VChart drops the
# names that would overlap (its axis "sampling": 14 bars in a 16:9 chart kept 7 names), so sampling is off and
# the chart's height grows with its bars: BAR_PX each, enough for a 12 px name with room around it, also on a
# phone (there the chart gets narrower, not shorter). Ten bars make a chart of 340 px, about half a phone's
# screen: more would push the rest of the card out of sight and thin the bars below what reads at a glance, and
# the ten worst are the ones a manager acts on; the rest are counted under the chart ("and N more").
MAX_CHART_BARS = 10
BAR_PX = 28
CHART_FRAME_PX = 60  # the chart's title and its percent axis


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


def _unique(names: list[str]) -> list[str]:
    """Each bar its own name (the chart's axis would put two people of one name on one bar)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def worst_first(bars: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted(bars, key=lambda bar: (bar[1], bar[0]))


def _chart(bars: Sequence[tuple[str, int]], locale: str) -> list[dict[str, Any]]:
    """The progress chart (at most MAX_CHART_BARS bars, worst first), and how many more there are below it."""
    ordered = worst_first(bars)
    shown = ordered[:MAX_CHART_BARS]
    names = _unique([name for name, _ in shown])
    values = [{"name": name, "progress": progress} for name, (_, progress) in zip(names, shown, strict=True)]
    elements: list[dict[str, Any]] = [{
        "tag": "chart",
        "height": f"{CHART_FRAME_PX + BAR_PX * len(shown)}px",
        "chart_spec": {
            "type": "bar",
            "direction": "horizontal",
            "title": {"text": t(locale, "本周期 OKR 平均进度（%）", "Average OKR progress this period (%)")},
            "data": {"values": values},
            "xField": "progress",
            "yField": "name",
            "axes": [{"orient": "bottom", "type": "linear", "min": 0, "max": 100},
                     {"orient": "left", "type": "band", "sampling": False}],  # every name, none dropped
            "label": {"visible": True},
        },
    }]
    if len(ordered) > len(shown):
        more = len(ordered) - len(shown)
        elements.append(note(t(locale, f"另有 {more} 人", f"and {more} more")))
    return elements


def _problem_line(line: ProblemLine, locale: str, *, nudged: bool, checked_in: bool) -> dict[str, Any]:
    text = f"**{chat_link(escape(line.name), line.open_id)}** {line.text}"  # the name opens a chat with them
    if checked_in:
        text += t(locale, " · ✓ 已在聊天中更新进度", " · ✓ checked in via chat")
    action = (button(t(locale, "已提醒 ✓", "Nudged ✓"), line.nudge_value, disabled=True) if nudged
              else button(t(locale, "提醒一下", "Nudge"), line.nudge_value))
    return columns([markdown(text)], [action], weights=(4, 1))


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
    nudged: Collection[str] = frozenset(),
    nudge_all_value: dict[str, Any] | None = None,
    checked_in: Sequence[tuple[str, str]] = (),
) -> Card:
    """`nudged`: the open_ids already nudged from this digest (their buttons show it, disabled);
    `nudge_all_value`: the "nudge everyone with a problem" button's value (shown for two problems or more);
    `checked_in`: (open_id, name) of the reports who checked in through the bot since the last digest."""
    elements: list[dict[str, Any]] = []
    headline = t(locale, f"直属下属 {team_size} 人，平均进度 **{average_progress}%**，{len(problems)} 项需要关注。",
                 f"{team_size} direct reports, average progress **{average_progress}%**, "
                 f"{len(problems)} need attention.")
    elements.append(markdown(headline))
    checked = {open_id for open_id, _ in checked_in}
    if problems:
        ordered = sorted(problems, key=lambda p: (-p.severity, p.name))
        elements += [hr(), markdown(t(locale, "**需要关注**", "**Needs attention**"))]
        for line in ordered[:MAX_PROBLEM_LINES]:
            elements.append(_problem_line(line, locale, nudged=line.open_id in nudged,
                                          checked_in=line.open_id in checked))
        if len(ordered) > MAX_PROBLEM_LINES:
            more = len(ordered) - MAX_PROBLEM_LINES
            elements.append(note(t(locale, f"…以及另外 {more} 项（已按严重程度排序）",
                                   f"…and {more} more (worst first)")))
        if nudge_all_value is not None and len(ordered) > 1:
            if all(p.open_id in nudged for p in ordered):
                everyone = button(t(locale, "已全部提醒 ✓", "Everyone nudged ✓"), nudge_all_value, disabled=True)
            else:
                everyone = button(t(locale, "提醒所有有问题的人", "Nudge everyone with a problem"), nudge_all_value,
                                  kind="primary")
            elements.append(button_row([everyone]))
    if checked_in:
        names = t(locale, "、", ", ").join(chat_link(escape(name), open_id) for open_id, name in checked_in[:30])
        elements += [hr(), markdown(t(locale, f"**✓ 自上次周报以来已在聊天中更新进度**：{names}",
                                      f"**✓ Checked in via chat since the last digest**: {names}"))]
    if bars:
        elements += [hr(), *_chart(bars, locale)]
    if roster_changes:
        elements += [hr(), markdown(t(locale, "**人员变动**", "**Roster changes**") + "\n"
                                    + "\n".join(f"- {c.text}" for c in roster_changes[:30]))]
    if not_in_attendance:
        names = "、".join(escape(n) for n in not_in_attendance[:30])
        elements += [hr(), markdown(t(locale, f"**不在任何考勤组**：{names}", f"**In no attendance group**: {names}"))]
    if problems:  # the problems are about OKRs: where to look at them (Feishu documents no link to one person's)
        elements.append(button_row([link_button(t(locale, "打开飞书 OKR", "Open Feishu OKR"), FEISHU_OKR_URL)]))
    title = t(locale, f"{manager_name} 的团队周报", f"Team digest for {manager_name}")
    card_json = card(title, elements, template="red" if problems else "green", subtitle=period_name, summary=title,
                     forwardable=False)
    if len(json.dumps(card_json, ensure_ascii=False).encode("utf-8")) > 28 * 1024 and (
            len(roster_changes) > 10 or len(not_in_attendance) > 10 or len(checked_in) > 10):
        return build_digest_card(manager_name=manager_name, period_name=period_name, team_size=team_size,
                                 average_progress=average_progress, problems=problems, bars=bars,
                                 roster_changes=roster_changes[:10], not_in_attendance=not_in_attendance[:10],
                                 locale=locale, nudged=nudged, nudge_all_value=nudge_all_value,
                                 checked_in=checked_in[:10])
    return card_json


def build_nudge_card(*, manager_name: str, locale: str) -> Card:
    text = t(locale, f"{escape(manager_name)} 提醒你抽空更新一下 OKR 进度 🙂 打开飞书 OKR 就能更新。",
             f"{escape(manager_name)} asked me to remind you to update your OKR progress 🙂 "
             "It only takes a minute in Feishu OKR.")
    return card(t(locale, "OKR 小提醒", "A friendly OKR reminder"), [markdown(text)], template="wathet")
