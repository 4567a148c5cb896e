from __future__ import annotations

import copy
from typing import Any

import pytest

from devkit.cardcheck import MAX_CARD_BYTES, assert_valid_card, validate_card


def _text(content: str, tag: str = "plain_text") -> dict[str, Any]:
    return {"tag": tag, "content": content}


def _button(label: str, **extra: Any) -> dict[str, Any]:
    return {"tag": "button", "text": _text(label), **extra}


def _table(page_size: int = 5) -> dict[str, Any]:
    return {
        "tag": "table",
        "page_size": page_size,
        "columns": [
            {"name": "objective", "display_name": "Objective", "data_type": "text"},
            {
                "name": "progress",
                "display_name": "Progress",
                "data_type": "number",
                "format": {"precision": 0},
            },
        ],
        "rows": [{"objective": "Ship v2", "progress": 40}],
    }


def _card(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"schema": "2.0", "body": {"elements": list(elements)}}


def _full_card() -> dict[str, Any]:
    """A realistic OKR card using every component the bot supports."""
    return {
        "schema": "2.0",
        "config": {
            "update_multi": True,
            "width_mode": "fill",
            "enable_forward": True,
            "summary": {
                "content": "OKR digest",
                "i18n_content": {"zh_cn": "OKR 摘要", "en_us": "OKR digest"},
            },
            "locales": ["zh_cn", "en_us"],
            "style": {
                "text_size": {"cus-0": {"default": "medium", "pc": "medium", "mobile": "large"}},
                "color": {
                    "cus-1": {"light_mode": "rgba(5,157,178,0.52)", "dark_mode": "rgba(78,23,108,0.49)"}
                },
            },
        },
        "card_link": {"url": "https://okr.example.com"},
        "header": {
            "title": {
                "tag": "plain_text",
                "content": "张三的 OKR",
                "i18n_content": {"en_us": "Zhang San's OKRs"},
            },
            "subtitle": _text("2026 Q3", "lark_md"),
            "template": "indigo",
            "text_tag_list": [
                {"tag": "text_tag", "element_id": "tag_period", "text": _text("Q3"), "color": "blue"},
            ],
            "icon": {"tag": "standard_icon", "token": "chat_outlined", "color": "orange"},
            "padding": "12px 8px 12px 8px",
        },
        "body": {
            "direction": "vertical",
            "padding": "12px 12px 12px 12px",
            "vertical_spacing": "medium",
            "horizontal_spacing": "8px",
            "elements": [
                {
                    "tag": "markdown",
                    "element_id": "intro",
                    "content": "**O1** Ship the bot",
                    "text_size": "cus-0",
                },
                {
                    "tag": "div",
                    "text": {"tag": "plain_text", "content": "Key results", "text_color": "grey", "lines": 2},
                    "fields": [
                        {"is_short": True, "text": _text("**KR1** 40%", "lark_md")},
                        {"is_short": True, "text": _text("**KR2** 70%", "lark_md")},
                    ],
                    "icon": {"tag": "standard_icon", "token": "reply-cn_filled"},
                },
                {"tag": "hr", "margin": "0px 0px 0px 0px"},
                {
                    "tag": "column_set",
                    "flex_mode": "bisect",
                    "horizontal_spacing": "large",
                    "columns": [
                        {
                            "tag": "column",
                            "width": "weighted",
                            "weight": 1,
                            "vertical_align": "top",
                            "elements": [
                                {"tag": "person", "user_id": "ou_123", "show_name": True, "size": "small"},
                                {
                                    "tag": "person_list",
                                    "persons": [{"id": "ou_1"}, {"id": "ou_2"}],
                                    "lines": 1,
                                },
                            ],
                        },
                        {
                            "tag": "column",
                            "width": "auto",
                            "elements": [
                                {
                                    "tag": "button",
                                    "element_id": "btn_done",
                                    "text": _text("Mark done"),
                                    "type": "primary_filled",
                                    "size": "small",
                                    "width": "fill",
                                    "icon": {"tag": "standard_icon", "token": "done_outlined"},
                                    "confirm": {
                                        "title": _text("Sure?"),
                                        "text": _text("This notifies your manager"),
                                    },
                                    "behaviors": [
                                        {"type": "callback", "value": {"action": "kr_done", "kr": "kr_1"}},
                                        {"type": "open_url", "default_url": "https://okr.example.com/kr_1"},
                                    ],
                                },
                                _button(
                                    "Locked",
                                    disabled=True,
                                    disabled_tips=_text("Period closed"),
                                    hover_tips=_text("Edit"),
                                ),
                                {
                                    "tag": "img",
                                    "img_key": "img_v3_abc",
                                    "alt": _text(""),
                                    "scale_type": "crop_center",
                                },
                            ],
                        },
                    ],
                },
                {
                    "tag": "collapsible_panel",
                    "expanded": False,
                    "header": {
                        "title": {"tag": "markdown", "content": "**Details**"},
                        "icon": {
                            "tag": "standard_icon",
                            "token": "down-small-ccm_outlined",
                            "size": "16px 16px",
                        },
                        "icon_position": "right",
                        "icon_expanded_angle": -180,
                    },
                    "border": {"color": "grey", "corner_radius": "5px"},
                    "padding": "8px 8px 8px 8px",
                    "elements": [
                        {"tag": "markdown", "content": "Long notes"},
                        {
                            "tag": "chart",
                            "aspect_ratio": "16:9",
                            "chart_spec": {"type": "line", "data": {"values": []}},
                        },
                    ],
                },
                _table(),
                {
                    "tag": "chart",
                    "element_id": "progress_chart",
                    "color_theme": "brand",
                    "height": "200px",
                    "chart_spec": {"type": "linearProgress", "data": {"values": [{"value": 0.4}]}},
                },
                {
                    "tag": "interactive_container",
                    "has_border": True,
                    "corner_radius": "8px",
                    "behaviors": [{"type": "callback", "value": {"action": "open_details"}}],
                    "elements": [{"tag": "markdown", "content": "Open details"}],
                },
                {
                    "tag": "form",
                    "name": "checkin",
                    "elements": [
                        {
                            "tag": "input",
                            "name": "note",
                            "required": True,
                            "placeholder": _text("What moved this week?"),
                            "max_length": 500,
                            "input_type": "multiline_text",
                            "label": _text("Note"),
                        },
                        {
                            "tag": "select_static",
                            "name": "confidence",
                            "placeholder": _text("Confidence"),
                            "options": [
                                {"text": _text("High"), "value": "high"},
                                {"text": _text("Low"), "value": "low"},
                            ],
                        },
                        _button(
                            "Submit",
                            name="submit_checkin",
                            type="primary",
                            form_action_type="submit",
                            behaviors=[{"type": "callback", "value": {"action": "checkin"}}],
                        ),
                    ],
                },
                {
                    "tag": "overflow",
                    "options": [
                        {
                            "text": _text("Open in OKR"),
                            "multi_url": {"url": "https://okr.example.com"},
                            "value": "open",
                        },
                        {"text": _text("Mute"), "value": "mute"},
                    ],
                    "value": {"source": "digest"},
                },
            ],
        },
    }


def _problems_mentioning(card: dict[str, Any], *needles: str, **kwargs: Any) -> list[str]:
    problems = validate_card(card, **kwargs)
    hits = [p for p in problems if all(n in p for n in needles)]
    assert hits, f"no problem mentions {needles}; got {problems}"
    return hits


def test_realistic_card_with_every_component_is_valid() -> None:
    card = _full_card()
    assert validate_card(card) == []
    assert_valid_card(card)


def test_validate_does_not_mutate_the_card() -> None:
    card = _full_card()
    before = copy.deepcopy(card)
    validate_card(card)
    assert card == before


def test_missing_schema() -> None:
    card = _full_card()
    del card["schema"]
    _problems_mentioning(card, "schema", "2.0")


def test_wrong_schema_version() -> None:
    card = _full_card()
    card["schema"] = "1.0"
    _problems_mentioning(card, "schema", "'1.0'")


def test_unknown_top_level_key() -> None:
    card = _full_card()
    card["theme"] = "dark"
    _problems_mentioning(card, "unknown top-level property 'theme'")


def test_i18n_elements_is_rejected_with_a_hint() -> None:
    card = _full_card()
    card["i18n_elements"] = {"zh_cn": []}
    (problem,) = _problems_mentioning(card, "i18n_elements")
    assert "i18n_content" in problem


def test_unknown_tag() -> None:
    (problem,) = _problems_mentioning(_card({"tag": "marquee"}), "body.elements[0]", "unknown tag 'marquee'")
    assert problem == "body.elements[0]: unknown tag 'marquee'"


def test_removed_1_0_tags_are_unknown() -> None:
    _problems_mentioning(_card({"tag": "note", "elements": []}), "unknown tag 'note'", "removed")
    _problems_mentioning(_card({"tag": "action", "actions": []}), "unknown tag 'action'", "removed")


def test_unknown_button_property_reports_full_path() -> None:
    card = _full_card()
    button = card["body"]["elements"][3]["columns"][1]["elements"][1]
    button["href"] = "https://example.com"
    problems = validate_card(card)
    assert problems == ["body.elements[3].columns[1].elements[1]: unknown property 'href' for tag 'button'"]


@pytest.mark.parametrize("legacy", [{"value": {"action": "x"}}, {"url": "https://example.com"}])
def test_legacy_button_properties_are_rejected_by_default(legacy: dict[str, Any]) -> None:
    key = next(iter(legacy))
    card = _card(_button("Go", **legacy))
    (problem,) = _problems_mentioning(card, "body.elements[0]", f"'{key}'", "tag 'button'")
    assert "behaviors" in problem
    # The 2.0 button page still lists them as "historical attributes", so they can be opted into.
    assert validate_card(card, allow_legacy=True) == []


def test_unknown_property_fails_even_with_allow_legacy() -> None:
    card = _card(_button("Go", actions=[]))
    _problems_mentioning(card, "unknown property 'actions' for tag 'button'", allow_legacy=True)


def test_callback_behavior_with_string_value() -> None:
    card = _card(_button("Go", behaviors=[{"type": "callback", "value": "kr_done"}]))
    (problem,) = _problems_mentioning(card, "body.elements[0].behaviors[0].value", "object")
    assert "str" in problem


def test_callback_behavior_needs_value_and_open_url_needs_default_url() -> None:
    card = _card(_button("Go", behaviors=[{"type": "callback"}, {"type": "open_url", "url": "https://x"}]))
    _problems_mentioning(card, "behaviors[0]", "missing required property 'value'")
    _problems_mentioning(card, "behaviors[1]", "missing required property 'default_url'")
    _problems_mentioning(card, "behaviors[1]", "unknown property 'url'")


def test_unknown_behavior_type() -> None:
    card = _card(_button("Go", behaviors=[{"type": "request", "value": {}}]))
    _problems_mentioning(card, "behaviors[0].type", "unknown behavior type 'request'")


def test_table_nested_inside_a_column() -> None:
    card = _card({"tag": "column_set", "columns": [{"tag": "column", "elements": [_table()]}]})
    _problems_mentioning(card, "body.elements[0].columns[0].elements[0]", "table can only be placed")


def test_table_nested_inside_a_collapsible_panel() -> None:
    card = _card({"tag": "collapsible_panel", "header": {"title": _text("More")}, "elements": [_table()]})
    _problems_mentioning(card, "body.elements[0].elements[0]", "table can only be placed")


def test_table_page_size_11() -> None:
    (problem,) = _problems_mentioning(_card(_table(page_size=11)), "body.elements[0].page_size")
    assert "[1,10]" in problem and "11" in problem


def test_six_tables() -> None:
    card = _card(*[_table() for _ in range(6)])
    _problems_mentioning(card, "6 tables", "at most 5")
    assert validate_card(_card(*[_table() for _ in range(5)])) == []


def test_table_columns_and_rows() -> None:
    table = _table()
    table["columns"].append({"name": "objective", "data_type": "text"})
    table["columns"].append({"name": "owner", "data_type": "people"})
    table["rows"].append({"objective": "x", "progres": 3})
    card = _card(table)
    _problems_mentioning(card, "columns[2].name", "duplicate column name 'objective'")
    _problems_mentioning(card, "columns[3].data_type", "'people'")
    _problems_mentioning(card, "rows[1]", "row key 'progres' is not a column name")


def test_table_with_more_than_50_columns() -> None:
    table = _table()
    table["columns"] = [{"name": f"c{i}", "data_type": "text"} for i in range(51)]
    table["rows"] = []
    _problems_mentioning(_card(table), "51 columns")


def test_201_components() -> None:
    card = _card(*[{"tag": "hr"} for _ in range(201)])
    _problems_mentioning(card, "201 components", "200")
    assert validate_card(_card(*[{"tag": "hr"} for _ in range(200)])) == []


def test_text_elements_count_toward_the_200_limit() -> None:
    card = _card(*[{"tag": "div", "text": _text("x")} for _ in range(101)])  # 101 divs + 101 texts
    _problems_mentioning(card, "202 components")


def test_card_over_30_kb() -> None:
    big = _card({"tag": "markdown", "content": "啊" * (MAX_CARD_BYTES // 3)})  # 3 UTF-8 bytes each
    (problem,) = _problems_mentioning(big, "bytes", "30 KB")
    assert str(MAX_CARD_BYTES) in problem
    small = _card({"tag": "markdown", "content": "a" * (MAX_CARD_BYTES - 200)})
    assert validate_card(small) == []


def test_bad_header_template_colour() -> None:
    card = _full_card()
    card["header"]["template"] = "pink"
    (problem,) = _problems_mentioning(card, "header.template", "'pink'")
    assert "indigo" in problem


def test_header_needs_a_title_of_a_text_tag() -> None:
    card = _card()
    card["header"] = {"subtitle": {"tag": "markdown", "content": "x"}, "ud_icon": {}}
    _problems_mentioning(card, "header", "missing required property 'title'")
    _problems_mentioning(card, "header.subtitle.tag", "'markdown'")
    _problems_mentioning(card, "header", "unknown property 'ud_icon' for header")


def test_duplicate_element_id() -> None:
    card = _full_card()
    card["body"]["elements"][2]["element_id"] = "intro"
    (problem,) = _problems_mentioning(card, "duplicate element_id 'intro'")
    assert problem.startswith("body.elements[2].element_id:")
    assert "body.elements[0]" in problem


def test_element_id_shared_with_a_header_tag_is_a_duplicate() -> None:
    card = _full_card()
    card["body"]["elements"][0]["element_id"] = "tag_period"
    _problems_mentioning(card, "duplicate element_id 'tag_period'", "header.text_tag_list[0]")


@pytest.mark.parametrize("element_id", ["1st", "has-dash", "a" * 21, "", "_x", 7])
def test_bad_element_id(element_id: object) -> None:
    card = _card({"tag": "hr", "element_id": element_id})
    _problems_mentioning(card, "body.elements[0].element_id", "invalid element_id")


def test_good_element_ids() -> None:
    assert (
        validate_card(_card({"tag": "hr", "element_id": "a" * 20}, {"tag": "hr", "element_id": "B_9"})) == []
    )


def test_form_inside_form_and_form_inside_container() -> None:
    inner = {
        "tag": "form",
        "name": "inner",
        "elements": [_button("OK", name="ok", form_action_type="submit")],
    }
    outer = {
        "tag": "form",
        "name": "outer",
        "elements": [inner, _button("Go", name="go", form_action_type="submit")],
    }
    _problems_mentioning(_card(outer), "body.elements[0].elements[0]", "form can only be placed")
    in_panel = {"tag": "collapsible_panel", "header": {}, "elements": [inner]}
    _problems_mentioning(_card(in_panel), "body.elements[0].elements[0]", "form can only be placed")


def test_containers_may_nest() -> None:
    card = _card(
        {
            "tag": "interactive_container",
            "behaviors": [{"type": "open_url", "default_url": "https://okr.example.com"}],
            "elements": [
                {
                    "tag": "collapsible_panel",
                    "header": {"title": _text("More")},
                    "elements": [
                        {
                            "tag": "column_set",
                            "columns": [
                                {"tag": "column", "elements": [{"tag": "markdown", "content": "deep"}]}
                            ],
                        }
                    ],
                }
            ],
        }
    )
    assert validate_card(card) == []


def test_form_rules() -> None:
    card = _card(
        {
            "tag": "form",
            "name": "f",
            "elements": [{"tag": "input"}, _button("Reset", form_action_type="reset")],
        }
    )
    _problems_mentioning(card, "body.elements[0]", "no button with form_action_type 'submit'")
    _problems_mentioning(card, "body.elements[0].elements[0]", "'input' inside a form needs a 'name'")
    _problems_mentioning(card, "body.elements[0].elements[1]", "'button' inside a form needs a 'name'")


def test_required_outside_a_form() -> None:
    _problems_mentioning(
        _card({"tag": "input", "required": True}), "body.elements[0].required", "inside a form"
    )


def test_column_set_needs_columns_of_tag_column() -> None:
    card = _card({"tag": "column_set", "columns": [{"tag": "div", "elements": []}]}, {"tag": "column_set"})
    _problems_mentioning(card, "body.elements[0].columns[0]", "tag 'column'")
    _problems_mentioning(card, "body.elements[1]", "missing required property 'columns'")
    _problems_mentioning(_card({"tag": "column", "elements": []}), "only allowed in column_set.columns")


def test_required_properties() -> None:
    card = _card({"tag": "markdown"}, {"tag": "button"}, {"tag": "chart"}, {"tag": "table"})
    _problems_mentioning(card, "body.elements[0]", "missing required property 'content' for tag 'markdown'")
    _problems_mentioning(card, "body.elements[1]", "missing required property 'text' for tag 'button'")
    _problems_mentioning(card, "body.elements[2]", "missing required property 'chart_spec' for tag 'chart'")
    _problems_mentioning(card, "body.elements[3]", "missing required property 'columns' for tag 'table'")
    _problems_mentioning(card, "body.elements[3]", "missing required property 'rows' for tag 'table'")


def test_text_objects() -> None:
    card = _card(
        {"tag": "div", "text": {"tag": "markdown", "content": "x"}},
        _button("Go", hover_tips={"tag": "lark_md", "content": "tip"}),
        {"tag": "div", "text": {"tag": "plain_text", "content": "x", "href": "y"}},
        {"tag": "markdown", "content": "x", "i18n_content": {"en": "x"}},
    )
    _problems_mentioning(card, "body.elements[0].text.tag", "'markdown'")
    _problems_mentioning(card, "body.elements[1].hover_tips.tag", "'lark_md'")
    _problems_mentioning(card, "body.elements[2].text", "unknown property 'href' for text element")
    _problems_mentioning(card, "body.elements[3].i18n_content.en", "unknown locale 'en'")


def test_margin_and_padding_shapes() -> None:
    assert validate_card(_card({"tag": "hr", "margin": "4px -12px"}, {"tag": "hr", "margin": "0"})) == []
    card = _card(
        {"tag": "hr", "margin": "100px"},
        {"tag": "hr", "margin": 4},
        {"tag": "hr", "margin": "1px 2px 3px 4px 5px"},
    )
    _problems_mentioning(card, "body.elements[0].margin", "[-99,99]")
    _problems_mentioning(card, "body.elements[1].margin", "string")
    _problems_mentioning(card, "body.elements[2].margin", "1-4")
    spacing = _card()
    spacing["body"]["vertical_spacing"] = "huge"
    _problems_mentioning(spacing, "body.vertical_spacing", "'huge'")


def test_config_and_card_link() -> None:
    card = _full_card()
    card["config"]["update_multi"] = False
    card["config"]["wide_screen_mode"] = True
    card["card_link"] = {"pc_url": "https://x"}
    _problems_mentioning(card, "config.update_multi", "true")
    _problems_mentioning(card, "unknown property 'wide_screen_mode' for config")
    _problems_mentioning(card, "card_link", "'url'")


def test_body_elements_must_be_a_list() -> None:
    card = {"schema": "2.0", "body": {"elements": {"tag": "hr"}}}
    _problems_mentioning(card, "body.elements", "must be a list")


def test_non_serialisable_card() -> None:
    _problems_mentioning(
        _card({"tag": "markdown", "content": "x", "text_size": object()}), "JSON-serialisable"
    )


def test_assert_valid_card_lists_every_problem() -> None:
    card = _card({"tag": "marquee"}, _button("Go", url="https://x"))
    del card["schema"]
    with pytest.raises(AssertionError) as excinfo:
        assert_valid_card(card)
    message = str(excinfo.value)
    assert "3 problems" in message
    assert "unknown tag 'marquee'" in message and "'url'" in message and "schema" in message
