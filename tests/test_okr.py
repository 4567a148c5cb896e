"""okr: periods, objectives and KRs, hidden and empty OKRs, switching periods in place, visibility."""

from __future__ import annotations

import pytest

from bot.feishu.clients import FeishuClients
from bot.inbound import InlineExecutor
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import render_text
from tests.conftest import NOW, Chat, card_title

CURRENT = "2026 年 10 月 - 12 月"
PREVIOUS = "2026 年 7 月 - 9 月"


def _subtitle(card):
    return card["header"].get("subtitle", {}).get("content", "")


def _objectives(sandbox, key, period_key):
    period = next(p for p in sandbox.seed.periods if p.key == period_key)
    batch = next(b for b in sandbox.seed.okrs_of(sandbox.seed.person(key)) if str(b["period_id"]) == period.id)
    return batch["objective_list"]


def test_my_okr_shows_the_current_period_with_objectives_and_key_results(chat, sandbox):
    [entry] = chat.say("王磊", "我的OKR")
    card = entry["content"]
    assert_valid_card(card)
    assert card_title(entry) == "王磊 的 OKR"
    assert _subtitle(card) == CURRENT
    text = chat.text_of(entry)
    for objective in _objectives(sandbox, "wanglei", "current"):
        assert objective["content"] in text
        assert f"{objective['progress_rate']['percent']}%" in text
        for kr in objective["kr_list"]:
            assert kr["content"] in text
    assert "天前更新" in text
    assert "权重" in text and "截止" in text
    assert {"正常", "有风险", "已延期"} & set(text.split(" · "))


def test_okr_in_english_and_of_a_mentioned_person(chat):
    [entry] = chat.say("周星河", "okr {0}", mentions=("王磊",))
    assert card_title(entry) == "Lei Wang's OKRs"
    assert _subtitle(entry["content"]) == "Oct - Dec 2026"
    assert "updated" in chat.text_of(entry)


def test_previous_period_by_word_and_by_name_shows_scores(chat, sandbox):
    [by_word] = chat.say("王磊", "okr 上期")
    [by_name] = chat.say("王磊", "okr Jul - Sep 2026")
    assert _subtitle(by_word["content"]) == PREVIOUS
    assert _subtitle(by_name["content"]) == "Jul - Sep 2026"
    scored = [o for o in _objectives(sandbox, "wanglei", "previous") if o.get("score")]
    assert scored and "评分" in chat.text_of(by_word)


def test_unknown_period_lists_the_periods(chat):
    [entry] = chat.say("王磊", "okr 2019")
    assert card_title(entry) == "Unknown period"
    assert "Oct - Dec 2026" in chat.text_of(entry)


def test_buttons_switch_periods_in_place_and_refresh_reads_again(chat, sandbox):
    [entry] = chat.say("王磊", "我的OKR")
    status, answer = chat.click("王磊", entry, "◀ 上一周期")
    assert status == 200
    card = answer["card"]["data"]
    assert_valid_card(card)
    assert _subtitle(card) == PREVIOUS
    entry_prev = {**entry, "content": card}
    status, answer = chat.click("王磊", entry_prev, "下一周期 ▶")
    assert _subtitle(answer["card"]["data"]) == CURRENT
    before = len(sandbox.state.requests.matching("/open-apis/okr/v1/users/"))
    chat.click("王磊", entry, "刷新")
    assert len(sandbox.state.requests.matching("/open-apis/okr/v1/users/")) == before + 1  # cache bypassed
    chat.click("王磊", {**entry, "content": answer["card"]["data"]}, "◀ 上一周期")
    assert len(sandbox.state.requests.matching("/open-apis/okr/v1/users/")) == before + 1  # cached


def test_next_period_without_okrs_says_so(chat):
    [entry] = chat.say("王磊", "okr next")
    assert "No OKRs for this period yet." in chat.text_of(entry)


def test_hidden_okrs_show_as_hidden_never_as_empty(chat):
    [entry] = chat.say("周星河", "okr {0}", mentions=("马骏",))
    text = chat.text_of(entry)
    assert "restricted" in text
    assert "No OKRs" not in text


def test_hidden_objectives_inside_a_visible_okr(chat, sandbox):
    people = [p for p in sandbox.seed.people
              if any(o.get("permission") == 0 for b in sandbox.seed.okrs_of(p) if b.get("permission") == 1
                     for o in b["objective_list"])]
    if not people:
        pytest.fail("the seed should have an objective with permission 0 inside a visible OKR")
    person = people[0]
    for batch in sandbox.seed.okrs_of(person):
        if any(o.get("permission") == 0 for o in batch.get("objective_list", [])):
            period = next(p for p in sandbox.seed.periods if p.id == str(batch["period_id"]))
            break
    [entry] = chat.say("周星河", f"okr {{0}} {period.en_name}", mentions=(person.name,))
    assert "An objective you may not see" in chat.text_of(entry)


def test_person_without_okrs(chat):
    [entry] = chat.say("周星河", "okr {0}", mentions=("邓琳",))
    assert "No OKRs for this period yet." in chat.text_of(entry)


def _chat_with(settings, sandbox, **changes):
    app = create_app(settings.with_(**changes), executor=InlineExecutor(), clock=lambda: NOW)
    return Chat(app.test_client(), sandbox, settings)


def test_visibility_self_refuses_others_but_not_yourself(settings, sandbox):
    chat = _chat_with(settings, sandbox, okr_visibility="self")
    [refused] = chat.say("刘芳", "okr {0}", mentions=("王磊",))
    assert card_title(refused) == "Not available to you"
    [own] = chat.say("刘芳", "okr")
    assert card_title(own) == "Fang Liu's OKRs"


def test_visibility_team_allows_department_and_reporting_line_only(settings, sandbox):
    chat = _chat_with(settings, sandbox, okr_visibility="team")
    assert card_title(chat.say("刘芳", "okr {0}", mentions=("杨帆",))[0]) == "Fan Yang's OKRs"  # same department
    assert card_title(chat.say("刘芳", "okr {0}", mentions=("陈立",))[0]) == "Li Chen's OKRs"  # her manager's manager
    assert card_title(chat.say("刘芳", "okr {0}", mentions=("何静",))[0]) == "Not available to you"


def test_a_click_by_someone_who_may_not_see_gets_a_toast_and_the_card_stays(settings, sandbox):
    chat = _chat_with(settings, sandbox, okr_visibility="team")
    [entry] = chat.say("刘芳", "okr {0}", group="eng_weekly", mentions=("陈立",))  # every member may see the CTO's
    entry = {**entry, "chat_id": sandbox.seed.chat("eng_weekly").chat_id}  # the callback names the chat
    status, answer = chat.click("何静", entry, "◀ Previous period")
    assert status == 200
    assert "card" not in answer
    assert answer["toast"]["type"] == "warning"
    status, answer = chat.click("王磊", entry, "◀ Previous period")  # the team lead may
    assert _subtitle(answer["card"]["data"]) == "Jul - Sep 2026"


def test_okr_grant_missing_gives_the_admin_a_clear_instruction(chat, sandbox):
    sandbox.state.faults.inject("/open-apis/okr/v1/users/", times=None, http_status=400, code=1001002,
                               msg="No permission.")
    [entry] = chat.say("王磊", "我的OKR")
    text = chat.text_of(entry)
    assert card_title(entry) == "出错了"
    assert "以应用身份访问 OKR 信息" in text and "1001002" in text


def test_okr_user_not_found(chat, sandbox):
    sandbox.state.faults.inject("/open-apis/okr/v1/users/", times=None, http_status=400, code=1001003,
                               msg="User not found.")
    [entry] = chat.say("王磊", "我的OKR")
    assert "OKR 系统里找不到这个用户" in chat.text_of(entry)


def test_rate_limit_answers_are_waited_out_and_retried(chat, sandbox):
    sandbox.state.faults.inject("/open-apis/okr/v1/users/", times=2, http_status=429, code=99991400,
                               msg="request trigger frequency limit", headers={"x-ogw-ratelimit-reset": "0"})
    [entry] = chat.say("王磊", "我的OKR")
    assert card_title(entry) == "王磊 的 OKR"


def test_client_reads_every_page_with_limit_at_most_10(settings, sandbox):
    sandbox.state.page_cap = 1  # Feishu may answer fewer items than asked for
    clients = FeishuClients.create(settings)
    person = sandbox.seed.person("wanglei")
    mark = len(sandbox.state.requests.entries())
    okrs = clients.okr.list_user_okrs(person.open_id, fresh=True)
    assert len(okrs) == len(sandbox.seed.okrs_of(person)) >= 2
    requests = [r for r in sandbox.state.requests.entries()[mark:] if r["path"].endswith("/okrs")]
    assert len(requests) == len(okrs)
    assert [r["query"]["offset"] for r in requests] == [[str(i)] for i in range(len(okrs))]
    assert all(int(r["query"]["limit"][0]) <= 10 for r in requests)


def test_okr_card_renders_for_every_seeded_person(chat, sandbox):
    """Every person's card stays valid and under the limits, whatever their data."""
    for person in sandbox.seed.active_people[:20]:
        [entry] = chat.say("周星河", "okr {0}", mentions=(person.name,))
        assert_valid_card(entry["content"])
        assert render_text(entry["content"])


def test_a_slow_click_answers_with_a_toast_and_updates_the_card_later(settings, sandbox):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        app = create_app(settings.with_(callback_budget=0.05), executor=pool, clock=lambda: NOW)
        chat = Chat(app.test_client(), sandbox, settings)
        sandbox.state.outbox.clear()
        status, _, _ = chat.sender.say(sender_open_id=sandbox.seed.person("wanglei").open_id,
                                       chat_id="oc_slow", chat_type="p2p", text="我的OKR")
        [entry] = sandbox.state.outbox.wait_for(1, 10.0)
        # OKR reads hang until the fault is cleared: the answer cannot be ready within the budget
        sandbox.state.faults.inject("/open-apis/okr/v1/users/", times=1, delay=60.0)
        status, answer = chat.click("王磊", entry, "刷新")
        assert status == 200
        assert answer == {"toast": {"type": "info", "content": "正在更新…"}}
        sandbox.state.faults.clear()  # the read completes now
        [update] = sandbox.state.outbox.wait_for(1, 10.0, since=1)
    assert update["kind"] == "delayed_update"
    assert _subtitle(update["content"]) == CURRENT
