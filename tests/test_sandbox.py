"""The built-in Feishu sandbox, exercised through the real lark-oapi client over a loopback port."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import lark_oapi as lark
import pytest
import requests
from lark_oapi.api.attendance.v1 import (
    ListGroupRequest,
    ListUserGroupRequest,
    QueryUserApprovalRequest,
    QueryUserApprovalRequestBody,
    QueryUserTaskRequest,
    QueryUserTaskRequestBody,
    SearchGroupRequest,
    SearchGroupRequestBody,
)
from lark_oapi.api.contact.v3 import (
    BatchGetIdUserRequest,
    BatchGetIdUserRequestBody,
    ChildrenDepartmentRequest,
    FindByDepartmentUserRequest,
    GetUserRequest,
)
from lark_oapi.api.ehr.v1 import ListEmployeeRequest
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetChatMembersRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.api.okr.v1 import ListPeriodRequest, ListUserOkrRequest
from lark_oapi.core.token.manager import TokenManager
from werkzeug.serving import make_server

from devkit.sandbox import SENSITIVE_FIELDS, SENSITIVE_MARKER, SandboxState, build_seed, create_sandbox
from devkit.sandbox.ids import p2p_chat_id
from devkit.sandbox.timeutil import ManualClock

APP_ID = "cli_sandbox_selftest"
APP_SECRET = "selftest-secret"
LIMITED_APP_ID = "cli_sandbox_ratelimit"
SEED = build_seed()
ANCHOR = date(2026, 11, 25)


class Running:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-test", daemon=True
        )
        self.thread.start()

    @property
    def state(self) -> SandboxState:
        return self.app.extensions["sandbox"]  # type: ignore[no-any-return]

    def client(self, app_id: str, app_secret: str) -> lark.Client:
        return (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret(app_secret)
            .domain(self.url)
            .log_level(lark.LogLevel.ERROR)
            .build()
        )

    def stop(self) -> None:
        self.state.faults.clear()
        self.server.shutdown()
        self.thread.join(timeout=5)


def _drop_cached_token(app_id: str) -> None:
    TokenManager.cache.set(f"self_tenant_token:{app_id}", "", 0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Running]:
    _drop_cached_token(APP_ID)
    running = Running(create_sandbox(app_id=APP_ID, app_secret=APP_SECRET, rate_scale=None))
    yield running
    running.stop()
    _drop_cached_token(APP_ID)


@pytest.fixture(scope="module")
def client(sandbox: Running) -> lark.Client:
    return sandbox.client(APP_ID, APP_SECRET)


@pytest.fixture(scope="module")
def limited() -> Iterator[tuple[Running, ManualClock]]:
    _drop_cached_token(LIMITED_APP_ID)
    clock = ManualClock(1000.0)
    running = Running(
        create_sandbox(app_id=LIMITED_APP_ID, app_secret=APP_SECRET, rate_scale=1.0, clock=clock)
    )
    yield running, clock
    running.stop()
    _drop_cached_token(LIMITED_APP_ID)


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> Iterator[None]:
    if "sandbox" in request.fixturenames:
        state = request.getfixturevalue("sandbox").state
        state.faults.clear()
        state.outbox.clear()
    yield


def _card(text: str) -> str:
    return json.dumps(
        {
            "schema": "2.0",
            "header": {"title": {"tag": "plain_text", "content": "t"}},
            "body": {"elements": [{"tag": "markdown", "content": text}]},
        },
        ensure_ascii=False,
    )


def _send(
    client: lark.Client,
    receive_id: str,
    content: str,
    *,
    id_type: str = "open_id",
    uuid: str | None = None,
    msg_type: str = "interactive",
) -> Any:
    body = CreateMessageRequestBody.builder().receive_id(receive_id).msg_type(msg_type).content(content)
    if uuid:
        body = body.uuid(uuid)
    request = CreateMessageRequest.builder().receive_id_type(id_type).request_body(body.build()).build()
    return client.im.v1.message.create(request)


def _raw(client: lark.Client, method: lark.HttpMethod, uri: str, body: Any = None) -> dict[str, Any]:
    builder = (
        lark.BaseRequest.builder().http_method(method).uri(uri).token_types({lark.AccessTokenType.TENANT})
    )
    if body is not None:
        builder = builder.body(body)
    response = client.request(builder.build())
    return {"status": response.raw.status_code, **json.loads(response.raw.content)}


# ---- seed ----------------------------------------------------------------------------------------------


def test_seed_company_shape() -> None:
    assert len(SEED.people) >= 60 and len(SEED.departments) >= 7
    assert SEED.ceo.name == "周星河" and SEED.ceo.department_ids == ("0",) and SEED.ceo.leader_key is None
    for dept in SEED.departments:
        assert SEED.person(dept.leader_key).department_key == dept.key
    for person in SEED.people:
        assert re.fullmatch(r"ou_[0-9a-f]{32}", person.open_id) and re.fullmatch(
            r"[0-9a-f]{8}", person.user_id
        )
        assert person.email.endswith("@galaxy.example")
        if person.key != "ceo":
            assert SEED.leader_of(person) is not None
    zhang_weis = SEED.find_people("张伟")
    assert len(zhang_weis) == 2 and len({p.en_name for p in zhang_weis}) == 2
    assert len({p.department_key for p in zhang_weis}) == 2
    assert SEED.find_person("Alex Johnson").name == "Alex Johnson"
    star = SEED.find_person("李星")
    assert "<at id=all></at>" in star.en_name and "*" in star.en_name
    assert SEED.find_person(star.open_id) == star
    assert {c.name for c in SEED.chats} >= {
        "研发周会 Eng weekly",
        "全员群 All hands",
        "产品设计 Product & Design",
    }
    assert re.fullmatch(r"ou_[0-9a-f]{32}", SEED.bot_open_id)


def test_seed_okrs_periods_and_roster() -> None:
    current = SEED.current_period
    assert current.contains(SEED.anchor_ms) and current.zh_name == "2026 年 10 月 - 12 月"
    assert current.en_name == "Oct - Dec 2026" and len(SEED.periods) >= 3
    statuses: set[str] = set()
    ages: set[int] = set()
    for batches in SEED.okrs.values():
        for batch in batches:
            for objective in batch["objective_list"]:  # type: ignore[union-attr]
                if objective.get("permission") == 0:
                    continue
                statuses.add(objective["progress_rate"]["status"])
                statuses.update(kr["progress_rate"]["status"] for kr in objective["kr_list"])
                if batch["period_id"] == current.id:
                    updated = int(objective["progress_rate_percent_last_updated_time"])
                    ages.add((SEED.anchor_ms - updated) // 86_400_000)
    assert statuses == {"-1", "0", "1", "2"}
    assert min(ages) <= 1 and max(ages) >= 25
    assert SEED.okrs_of(SEED.person("denglin")) == ()
    assert all(b["permission"] == 0 for b in SEED.okrs_of(SEED.person("majun")))
    statuses_ehr = {r["system_fields"]["status"] for r in SEED.employees}  # type: ignore[index]
    assert statuses_ehr == {1, 2, 3, 4, 5}
    types = {r["system_fields"]["employee_type"] for r in SEED.employees}  # type: ignore[index]
    assert types == {1, 2, 3, 4, 5}
    hires = [date.fromisoformat(r["system_fields"]["hire_date"]) for r in SEED.employees]  # type: ignore[index]
    assert any(ANCHOR - timedelta(days=30) <= d <= ANCHOR for d in hires)
    conversions = [r["system_fields"]["conversion_date"] for r in SEED.employees]  # type: ignore[index]
    assert any(c and ANCHOR <= date.fromisoformat(c) <= ANCHOR + timedelta(days=30) for c in conversions)
    sensitive = SEED.sensitive_values()
    pattern = r"\d{17}[\dX]|\d{4}-\d\d-\d\d|\(\+86\) 1\d{10}"  # ID numbers, birthdays, contacts' phones
    assert sensitive and all(SENSITIVE_MARKER in v or re.fullmatch(pattern, v) for v in sensitive)


# ---- auth ----------------------------------------------------------------------------------------------


def test_tenant_token_is_stable_and_secret_is_checked(sandbox: Running, client: lark.Client) -> None:
    url = sandbox.url + "/open-apis/auth/v3/tenant_access_token/internal"
    first = requests.post(url, json={"app_id": APP_ID, "app_secret": APP_SECRET}, timeout=5).json()
    second = requests.post(url, json={"app_id": APP_ID, "app_secret": APP_SECRET}, timeout=5).json()
    assert first["code"] == 0 and first["expire"] == 7200 and first["tenant_access_token"].startswith("t-")
    assert second["tenant_access_token"] == first["tenant_access_token"]
    wrong = requests.post(url, json={"app_id": APP_ID, "app_secret": "nope"}, timeout=5)
    assert wrong.json()["code"] == 10014 and wrong.json()["msg"] == "app secret invalid"
    unauthenticated = requests.get(sandbox.url + "/open-apis/bot/v3/info", timeout=5)
    assert unauthenticated.status_code == 400 and unauthenticated.headers["X-Tt-Logid"]
    info = _raw(client, lark.HttpMethod.GET, "/open-apis/bot/v3/info")
    assert info["bot"] == {
        "activate_status": 2,
        "app_name": "OKR 助手",
        "avatar_url": info["bot"]["avatar_url"],
        "ip_white_list": [],
        "open_id": SEED.bot_open_id,
    }


def test_revoked_token_answers_99991663_until_fetched_again(sandbox: Running, client: lark.Client) -> None:
    request = ListPeriodRequest.builder().page_size(10).build()
    assert client.okr.v1.period.list(request).success()
    old_token = TokenManager.cache.get(f"self_tenant_token:{APP_ID}")
    sandbox.state.tokens.revoke()
    revoked = client.okr.v1.period.list(request)
    assert revoked.code == 99991663 and revoked.raw.status_code == 400
    _drop_cached_token(APP_ID)
    assert client.okr.v1.period.list(request).success()
    assert TokenManager.cache.get(f"self_tenant_token:{APP_ID}") != old_token


# ---- contact -------------------------------------------------------------------------------------------


def test_find_by_department_pages_through_direct_members(sandbox: Running, client: lark.Client) -> None:
    backend = SEED.department("backend")
    assert backend is not None
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        builder = FindByDepartmentUserRequest.builder().department_id(backend.open_department_id).page_size(4)
        if token:
            builder = builder.page_token(token)
        response = client.contact.v3.user.find_by_department(builder.build())
        assert response.success(), response.msg
        seen.extend(u.open_id for u in response.data.items)
        pages += 1
        if not response.data.has_more:
            assert response.data.page_token is None
            break
        token = response.data.page_token
    expected = {p.open_id for p in SEED.members_of("backend")}
    assert pages == 4 and len(seen) == len(expected) == 15 and set(seen) == expected
    assert SEED.person("heping").open_id not in seen  # resigned
    calls = sandbox.state.requests.matching("/contact/v3/users/find_by_department")
    assert [c["query"]["page_size"] for c in calls] == [["4"]] * 4
    root = client.contact.v3.user.find_by_department(
        FindByDepartmentUserRequest.builder().department_id("0").page_size(50).build()
    )
    assert [u.name for u in root.data.items] == ["周星河"]  # direct members only

    too_big = client.contact.v3.user.find_by_department(
        FindByDepartmentUserRequest.builder().department_id(backend.open_department_id).page_size(51).build()
    )
    assert (too_big.code, too_big.raw.status_code, too_big.msg) == (40011, 400, "page size is invalid")
    bad_token = client.contact.v3.user.find_by_department(
        FindByDepartmentUserRequest.builder()
        .department_id(backend.open_department_id)
        .page_token("zzz")
        .build()
    )
    assert bad_token.code == 40012
    unknown = client.contact.v3.user.find_by_department(
        FindByDepartmentUserRequest.builder().department_id("od-nope").build()
    )
    assert (unknown.code, unknown.raw.status_code) == (40004, 403)


def test_contact_users_and_departments(client: lark.Client) -> None:
    wu = SEED.find_person("吴桐")
    user = client.contact.v3.user.get(
        GetUserRequest.builder().user_id(wu.user_id).user_id_type("user_id").build()
    )
    assert user.success()
    assert (user.data.user.name, user.data.user.en_name, user.data.user.mobile) == (
        wu.name,
        wu.en_name,
        wu.mobile,
    )
    assert user.data.user.leader_user_id == SEED.person("cto").user_id
    missing = client.contact.v3.user.get(GetUserRequest.builder().user_id("ou_nobody").build())
    assert (missing.code, missing.raw.status_code) == (41050, 400)
    ids = client.contact.v3.user.batch_get_id(
        BatchGetIdUserRequest.builder()
        .user_id_type("open_id")
        .request_body(BatchGetIdUserRequestBody.builder().emails([wu.email, "ghost@galaxy.example"]).build())
        .build()
    )
    assert [(u.email, u.user_id) for u in ids.data.user_list] == [
        (wu.email, wu.open_id),
        ("ghost@galaxy.example", None),
    ]
    children = client.contact.v3.department.children(
        ChildrenDepartmentRequest.builder().department_id("0").fetch_child(False).page_size(50).build()
    )
    assert [d.name for d in children.data.items] == [
        "研发部",
        "产品部",
        "设计部",
        "市场部",
        "人力资源部",
        "财务部",
    ]
    eng = children.data.items[0]
    assert eng.leader_user_id == SEED.person("cto").open_id and eng.i18n_name.en_us == "Engineering"


# ---- OKR -----------------------------------------------------------------------------------------------


def _okrs(
    client: lark.Client, person_open_id: str, offset: str | None, limit: str | None, **extra: Any
) -> Any:
    builder = ListUserOkrRequest.builder().user_id(person_open_id)
    if offset is not None:
        builder = builder.offset(offset)
    if limit is not None:
        builder = builder.limit(limit)
    for name, value in extra.items():
        builder = getattr(builder, name)(value)
    return client.okr.v1.user_okr.list(builder.build())


def test_okr_list_offset_limit_paging_and_validation(client: lark.Client) -> None:
    ceo = SEED.ceo
    first = _okrs(client, ceo.open_id, "0", "3")
    second = _okrs(client, ceo.open_id, "3", "3")
    assert first.success() and first.data.total == 4 and len(first.data.okr_list) == 3
    assert second.data.total == 4 and len(second.data.okr_list) == 1
    names = [b.name for b in first.data.okr_list + second.data.okr_list]
    assert names == [
        "2027 年 1 月 - 3 月",
        "2026 年 10 月 - 12 月",
        "2026 年 7 月 - 9 月",
        "2026 年 4 月 - 6 月",
    ]
    objective = first.data.okr_list[1].objective_list[0]
    assert objective.kr_list and objective.progress_rate.status in {"-1", "0", "1", "2"}
    assert objective.progress_rate_percent_last_updated_time.isdigit()

    too_many = _okrs(client, ceo.open_id, "0", "11")
    assert (too_many.code, too_many.raw.status_code) == (1001001, 400)
    missing = _okrs(client, ceo.open_id, None, "5")
    assert missing.code == 1001001
    nobody = _okrs(client, "ou_nobody", "0", "5")
    assert nobody.code == 1001003

    current = SEED.current_period.id
    english = _okrs(client, ceo.open_id, "0", "10", period_ids=[current], lang="en_us")
    assert [b.name for b in english.data.okr_list] == ["Oct - Dec 2026"]
    hidden = _okrs(client, SEED.person("majun").open_id, "0", "10")
    assert hidden.data.okr_list and all(
        b.permission == 0 and b.objective_list is None for b in hidden.data.okr_list
    )
    assert _okrs(client, SEED.person("denglin").open_id, "0", "10").data.total == 0
    periods = client.okr.v1.period.list(ListPeriodRequest.builder().page_size(2).build())
    assert periods.data.has_more and len(periods.data.items) == 2


# ---- EHR -----------------------------------------------------------------------------------------------


def test_ehr_page_token_paging_filters_and_views(sandbox: Running, client: lark.Client) -> None:
    collected: list[Any] = []
    token: str | None = None
    while True:
        builder = ListEmployeeRequest.builder().view("full").status([2, 4]).page_size(20)
        if token:
            builder = builder.page_token(token)
        page = client.ehr.v1.employee.list(builder.build())
        assert page.success(), page.msg
        collected.extend(page.data.items)
        if not page.data.has_more:
            break
        token = page.data.page_token
    active = [r for r in SEED.employees if r["system_fields"]["status"] in (2, 4)]  # type: ignore[index]
    assert len(collected) == len(active) and {e.system_fields.status for e in collected} == {2, 4}
    assert sandbox.state.requests.count("/ehr/v1/employees") == -(-len(active) // 20)
    leaving = next(e for e in collected if e.system_fields.status == 4)
    assert leaving.system_fields.last_day and leaving.system_fields.departure_type == 1
    raw = sandbox.state.requests.entries()[-1]
    assert raw["query"]["status"] == ["2", "4"]
    full_fields = json.loads(
        client.ehr.v1.employee.list(
            ListEmployeeRequest.builder().view("full").page_size(1).build()
        ).raw.content
    )["data"]["items"][0]
    assert set(SENSITIVE_FIELDS) <= set(full_fields["system_fields"])
    assert SENSITIVE_MARKER in full_fields["system_fields"]["family_address"]

    basic = json.loads(
        client.ehr.v1.employee.list(ListEmployeeRequest.builder().page_size(5).build()).raw.content
    )["data"]["items"]
    assert all(not set(SENSITIVE_FIELDS) & set(item["system_fields"]) for item in basic)
    assert SENSITIVE_MARKER not in json.dumps(basic)
    pre_hire = client.ehr.v1.employee.list(ListEmployeeRequest.builder().status([1]).build())
    assert pre_hire.data.items and all(e.user_id is None for e in pre_hire.data.items)

    too_big = client.ehr.v1.employee.list(ListEmployeeRequest.builder().page_size(101).build())
    assert (too_big.code, too_big.raw.status_code) == (1241002, 400)
    sandbox.state.faults.inject("/open-apis/ehr/v1/employees", code=1241004, msg="EHR not enabled")
    assert client.ehr.v1.employee.list(ListEmployeeRequest.builder().build()).code == 1241004


# ---- attendance ----------------------------------------------------------------------------------------


def test_attendance_list_user_pages_over_50_members(client: lark.Client) -> None:
    groups = client.attendance.v1.group.list(ListGroupRequest.builder().page_size(50).build())
    assert [g.group_name for g in groups.data.group_list] == ["总部考勤组", "弹性工时组", "市场外勤组"]
    found = client.attendance.v1.group.search(
        SearchGroupRequest.builder()
        .request_body(SearchGroupRequestBody.builder().group_name("总部考勤组").exactly_matched(True).build())
        .build()
    )
    hq_id = found.data.group_list[0].group_id

    def page(token: str | None, size: int = 50, clock_type: int = 0) -> Any:
        builder = (
            ListUserGroupRequest.builder()
            .group_id(hq_id)
            .employee_type("employee_id")
            .dept_type("open_id")
            .member_clock_type(clock_type)
            .page_size(size)
        )
        if token:
            builder = builder.page_token(token)
        return client.attendance.v1.group.list_user(builder.build())

    first = page(None)
    assert first.success() and len(first.data.users) == 50 and first.data.has_more
    second = page(first.data.page_token)
    assert not second.data.has_more and len(first.data.users) + len(second.data.users) > 50
    members = {u.user_id for u in first.data.users + second.data.users}
    assert members == {m.user_id for m in SEED.group("hq").members}  # type: ignore[union-attr]
    assert first.data.users[0].department_ids[-1] == "0"
    assert SEED.ceo.user_id not in members
    assert page(None, size=51).code == 1220001
    assert {u.user_id for u in page(None, clock_type=2).data.users} == {
        SEED.person("sunyue").user_id,
        SEED.person("hejing").user_id,
    }

    leave_ids = [SEED.person("liufang").user_id, SEED.person("fengchao").user_id]
    tasks = client.attendance.v1.user_task.query(
        QueryUserTaskRequest.builder()
        .employee_type("employee_id")
        .request_body(
            QueryUserTaskRequestBody.builder()
            .user_ids(leave_ids)
            .check_date_from(20261125)
            .check_date_to(20261125)
            .build()
        )
        .build()
    )
    assert [t.records[0].check_in_result_supplement for t in tasks.data.user_task_results] == [
        "Leave",
        "Leave",
    ]
    approvals = client.attendance.v1.user_approval.query(
        QueryUserApprovalRequest.builder()
        .employee_type("employee_id")
        .request_body(
            QueryUserApprovalRequestBody.builder()
            .user_ids(leave_ids)
            .check_date_from(20261125)
            .check_date_to(20261125)
            .build()
        )
        .build()
    )
    assert [a.leaves[0].i18n_names.en for a in approvals.data.user_approvals] == [
        "Annual Leave",
        "Sick Leave",
    ]


# ---- IM ------------------------------------------------------------------------------------------------


def test_message_create_uuid_idempotency_and_outbox(sandbox: Running, client: lark.Client) -> None:
    wu = SEED.find_person("吴桐")
    first = _send(client, wu.open_id, _card("hello"), uuid="same-uuid-1")
    again = _send(client, wu.open_id, _card("hello"), uuid="same-uuid-1")
    assert first.success() and again.data.message_id == first.data.message_id
    assert first.data.chat_id == p2p_chat_id(wu.open_id) and first.data.sender.id_type == "app_id"
    [entry] = sandbox.state.outbox.entries()
    assert entry["kind"] == "send" and entry["receive_id"] == wu.open_id and entry["open_id"] == wu.open_id
    assert entry["content"]["body"]["elements"][0]["content"] == "hello" and entry["uuid"] == "same-uuid-1"
    assert (
        _send(client, wu.open_id, _card("hello"), uuid="other-uuid").data.message_id != first.data.message_id
    )

    assert _send(client, "ou_nobody", _card("x")).code == 230013
    assert _send(client, SEED.chat("finance_private").chat_id, _card("x"), id_type="chat_id").code == 230002
    assert _send(client, wu.open_id, "not json").code == 230001
    assert _send(client, wu.open_id, _card("x" * 31_000)).code == 230025
    assert _send(client, wu.open_id, _card("<at id=all></at>")).code == 230027
    group = SEED.chat("eng_weekly").chat_id
    assert _send(client, group, json.dumps({"text": "hi"}), id_type="chat_id", msg_type="text").success()
    assert [e["chat_id"] for e in sandbox.state.outbox.since(2)] == [group]


def test_reply_patch_and_wait_for_outbox(sandbox: Running, client: lark.Client) -> None:
    event = sandbox.state.simulate_user_message("周星河", "help", chat="eng_weekly")
    message = event["event"]["message"]
    assert message["mentions"][0]["id"]["open_id"] == SEED.bot_open_id and message["chat_type"] == "group"
    replies: list[Any] = []

    def reply() -> None:
        body = (
            ReplyMessageRequestBody.builder()
            .msg_type("interactive")
            .content(_card("pong"))
            .uuid("r-1")
            .build()
        )
        replies.append(
            client.im.v1.message.reply(
                ReplyMessageRequest.builder().message_id(message["message_id"]).request_body(body).build()
            )
        )

    worker = threading.Thread(target=reply)
    worker.start()
    [entry] = sandbox.state.outbox.wait_for(1, timeout=5)
    worker.join()
    assert entry["kind"] == "reply" and entry["reply_to"] == message["message_id"]
    assert entry["chat_id"] == SEED.chat("eng_weekly").chat_id
    patch = client.im.v1.message.patch(
        PatchMessageRequest.builder()
        .message_id(replies[0].data.message_id)
        .request_body(PatchMessageRequestBody.builder().content(_card("v2")).build())
        .build()
    )
    assert patch.success()
    assert sandbox.state.outbox.entries()[-1]["kind"] == "update"
    assert sandbox.state.messages.content(replies[0].data.message_id)["body"]["elements"][0]["content"] == "v2"
    assert sandbox.state.outbox.wait_for(5, timeout=0.01) == sandbox.state.outbox.entries()  # short on timeout


def test_ephemeral_and_delayed_update_tokens(sandbox: Running, client: lark.Client) -> None:
    chat = SEED.chat("product_design")
    person = SEED.person("sunyue")
    card = json.loads(_card("only you"))
    sent = _raw(
        client,
        lark.HttpMethod.POST,
        "/open-apis/ephemeral/v1/send",
        {"chat_id": chat.chat_id, "open_id": person.open_id, "msg_type": "interactive", "card": card},
    )
    assert sent["code"] == 0 and sent["data"]["message_id"].startswith("om_")
    outsider = _raw(
        client,
        lark.HttpMethod.POST,
        "/open-apis/ephemeral/v1/send",
        {"chat_id": chat.chat_id, "open_id": SEED.ceo.open_id, "msg_type": "interactive", "card": card},
    )
    assert outsider["code"] == 230013
    card_message = _send(client, person.open_id, _card("click me")).data.message_id
    token = sandbox.state.simulate_card_action(person, card_message, {"action": "x"})["event"]["token"]
    for _ in range(2):
        assert (
            _raw(
                client,
                lark.HttpMethod.POST,
                "/open-apis/interactive/v1/card/update",
                {"token": token, "card": card},
            )["code"]
            == 0
        )
    assert (
        _raw(
            client,
            lark.HttpMethod.POST,
            "/open-apis/interactive/v1/card/update",
            {"token": token, "card": card},
        )["code"]
        == 300040
    )
    kinds = [e["kind"] for e in sandbox.state.outbox.entries()]
    assert kinds == ["ephemeral", "send", "delayed_update", "delayed_update"]
    assert sandbox.state.outbox.entries()[0]["open_id"] == person.open_id
    assert sandbox.state.outbox.entries()[-1]["message_id"] == card_message


def test_chat_members_paging(client: lark.Client) -> None:
    chat = SEED.chat("all_hands")
    seen: list[str] = []
    token = None
    while True:
        builder = GetChatMembersRequest.builder().chat_id(chat.chat_id).page_size(20)
        if token:
            builder = builder.page_token(token)
        page = client.im.v1.chat_members.get(builder.build())
        assert page.success() and page.data.member_total == len(chat.member_open_ids)
        seen.extend(m.member_id for m in page.data.items)
        if not page.data.has_more:
            break
        token = page.data.page_token
    assert seen == list(chat.member_open_ids)


# ---- rate limits, faults, control endpoints ------------------------------------------------------------


def test_rate_limit_429_with_reset_header_on_a_fake_clock(limited: tuple[Running, ManualClock]) -> None:
    running, clock = limited
    client = running.client(LIMITED_APP_ID, APP_SECRET)
    request = ListPeriodRequest.builder().build()
    results = [client.okr.v1.period.list(request) for _ in range(101)]
    assert all(r.success() for r in results[:100])
    blocked = results[100]
    assert (blocked.raw.status_code, blocked.code, blocked.msg) == (
        429,
        99991400,
        "request trigger frequency limit",
    )
    headers = {k.lower(): v for k, v in blocked.raw.headers.items()}
    assert headers["x-ogw-ratelimit-limit"] == "100"
    assert headers["x-ogw-ratelimit-reset"] == "20"  # fixed 60 s windows: 1000 s is 20 s before 1020 s
    clock.advance(20)
    assert client.okr.v1.period.list(request).success()

    someone = SEED.find_person("吴桐").open_id
    sends = [_send(client, someone, _card(str(i))) for i in range(6)]
    assert [s.code for s in sends] == [0] * 5 + [230020]

    running.state.limiter.set_scale(10.0)  # attendance: 50 per 0.1 s
    clock.advance(0.025)
    listing = ListGroupRequest.builder().page_size(10).build()
    answers = [client.attendance.v1.group.list(listing) for _ in range(51)]
    assert [a.code for a in answers[-2:]] == [0, 99991400]
    assert float(answers[-1].raw.headers["x-ogw-ratelimit-reset"]) == pytest.approx(0.075, abs=0.0011)


def test_fault_injection_python_and_http(sandbox: Running, client: lark.Client) -> None:
    request = ListPeriodRequest.builder().build()
    sandbox.state.faults.inject("/okr/v1/periods", times=2, http_status=500, code=1009999, msg="Unknown error")
    first, second, third = (client.okr.v1.period.list(request) for _ in range(3))
    assert (first.raw.status_code, first.code, second.code, third.code) == (500, 1009999, 1009999, 0)
    assert first.get_log_id() and json.loads(first.raw.content)["error"]["log_id"] == first.get_log_id()

    answer = requests.post(
        sandbox.url + "/_sandbox/faults",
        timeout=5,
        json={
            "path": r"^/open-apis/okr/v1/users/[^/]+/okrs$",
            "times": 1,
            "http_status": 429,
            "code": 99991400,
            "msg": "request trigger frequency limit",
            "headers": {"x-ogw-ratelimit-reset": "3"},
        },
    )
    assert answer.json()["ok"]
    limited = _okrs(client, SEED.ceo.open_id, "0", "1")
    assert limited.code == 99991400 and limited.raw.headers["x-ogw-ratelimit-reset"] == "3"
    assert _okrs(client, SEED.ceo.open_id, "0", "1").success()

    sandbox.state.faults.inject("/okr/v1/periods", delay=0.01)  # delay only: answered normally afterwards
    assert client.okr.v1.period.list(request).success()
    sandbox.state.faults.inject("/okr/v1/periods", times=None, code=1009999)
    assert client.okr.v1.period.list(request).code == 1009999
    assert requests.delete(sandbox.url + "/_sandbox/faults", timeout=5).json()["ok"]
    assert client.okr.v1.period.list(request).success()
    statuses = [r["status"] for r in sandbox.state.requests.matching("/okr/v1/periods")][-6:]
    assert statuses == [500, 500, 200, 200, 400, 200]


def test_control_endpoints(sandbox: Running, client: lark.Client) -> None:
    people = requests.get(sandbox.url + "/_sandbox/people", timeout=5).json()["items"]
    assert {"open_id", "name", "en_name", "department"} <= set(people[0]) and len(people) == len(SEED.people)
    chats = requests.get(sandbox.url + "/_sandbox/chats", timeout=5).json()["items"]
    assert {c["name"]: c["bot_member"] for c in chats}["财务内部 Finance only"] is False
    _send(client, SEED.ceo.open_id, _card("a"))
    _send(client, SEED.ceo.open_id, _card("b"))
    outbox = requests.get(sandbox.url + "/_sandbox/outbox?since=1", timeout=5).json()
    assert [e["content"]["body"]["elements"][0]["content"] for e in outbox["items"]] == ["b"] and outbox[
        "next"
    ] == 2
    info = requests.get(sandbox.url + "/_sandbox/info", timeout=5).json()
    assert info["bot_open_id"] == SEED.bot_open_id
    recent = requests.get(sandbox.url + "/_sandbox/requests", timeout=5).json()["items"]
    assert recent[-1]["path"] == "/open-apis/im/v1/messages" and recent[-1]["code"] == 0
    inbound = requests.post(
        sandbox.url + "/_sandbox/inbound", timeout=5, json={"sender": "Alex Johnson", "text": "help"}
    ).json()["event"]
    assert inbound["event"]["message"]["chat_id"] == p2p_chat_id(SEED.find_person("Alex Johnson").open_id)
    assert requests.post(sandbox.url + "/_sandbox/reset", timeout=5).json()["ok"]
    assert sandbox.state.outbox.entries() == [] and sandbox.state.requests.entries() == []
