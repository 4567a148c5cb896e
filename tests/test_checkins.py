"""progress / 进度: people check in on their own OKRs from the chat, by text and by the update form, through the
webhook and the sandbox's progress records. Writes are counted in the sandbox's request log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.commands.base import CommandCall, action_value
from bot.commands.progress import MAX_WRITES, WRITES_WINDOW, parse_checkin
from bot.inbound import InlineExecutor
from bot.store import Store
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, callback_value, form_fields
from devkit.sandbox.event_push import card_action_event
from tests.conftest import NOW, Chat, card_title

WRITES = "/okr/v1/progress_records"


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/bot.db")


@pytest.fixture
def bot(settings, sandbox, store, tmp_path) -> Chat:
    app = create_app(settings.with_(database_url=f"sqlite:///{tmp_path}/bot.db"), executor=InlineExecutor(),
                     clock=lambda: NOW, store=store)
    return Chat(app.test_client(), sandbox, settings)


def _writes(sandbox) -> list[dict]:
    return sandbox.state.requests.matching(WRITES, "POST")


def _bodies(sandbox) -> list[dict]:
    return [r["body"] for r in _writes(sandbox)]


def _objectives(sandbox, key: str) -> list[dict]:
    period = next(p for p in sandbox.seed.periods if p.key == "current")
    batch = next(b for b in sandbox.seed.okrs_of(sandbox.seed.person(key)) if str(b["period_id"]) == period.id)
    return batch["objective_list"]


def _kr(sandbox, key: str, number: str) -> dict:
    o, k = (int(n) for n in number.split("."))
    return _objectives(sandbox, key)[o - 1]["kr_list"][k - 1]


def _note(body: dict) -> str:
    return "".join(e["text_run"]["text"] for b in body["content"]["blocks"] for e in b["paragraph"]["elements"])


def _text(bot: Chat, card: dict) -> str:
    return bot.text_of({"content": card})


def _line_of(text: str, number: str) -> str:
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().lstrip("- ").startswith(f"{number} "))
    return lines[at] + "\n" + lines[at + 1]


def _labels(card: dict) -> list[str]:
    return [b["text"]["content"] for b in buttons_of(card)]


def _click(bot: Chat, who: str, entry: dict, value: dict, form_value: dict | None = None) -> dict:
    action = {"form_value": form_value} if form_value is not None else None
    payload = card_action_event(operator_open_id=bot.person(who).open_id, value=value,
                                message_id=entry["message_id"], chat_id=entry.get("chat_id", ""),
                                token=bot.sender.token, app_id=bot.sender.app_id, action=action)
    status, body = bot.sender.deliver("/webhook/card", payload)
    assert status == 200, body
    return json.loads(body) if body else {}


def _prefilled(card: dict) -> dict[str, str]:
    """What the form submits when nothing is changed: each field's prefilled value."""
    return {name: f.get("default_value", f.get("initial_option", "")) for name, f in form_fields(card).items()}


def _submit_value(card: dict) -> dict:
    button = next(b for b in buttons_of(card) if b.get("form_action_type") == "submit")
    return callback_value(button)


SUBMIT = action_value(CommandCall(name="progress", locale="zh_cn"), submit=True)


# -- by text -----------------------------------------------------------------------------------------------

def test_a_text_check_in_writes_one_record_and_the_next_okr_shows_it(bot, sandbox, store):
    [before] = bot.say("王磊", "我的OKR")  # the OKRs are cached now
    kr = _kr(sandbox, "wanglei", "1.2")
    assert "60%" not in _line_of(bot.text_of(before), "1.2")

    [answer] = bot.say("王磊", "进度 1.2 60% 有风险 灰度完成一半")

    [body] = _bodies(sandbox)
    assert (str(body["target_id"]), body["target_type"]) == (kr["id"], 3)
    assert body["progress_rate"] == {"percent": 60.0, "status": 1}
    assert _note(body) == "灰度完成一半"
    assert body["source_title"] and body["source_url"].startswith("https://")
    text = bot.text_of(answer)
    assert card_title(answer) == "王磊 的 OKR" and "刚刚更新" in text
    assert_valid_card(answer["content"])
    [after] = bot.say("王磊", "我的OKR")  # the cache was dropped: the new progress shows
    assert "60%" in _line_of(bot.text_of(after), "1.2") and "有风险" in _line_of(bot.text_of(after), "1.2")
    assert len(_writes(sandbox)) == 1
    assert store.checkins.people_since([bot.person("王磊").open_id], NOW - timedelta(minutes=1)) == {
        bot.person("王磊").open_id}


def test_an_objective_alone_and_english_words_keep_the_status_and_take_the_note(bot, sandbox):
    objective = _objectives(sandbox, "wanglei")[1]
    bot.say("王磊", "progress 2 50%")
    bot.say("王磊", "progress 1.1 65 halfway through the rollout")
    first, second = _bodies(sandbox)
    assert (str(first["target_id"]), first["target_type"], first["progress_rate"]["percent"]) == (
        objective["id"], 2, 50.0)
    assert str(first["progress_rate"]["status"]) == str(objective["progress_rate"]["status"])  # no status word: kept
    assert _note(first)  # a default text: Feishu requires content
    kr = _kr(sandbox, "wanglei", "1.1")
    assert (str(second["target_id"]), second["target_type"]) == (kr["id"], 3)
    assert second["progress_rate"]["percent"] == 65.0 and _note(second) == "halfway through the rollout"


@pytest.mark.parametrize(("text", "expect", "button"), [
    ("进度 1.5 60%", ["没有 **1.5**", "1.1", "2.3"], "用表单更新"),
    ("进度 1.2 120%", ["0 到 100"], "进度 1.2 100%"),
    ("进度 1.2 60.5", ["0 到 100 的整数"], "进度 1.2 60%"),
    ("progress 1.2", ["give the percent"], "Update with the form"),
    ("progress 1.2 sixty", ["“sixty”"], "Update with the form"),
    ("progress first 60%", ["number of the objective", "1.1"], "Update with the form"),
])
def test_each_mistake_gets_its_correction_and_writes_nothing(bot, sandbox, text, expect, button):
    [entry] = bot.say("王磊", text)
    card = entry["content"]
    assert_valid_card(card)
    assert card_title(entry) in ("没能更新进度", "Progress not updated")
    raw = json.dumps(card, ensure_ascii=False)
    for words in expect:
        assert words in raw, words
    assert "`" not in bot.text_of(entry)
    assert button in _labels(card)
    assert _writes(sandbox) == []


def test_the_corrected_example_is_a_button_that_writes_it(bot, sandbox):
    [entry] = bot.say("王磊", "进度 1.2 120%")
    bot.click("王磊", entry, "进度 1.2 100%")
    [body] = _bodies(sandbox)
    assert str(body["target_id"]) == _kr(sandbox, "wanglei", "1.2")["id"] and body["progress_rate"]["percent"] == 100


def test_only_your_own_okrs_and_privately_in_a_group(bot, sandbox):
    [entry] = bot.say("王磊", "progress {0} 1.2 60%", mentions=("刘芳",))
    assert "only update your own" in bot.text_of(entry)
    entries = bot.say("王磊", "进度 1.2 60%", group="eng_weekly")
    private = next(e for e in entries if e["receive_id"] == bot.person("王磊").open_id)
    assert "刚刚更新" in bot.text_of(private)
    assert all("核心接口" not in bot.text_of(e) for e in entries if e is not private)
    assert len(_writes(sandbox)) == 1


# -- the OKR card's button and the form --------------------------------------------------------------------

def test_the_update_button_is_on_your_own_current_card_only(bot):
    [own] = bot.say("王磊", "我的OKR")
    assert "更新进度" in _labels(own["content"])
    [other] = bot.say("王磊", "OKR {0}", mentions=("刘芳",))
    [previous] = bot.say("王磊", "okr 上期")
    assert "更新进度" not in _labels(other["content"]) and "更新进度" not in _labels(previous["content"])
    button = next(b for b in buttons_of(own["content"]) if b["text"]["content"] == "更新进度")
    assert callback_value(button) == action_value(CommandCall(name="progress", locale="zh_cn"), form=True)


def test_the_button_turns_the_card_into_a_prefilled_form(bot, sandbox):
    [own] = bot.say("王磊", "我的OKR")
    _, answer = bot.click("王磊", own, "更新进度")
    form = answer["card"]["data"]
    assert_valid_card(form)
    fields = form_fields(form)
    for number in ("1.1", "1.2", "2.1", "2.2", "2.3"):
        kr = _kr(sandbox, "wanglei", number)
        assert fields[f"p_{kr['id']}"]["default_value"] == str(kr["progress_rate"]["percent"])
        status = {"0": "normal", "1": "at_risk", "2": "delayed"}.get(str(kr["progress_rate"].get("status")), "none")
        assert fields[f"s_{kr['id']}"]["initial_option"] == status
    assert "note" in fields and _submit_value(form) == SUBMIT
    assert _writes(sandbox) == []


def test_a_submit_writes_only_the_changed_key_results_and_shows_the_card_again(bot, sandbox, store):
    [form] = bot.say("王磊", "进度")
    values = _prefilled(form["content"])
    one, two = _kr(sandbox, "wanglei", "1.1"), _kr(sandbox, "wanglei", "2.2")
    values[f"p_{one['id']}"] = "30"
    values[f"s_{two['id']}"] = "delayed"
    values["note"] = "本周推进"
    answer = _click(bot, "王磊", form, _submit_value(form["content"]), values)

    bodies = {str(b["target_id"]): b for b in _bodies(sandbox)}
    assert set(bodies) == {one["id"], two["id"]}
    assert bodies[one["id"]]["progress_rate"]["percent"] == 30
    assert bodies[two["id"]]["progress_rate"] == {"percent": float(two["progress_rate"]["percent"]), "status": 2}
    assert _note(bodies[one["id"]]) == "本周推进"
    card = answer["card"]["data"]
    assert_valid_card(card)
    text = _text(bot, card)
    assert card["header"]["title"]["content"] == "王磊 的 OKR" and "刚刚更新" in text
    assert "30%" in _line_of(text, "1.1") and "已延期" in _line_of(text, "2.2")
    assert store.checkins.people_since([bot.person("王磊").open_id], NOW) == {bot.person("王磊").open_id}


def test_one_person_writes_at_most_max_writes_in_the_window_by_text_or_form(bot, sandbox, store):
    """An insider typing check-ins in a loop cannot take the app's OKR budget (100 calls a minute for everyone):
    after MAX_WRITES records in WRITES_WINDOW, nothing more is written, by text or by the form."""
    me = bot.person("王磊").open_id
    for n in range(MAX_WRITES - 1):
        store.checkins.add(me, str(n), 10, "normal", NOW - timedelta(minutes=1))
    [form] = bot.say("王磊", "进度")
    bot.say("王磊", "进度 1.2 61%")  # the last one the window allows
    assert len(_writes(sandbox)) == 1
    [refused] = bot.say("王磊", "进度 1.2 62%")
    assert "最多 30 次" in bot.text_of(refused)
    values = _prefilled(form["content"])
    values[f"p_{_kr(sandbox, 'wanglei', '1.1')['id']}"] = "31"
    answer = _click(bot, "王磊", form, _submit_value(form["content"]), values)
    assert "最多 30 次" in answer["toast"]["content"]
    assert len(_writes(sandbox)) == 1  # neither wrote
    store.checkins.add(me, "x", 10, "normal", NOW - WRITES_WINDOW - timedelta(minutes=1))  # older ones do not count
    assert store.checkins.count_since(me, NOW - WRITES_WINDOW) == MAX_WRITES


def test_an_unchanged_submit_writes_nothing(bot, sandbox):
    [form] = bot.say("王磊", "进度")
    answer = _click(bot, "王磊", form, _submit_value(form["content"]), _prefilled(form["content"]))
    assert _writes(sandbox) == [] and "没有改动" in _text(bot, answer["card"]["data"])


def test_someone_else_clicking_the_button_gets_their_own_form_and_writes_nothing(bot, sandbox):
    [own] = bot.say("王磊", "我的OKR")
    _, answer = bot.click("刘芳", own, "更新进度")
    names = set(form_fields(answer["card"]["data"]))
    assert names and not any(f"p_{_kr(sandbox, 'wanglei', n)['id']}" in names for n in ("1.1", "1.2", "2.1"))
    assert _writes(sandbox) == []


def test_a_forwarded_or_forged_form_with_someone_elses_key_results_writes_nothing(bot, sandbox):
    [form] = bot.say("王磊", "进度")
    values = _prefilled(form["content"])
    values[f"p_{_kr(sandbox, 'wanglei', '1.1')['id']}"] = "99"
    answer = _click(bot, "刘芳", form, _submit_value(form["content"]), values)  # someone else submits it
    assert "card" not in answer and "不属于你" in answer["toast"]["content"]
    mixed = {f"p_{_kr(sandbox, 'wanglei', '1.1')['id']}": "99"}  # one foreign id among the clicker's own
    [own_form] = bot.say("刘芳", "进度")
    mixed.update(_prefilled(own_form["content"]))
    answer = _click(bot, "刘芳", own_form, _submit_value(own_form["content"]), mixed)
    assert "card" not in answer and "不属于你" in answer["toast"]["content"]
    assert _writes(sandbox) == []


def test_a_number_that_is_not_a_percent_writes_nothing(bot, sandbox):
    [form] = bot.say("王磊", "进度")
    values = _prefilled(form["content"])
    values[f"p_{_kr(sandbox, 'wanglei', '1.1')['id']}"] = "30"
    values[f"p_{_kr(sandbox, 'wanglei', '1.2')['id']}"] = "150"
    answer = _click(bot, "王磊", form, _submit_value(form["content"]), values)
    assert "card" not in answer and "1.2" in answer["toast"]["content"]
    assert _writes(sandbox) == []


def test_feishu_refusing_one_key_result_is_reported_for_it_and_the_others_are_written(bot, sandbox):
    [form] = bot.say("王磊", "进度")
    values = _prefilled(form["content"])
    one, two = _kr(sandbox, "wanglei", "1.1"), _kr(sandbox, "wanglei", "1.2")
    values[f"p_{one['id']}"], values[f"p_{two['id']}"] = "10", "70"
    sandbox.state.faults.inject(WRITES, method="POST", body={"target_id": two["id"]}, http_status=400, code=1001002,
                                msg="No permission.", times=None)
    answer = _click(bot, "王磊", form, _submit_value(form["content"]), values)
    assert len(_writes(sandbox)) == 2  # one each; a 4xx is not retried
    text = _text(bot, answer["card"]["data"])
    assert "1.1 → 10%" in text and "1.2 未写入：飞书返回 1001002 No permission." in text
    assert "10%" in _line_of(text, "1.1") and "70%" not in _line_of(text, "1.2")


# -- pure parts and the store ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "number", "percent", "status", "note"), [
    ("1.2 60% 有风险 灰度完成一半", "1.2", 60, "at_risk", "灰度完成一半"),
    ("1.2 60%有风险灰度", "1.2", 60, "at_risk", "灰度"),
    ("1.1 65 halfway through the rollout", "1.1", 65, None, "halfway through the rollout"),
    ("2 50%", "2", 50, None, ""),
    ("1.2 60 on track fine", "1.2", 60, "normal", "fine"),
    ("1.2 60 late", "1.2", 60, "delayed", ""),
    ("1.2 60 lateral move", "1.2", 60, None, "lateral move"),  # a status word only whole
    ("1.2 0 % 延期", "1.2", 0, "delayed", ""),
])
def test_check_ins_are_read(text, number, percent, status, note):
    checkin = parse_checkin(text)
    assert (checkin.number, checkin.percent, checkin.status, checkin.note) == (number, percent, status, note)


@pytest.mark.parametrize(("text", "problem"), [
    ("", "target"), ("abc", "target"), ("1.2.3 60", "target"), ("1.2", "percent"), ("1.2 60abc", "percent"),
    ("1.2 101", "range"), ("1.2 -5", "range"), ("1.2 99999999999999", "range"), ("1.2 60.5", "integer"),
])
def test_what_is_not_a_check_in_says_why(text, problem):
    assert parse_checkin(text).problem == problem



def test_who_checked_in_since_is_one_question_on_either_database(db_url):
    checkins = Store(db_url).checkins
    checkins.add("ou_a", "1", 10, "normal", NOW - timedelta(days=3))
    checkins.add("ou_b", "2", 20, "at_risk", NOW)
    checkins.add("ou_b", "3", 30, "normal", NOW + timedelta(hours=1))
    assert checkins.people_since(["ou_a", "ou_b", "ou_c"], NOW - timedelta(days=7)) == {"ou_a", "ou_b"}
    assert checkins.people_since(["ou_a", "ou_b"], NOW) == {"ou_b"}
    assert checkins.people_since(["ou_a"], NOW) == set() and checkins.people_since([], NOW) == set()
    assert checkins.last("ou_b") == NOW + timedelta(hours=1) and checkins.last("ou_c") is None

