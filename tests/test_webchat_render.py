"""The chat page's card renderer (devkit/webchat/static/cards.js + cards.css) in headless Chromium.

The bot's real cards (built by `cards/` from small model objects, tests/webchat_fixtures.py) are drawn with
`FeishuCards.render` and checked as a person would read them: header colour and title, markdown turned into
bold/links/mentions, user text (escaped as HTML entities by the bot) shown literally and never as markup,
tables paging, panels folding, buttons calling back, charts drawn by VChart or shown as a data table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.cardtext import buttons_of, elements_of
from tests.webchat_fixtures import (
    EVIL,
    LOGIN_URL,
    NAMES,
    all_cards,
    attendance_card,
    digest_card,
    okr_card,
    reminder_card,
    roster_card,
)

STATIC = Path(__file__).resolve().parents[1] / "devkit" / "webchat" / "static"
SHELL = "<!doctype html><html><head><meta charset='utf-8'></head><body><div id='root'></div></body></html>"
SHOW = """([card, names]) => {
  window.__actions = [];
  window.__urls = [];
  const root = document.getElementById('root');
  root.textContent = '';
  root.appendChild(FeishuCards.render(card, {
    names,
    onAction: (value, info) => window.__actions.push({
      value, formValue: info.formValue === undefined ? null : info.formValue,
      option: info.option === undefined ? null : info.option}),
    onOpenUrl: (url) => window.__urls.push(url),
  }));
}"""


class Renderer:
    """One page with cards.css, cards.js (and VChart unless told otherwise); shows one card at a time."""

    def __init__(self, browser: Any, *, vchart: bool = True) -> None:
        self.page = browser.new_page(viewport={"width": 760, "height": 900})
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type in ("error", "warning") else None)
        self.page.set_content(SHELL)
        self.page.add_style_tag(path=str(STATIC / "cards.css"))
        if vchart:
            self.page.add_script_tag(path=str(STATIC / "vendor" / "vchart" / "vchart.min.js"))
        self.page.add_script_tag(path=str(STATIC / "cards.js"))

    def show(self, card: Any, names: dict[str, str] | None = None) -> Any:
        self.page.evaluate(SHOW, [card, NAMES if names is None else names])
        return self.page.locator("#root > .fc-card")

    def actions(self) -> list[dict[str, Any]]:
        return self.page.evaluate("window.__actions")

    def urls(self) -> list[str]:
        return self.page.evaluate("window.__urls")

    def texts(self, selector: str) -> list[str]:
        return self.page.locator(selector).all_inner_texts()


@pytest.fixture(scope="module")
def shared(browser: Any) -> Iterator[Renderer]:
    renderer = Renderer(browser)
    yield renderer
    renderer.page.close()


@pytest.fixture
def view(shared: Renderer) -> Renderer:
    shared.errors.clear()
    return shared


def md(content: str) -> dict[str, Any]:
    return {"tag": "markdown", "content": content}


def synthetic(*elements: dict[str, Any], **header: Any) -> dict[str, Any]:
    head = {"title": {"tag": "plain_text", "content": "Test"}, "template": "blue", **header}
    return {"schema": "2.0", "header": head, "body": {"elements": list(elements)}}


# ---- the bot's real cards -----------------------------------------------------------------------------------------


def test_every_real_card_draws_completely_without_errors(view: Renderer) -> None:
    for name, card in all_cards().items():
        shown = view.show(card)
        header = card["header"]
        assert shown.locator(".fc-header").get_attribute("data-template") == header["template"], name
        assert shown.locator(".fc-title").inner_text() == header["title"]["content"], name
        if "subtitle" in header:
            assert shown.locator(".fc-subtitle").inner_text() == header["subtitle"]["content"], name
        assert shown.locator(".fc-error, .fc-unknown").count() == 0, name
        assert shown.locator(".fc-button").count() == len(buttons_of(card)), name
        if shown.locator(".fc-chart").count():
            view.page.wait_for_selector(".fc-chart[data-chart='rendered'] canvas", timeout=10_000)
        text = shown.inner_text()
        for markup in ("**", "<font", "</font>", "&#", "<text_tag"):
            assert markup not in text, (name, markup)
        assert shown.locator(".fc-mention[data-id='all']").count() == 0, name
    assert view.errors == []


def test_header_band_is_coloured_by_template_with_title_and_subtitle(view: Renderer) -> None:
    card = okr_card("en_us")
    shown = view.show(card)
    assert shown.locator(".fc-header").get_attribute("data-template") == "red"  # a KR is delayed
    assert shown.locator(".fc-title").inner_text() == "Wang Lei's OKRs"
    assert shown.locator(".fc-subtitle").inner_text() == "2026 H2"
    background = "el => getComputedStyle(el).backgroundColor"
    red = shown.locator(".fc-header").evaluate(background)
    blue = view.show(synthetic(md("x"))).locator(".fc-header").evaluate(background)
    assert len({red, blue, "rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"}) == 4


def test_user_text_escaped_by_the_bot_shows_literally_and_never_as_markup(view: Renderer) -> None:
    shown = view.show(all_cards()["not-understood/en_us"])
    first = shown.locator(".fc-markdown").first
    quoted = " ".join(EVIL.split())[:29].rstrip() + "…"  # a card quotes at most 30 characters of what was typed
    assert f"I didn't understand “{quoted}”." in first.inner_text()
    for markup in ("em", "del", "code", "a", ".fc-mention", ".fc-md-h"):
        assert first.locator(markup).count() == 0, markup
    roster = view.show(roster_card())
    first_row = roster.locator(".fc-table tbody tr").first
    assert first_row.locator("td").nth(0).inner_text() == EVIL
    assert first_row.locator("td").nth(2).inner_text() == "<at id=ou_wang></at>"
    assert roster.locator(".fc-mention").count() == 0


def test_real_mentions_show_the_persons_name(view: Renderer) -> None:
    shown = view.show(reminder_card("zh_cn"))
    mentions = shown.locator(".fc-mention")
    ids = [mentions.nth(i).get_attribute("data-id") for i in range(mentions.count())]
    assert ids == ["ou_li", "ou_chen", "ou_wang"]
    assert mentions.all_inner_texts() == ["@李娜", "@陈立", "@王磊"]
    unknown = view.show(reminder_card("zh_cn"), names={})
    assert unknown.locator(".fc-mention").first.inner_text() == "@ou_li"


def test_table_shows_its_page_size_and_pages_through_the_rows(view: Renderer) -> None:
    table = view.show(roster_card(23)).locator(".fc-table")
    assert table.get_attribute("data-rows") == "23"
    assert table.locator("thead th").all_inner_texts() == ["姓名", "部门", "职位", "入职日期", "状态", "类型"]
    rows = table.locator("tbody tr")
    assert rows.count() == 10
    assert rows.nth(1).locator("td").first.inner_text() == "员工01 (Emp 1)"
    next_page = table.locator(".fc-pager-next")
    next_page.click()
    assert rows.count() == 10 and rows.first.locator("td").first.inner_text() == "员工10 (Emp 10)"
    next_page.click()
    assert rows.count() == 3 and table.locator(".fc-pager-label").inner_text() == "3 / 3"
    assert next_page.is_disabled()
    table.locator(".fc-pager-prev").click()
    assert table.get_attribute("data-page") == "2"
    assert view.actions() == []  # paging the table is local, never a callback


def test_collapsible_panel_starts_as_the_card_says_and_toggles(view: Renderer) -> None:
    panel = view.show(attendance_card()).locator(".fc-panel")
    assert panel.count() == 1
    assert panel.get_attribute("data-expanded") == "true"
    assert "研发部" in panel.locator(".fc-panel-header").inner_text()
    body = panel.locator(".fc-panel-body")
    assert body.is_visible() and "李娜" in body.inner_text()
    panel.locator(".fc-panel-header").click()
    assert panel.get_attribute("data-expanded") == "false" and body.is_hidden()
    panel.locator(".fc-panel-header").click()
    assert body.is_visible()
    folded = {"tag": "collapsible_panel", "expanded": False,
              "header": {"title": {"tag": "plain_text", "content": "More"}}, "elements": [md("hidden text")]}
    shown = view.show(synthetic(folded))
    assert shown.locator(".fc-panel-body").is_hidden()


def test_callback_buttons_send_their_value_and_disabled_ones_do_nothing(view: Renderer) -> None:
    shown = view.show(okr_card("zh_cn"))
    shown.get_by_role("button", name="刷新").click()
    shown.get_by_role("button", name="◀ 上一周期").click()
    values = [a["value"] for a in view.actions()]
    assert values == [{"cmd": "okr", "refresh": "ou_wang"}, {"cmd": "okr", "period": "prev"}]
    digest = view.show(digest_card())
    digest.get_by_role("button", name="提醒一下").nth(1).click()
    assert view.actions() == [{"value": {"cmd": "nudge", "target": "ou_chen"}, "formValue": None, "option": None}]
    team = view.show(all_cards()["team"])
    previous = team.get_by_role("button", name="上一页")
    assert previous.is_disabled()
    previous.click(force=True)
    team.get_by_role("button", name="下一页").click()
    assert [a["value"] for a in view.actions()] == [{"cmd": "page", "page": 1}]


def test_open_url_button_calls_on_open_url_not_on_action(view: Renderer) -> None:
    shown = view.show(all_cards()["login"])
    shown.get_by_role("button", name="去授权").click()
    assert view.urls() == [LOGIN_URL]
    assert view.actions() == []


def test_confirm_dialog_and_form_submit_with_the_forms_values(view: Renderer) -> None:
    form = {"tag": "form", "name": "f", "elements": [
        {"tag": "input", "name": "city", "required": True, "placeholder": {"tag": "plain_text", "content": "City"}},
        {"tag": "select_static", "name": "dept", "initial_option": "eng", "options": [
            {"text": {"tag": "plain_text", "content": "Engineering"}, "value": "eng"},
            {"text": {"tag": "plain_text", "content": "Sales"}, "value": "sales"}]},
        {"tag": "button", "name": "save", "text": {"tag": "plain_text", "content": "Save"}, "type": "primary_filled",
         "form_action_type": "submit", "behaviors": [{"type": "callback", "value": {"cmd": "save"}}],
         "confirm": {"title": {"tag": "plain_text", "content": "Sure?"},
                     "text": {"tag": "plain_text", "content": "x"}}},
    ]}
    shown = view.show(synthetic(form))
    save = shown.get_by_role("button", name="Save")
    assert save.get_attribute("data-type") == "primary_filled"
    dialogs: list[str] = []

    def answer(accept: bool) -> None:
        def handle(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        view.page.once("dialog", handle)

    answer(True)
    save.click()  # the required input is empty: nothing is sent
    assert view.actions() == [] and shown.locator(".fc-invalid").count() == 1
    shown.get_by_placeholder("City").fill("杭州")
    shown.locator("select").select_option("sales")
    answer(False)
    save.click()
    assert view.actions() == []
    answer(True)
    save.click()
    assert dialogs == ["Sure?\n\nx"] * 3
    assert view.actions() == [{"value": {"cmd": "save"}, "formValue": {"city": "杭州", "dept": "sales"},
                               "option": None}]


def test_interactive_container_and_overflow_call_back(view: Renderer) -> None:
    box = {"tag": "interactive_container", "has_border": True,
           "behaviors": [{"type": "callback", "value": {"cmd": "box"}}],
           "elements": [md("click **me**"), {"tag": "button", "text": {"tag": "plain_text", "content": "Inner"},
                                             "behaviors": [{"type": "callback", "value": {"cmd": "inner"}}]}]}
    menu = {"tag": "overflow", "options": [{"text": {"tag": "plain_text", "content": "Alpha"}, "value": "a"},
                                           {"text": {"tag": "plain_text", "content": "Docs"},
                                            "multi_url": {"url": "https://docs.example/"}}]}
    shown = view.show(synthetic(box, menu))
    shown.locator(".fc-interactive strong").click()
    shown.get_by_role("button", name="Inner", exact=True).click()
    assert [a["value"] for a in view.actions()] == [{"cmd": "box"}, {"cmd": "inner"}]
    shown.locator(".fc-overflow-trigger").click()
    shown.get_by_role("menuitem", name="Alpha").click()
    assert view.actions()[-1]["option"] == "a"
    assert shown.locator(".fc-overflow-menu").is_hidden()
    shown.locator(".fc-overflow-trigger").click()
    shown.get_by_role("menuitem", name="Docs").click()
    assert view.urls() == ["https://docs.example/"] and len(view.actions()) == 3


def test_markdown_constructs(view: Renderer) -> None:
    content = "\n".join([
        "# Title",
        "**bold** *it* ~~gone~~ `co&#60;de&#62;` [link](https://example.com/x) <font color='red'>red</font> "
        "<text_tag color='green'>ok</text_tag>",
        "- one",
        "  more",
        "- two",
        "    - nested",
        "1. first",
        "---",
        "&#35; not a heading &lt;at id=ou_li&gt;&lt;/at&gt; <at id=ou_li></at> <at id=all></at> 2 * 3 * 4",
    ])
    shown = view.show(synthetic(md(content)))
    block = shown.locator(".fc-markdown")
    assert block.locator(".fc-md-h1").inner_text() == "Title"
    assert block.locator("strong").inner_text() == "bold"
    assert block.locator("em").inner_text() == "it"
    assert block.locator("del").inner_text() == "gone"
    assert block.locator("code").inner_text() == "co<de>"
    assert block.locator(".fc-font").evaluate("el => getComputedStyle(el).color") != \
        block.locator("strong").evaluate("el => getComputedStyle(el).color")
    assert block.locator(".fc-tag[data-color='green']").inner_text() == "ok"
    assert block.locator("ul > li").count() == 3  # two items and the nested one
    assert block.locator("ul > li").first.inner_text().startswith("one\nmore")
    assert block.locator("ul ul > li").inner_text() == "nested"
    assert block.locator("ol > li").inner_text() == "first"
    assert block.locator(".fc-hr").count() == 1
    last = block.locator(".fc-md-p").last
    assert last.inner_text() == "# not a heading <at id=ou_li></at> @李娜 @所有人 2 * 3 * 4"
    assert [last.locator(".fc-mention").nth(i).get_attribute("data-id") for i in range(2)] == ["ou_li", "all"]
    block.locator("a", has_text="link").click()
    assert view.urls() == ["https://example.com/x"]


def test_raw_html_in_a_card_stays_text(view: Renderer) -> None:
    raw = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=1</script> [x](javascript:window.__pwned=1)"
    table = {"tag": "table", "rows": [{"c": raw, "m": raw}],
             "columns": [{"name": "c", "data_type": "text"}, {"name": "m", "data_type": "lark_md"}]}
    card = synthetic(md(raw), {"tag": "div", "text": {"tag": "plain_text", "content": raw}}, table)
    shown = view.show(card)
    assert shown.locator("img, script, [onerror], a[href^='javascript']").count() == 0
    assert shown.locator(".fc-markdown").inner_text().startswith("<img src=x onerror=")
    assert shown.locator(".fc-div").inner_text() == raw
    shown.locator(".fc-markdown a").click()
    assert view.page.evaluate("window.__pwned === undefined") and view.urls() == []


def test_people_columns_and_i18n_text(view: Renderer) -> None:
    person = view.show(all_cards()["person"]).locator(".fc-person")
    assert person.get_attribute("data-user-id") == "ou_zhou"
    assert person.locator(".fc-person-name").inner_text() == "周星河"
    assert person.locator(".fc-avatar").inner_text() == "星河"
    columns = view.show(all_cards()["pick"]).locator(".fc-columns").first.locator(".fc-column")
    wide, narrow = (columns.nth(i).bounding_box()["width"] for i in range(2))
    assert 3 < wide / narrow < 5  # weights 4:1
    i18n = synthetic({"tag": "markdown", "content": "", "i18n_content": {"en_us": "Hello", "zh_cn": "你好"}},
                     title={"tag": "plain_text", "i18n_content": {"zh_cn": "标题", "en_us": "Title"}})
    shown = view.show(i18n)
    assert shown.locator(".fc-title").inner_text() == "标题"
    assert shown.locator(".fc-markdown").inner_text() == "你好"


def test_unknown_and_broken_components_are_labelled_never_dropped(view: Renderer) -> None:
    card = synthetic(
        {"tag": "fancy_widget"},
        None,
        {"tag": "markdown", "content": 5},
        {"tag": "column_set", "columns": [{"tag": "column", "elements": [{"tag": "nope"}]}]},
        {"tag": "note", "elements": []},  # removed in JSON 2.0
        md("still **here**"),
    )
    shown = view.show(card)
    unknown = shown.locator(".fc-unknown")
    tags = [unknown.nth(i).get_attribute("data-tag") for i in range(unknown.count())]
    assert tags == ["fancy_widget", "nope", "note"]
    assert unknown.first.inner_text() == "Unsupported component: fancy_widget"
    assert shown.locator(".fc-error").count() == 2
    assert shown.locator(".fc-markdown strong").inner_text() == "here"
    for bad in (None, "{not json", 42, {"header": 5, "body": {"elements": "x"}}):
        assert view.page.evaluate("c => FeishuCards.render(c).classList.contains('fc-card')", bad)


def test_render_markdown_for_plain_messages(view: Renderer) -> None:
    html = view.page.evaluate("""names => {
      const el = FeishuCards.renderMarkdown('**hi** &lt;at id=x&gt; <at id=ou_li></at>', names);
      return [el.className, el.querySelector('strong').textContent, el.querySelector('.fc-mention').textContent,
              el.textContent];
    }""", NAMES)
    assert html == ["fc-markdown", "hi", "@李娜", "hi <at id=x> @李娜"]


# ---- charts --------------------------------------------------------------------------------------------------------


def test_chart_is_drawn_by_vchart_on_a_canvas(view: Renderer) -> None:
    chart = view.show(digest_card()).locator(".fc-chart")
    view.page.wait_for_selector(".fc-chart[data-chart='rendered'] canvas", timeout=10_000)
    box = chart.locator("canvas").bounding_box()
    [spec] = elements_of(digest_card(), "chart")
    assert box["width"] > 300 and abs(box["height"] - int(spec["height"].removesuffix("px"))) <= 4  # as tall as asked
    assert view.errors == []
    broken = {"tag": "chart", "height": "200px",
              "chart_spec": {"type": "no_such_chart", "data": {"values": [{"k": "only row"}]}}}
    chart = view.show(synthetic(broken)).locator(".fc-chart")
    view.page.wait_for_selector(".fc-chart[data-chart='placeholder']", timeout=10_000)
    assert "VChart could not draw this spec" in chart.inner_text()
    assert chart.locator("tbody td").all_inner_texts() == ["only row"]


def test_chart_without_vchart_shows_a_placeholder_with_the_data(browser: Any) -> None:
    renderer = Renderer(browser, vchart=False)
    try:
        chart = renderer.show(digest_card("en_us")).locator(".fc-chart")
        assert chart.get_attribute("data-chart") == "placeholder"
        assert chart.locator(".fc-chart-head").inner_text().startswith("Chart")
        assert chart.locator("thead th").all_inner_texts() == ["name", "progress"]
        assert chart.locator("tbody tr").all_inner_texts() == ["李娜\t30", "陈立\t55", "张伟\t80"]
        assert chart.locator("canvas").count() == 0
        assert renderer.errors == []
    finally:
        renderer.page.close()
