"""The sandbox's OKR progress records (okr/v1/progress_records), as Feishu's "创建/获取/更新/删除 OKR 进展记录" pages
document them, driven through the real lark-oapi client and, for bodies the SDK cannot send, through plain HTTP;
and the seed's two freshness settings (the tests' extremes, the demo's realistic team)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import lark_oapi as lark
import pytest
import requests
from lark_oapi.api.okr.v1 import (
    ContentBlock,
    ContentBlockElement,
    ContentParagraph,
    ContentParagraphElement,
    ContentTextRun,
    CreateProgressRecordRequest,
    CreateProgressRecordRequestBody,
    DeleteProgressRecordRequest,
    GetProgressRecordRequest,
    ListUserOkrRequest,
    ProgressRateNew,
    UpdateProgressRecordRequest,
    UpdateProgressRecordRequestBody,
)
from lark_oapi.api.okr.v1.model import OkrBatch
from lark_oapi.core.token.manager import TokenManager

from bot.digests.okr_health import assess
from bot.feishu.okr import to_okr
from devkit.sandbox import build_seed, serve_in_thread
from devkit.sandbox.timeutil import ManualClock

APP_ID = "cli_progress_selftest"
LIMITED_APP_ID = "cli_progress_ratelimit"
SECRET = "progress-secret"
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC).timestamp()  # 10:00 in Shanghai on the seed's anchor day
PATH = "/open-apis/okr/v1/progress_records"


class Running:
    def __init__(self, app_id: str, clock: ManualClock, rate_scale: float | None) -> None:
        TokenManager.cache.set(f"self_tenant_token:{app_id}", "", 0)
        self.app_id = app_id
        self.clock = clock
        self.server = serve_in_thread(app_id=app_id, app_secret=SECRET, rate_scale=rate_scale, clock=clock)
        self.url = self.server.url
        self.state = self.server.state
        self.client = lark.Client.builder().app_id(app_id).app_secret(SECRET).domain(self.url) \
            .log_level(lark.LogLevel.ERROR).build()
        # with app credentials lark-oapi prefers the tenant token; a user token is sent only with enable_set_token
        self.user_client = lark.Client.builder().app_id(app_id).app_secret(SECRET).domain(self.url) \
            .enable_set_token(True).log_level(lark.LogLevel.ERROR).build()
        self.http = requests.Session()

    def tenant_token(self) -> str:
        answer = self.http.post(f"{self.url}/open-apis/auth/v3/tenant_access_token/internal",
                                json={"app_id": self.app_id, "app_secret": SECRET}, timeout=10).json()
        return str(answer["tenant_access_token"])

    def post(self, body: Any, *, token: str | None = None, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {token or self.tenant_token()}", "Content-Type": "application/json"}
        if raw is not None:
            answer = self.http.post(self.url + PATH, data=raw, headers=headers, timeout=10)
        else:
            answer = self.http.post(self.url + PATH, json=body, headers=headers, timeout=10)
        return answer.status_code, answer.json()

    def stop(self) -> None:
        self.server.stop()
        TokenManager.cache.set(f"self_tenant_token:{self.app_id}", "", 0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Running]:
    running = Running(APP_ID, ManualClock(START), rate_scale=None)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> Iterator[None]:
    if "sandbox" in request.fixturenames:
        running = request.getfixturevalue("sandbox")
        running.state.reset()
        running.clock.now = START
    yield


# ---- helpers -------------------------------------------------------------------------------------------------
SEED = build_seed()


def current_okr(person_key: str) -> dict[str, Any]:
    person = SEED.person(person_key)
    return next(b for b in SEED.okrs_of(person) if b["period_id"] == SEED.current_period.id)


def first_kr(person_key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    objective = current_okr(person_key)["objective_list"][0]
    return objective, objective["kr_list"][0]


def content(text: str) -> ContentBlock:
    run = ContentTextRun.builder().text(text).build()
    element = ContentParagraphElement.builder().type("textRun").text_run(run).build()
    paragraph = ContentParagraph.builder().elements([element]).build()
    return ContentBlock.builder().blocks([ContentBlockElement.builder().type("paragraph").paragraph(paragraph)
                                          .build()]).build()


def create(client: lark.Client, target_id: str, target_type: int, *, percent: float | None = 60.0,
           status: int | None = 1, text: str = "灰度完成一半", option: lark.RequestOption | None = None) -> Any:
    body = CreateProgressRecordRequestBody.builder().source_title("OKR 助手") \
        .source_url("https://okr.example.com/checkin").target_id(int(target_id)).target_type(target_type) \
        .content(content(text))
    if percent is not None or status is not None:
        rate = ProgressRateNew.builder()
        if percent is not None:
            rate = rate.percent(percent)
        if status is not None:
            rate = rate.status(status)
        body = body.progress_rate(rate.build())
    request = CreateProgressRecordRequest.builder().user_id_type("open_id").request_body(body.build()).build()
    return client.okr.v1.progress_record.create(request, option) if option else \
        client.okr.v1.progress_record.create(request)


def served_okr(running: Running, person_key: str) -> Any:
    """The person's current OKR as the sandbox serves it now (through lark-oapi)."""
    person = SEED.person(person_key)
    answer = running.client.okr.v1.user_okr.list(
        ListUserOkrRequest.builder().user_id(person.open_id).user_id_type("open_id").offset("0").limit("10")
        .period_ids([SEED.current_period.id]).build())
    assert answer.success(), answer.msg
    return answer.data.okr_list[0]


def valid_body(target_id: str, target_type: int = 3) -> dict[str, Any]:
    return {
        "source_title": "周报系统",
        "source_url": "https://www.zhoubao.com",
        "target_id": target_id,
        "target_type": target_type,
        "content": {"blocks": [{"type": "paragraph", "paragraph": {"elements": [
            {"type": "textRun", "textRun": {"text": "本周完成评审", "style": {"bold": True}}}]}}]},
        "progress_rate": {"percent": 50.21, "status": 0},
    }


# ---- create, and what the OKRs show afterwards -------------------------------------------------------------
def test_create_answers_the_record_and_the_okr_list_shows_the_new_progress(sandbox: Running) -> None:
    objective, kr = first_kr("yangfan")
    sandbox.clock.advance(90.0)
    answer = create(sandbox.client, kr["id"], 3, percent=65.0, status=1)
    assert answer.success(), answer.msg
    record = answer.data
    assert isinstance(record.progress_id, str) and record.progress_id.isdigit() and len(record.progress_id) == 19
    now_ms = int((START + 90.0) * 1000)
    assert int(record.modify_time) == now_ms
    assert record.content.blocks[0].paragraph.elements[0].text_run.text == "灰度完成一半"
    assert (record.progress_rate.percent, record.progress_rate.status) == (65.0, 1)

    served = next(o for o in served_okr(sandbox, "yangfan").objective_list if o.id == objective["id"])
    served_kr = next(k for k in served.kr_list if k.id == kr["id"])
    assert (served_kr.progress_rate.percent, str(served_kr.progress_rate.status)) == (65, "1")
    assert int(served_kr.progress_record_last_updated_time) == now_ms
    assert int(served_kr.progress_rate_percent_last_updated_time) == now_ms
    assert record.progress_id in [r.id for r in served_kr.progress_record_list]
    # the objective's percent follows its key results' weighted average, as the seed computes it
    weights = [k["kr_weight"] for k in objective["kr_list"]]
    percents = [65 if k["id"] == kr["id"] else k["progress_rate"]["percent"] for k in objective["kr_list"]]
    expected = round(sum(p * w for p, w in zip(percents, weights, strict=True)) / sum(weights))
    assert served.progress_rate.percent == expected
    # someone else's OKRs are as the seed built them
    other = served_okr(sandbox, "cto").objective_list[0]
    assert other.progress_rate.percent == current_okr("cto")["objective_list"][0]["progress_rate"]["percent"]


def test_an_objective_record_sets_the_objective_and_a_record_without_a_rate_only_adds_the_record(
        sandbox: Running) -> None:
    objective, kr = first_kr("yangfan")
    assert create(sandbox.client, objective["id"], 2, percent=80.0, status=2).success()
    note = create(sandbox.client, kr["id"], 3, percent=None, status=None, text="只是备注")
    assert note.success() and note.data.progress_rate is None
    served = next(o for o in served_okr(sandbox, "yangfan").objective_list if o.id == objective["id"])
    assert (served.progress_rate.percent, str(served.progress_rate.status)) == (80, "2")
    served_kr = next(k for k in served.kr_list if k.id == kr["id"])
    assert served_kr.progress_rate.percent == kr["progress_rate"]["percent"]  # unchanged
    assert note.data.progress_id in [r.id for r in served_kr.progress_record_list]


def test_target_id_as_a_string_the_way_the_docs_write_it(sandbox: Running) -> None:
    _, kr = first_kr("yangfan")
    status, answer = sandbox.post(valid_body(str(kr["id"])))
    assert (status, answer["code"]) == (200, 0)
    data = answer["data"]
    assert data["progress_rate"] == {"percent": 50.21, "status": 0}
    assert data["content"]["blocks"][0]["paragraph"]["elements"][0]["textRun"]["text"] == "本周完成评审"
    assert isinstance(data["progress_id"], str) and isinstance(data["modify_time"], str)


# ---- get, update, delete ----------------------------------------------------------------------------------
def test_get_update_and_delete_through_lark_oapi(sandbox: Running) -> None:
    objective, kr = first_kr("yangfan")
    progress_id = create(sandbox.client, kr["id"], 3, percent=40.0, status=0).data.progress_id
    got = sandbox.client.okr.v1.progress_record.get(
        GetProgressRecordRequest.builder().progress_id(progress_id).user_id_type("open_id").build())
    assert got.success() and got.data.progress_id == progress_id and got.data.progress_rate.percent == 40.0

    sandbox.clock.advance(60.0)
    body = UpdateProgressRecordRequestBody.builder().content(content("改好了")) \
        .progress_rate(ProgressRateNew.builder().percent(70.0).status(0).build()).build()
    updated = sandbox.client.okr.v1.progress_record.update(
        UpdateProgressRecordRequest.builder().progress_id(progress_id).request_body(body).build())
    assert updated.success(), updated.msg
    assert updated.data.content.blocks[0].paragraph.elements[0].text_run.text == "改好了"
    assert int(updated.data.modify_time) == int((START + 60.0) * 1000)
    served_kr = next(k for o in served_okr(sandbox, "yangfan").objective_list if o.id == objective["id"]
                     for k in o.kr_list if k.id == kr["id"])
    assert served_kr.progress_rate.percent == 70

    deleted = sandbox.client.okr.v1.progress_record.delete(
        DeleteProgressRecordRequest.builder().progress_id(progress_id).build())
    assert deleted.success(), deleted.msg
    gone = sandbox.client.okr.v1.progress_record.get(GetProgressRecordRequest.builder().progress_id(progress_id)
                                                      .build())
    assert gone.code == 1001004
    again = sandbox.client.okr.v1.progress_record.delete(
        DeleteProgressRecordRequest.builder().progress_id(progress_id).build())
    assert again.code == 1001004
    served_kr = next(k for o in served_okr(sandbox, "yangfan").objective_list if o.id == objective["id"]
                     for k in o.kr_list if k.id == kr["id"])
    listed = [r.id for r in served_kr.progress_record_list]
    assert progress_id not in listed and listed == [r["id"] for r in kr["progress_record_list"]]


def test_a_malformed_progress_id_is_invalid_and_an_unknown_one_not_found(sandbox: Running) -> None:
    bad = sandbox.client.okr.v1.progress_record.get(GetProgressRecordRequest.builder().progress_id("abc").build())
    assert bad.code == 1001001
    unknown = sandbox.client.okr.v1.progress_record.get(
        GetProgressRecordRequest.builder().progress_id("7000000000000000001").build())
    assert unknown.code == 1001004


def test_reset_forgets_records_and_their_effect(sandbox: Running) -> None:
    objective, kr = first_kr("yangfan")
    assert create(sandbox.client, kr["id"], 3, percent=99.0).success()
    sandbox.state.reset()
    served = next(o for o in served_okr(sandbox, "yangfan").objective_list if o.id == objective["id"])
    assert served.kr_list[0].progress_rate.percent == kr["progress_rate"]["percent"]
    assert sandbox.state.progress.records() == []


# ---- validation: 1001001 for every field rule, 1001004 for targets --------------------------------------------
def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


INVALID: dict[str, Any] = {
    "no source_title": lambda b: _without(b, "source_title"),
    "empty source_title": lambda b: {**b, "source_title": "  "},
    "no source_url": lambda b: _without(b, "source_url"),
    "source_url not http(s)": lambda b: {**b, "source_url": "www.zhoubao.com"},
    "source_url_pc not http(s)": lambda b: {**b, "source_url_pc": "open.feishu.cn"},
    "source_url_mobile not a string": lambda b: {**b, "source_url_mobile": 7},
    "no target_id": lambda b: _without(b, "target_id"),
    "target_id not a number": lambda b: {**b, "target_id": "okr-12"},
    "target_id negative": lambda b: {**b, "target_id": -5},
    "target_id beyond int64": lambda b: {**b, "target_id": str(2**63)},
    "no target_type": lambda b: _without(b, "target_type"),
    "target_type 4": lambda b: {**b, "target_type": 4},
    "target_type 1": lambda b: {**b, "target_type": 1},
    "target_type as text": lambda b: {**b, "target_type": "key_result"},
    "no content": lambda b: _without(b, "content"),
    "content a string": lambda b: {**b, "content": "进展"},
    "blocks not a list": lambda b: {**b, "content": {"blocks": {"type": "paragraph"}}},
    "unknown block type": lambda b: {**b, "content": {"blocks": [{"type": "table"}]}},
    "unknown element type": lambda b: {**b, "content": {"blocks": [{"type": "paragraph", "paragraph": {
        "elements": [{"type": "emoji"}]}}]}},
    "text not a string": lambda b: {**b, "content": {"blocks": [{"type": "paragraph", "paragraph": {
        "elements": [{"type": "textRun", "text_run": {"text": 5}}]}}]}},
    "progress_rate not an object": lambda b: {**b, "progress_rate": 50},
    "percent above the documented range": lambda b: {**b, "progress_rate": {"percent": 100_000_000_000}},
    "percent below the documented range": lambda b: {**b, "progress_rate": {"percent": -100_000_000_000}},
    "percent as text": lambda b: {**b, "progress_rate": {"percent": "60%"}},
    "status 3": lambda b: {**b, "progress_rate": {"percent": 60, "status": 3}},
    "status as text": lambda b: {**b, "progress_rate": {"percent": 60, "status": "at_risk"}},
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_fields_answer_1001001_and_write_nothing(sandbox: Running, case: str) -> None:
    _, kr = first_kr("yangfan")
    status, answer = sandbox.post(INVALID[case](valid_body(kr["id"])))
    assert (status, answer["code"]) == (400, 1001001), case
    assert answer["msg"].startswith("Invalid parameters")
    assert sandbox.state.progress.records() == []


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_answers_1001001(sandbox: Running, raw: bytes) -> None:
    status, answer = sandbox.post(None, raw=raw)
    assert (status, answer["code"]) == (400, 1001001)


def test_a_bad_user_id_type_answers_1001001(sandbox: Running) -> None:
    _, kr = first_kr("yangfan")
    answer = sandbox.http.post(f"{sandbox.url}{PATH}?user_id_type=email", json=valid_body(kr["id"]),
                               headers={"Authorization": f"Bearer {sandbox.tenant_token()}"}, timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (400, 1001001)


def test_percent_at_the_documented_limits_and_above_100_is_accepted(sandbox: Running) -> None:
    _, kr = first_kr("yangfan")
    for percent in (0, 100, 150.5, 99_999_999_999):
        status, answer = sandbox.post({**valid_body(kr["id"]), "progress_rate": {"percent": percent, "status": -1}})
        assert (status, answer["code"]) == (200, 0), percent


def test_an_unknown_target_or_the_wrong_target_type_answers_1001004(sandbox: Running) -> None:
    objective, kr = first_kr("yangfan")
    assert create(sandbox.client, "7300000000000000001", 3).code == 1001004
    assert create(sandbox.client, kr["id"], 2).code == 1001004  # a key result named as an objective
    assert create(sandbox.client, objective["id"], 3).code == 1001004
    assert sandbox.state.progress.records() == []


# ---- who may write -----------------------------------------------------------------------------------------
def _as(running: Running, person_key: str) -> lark.RequestOption:
    token = running.state.user_auth.issue_tokens(SEED.person(person_key).open_id)["access_token"]
    return lark.RequestOption.builder().user_access_token(token).build()


def test_with_a_user_token_only_the_okrs_owner_may_write(sandbox: Running) -> None:
    _, kr = first_kr("yangfan")
    refused = create(sandbox.user_client, kr["id"], 3, option=_as(sandbox, "cto"))  # above yangfan, not him
    assert refused.code == 1001002
    assert sandbox.state.progress.records() == []
    own = create(sandbox.user_client, kr["id"], 3, option=_as(sandbox, "yangfan"))
    assert own.success(), own.msg
    delete = DeleteProgressRecordRequest.builder().progress_id(own.data.progress_id).build()
    assert sandbox.user_client.okr.v1.progress_record.delete(delete, _as(sandbox, "cto")).code == 1001002
    assert sandbox.user_client.okr.v1.progress_record.delete(delete, _as(sandbox, "yangfan")).success()


def test_with_a_tenant_token_the_app_needs_one_of_the_documented_scopes(sandbox: Running) -> None:
    _, kr = first_kr("yangfan")
    sandbox.state.scopes.withhold(["okr:okr"])
    assert create(sandbox.client, kr["id"], 3).success()  # okr:okr.progress:writeonly suffices
    sandbox.state.scopes.withhold(["okr:okr.progress:writeonly"])
    refused = create(sandbox.client, kr["id"], 3)
    assert refused.code == 99991672 and "okr:okr.progress:writeonly" in refused.msg
    assert len(sandbox.state.progress.records()) == 1


# ---- faults, request log -----------------------------------------------------------------------------------
def test_a_fault_can_fail_one_targets_records_only(sandbox: Running) -> None:
    objective, kr = first_kr("yangfan")
    other = objective["kr_list"][1]
    fault = sandbox.state.faults.inject(PATH, method="POST", code=1001002, msg="No permission.",
                                        body={"target_id": kr["id"]}, times=None)
    failed = create(sandbox.client, kr["id"], 3)
    assert (failed.code, failed.msg) == (1001002, "No permission.")
    assert create(sandbox.client, other["id"], 3).success()  # sent as a number, matched as text
    status, answer = sandbox.post(valid_body(str(kr["id"])))
    assert (status, answer["code"]) == (400, 1001002)
    assert sandbox.state.faults.wait_for(fault, hits=2, timeout=0) == 2
    assert [r.target.id for r in sandbox.state.progress.records()] == [other["id"]]


def test_every_call_is_in_the_request_log(sandbox: Running) -> None:
    _, kr = first_kr("yangfan")
    assert create(sandbox.client, kr["id"], 3, percent=65.0, status=1).success()
    assert create(sandbox.client, kr["id"], 7).code == 1001001
    entries = sandbox.state.requests.matching("/okr/v1/progress_records", "POST")
    assert [(e["status"], e["code"]) for e in entries] == [(200, 0), (400, 1001001)]
    first = entries[0]
    assert first["path"] == PATH and first["query"] == {"user_id_type": ["open_id"]}
    assert str(first["body"]["target_id"]) == kr["id"] and first["body"]["target_type"] == 3
    assert first["body"]["progress_rate"] == {"percent": 65.0, "status": 1}


# ---- rate limit: 100 requests a minute (the OKR API's documented limit) ---------------------------------------
@pytest.fixture(scope="module")
def limited() -> Iterator[Running]:
    running = Running(LIMITED_APP_ID, ManualClock(START), rate_scale=1.0)
    yield running
    running.stop()


def test_the_101st_create_in_a_minute_answers_429_99991400(limited: Running) -> None:
    _, kr = first_kr("yangfan")
    token = limited.tenant_token()
    answers = [limited.post(valid_body(kr["id"]), token=token) for _ in range(101)]
    assert [a[1]["code"] for a in answers[:100]] == [0] * 100
    assert answers[100][0] == 429 and answers[100][1]["code"] == 99991400
    limited.clock.advance(60.0)
    status, answer = limited.post(valid_body(kr["id"]), token=token)
    assert (status, answer["code"]) == (200, 0)
    assert len(limited.state.progress.records()) == 101


# ---- the seed's freshness: the tests' extremes, the demo's realistic team ---------------------------------------
def team_health(seed: Any, now: datetime, chat: str = "eng_weekly") -> tuple[int, int, int]:
    """(members, stale for 7+ days, with a key result or objective at risk/delayed), as the bot judges them."""
    stale = risky = 0
    members = seed.chat(chat).member_open_ids
    for open_id in members:
        batches = [b for b in seed.okrs_of(open_id) if b["period_id"] == seed.current_period.id]
        health = assess(tuple(to_okr(OkrBatch(b)) for b in batches), now)
        stale += health.is_stale(7)
        risky += bool(health.risks)
    return len(members), stale, risky


ANCHOR_NOW = datetime.fromtimestamp(START, UTC)


def test_the_tests_seed_keeps_its_extremes() -> None:
    seed = build_seed()
    assert team_health(seed, ANCHOR_NOW) == (30, 0, 17)
    assert team_health(seed, ANCHOR_NOW + timedelta(days=8)) == (30, 30, 17)  # the demo a week later, before


def test_the_realistic_seed_looks_like_a_real_team_on_its_day() -> None:
    seed = build_seed(freshness="realistic")
    assert team_health(seed, ANCHOR_NOW) == (30, 4, 2)
    later = date(2026, 12, 3)
    moved = build_seed(freshness="realistic", as_of=later)
    assert team_health(moved, ANCHOR_NOW + timedelta(days=8)) == (30, 4, 2)
    # only the current period differs from the tests' seed
    tests_seed = build_seed()
    for person in tests_seed.people[:20]:
        before = [b for b in tests_seed.okrs_of(person) if b["period_id"] != tests_seed.current_period.id]
        after = [b for b in seed.okrs_of(person) if b["period_id"] != seed.current_period.id]
        assert before == after


def test_an_unknown_freshness_is_refused() -> None:
    with pytest.raises(ValueError, match="freshness"):
        build_seed(freshness="fresh")
