"""Cards about subscriptions: confirmations, lists with next run times, 'why', stats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.components import Card, button, button_row, card, escape, markdown, note, t


@dataclass(frozen=True, slots=True)
class SubscriptionLine:
    id: int
    schedule: str  # described by bot.timephrase, our own text
    next_run: str
    detail: str = ""


def build_confirmation_card(*, title: str, text: str, locale: str, ok: bool = True) -> Card:
    """`text` is our own markdown (user strings escaped by the caller)."""
    return card(title, [markdown(text)], template="green" if ok else "grey")


def build_list_card(*, title: str, lines: list[SubscriptionLine], empty: str, locale: str, hint: str = "") -> Card:
    if not lines:
        elements = [markdown(empty)]
    else:
        elements = [markdown("\n".join(
            f"**#{line.id}** {line.schedule} · " + t(locale, "下次：", "next: ") + line.next_run
            + (f" · {line.detail}" if line.detail else "") for line in lines))]
    if hint:
        elements.append(note(hint))
    return card(title, elements, template="blue")


def build_correction_card(*, title: str, text: str, locale: str,
                          example: tuple[str, dict[str, Any]] | None = None) -> Card:
    """A half-command explained: what was wrong (`text`, our own markdown) and, as a button that runs it, the
    corrected command (`example`: its label, as typed, and the button's value)."""
    elements = [markdown(text)]
    if example is not None:
        label, value = example
        elements.append(button_row([button(t(locale, "试试：", "Try: ") + label, value, kind="primary")]))
    return card(title, elements, template="orange")


def build_choice_card(*, title: str, text: str, lines: list[SubscriptionLine],
                      actions: list[tuple[str, dict[str, Any]]], locale: str, hint: str = "") -> Card:
    """A question with its answers as buttons: `text` says what is asked, `lines` are the subscriptions to pick
    from, `actions` the (label, value) of each button, in the same order."""
    elements = [markdown(text)]
    if lines:
        elements.append(markdown("\n".join(
            f"**#{line.id}** {line.schedule} · " + t(locale, "下次：", "next: ") + line.next_run
            + (f" · {line.detail}" if line.detail else "") for line in lines)))
    if actions:
        elements.append(button_row([button(label, value) for label, value in actions]))
    if hint:
        elements.append(note(hint))
    return card(title, elements, template="blue")


def build_digest_status_card(*, title: str, text: str, actions: list[tuple[str, dict[str, Any]]], locale: str,
                             on: bool) -> Card:
    """A manager's digest at a glance (`text`, our own markdown) with what they can do as buttons."""
    elements = [markdown(text)]
    if actions:
        elements.append(button_row([button(label, value, kind="primary" if i == 0 else "default")
                                    for i, (label, value) in enumerate(actions)]))
    return card(title, elements, template="green" if on else "grey", forwardable=False)


def build_why_card(*, name: str, when: str, reason: str, locale: str) -> Card:
    text = t(locale, f"**{escape(name)}** 在 {when} 的提醒中：{reason}",
             f"**{escape(name)}** in the run of {when}: {reason}")
    return card(t(locale, "为什么？", "Why?"), [markdown(text)], template="wathet")


def build_stats_card(*, month: str, scheduled: dict[str, int], live: dict[str, int], locale: str) -> Card:
    def table(counts: dict[str, int]) -> str:
        if not counts:
            return t(locale, "（无）", "(none)")
        return "\n".join(f"- `{escape(api)}` {count}" for api, count in sorted(counts.items(), key=lambda kv: -kv[1]))

    elements = [
        markdown(t(locale, f"**定时任务本月调用（{month}）**：共 {sum(scheduled.values())} 次",
                   f"**Scheduled runs this month ({month})**: {sum(scheduled.values())} calls")
                 + "\n" + table(scheduled)),
        markdown(t(locale, f"**本进程自启动以来**：共 {sum(live.values())} 次",
                   f"**This process since start**: {sum(live.values())} calls") + "\n" + table(live)),
        note(t(locale, "免费版租户每月有开放平台调用额度，所有自建应用共享。",
               "Tenants on Feishu's free plan share a monthly API quota across all custom apps.")),
    ]
    return card(t(locale, "API 调用统计", "API call statistics"), elements, template="grey")
