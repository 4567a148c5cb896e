"""Schema check for Feishu (Lark) interactive cards in JSON 2.0.

Feishu rejects a JSON 2.0 card carrying any property it does not know (1.0 ignored them), so card
builders are tested against this check.  ``validate_card`` returns human-readable problems, each
prefixed with a JSON path (``body.elements[3].columns[0].elements[1]: unknown property 'x' for tag
'button'``); ``assert_valid_card`` raises ``AssertionError`` listing all of them.

The tables below are written from the official pages (read via the English mirrors on
open.larksuite.com, which carry the same field tables).  ``_DOC`` / ``_V2C`` prefixes:

* structure:        https://open.feishu.cn/document/feishu-cards/card-json-v2-structure
* breaking changes: https://open.feishu.cn/document/feishu-cards/card-json-v2-breaking-changes-release-notes
* components:       https://open.feishu.cn/document/feishu-cards/card-json-v2-components/...
* multi-language:   https://open.feishu.cn/document/feishu-cards/configure-multi-language-content
* interactions:     https://open.feishu.cn/document/feishu-cards/configuring-card-interactions

Policy: a property the docs list is allowed; where the docs contradict each other or are silent the
check allows and says so in a comment.  One deliberate exception: properties the docs list only as
JSON 1.0 "historical attributes" (button ``url``/``multi_url``/``value``/``action_type``, img
``mode``/``custom_width``/``compact_width``) are reported unless ``allow_legacy=True``; our builders
must use ``behaviors`` and the 2.0 fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_CARD_BYTES",
    "MAX_COMPONENTS",
    "MAX_TABLES",
    "assert_valid_card",
    "validate_card",
]


def _w(words: str) -> frozenset[str]:
    """frozenset of space-separated words (keeps the property tables compact)."""
    return frozenset(words.split())


_DOC = "https://open.feishu.cn/document/feishu-cards/"
_V2C = _DOC + "card-json-v2-components/"

# "up to 200 elements (e.g. text elements where tag is plain_text) or components" [structure]
MAX_COMPONENTS = 200
MAX_TABLES = 5  # [content-components/table]
MAX_CARD_BYTES = 30 * 1024  # card content <= 30 KB [im-v1 message create / patch]

# 16 locales [configure-multi-language-content; content-components/title i18n_text_tag_list]
LOCALES = _w(
    "zh_cn en_us zh_hk zh_tw ja_jp id_id vi_vn th_th pt_br es_es ko_kr de_de fr_fr it_it ru_ru ms_my"
)
# header.template [structure; content-components/title]
HEADER_TEMPLATES = _w(
    "blue wathet turquoise green yellow orange red carmine violet purple indigo grey default"
)
# header.text_tag_list[].color [content-components/title]
TEXT_TAG_COLORS = _w(
    "neutral blue turquoise lime orange violet indigo wathet green yellow red purple carmine"
)
BUTTON_TYPES = _w(
    "default primary danger text primary_text danger_text primary_filled danger_filled laser"
)  # [interactive-components/button]
BUTTON_SIZES = _w("tiny small medium large")
SPACING_NAMES = _w("small medium large extra_large")
TABLE_DATA_TYPES = _w("text lark_md options number persons date markdown")

_ELEMENT_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,19}")
_PX = re.compile(r"(-?\d+(?:\.\d+)?)(px)?")

_TOP_LEVEL_KEYS = _w("schema config card_link header body")
_TOP_LEVEL_HINTS = {
    "i18n_elements": "removed in JSON 2.0 (no global i18n); use per-field i18n_content etc.",
    "i18n_header": "removed in JSON 2.0; use i18n_content on header.title / header.subtitle",
    "elements": "JSON 2.0 puts components under body.elements",
    # The breaking-changes page says 2.0 "temporarily does not support" fallback, although its 2.0 sample
    # JSON still shows "fallback": {}; the structure page does not list it.  Treated as unsupported.
    "fallback": "not supported in JSON 2.0",
}
_CONFIG_KEYS = _w(
    "streaming_mode streaming_config summary locales enable_forward update_multi width_mode "
    "use_custom_translation enable_forward_interaction style"
)  # [structure: config]
_BODY_KEYS = _w(
    "elements direction padding horizontal_spacing vertical_spacing horizontal_align vertical_align"
)  # [structure: body]
_HEADER_KEYS = _w(
    "title subtitle text_tag_list i18n_text_tag_list template icon padding"
)  # [content-components/title]
_URL_KEYS = _w("url pc_url ios_url android_url")

_TEXT_KEYS = _w("tag content i18n_content")  # i18n_content: [configure-multi-language-content]
_RICH_TEXT_KEYS = _TEXT_KEYS | _w("text_size text_color text_align lines")  # [content-components/plain-text]
_ICON_KEYS = _w("tag token color img_key")

_BOOL_KEYS = _w(
    "disabled expanded has_border show_avatar show_name transparent preview freeze_first_column "
    "drop_invalid_user_id required auto_resize show_icon"
)
# Layout props shared by containers [breaking changes: "Components unified support for layout"].
_LAYOUT = _w("direction padding horizontal_spacing vertical_spacing horizontal_align vertical_align")
_COMMON = _w("tag element_id margin")  # every 2.0 component [structure: body.elements[]]

# Documented 2.0 tags this validator does not model yet, and 1.0 tags removed in 2.0.
_UNMODELLED_TAGS = _w(
    "img_combination multi_select_static select_person multi_select_person date_picker "
    "picker_time picker_datetime select_img checker audio"
)
_REMOVED_TAGS = {
    "note": "the note component was removed in JSON 2.0; use div/markdown with notation size",
    "action": "the action module was removed in JSON 2.0; put buttons directly in elements / column_set",
}
# Interactive components that need ``name`` inside a form [containers/form-container].
_NAMED_IN_FORM = _w("button input select_static")


@dataclass
class _Ctx:
    allow_legacy: bool
    problems: list[str] = field(default_factory=list)
    element_ids: dict[str, str] = field(default_factory=dict)
    count: int = 0
    tables: int = 0

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path or 'card'}: {message}")


_Check = Callable[[dict[str, Any], str, _Ctx, bool], None]


@dataclass(frozen=True)
class _Spec:
    doc: str
    allowed: frozenset[str]
    required: frozenset[str] = frozenset()
    children: tuple[str, ...] = ()  # keys holding lists of components
    legacy: frozenset[str] = frozenset()
    check: _Check | None = None


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------- values


def _check_keys(
    obj: dict[str, Any],
    path: str,
    ctx: _Ctx,
    allowed: frozenset[str],
    *,
    what: str,
    required: frozenset[str] | tuple[str, ...] = (),
    legacy: frozenset[str] = frozenset(),
) -> None:
    for key in obj:
        if key in allowed:
            continue
        if key in legacy:
            if not ctx.allow_legacy:
                ctx.add(
                    path,
                    f"legacy property '{key}' for {what} (documented only as a JSON 1.0 historical "
                    "attribute; use behaviors / the 2.0 fields, or pass allow_legacy=True)",
                )
            continue
        ctx.add(path, f"unknown property '{key}' for {what}")
    for key in sorted(required):
        if key not in obj:
            ctx.add(path, f"missing required property '{key}' for {what}")


def _expect_dict(value: Any, path: str, ctx: _Ctx, what: str = "an object") -> bool:
    if isinstance(value, dict):
        return True
    ctx.add(path, f"must be {what}, got {type(value).__name__}")
    return False


def _expect_list(value: Any, path: str, ctx: _Ctx) -> bool:
    if isinstance(value, list):
        return True
    ctx.add(path, f"must be a list, got {type(value).__name__}")
    return False


def _check_enum(value: Any, path: str, ctx: _Ctx, options: frozenset[str] | set[str]) -> None:
    if value not in options:
        ctx.add(path, f"{value!r} is not one of {', '.join(sorted(options))}")


def _check_box(value: Any, path: str, ctx: _Ctx, lo: int = -99, hi: int = 99) -> None:
    """margin / padding: "4px", "4px 0", "4px 0 4px 0" with each value in [lo, hi] px.

    Docs disagree on padding ranges ([0,99]px on the structure page, [-99,99]px on several component
    pages), so padding gets the looser range.  Numbers (not strings) are rejected: every page types the
    field as String.
    """
    if not isinstance(value, str):
        ctx.add(path, f"must be a string like '0px 8px 0px 8px', got {type(value).__name__}")
        return
    parts = value.split()
    if not 1 <= len(parts) <= 4:
        ctx.add(path, f"{value!r} must have 1-4 space-separated values")
        return
    for part in parts:
        m = _PX.fullmatch(part)
        if m is None or not lo <= float(m.group(1)) <= hi:
            ctx.add(path, f"{value!r}: {part!r} is not a px value in [{lo},{hi}]")
            return


def _check_spacing(value: Any, path: str, ctx: _Ctx) -> None:
    # small|medium|large|extra_large or [0,99]px [structure].  The official column_set sample also uses
    # "default" and "" (containers/column-set demo), so those are allowed too.
    if value in SPACING_NAMES or value in ("default", ""):
        return
    m = _PX.fullmatch(value) if isinstance(value, str) else None
    if m is None or not 0 <= float(m.group(1)) <= 99:
        ctx.add(path, f"{value!r} is not small/medium/large/extra_large or a px value in [0,99]")


def _check_i18n_map(value: Any, path: str, ctx: _Ctx) -> None:
    if not _expect_dict(value, path, ctx, "an object of locale -> text"):
        return
    for locale, text in value.items():
        if locale not in LOCALES:
            ctx.add(_join(path, locale), f"unknown locale '{locale}'")
        elif not isinstance(text, str):
            ctx.add(_join(path, locale), "must be a string")


def _check_text(
    value: Any,
    path: str,
    ctx: _Ctx,
    *,
    tags: frozenset[str] = _w("plain_text"),
    keys: frozenset[str] = _TEXT_KEYS,
    need_content: bool = True,
) -> None:
    """A text element {tag, content, i18n_content?}; counts toward the 200-element limit."""
    if not _expect_dict(value, path, ctx, "a text object {tag, content}"):
        return
    ctx.count += 1
    _check_keys(value, path, ctx, keys, what="text element", required=("tag",))
    if "tag" in value:
        _check_enum(value["tag"], _join(path, "tag"), ctx, tags)
    if "content" in value:
        if not isinstance(value["content"], str):
            ctx.add(_join(path, "content"), "must be a string")
    elif need_content and "i18n_content" not in value:
        ctx.add(path, "missing required property 'content' for text element")
    if "i18n_content" in value:
        _check_i18n_map(value["i18n_content"], _join(path, "i18n_content"), ctx)
    if "lines" in value and (not _is_int(value["lines"]) or value["lines"] < 1):
        ctx.add(_join(path, "lines"), "must be an integer >= 1")


def _check_rich_text(value: Any, path: str, ctx: _Ctx) -> None:
    _check_text(value, path, ctx, tags=_w("plain_text lark_md"), keys=_RICH_TEXT_KEYS)


def _check_icon(value: Any, path: str, ctx: _Ctx, keys: frozenset[str] = _ICON_KEYS) -> None:
    if not _expect_dict(value, path, ctx):
        return
    _check_keys(value, path, ctx, keys, what="icon")
    if "tag" in value:
        _check_enum(value["tag"], _join(path, "tag"), ctx, {"standard_icon", "custom_icon"})


def _check_url_map(value: Any, path: str, ctx: _Ctx, what: str) -> None:
    if not _expect_dict(value, path, ctx):
        return
    _check_keys(value, path, ctx, _URL_KEYS, what=what)
    for key, url in value.items():
        if key in _URL_KEYS and not isinstance(url, str):
            ctx.add(_join(path, key), "must be a string")


def _check_confirm(value: Any, path: str, ctx: _Ctx) -> None:
    # confirm {title, text}, both plain_text; title is needed or old clients ignore clicks [button]
    if not _expect_dict(value, path, ctx):
        return
    _check_keys(value, path, ctx, _w("title text"), what="confirm", required=("title", "text"))
    for key in ("title", "text"):
        if key in value:
            _check_text(value[key], _join(path, key), ctx)


def _check_behaviors(value: Any, path: str, ctx: _Ctx) -> None:
    """behaviors [configuring-card-interactions; button; interactive-container]."""
    if not _expect_list(value, path, ctx):
        return
    for i, beh in enumerate(value):
        bpath = _join(path, i)
        if not _expect_dict(beh, bpath, ctx):
            continue
        kind = beh.get("type")
        if kind == "callback":
            _check_keys(beh, bpath, ctx, _w("type value"), what="callback behavior", required=("value",))
            if "value" in beh and not isinstance(beh["value"], dict):
                # The docs allow string or object, but the official SDKs only support object values.
                ctx.add(
                    _join(bpath, "value"),
                    f"callback value must be an object (the official SDKs only support object values), "
                    f"got {type(beh['value']).__name__}",
                )
        elif kind == "open_url":
            keys = _w("type default_url pc_url ios_url android_url")
            _check_keys(beh, bpath, ctx, keys, what="open_url behavior", required=("default_url",))
            for key in keys - {"type"}:
                if key in beh and not isinstance(beh[key], str):
                    ctx.add(_join(bpath, key), "must be a string")
        elif kind == "form_action":
            # Not on the official 2.0 pages read for this module; seen in the open-lark SDK's transcription of
            # the Chinese interaction docs ({"type": "form_action", "behavior": "submit"|"reset"}).  Allowed.
            _check_keys(beh, bpath, ctx, _w("type behavior"), what="form_action behavior")
            if "behavior" in beh:
                _check_enum(beh["behavior"], _join(bpath, "behavior"), ctx, {"submit", "reset"})
        else:
            ctx.add(_join(bpath, "type"), f"unknown behavior type {kind!r} (expected callback or open_url)")


def _check_element_id(value: Any, path: str, ctx: _Ctx) -> None:
    if not isinstance(value, str) or _ELEMENT_ID.fullmatch(value) is None:
        ctx.add(
            _join(path, "element_id"),
            f"invalid element_id {value!r}: must start with a letter, contain only letters, digits and "
            "underscores, and be at most 20 characters",
        )
        return
    first = ctx.element_ids.setdefault(value, path)
    if first != path:
        ctx.add(_join(path, "element_id"), f"duplicate element_id '{value}' (also used at {first or 'card'})")


# Checks applied to a key wherever the owning spec allows it.
_KEY_CHECKS: dict[str, Callable[[Any, str, _Ctx], None]] = {
    "margin": _check_box,
    "padding": _check_box,
    "horizontal_spacing": _check_spacing,
    "vertical_spacing": _check_spacing,
    "direction": lambda v, p, c: _check_enum(v, p, c, {"vertical", "horizontal"}),
    "horizontal_align": lambda v, p, c: _check_enum(v, p, c, {"left", "center", "right"}),
    "vertical_align": lambda v, p, c: _check_enum(v, p, c, {"top", "center", "bottom"}),
    "behaviors": _check_behaviors,
    "confirm": _check_confirm,
    "hover_tips": _check_text,
    "disabled_tips": _check_text,
    "placeholder": _check_text,
    "label": _check_text,
    "icon": _check_icon,
    "i18n_content": _check_i18n_map,
}


def _check_props(obj: dict[str, Any], path: str, ctx: _Ctx, allowed: frozenset[str]) -> None:
    for key, value in obj.items():
        if key not in allowed:
            continue
        if key == "element_id":
            _check_element_id(value, path, ctx)
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                ctx.add(_join(path, key), f"must be a boolean, got {type(value).__name__}")
        elif key in _KEY_CHECKS:
            _KEY_CHECKS[key](value, _join(path, key), ctx)


# ------------------------------------------------------------------------------------ per-tag checks


def _markdown(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "content" in el and not isinstance(el["content"], str):
        ctx.add(_join(path, "content"), "must be a string")


def _div(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "text" in el:
        _check_rich_text(el["text"], _join(path, "text"), ctx)
    # "fields" is not in the 2.0 field table but the 2.0 page's lark_md example uses it
    # ([content-components/plain-text]); allowed.
    fields = el.get("fields")
    if fields is not None and _expect_list(fields, _join(path, "fields"), ctx):
        for i, item in enumerate(fields):
            fpath = _join(_join(path, "fields"), i)
            if _expect_dict(item, fpath, ctx):
                _check_keys(item, fpath, ctx, _w("is_short text"), what="div field", required=("text",))
                if "text" in item:
                    _check_rich_text(item["text"], _join(fpath, "text"), ctx)
                if "is_short" in item and not isinstance(item["is_short"], bool):
                    ctx.add(_join(fpath, "is_short"), "must be a boolean")


def _img(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    # The field table marks alt as required but the same page's example omits it; not enforced.
    for key in ("alt", "title"):
        if key in el:
            _check_text(el[key], _join(path, key), ctx, need_content=False)
    if "img_key" in el and not isinstance(el["img_key"], str):
        ctx.add(_join(path, "img_key"), "must be a string")
    if "i18n_img_key" in el:
        _check_i18n_map(el["i18n_img_key"], _join(path, "i18n_img_key"), ctx)
    if "scale_type" in el:
        _check_enum(
            el["scale_type"], _join(path, "scale_type"), ctx, {"crop_center", "crop_top", "fit_horizontal"}
        )
    if el.get("size") == "stretch_without_padding":
        ctx.add(
            _join(path, "size"), "'stretch_without_padding' was removed in JSON 2.0; use a negative margin"
        )


def _person(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "user_id" in el and not isinstance(el["user_id"], str):
        ctx.add(_join(path, "user_id"), "must be a string")
    if "size" in el:
        _check_enum(el["size"], _join(path, "size"), ctx, {"extra_small", "small", "medium", "large"})
    if "style" in el:
        _check_enum(el["style"], _join(path, "style"), ctx, {"normal", "capsule"})


def _person_list(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "size" in el:
        _check_enum(el["size"], _join(path, "size"), ctx, {"extra_small", "small", "medium", "large"})
    persons = el.get("persons")
    if persons is not None and _expect_list(persons, _join(path, "persons"), ctx):
        for i, person in enumerate(persons):
            ppath = _join(_join(path, "persons"), i)
            if _expect_dict(person, ppath, ctx):
                _check_keys(person, ppath, ctx, _w("id"), what="person_list person", required=("id",))
    if "ud_icon" in el and _expect_dict(el["ud_icon"], _join(path, "ud_icon"), ctx):
        _check_keys(el["ud_icon"], _join(path, "ud_icon"), ctx, _w("token style"), what="ud_icon")


def _chart(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "chart_spec" in el:
        _expect_dict(el["chart_spec"], _join(path, "chart_spec"), ctx, "a VChart spec object")
    if "aspect_ratio" in el:
        _check_enum(el["aspect_ratio"], _join(path, "aspect_ratio"), ctx, {"1:1", "2:1", "4:3", "16:9"})
    if "color_theme" in el:
        themes = {"brand", "rainbow", "complementary", "converse", "primary"}
        _check_enum(el["color_theme"], _join(path, "color_theme"), ctx, themes)
    height = el.get("height")
    if height is not None and height != "auto":
        m = _PX.fullmatch(height) if isinstance(height, str) else None
        if m is None or not m.group(2) or not 1 <= float(m.group(1)) <= 999:
            ctx.add(_join(path, "height"), f"{height!r} is not 'auto' or a px value in [1,999]")


_TABLE_COLUMN_KEYS = _w(
    "name display_name width vertical_align horizontal_align data_type format date_format"
)
_TABLE_HEADER_STYLE_KEYS = _w("text_align text_size background_style text_color bold lines")


def _table(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    page_size = el.get("page_size")
    if page_size is not None and (not _is_int(page_size) or not 1 <= page_size <= 10):
        ctx.add(_join(path, "page_size"), f"must be an integer in [1,10], got {page_size!r}")
    if "header_style" in el and _expect_dict(el["header_style"], _join(path, "header_style"), ctx):
        _check_keys(
            el["header_style"],
            _join(path, "header_style"),
            ctx,
            _TABLE_HEADER_STYLE_KEYS,
            what="header_style",
        )
    names: set[str] = set()
    columns = el.get("columns")
    cols_path = _join(path, "columns")
    if columns is not None and _expect_list(columns, cols_path, ctx):
        if len(columns) > 50:
            ctx.add(cols_path, f"{len(columns)} columns; a table shows at most 50")
        for i, col in enumerate(columns):
            cpath = _join(cols_path, i)
            if not _expect_dict(col, cpath, ctx):
                continue
            _check_keys(
                col, cpath, ctx, _TABLE_COLUMN_KEYS, what="table column", required=("name", "data_type")
            )
            name = col.get("name")
            if "name" in col:
                if not isinstance(name, str) or not name:
                    ctx.add(_join(cpath, "name"), "must be a non-empty string")
                elif name in names:
                    ctx.add(_join(cpath, "name"), f"duplicate column name '{name}'")
                else:
                    names.add(name)
            if "data_type" in col:
                _check_enum(col["data_type"], _join(cpath, "data_type"), ctx, TABLE_DATA_TYPES)
            if "format" in col and _expect_dict(col["format"], _join(cpath, "format"), ctx):
                fmt_keys = _w("precision symbol separator")
                _check_keys(col["format"], _join(cpath, "format"), ctx, fmt_keys, what="table column format")
            for key in ("vertical_align", "horizontal_align"):
                if key in col:
                    _KEY_CHECKS[key](col[key], _join(cpath, key), ctx)
    rows = el.get("rows")
    rows_path = _join(path, "rows")
    if rows is not None and _expect_list(rows, rows_path, ctx):
        for i, row in enumerate(rows):
            rpath = _join(rows_path, i)
            if not _expect_dict(row, rpath, ctx):
                continue
            # Project rule (asked for by the bot's card tests): a row key naming no column is a builder bug,
            # as the value is never shown.  The official sample itself has such a key ("customer_date"),
            # so Feishu probably ignores them rather than rejecting the card.
            for key in row:
                if names and key not in names:
                    ctx.add(rpath, f"row key '{key}' is not a column name")


def _column_set(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "flex_mode" in el:
        _check_enum(
            el["flex_mode"], _join(path, "flex_mode"), ctx, {"none", "stretch", "flow", "bisect", "trisect"}
        )
    if "action" in el:
        _check_click_action(el["action"], _join(path, "action"), ctx)
    columns = el.get("columns")
    cols_path = _join(path, "columns")
    if columns is None or not _expect_list(columns, cols_path, ctx):
        return
    for i, col in enumerate(columns):
        cpath = _join(cols_path, i)
        if not _expect_dict(col, cpath, ctx):
            continue
        if col.get("tag") != "column":
            ctx.add(cpath, f"column_set.columns entries must have tag 'column', got {col.get('tag')!r}")
            continue
        _check_node(col, cpath, ctx, _SPECS["column"], at_root=False, in_form=in_form)


def _column(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "action" in el:
        _check_click_action(el["action"], _join(path, "action"), ctx)
    weight = el.get("weight")
    if weight is not None and (not _is_int(weight) or not 1 <= weight <= 5):
        ctx.add(_join(path, "weight"), f"must be an integer in [1,5], got {weight!r}")
    width = el.get("width")
    if width is not None and width not in ("auto", "weighted"):
        m = _PX.fullmatch(width) if isinstance(width, str) else None
        if m is None or not m.group(2) or not 16 <= float(m.group(1)) <= 600:
            ctx.add(_join(path, "width"), f"{width!r} is not 'auto', 'weighted' or a px value in [16,600]")


def _check_click_action(value: Any, path: str, ctx: _Ctx) -> None:
    # column_set / column "action": {"multi_url": {url, pc_url, ios_url, android_url}} [containers/column-set]
    if _expect_dict(value, path, ctx):
        _check_keys(value, path, ctx, _w("multi_url"), what="column action")
        if "multi_url" in value:
            _check_url_map(value["multi_url"], _join(path, "multi_url"), ctx, "multi_url")


_PANEL_HEADER_KEYS = _w(
    "title background_color vertical_align padding position width icon icon_position icon_expanded_angle"
)  # [containers/collapsible-panel]


def _collapsible_panel(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    hpath = _join(path, "header")
    header = el.get("header")
    if header is not None and _expect_dict(header, hpath, ctx):
        _check_keys(header, hpath, ctx, _PANEL_HEADER_KEYS, what="collapsible_panel header")
        if "title" in header:
            _check_text(header["title"], _join(hpath, "title"), ctx, tags=_w("plain_text markdown"))
        if "icon" in header:
            _check_icon(header["icon"], _join(hpath, "icon"), ctx, _ICON_KEYS | _w("size"))
        if "padding" in header:
            _check_box(header["padding"], _join(hpath, "padding"), ctx)
        if "vertical_align" in header:
            _KEY_CHECKS["vertical_align"](header["vertical_align"], _join(hpath, "vertical_align"), ctx)
        if "icon_position" in header:
            _check_enum(
                header["icon_position"], _join(hpath, "icon_position"), ctx, {"left", "right", "follow_text"}
            )
        if "width" in header:
            _check_enum(header["width"], _join(hpath, "width"), ctx, {"fill", "auto", "auto_when_fold"})
    if "border" in el and _expect_dict(el["border"], _join(path, "border"), ctx):
        border_keys = _w("color corner_radius")
        _check_keys(el["border"], _join(path, "border"), ctx, border_keys, what="collapsible_panel border")


def _form(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "name" in el and not isinstance(el["name"], str):
        ctx.add(_join(path, "name"), "must be a string")
    submit = any(
        c.get("tag") == "button"
        and (c.get("form_action_type") == "submit" or c.get("action_type") == "form_submit")
        for c in _descendants(el)
    )
    if not submit:
        ctx.add(path, "form has no button with form_action_type 'submit' (required by the form container)")


def _button(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "text" in el:
        _check_text(el["text"], _join(path, "text"), ctx, tags=_w("plain_text lark_md"))
    if "type" in el:
        _check_enum(el["type"], _join(path, "type"), ctx, BUTTON_TYPES)
    if "size" in el:
        _check_enum(el["size"], _join(path, "size"), ctx, BUTTON_SIZES)
    if "width" in el:
        _check_control_width(el["width"], _join(path, "width"), ctx)
    if "form_action_type" in el:
        _check_enum(el["form_action_type"], _join(path, "form_action_type"), ctx, {"submit", "reset"})


def _check_control_width(value: Any, path: str, ctx: _Ctx) -> None:
    # default | fill | [100,inf)px [button, input, select_static, overflow].  The overflow sample uses "".
    if value in ("default", "fill", ""):
        return
    m = _PX.fullmatch(value) if isinstance(value, str) else None
    if m is None or not m.group(2) or float(m.group(1)) < 100:
        ctx.add(path, f"{value!r} is not 'default', 'fill' or a px value >= 100")


def _input(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "width" in el:
        _check_control_width(el["width"], _join(path, "width"), ctx)
    if "input_type" in el:
        _check_enum(el["input_type"], _join(path, "input_type"), ctx, {"text", "multiline_text", "password"})
    if "label_position" in el:
        _check_enum(el["label_position"], _join(path, "label_position"), ctx, {"top", "left"})
    max_length = el.get("max_length")
    if max_length is not None and (not _is_int(max_length) or not 1 <= max_length <= 1000):
        ctx.add(_join(path, "max_length"), f"must be an integer in [1,1000], got {max_length!r}")
    if "default_value" in el and not isinstance(el["default_value"], str):
        ctx.add(_join(path, "default_value"), "must be a string")
    if "i18n_default_value" in el:
        _check_i18n_map(el["i18n_default_value"], _join(path, "i18n_default_value"), ctx)


def _check_options(
    el: dict[str, Any], path: str, ctx: _Ctx, keys: frozenset[str], required: tuple[str, ...]
) -> None:
    options = el.get("options")
    opath = _join(path, "options")
    if options is None or not _expect_list(options, opath, ctx):
        return
    for i, opt in enumerate(options):
        ipath = _join(opath, i)
        if not _expect_dict(opt, ipath, ctx):
            continue
        _check_keys(opt, ipath, ctx, keys, what=f"{el.get('tag')} option", required=required)
        if "text" in opt:
            _check_text(opt["text"], _join(ipath, "text"), ctx)
        if "icon" in opt:
            _check_icon(opt["icon"], _join(ipath, "icon"), ctx)
        if "multi_url" in opt:
            _check_url_map(opt["multi_url"], _join(ipath, "multi_url"), ctx, "multi_url")


def _select_static(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "type" in el:
        _check_enum(el["type"], _join(path, "type"), ctx, {"default", "text"})
    if "width" in el:
        _check_control_width(el["width"], _join(path, "width"), ctx)
    _check_options(el, path, ctx, _w("text icon value"), ("text", "value"))


def _overflow(el: dict[str, Any], path: str, ctx: _Ctx, in_form: bool) -> None:
    if "width" in el:
        _check_control_width(el["width"], _join(path, "width"), ctx)
    if "value" in el and not isinstance(el["value"], dict):
        ctx.add(_join(path, "value"), "must be an object of key -> value")
    _check_options(el, path, ctx, _w("text multi_url value"), ())


# ------------------------------------------------------------------------------------------ the table

_SPECS: dict[str, _Spec] = {
    "markdown": _Spec(
        doc=_V2C + "content-components/rich-text",
        allowed=_w("content text_size text_align icon i18n_content"),
        required=_w("content"),
        check=_markdown,
    ),
    "div": _Spec(
        doc=_V2C + "content-components/plain-text",
        allowed=_w("width text icon fields"),
        check=_div,
    ),
    "hr": _Spec(doc=_V2C + "content-components/divider", allowed=frozenset()),
    "img": _Spec(
        doc=_V2C + "content-components/image",
        allowed=_w("img_key alt title corner_radius scale_type size transparent preview i18n_img_key"),
        required=_w("img_key"),
        legacy=_w("mode custom_width compact_width"),
        check=_img,
    ),
    "person": _Spec(
        doc=_V2C + "content-components/user-profile",
        allowed=_w("size user_id show_avatar show_name style"),
        required=_w("user_id"),
        check=_person,
    ),
    "person_list": _Spec(
        doc=_V2C + "content-components/user-list",
        allowed=_w("drop_invalid_user_id lines show_name show_avatar size persons icon ud_icon"),
        required=_w("persons"),
        check=_person_list,
    ),
    "chart": _Spec(
        doc=_V2C + "content-components/chart",
        allowed=_w("aspect_ratio color_theme chart_spec preview height"),
        required=_w("chart_spec"),
        check=_chart,
    ),
    "table": _Spec(
        doc=_V2C + "content-components/table",
        allowed=_w("page_size row_height row_max_height freeze_first_column header_style columns rows"),
        required=_w("columns rows"),
        check=_table,
    ),
    "column_set": _Spec(
        doc=_V2C + "containers/column-set",
        allowed=_w("horizontal_spacing horizontal_align flex_mode background_style action columns"),
        required=_w("columns"),
        check=_column_set,
    ),
    "column": _Spec(  # only reached through column_set.columns
        doc=_V2C + "containers/column-set",
        allowed=_LAYOUT | _w("background_style width weight elements action"),
        children=("elements",),
        check=_column,
    ),
    "collapsible_panel": _Spec(
        doc=_V2C + "containers/collapsible-panel",
        allowed=_LAYOUT | _w("expanded background_color header border elements"),
        required=_w("header"),
        children=("elements",),
        check=_collapsible_panel,
    ),
    "interactive_container": _Spec(
        doc=_V2C + "containers/interactive-container",
        allowed=_LAYOUT
        | _w(
            "width height background_style has_border border_color corner_radius behaviors disabled "
            "disabled_tips confirm hover_tips elements"
        ),
        required=_w("behaviors elements"),
        children=("elements",),
    ),
    "form": _Spec(
        doc=_V2C + "containers/form-container",
        allowed=_LAYOUT | _w("name elements"),
        required=_w("name elements"),
        children=("elements",),
        check=_form,
    ),
    "button": _Spec(
        doc=_V2C + "interactive-components/button",
        allowed=_w(
            "type size width text icon hover_tips disabled disabled_tips confirm behaviors name "
            "form_action_type"
        ),
        # text is optional on the doc page; required here because a text-less button is a builder bug.
        required=_w("text"),
        # url/multi_url/value: "historical attributes" in the 2.0 JSON structure [button];
        # action_type: "deprecated" [containers/form-container].
        legacy=_w("url multi_url value action_type"),
        check=_button,
    ),
    "input": _Spec(
        doc=_V2C + "interactive-components/input",
        allowed=_w(
            "name required placeholder default_value i18n_default_value disabled disabled_tips width "
            "behaviors max_length input_type rows auto_resize max_rows show_icon label label_position "
            "value confirm"
        ),
        # The field table marks behaviors as required but the page's own form sample omits it: not enforced.
        check=_input,
    ),
    "select_static": _Spec(
        doc=_V2C + "interactive-components/single-select-dropdown-menu",
        allowed=_w(
            "type name required disabled initial_option initial_index placeholder width behaviors "
            "options confirm"
        ),
        check=_select_static,
    ),
    "overflow": _Spec(
        doc=_V2C + "interactive-components/overflow",
        # behaviors is not in the overflow 2.0 table (it uses value + options[].multi_url), but the
        # interactions page says every interactive component can call back; allowed.
        allowed=_w("width options value confirm behaviors"),
        required=_w("options"),
        check=_overflow,
    ),
}


def _descendants(el: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("elements", "columns"):
        children = el.get(key)
        if isinstance(children, list):
            for child in children:
                if isinstance(child, dict):
                    yield child
                    yield from _descendants(child)


# ------------------------------------------------------------------------------------------- walking


def _check_node(
    el: dict[str, Any], path: str, ctx: _Ctx, spec: _Spec, *, at_root: bool, in_form: bool
) -> None:
    tag = el["tag"]
    ctx.count += 1
    allowed = spec.allowed | _COMMON
    _check_keys(el, path, ctx, allowed, what=f"tag '{tag}'", required=spec.required, legacy=spec.legacy)
    _check_props(el, path, ctx, allowed)
    if "name" in el and tag != "form" and not isinstance(el["name"], str):
        ctx.add(_join(path, "name"), "must be a string")
    if in_form and tag in _NAMED_IN_FORM and not el.get("name"):
        ctx.add(
            path, f"'{tag}' inside a form needs a 'name' (unique in the card) or its data is not submitted"
        )
    if not in_form and "required" in el:
        ctx.add(_join(path, "required"), "'required' only works inside a form")
    if spec.check is not None:
        spec.check(el, path, ctx, in_form)
    for key in spec.children:
        children = el.get(key)
        if children is not None:
            _check_elements(children, _join(path, key), ctx, at_root=False, in_form=in_form or tag == "form")


def _check_component(el: Any, path: str, ctx: _Ctx, *, at_root: bool, in_form: bool) -> None:
    if not isinstance(el, dict):
        ctx.add(path, f"component must be an object, got {type(el).__name__}")
        return
    tag = el.get("tag")
    if not isinstance(tag, str):
        ctx.add(path, "component has no 'tag'")
        return
    spec = _SPECS.get(tag)
    if spec is None or tag == "column":
        ctx.count += 1
        if tag == "column":
            ctx.add(path, "tag 'column' is only allowed in column_set.columns")
        elif tag in _REMOVED_TAGS:
            ctx.add(path, f"unknown tag '{tag}': {_REMOVED_TAGS[tag]}")
        elif tag in _UNMODELLED_TAGS:
            ctx.add(
                path, f"unknown tag '{tag}' (a documented 2.0 component this validator does not model yet)"
            )
        else:
            ctx.add(path, f"unknown tag '{tag}'")
        return
    if tag == "table":
        ctx.tables += 1
        if not at_root:
            ctx.add(path, "table can only be placed directly in body.elements (not inside another component)")
    if tag == "form" and not at_root:
        # "Form containers cannot be embedded within other components and can only be placed under the root
        # node" [containers/form-container]; this also rules out a form inside a form.
        ctx.add(path, "form can only be placed directly in body.elements (not inside another component)")
    _check_node(el, path, ctx, spec, at_root=at_root, in_form=in_form)


def _check_elements(value: Any, path: str, ctx: _Ctx, *, at_root: bool, in_form: bool) -> None:
    if not _expect_list(value, path, ctx):
        return
    for i, el in enumerate(value):
        _check_component(el, _join(path, i), ctx, at_root=at_root, in_form=in_form)


def _check_config(config: Any, ctx: _Ctx) -> None:
    if not _expect_dict(config, "config", ctx):
        return
    _check_keys(config, "config", ctx, _CONFIG_KEYS, what="config")
    for key in ("streaming_mode", "enable_forward", "use_custom_translation", "enable_forward_interaction"):
        if key in config and not isinstance(config[key], bool):
            ctx.add(_join("config", key), "must be a boolean")
    if "update_multi" in config and config["update_multi"] is not True:
        ctx.add("config.update_multi", "JSON 2.0 only supports shared cards: must be true (or omitted)")
    if "width_mode" in config:
        _check_enum(config["width_mode"], "config.width_mode", ctx, {"default", "compact", "fill"})
    if "streaming_config" in config:  # sub-fields are documented on the streaming pages; not modelled
        _expect_dict(config["streaming_config"], "config.streaming_config", ctx)
    summary = config.get("summary")
    if summary is not None and _expect_dict(summary, "config.summary", ctx):
        _check_keys(summary, "config.summary", ctx, _w("content i18n_content"), what="config.summary")
        if "i18n_content" in summary:
            _check_i18n_map(summary["i18n_content"], "config.summary.i18n_content", ctx)
    locales = config.get("locales")
    if locales is not None and _expect_list(locales, "config.locales", ctx):
        for i, loc in enumerate(locales):
            if loc not in LOCALES:
                ctx.add(_join("config.locales", i), f"unknown locale {loc!r}")
    style = config.get("style")
    if style is not None and _expect_dict(style, "config.style", ctx):
        _check_keys(style, "config.style", ctx, _w("text_size color"), what="config.style")
        for key, sub_keys in (
            ("text_size", {"default", "pc", "mobile"}),
            ("color", {"light_mode", "dark_mode"}),
        ):
            table = style.get(key)
            tpath = _join("config.style", key)
            if table is None or not _expect_dict(table, tpath, ctx):
                continue
            for name, entry in table.items():
                epath = _join(tpath, name)
                if _expect_dict(entry, epath, ctx):
                    _check_keys(entry, epath, ctx, frozenset(sub_keys), what=f"config.style.{key} entry")


def _check_card_link(link: Any, ctx: _Ctx) -> None:
    if not _expect_dict(link, "card_link", ctx):
        return
    _check_url_map(link, "card_link", ctx, "card_link")
    if "url" not in link and not {"pc_url", "ios_url", "android_url"} <= link.keys():
        ctx.add("card_link", "needs 'url', or all of 'pc_url', 'ios_url' and 'android_url'")


def _check_text_tag(tag_obj: Any, path: str, ctx: _Ctx) -> None:
    if not _expect_dict(tag_obj, path, ctx):
        return
    ctx.count += 1
    keys = _w("tag element_id text color")
    _check_keys(tag_obj, path, ctx, keys, what="text_tag", required=("tag",))
    if "tag" in tag_obj and tag_obj["tag"] != "text_tag":
        ctx.add(_join(path, "tag"), f"must be 'text_tag', got {tag_obj['tag']!r}")
    if "element_id" in tag_obj:
        _check_element_id(tag_obj["element_id"], path, ctx)
    if "text" in tag_obj:
        _check_text(tag_obj["text"], _join(path, "text"), ctx)
    if "color" in tag_obj:
        _check_enum(tag_obj["color"], _join(path, "color"), ctx, TEXT_TAG_COLORS)


def _check_text_tag_list(value: Any, path: str, ctx: _Ctx) -> None:
    if not _expect_list(value, path, ctx):
        return
    if len(value) > 3:
        ctx.add(path, f"{len(value)} tags; the header shows at most 3")
    for i, item in enumerate(value):
        _check_text_tag(item, _join(path, i), ctx)


def _check_header(header: Any, ctx: _Ctx) -> None:
    if not _expect_dict(header, "header", ctx):
        return
    _check_keys(header, "header", ctx, _HEADER_KEYS, what="header", required=("title",))
    title_tags = _w("plain_text lark_md")
    for key in ("title", "subtitle"):
        if key in header:
            _check_text(header[key], _join("header", key), ctx, tags=title_tags)
    if "template" in header:
        _check_enum(header["template"], "header.template", ctx, HEADER_TEMPLATES)
    if "icon" in header:
        _check_icon(header["icon"], "header.icon", ctx)
    if "padding" in header:
        _check_box(header["padding"], "header.padding", ctx)
    if "text_tag_list" in header:
        _check_text_tag_list(header["text_tag_list"], "header.text_tag_list", ctx)
    i18n_tags = header.get("i18n_text_tag_list")
    if i18n_tags is not None and _expect_dict(i18n_tags, "header.i18n_text_tag_list", ctx):
        for locale, tags in i18n_tags.items():
            lpath = _join("header.i18n_text_tag_list", locale)
            if locale not in LOCALES:
                ctx.add(lpath, f"unknown locale '{locale}'")
            _check_text_tag_list(tags, lpath, ctx)


def _check_body(body: Any, ctx: _Ctx) -> None:
    if not _expect_dict(body, "body", ctx):
        return
    _check_keys(body, "body", ctx, _BODY_KEYS, what="body", required=("elements",))
    _check_props(body, "body", ctx, _BODY_KEYS - {"elements"})
    if "elements" in body:
        _check_elements(body["elements"], "body.elements", ctx, at_root=True, in_form=False)


# ------------------------------------------------------------------------------------------- public


def validate_card(card: dict[str, Any], *, allow_legacy: bool = False) -> list[str]:
    """Return the problems that would make Feishu reject (or mis-render) this JSON 2.0 card.

    Each problem is "<json path>: <message>"; an empty list means the card passed.  ``allow_legacy``
    accepts the JSON 1.0 "historical attributes" the 2.0 docs still list (button url/multi_url/value/
    action_type, img mode/custom_width/compact_width).
    """
    ctx = _Ctx(allow_legacy=allow_legacy)
    if not isinstance(card, dict):
        ctx.add("card", f"card must be an object, got {type(card).__name__}")
        return ctx.problems
    if "schema" not in card:
        ctx.add("schema", 'missing; must be "2.0" (a card without it is parsed as JSON 1.0)')
    elif card["schema"] != "2.0":
        ctx.add("schema", f'must be "2.0", got {card["schema"]!r}')
    for key in card:
        if key not in _TOP_LEVEL_KEYS:
            hint = _TOP_LEVEL_HINTS.get(key)
            ctx.add("card", f"unknown top-level property '{key}'" + (f": {hint}" if hint else ""))
    if "config" in card:
        _check_config(card["config"], ctx)
    if "card_link" in card:
        _check_card_link(card["card_link"], ctx)
    if "header" in card:
        _check_header(card["header"], ctx)
    if "body" in card:
        _check_body(card["body"], ctx)

    if ctx.count > MAX_COMPONENTS:
        ctx.add(
            "card",
            f"{ctx.count} components and text elements; JSON 2.0 allows at most {MAX_COMPONENTS} "
            "(text elements such as plain_text count too)",
        )
    if ctx.tables > MAX_TABLES:
        ctx.add("card", f"{ctx.tables} tables; a card may hold at most {MAX_TABLES}")
    try:
        size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        ctx.add("card", f"not JSON-serialisable: {exc}")
    else:
        if size > MAX_CARD_BYTES:
            ctx.add("card", f"{size} bytes as JSON; the limit is {MAX_CARD_BYTES} bytes (30 KB)")
    return ctx.problems


def assert_valid_card(card: dict[str, Any], *, allow_legacy: bool = False) -> None:
    """Raise ``AssertionError`` listing every problem ``validate_card`` finds (for tests)."""
    problems = validate_card(card, allow_legacy=allow_legacy)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"invalid Feishu card JSON 2.0 ({len(problems)} problems):\n{listing}")
