"""The roster card: a count summary and a table of allow-listed fields, paged with buttons."""

from __future__ import annotations

from typing import Any

from bot.models import EHR_STATUS_NAMES, EMPLOYEE_TYPE_NAMES, Department, Employee
from cards.components import Card, button, button_row, card, escape, markdown, page_window, pager, t

ROWS_PER_CARD = 30  # the table shows 10 a page itself; more than 30 goes to the next card page


def _label(table: dict[int, tuple[str, str]], key: int, locale: str) -> str:
    zh, en = table.get(key, ("—", "—"))
    return t(locale, zh, en)


def build_roster_card(
    employees: list[Employee],
    *,
    title: str,
    summary: list[tuple[str, int]],
    departments: dict[str, Department],
    locale: str,
    page: int,
    value_for_page: Any,
    scope_note: str = "",
) -> Card:
    total = len(employees)
    page, pages = page_window(total, page, ROWS_PER_CARD)
    shown = employees[page * ROWS_PER_CARD:(page + 1) * ROWS_PER_CARD]
    counts = " · ".join(f"{label} **{count}**" for label, count in summary)
    elements: list[dict[str, Any]] = [markdown(counts)] if counts else []
    if shown:
        rows = []
        for e in shown:
            dept = departments.get(e.department_id)
            rows.append({
                "name": escape(e.name + (f" ({e.en_name})" if e.en_name and e.en_name != e.name else "")),
                "department": escape(dept.display_name(locale)) if dept else "—",
                "job": escape(e.job) or "—",
                "hire_date": e.hire_date.isoformat() if e.hire_date else "—",
                "status": _label(EHR_STATUS_NAMES, e.status, locale)
                + (f" {e.last_day.isoformat()}" if e.status == 4 and e.last_day else ""),
                "type": _label(EMPLOYEE_TYPE_NAMES, e.employee_type, locale),
            })
        columns = [
            ("name", t(locale, "姓名", "Name")), ("department", t(locale, "部门", "Department")),
            ("job", t(locale, "职位", "Job")), ("hire_date", t(locale, "入职日期", "Hired")),
            ("status", t(locale, "状态", "Status")), ("type", t(locale, "类型", "Type")),
        ]
        elements.append({
            "tag": "table",
            "page_size": 10,
            "row_height": "low",
            "freeze_first_column": True,
            "header_style": {"text_align": "left", "bold": True, "background_style": "grey"},
            "columns": [{"name": name, "display_name": label, "data_type": "lark_md", "width": "auto"}
                        for name, label in columns],
            "rows": rows,
        })
    else:
        elements.append(markdown(t(locale, "没有符合条件的人员。", "Nobody matches.")))
    elements += pager(page, pages, total, value_for_page, locale=locale, extra=scope_note)
    return card(title, elements, template="violet", summary=title, forwardable=False)


def build_department_pick_card(*, title: str, text: str, choices: list[tuple[str, dict[str, Any]]],
                               locale: str) -> Card:
    """Departments to pick from, each a button (its label a department's name, plain text). `text` is our own
    markdown."""
    elements: list[dict[str, Any]] = [markdown(text)]
    if choices:
        elements.append(button_row([button(label, value) for label, value in choices]))
    return card(title, elements, template="violet", forwardable=False)
