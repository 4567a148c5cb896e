"""The sandbox's sign-in-as-a-person side: consent page, oidc token endpoints, user-token contact and search APIs.

Calls go through the real lark-oapi client (built with enable_set_token(True), user token per request) where
the SDK has the API; the consent page and its redirects through requests. The sandbox runs on its own fake
clock, so code expiry needs no sleeping.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lark_oapi as lark
import pytest
import requests
from lark_oapi.api.authen.v1 import (
    CreateOidcAccessTokenRequest,
    CreateOidcAccessTokenRequestBody,
    CreateOidcRefreshAccessTokenRequest,
    CreateOidcRefreshAccessTokenRequestBody,
    GetUserInfoRequest,
)
from lark_oapi.api.contact.v3 import (
    BatchUserRequest,
    FindByDepartmentUserRequest,
    GetUserRequest,
    PatchUserRequest,
    User,
)
from lark_oapi.core.token.manager import TokenManager
from werkzeug.serving import make_server

from devkit.sandbox import SandboxState, build_seed, create_sandbox
from devkit.sandbox.timeutil import ManualClock
from devkit.sandbox.userauth import AUTH_CODE_TTL

APP_ID = "cli_oauth_test"  # lark-oapi caches app/tenant tokens process-wide per app_id: keep this one ours
APP_SECRET = "oauth-test-secret"
REDIRECT = "http://bot.example/oauth/callback"
SEED = build_seed()
ENGINEER = SEED.person("yangfan")  # 杨帆 Fan Yang, 后端组
FINANCE = SEED.person("lujing")  # 卢静 Jing Lu, 财务部
HR = SEED.person("shaohua")  # 邵华 Hua Shao, 人力资源部 (HRBP)
CEO = SEED.person("ceo")


class Running:
    def __init__(self) -> None:
        self.clock = ManualClock(50_000.0)
        self.app = create_sandbox(app_id=APP_ID, app_secret=APP_SECRET, rate_scale=None, clock=self.clock)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-oauth", daemon=True
        )
        self.thread.start()

    @property
    def state(self) -> SandboxState:
        return self.app.extensions["sandbox"]  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def _drop_cached_tokens() -> None:
    for kind in ("self_tenant_token", "self_app_token"):
        TokenManager.cache.set(f"{kind}:{APP_ID}", "", 0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Running]:
    _drop_cached_tokens()
    running = Running()
    yield running
    running.stop()
    _drop_cached_tokens()


@pytest.fixture(scope="module")
def client(sandbox: Running) -> lark.Client:
    return (
        lark.Client.builder()
        .app_id(APP_ID)
        .app_secret(APP_SECRET)
        .domain(sandbox.url)
        .enable_set_token(True)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


@pytest.fixture(autouse=True)
def _fresh(sandbox: Running) -> Iterator[None]:
    sandbox.state.reset()  # request log, unused codes, profile changes
    yield


# ---- helpers -------------------------------------------------------------------------------------------------
def _as(token: str) -> lark.RequestOption:
    return lark.RequestOption.builder().user_access_token(token).build()


def _exchange(client: lark.Client, code: str) -> Any:
    body = CreateOidcAccessTokenRequestBody.builder().grant_type("authorization_code").code(code).build()
    return client.authen.v1.oidc_access_token.create(CreateOidcAccessTokenRequest.builder().request_body(body).build())


def _refresh(client: lark.Client, refresh_token: str) -> Any:
    body = (
        CreateOidcRefreshAccessTokenRequestBody.builder().grant_type("refresh_token").refresh_token(refresh_token).build()
    )
    request = CreateOidcRefreshAccessTokenRequest.builder().request_body(body).build()
    return client.authen.v1.oidc_refresh_access_token.create(request)


def _token(sandbox: Running, person: Any) -> str:
    return str(sandbox.state.user_auth.issue_tokens(person.open_id)["access_token"])


def _whoami(client: lark.Client, token: str) -> Any:
    return client.authen.v1.user_info.get(GetUserInfoRequest.builder().build(), _as(token))


def _search(client: lark.Client, token: str, query: str, page_size: int | None = None, page_token: str = "") -> Any:
    queries = [("query", query)]
    if page_size is not None:
        queries.append(("page_size", str(page_size)))
    if page_token:
        queries.append(("page_token", page_token))
    request = (
        lark.BaseRequest.builder()
        .http_method(lark.HttpMethod.GET)
        .uri("/open-apis/search/v1/user")
        .token_types({lark.AccessTokenType.USER})
        .queries(queries)
        .build()
    )
    response = client.request(request, _as(token))
    return {"status": response.raw.status_code, **json.loads(response.raw.content)}


def _search_all(client: lark.Client, token: str, query: str, page_size: int = 50) -> list[str]:
    found: list[str] = []
    page_token = ""
    while True:
        page = _search(client, token, query, page_size, page_token)
        assert page["code"] == 0, page
        found.extend(u["user_id"] for u in page["data"]["user_list"])
        if not page["data"]["has_more"]:
            return found
        page_token = page["data"]["page_token"]


def _get_user(client: lark.Client, open_id: str, token: str | None = None) -> Any:
    request = GetUserRequest.builder().user_id(open_id).user_id_type("open_id").build()
    return client.contact.v3.user.get(request, _as(token) if token else None)


def _patch(client: lark.Client, token: str, open_id: str, user: User) -> Any:
    request = PatchUserRequest.builder().user_id(open_id).user_id_type("open_id").request_body(user).build()
    return client.contact.v3.user.patch(request, _as(token))


def _authorize_url(sandbox: Running, **params: str) -> str:
    query = {"app_id": APP_ID, "redirect_uri": REDIRECT, "state": "st-42", **params}
    return sandbox.url + "/open-apis/authen/v1/authorize?" + "&".join(
        f"{k}={requests.utils.quote(v, safe='')}" for k, v in query.items()
    )


def _query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _tenant_token(sandbox: Running) -> str:
    answer = requests.post(
        sandbox.url + "/open-apis/auth/v3/tenant_access_token/internal",
        json={"app_id": APP_ID, "app_secret": APP_SECRET},
        timeout=5,
    ).json()
    return str(answer["tenant_access_token"])


# ---- consent page --------------------------------------------------------------------------------------------
def test_consent_page_lists_active_people_and_carries_the_request(sandbox: Running) -> None:
    page = requests.get(_authorize_url(sandbox, login_hint=ENGINEER.open_id, scope="contact:user:search"), timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "<title>" in html and SEED.bot_app_name in html and "Authorize / 授权" in html and "Cancel" in html
    assert 'name="open_id"' in html and html.count("<option ") == len(SEED.active_people)
    assert f'<option value="{ENGINEER.open_id}" selected>' in html
    assert SEED.person("heping").open_id not in html  # resigned people cannot sign in
    for name, value in (("app_id", APP_ID), ("redirect_uri", REDIRECT), ("state", "st-42")):
        assert f'<input type="hidden" name="{name}" value="{value}">' in html
    assert "<at id=all>" not in html and "&lt;at id=all&gt;" in html  # 李星's en_name is escaped
    assert "<script" not in html and "<link" not in html and "http" not in html.split("<body>")[0]  # self-contained


def test_consent_page_refuses_unknown_app_and_missing_redirect(sandbox: Running) -> None:
    base = sandbox.url + "/open-apis/authen/v1/authorize"
    assert requests.get(base, params={"app_id": "cli_other", "redirect_uri": REDIRECT}, timeout=5).status_code == 400
    assert requests.get(base, params={"app_id": APP_ID}, timeout=5).status_code == 400
    refused = requests.get(base, params={"app_id": APP_ID, "redirect_uri": REDIRECT, "auto_approve": "ou_nobody"},
                           timeout=5)
    assert refused.status_code == 400 and "text/html" in refused.headers["Content-Type"]


def test_approve_redirects_with_code_and_state_and_the_code_signs_that_person_in(
    sandbox: Running, client: lark.Client
) -> None:
    form = {"app_id": APP_ID, "redirect_uri": REDIRECT + "?next=%2Fme", "state": "st-42", "open_id": HR.open_id,
            "action": "approve"}
    answer = requests.post(sandbox.url + "/open-apis/authen/v1/authorize", data=form, allow_redirects=False,
                           timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = _query_of(location)
    assert query["state"] == "st-42" and query["next"] == "/me" and len(query["code"]) >= 16

    tokens = _exchange(client, query["code"])
    assert tokens.success(), (tokens.code, tokens.msg)
    assert tokens.data.access_token.startswith("u-") and tokens.data.refresh_token.startswith("ur-")
    assert tokens.data.token_type == "Bearer" and tokens.data.expires_in == 7200
    assert tokens.data.refresh_expires_in == 2592000 and "contact:user:search" in tokens.data.scope
    me = _whoami(client, tokens.data.access_token)
    assert me.success() and me.data.open_id == HR.open_id and me.data.name == HR.name

    cancel = dict(form, action="cancel")
    denied = requests.post(sandbox.url + "/open-apis/authen/v1/authorize", data=cancel, allow_redirects=False,
                           timeout=5)
    assert denied.status_code == 302
    assert _query_of(denied.headers["Location"]) == {"next": "/me", "error": "access_denied", "state": "st-42"}


def test_auto_approve_answers_the_redirect_at_once(sandbox: Running, client: lark.Client) -> None:
    answer = requests.get(_authorize_url(sandbox, auto_approve=ENGINEER.open_id), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = _query_of(answer.headers["Location"])
    assert query["state"] == "st-42"
    tokens = _exchange(client, query["code"])
    assert tokens.success() and _whoami(client, tokens.data.access_token).data.open_id == ENGINEER.open_id


# ---- token endpoints -------------------------------------------------------------------------------------------
def test_codes_are_single_use_expire_after_five_minutes_and_need_the_app_token(
    sandbox: Running, client: lark.Client
) -> None:
    code = sandbox.state.user_auth.issue_code(ENGINEER.open_id)
    assert _exchange(client, code).success()
    again = _exchange(client, code)
    assert again.code == 20065  # used
    assert _exchange(client, "not-a-code").code == 20003

    stale = sandbox.state.user_auth.issue_code(ENGINEER.open_id)
    sandbox.clock.advance(AUTH_CODE_TTL + 1)
    assert _exchange(client, stale).code == 20004

    fresh = sandbox.state.user_auth.issue_code(ENGINEER.open_id)
    url = sandbox.url + "/open-apis/authen/v1/oidc/access_token"
    with_tenant = requests.post(url, json={"grant_type": "authorization_code", "code": fresh}, timeout=5,
                                headers={"Authorization": f"Bearer {_tenant_token(sandbox)}"})
    assert with_tenant.status_code == 400 and with_tenant.json()["code"] == 99991663
    wrong_grant = CreateOidcAccessTokenRequestBody.builder().grant_type("password").code(fresh).build()
    answer = client.authen.v1.oidc_access_token.create(
        CreateOidcAccessTokenRequest.builder().request_body(wrong_grant).build()
    )
    assert answer.code == 20036
    assert _exchange(client, fresh).success()  # the refused calls did not use the code up


def test_refresh_rotates_both_tokens_and_the_old_refresh_token_stops_working(
    sandbox: Running, client: lark.Client
) -> None:
    first = sandbox.state.user_auth.issue_tokens(FINANCE.open_id)
    before = sandbox.state.user_auth.refreshes(FINANCE.open_id)
    second = _refresh(client, first["refresh_token"])
    assert second.success(), (second.code, second.msg)
    assert second.data.access_token != first["access_token"] and second.data.refresh_token != first["refresh_token"]
    assert second.data.expires_in == 7200 and second.data.refresh_expires_in == 2592000
    assert sandbox.state.user_auth.refreshes(FINANCE.open_id) == before + 1
    assert _whoami(client, second.data.access_token).data.open_id == FINANCE.open_id

    assert _refresh(client, first["refresh_token"]).code == 20073  # single use
    assert _refresh(client, "ur-unknown").code == 20026
    assert sandbox.state.user_auth.revoke_refresh(FINANCE.open_id) >= 1
    assert _refresh(client, second.data.refresh_token).code == 20064
    assert sandbox.state.user_auth.refreshes(FINANCE.open_id) == before + 1


def test_expired_or_unknown_user_tokens_are_refused(sandbox: Running, client: lark.Client) -> None:
    token = _token(sandbox, ENGINEER)
    me = _whoami(client, token)
    assert me.success()
    assert (me.data.email, me.data.user_id, me.data.employee_no) == (ENGINEER.email, ENGINEER.user_id,
                                                                    ENGINEER.employee_no)
    assert me.data.tenant_key == SEED.tenant_key and me.data.avatar_url

    other = _token(sandbox, HR)
    assert sandbox.state.user_auth.expire(ENGINEER.open_id) >= 1
    expired = _whoami(client, token)
    assert expired.code == 99991677 and expired.raw.status_code == 400
    assert _whoami(client, other).success()  # only that person's tokens expired
    assert _whoami(client, "u-made-up").code == 99991668

    tenant = requests.get(sandbox.url + "/open-apis/authen/v1/user_info", timeout=5,
                          headers={"Authorization": f"Bearer {_tenant_token(sandbox)}"})
    assert tenant.json()["code"] == 99991668  # a user-only API
    assert _search(client, token, "Wang")["code"] == 99991677


# ---- search -----------------------------------------------------------------------------------------------------
def test_search_pages_by_page_size_and_refuses_pages_over_50(sandbox: Running, client: lark.Client) -> None:
    token = _token(sandbox, HR)
    expected = [
        p.open_id
        for p in SEED.people
        if not p.is_resigned and any("an" in v.casefold() for v in (p.name, p.en_name, p.nickname))
    ]
    assert len(expected) > 6
    pages: list[list[str]] = []
    page_token = ""
    while True:
        page = _search(client, token, "AN", 2, page_token)
        assert page["code"] == 0, page
        pages.append([u["user_id"] for u in page["data"]["user_list"]])
        if not page["data"]["has_more"]:
            assert "page_token" not in page["data"]
            break
        page_token = page["data"]["page_token"]
    assert all(len(p) == 2 for p in pages[:-1]) and len(pages) == (len(expected) + 1) // 2
    assert [u for p in pages for u in p] == expected

    first = _search(client, token, "an")["data"]
    assert len(first["user_list"]) == 10  # default page size
    user = first["user_list"][0]
    assert set(user) >= {"user_id", "name", "avatar", "department_ids"} and user["avatar"]["avatar_72"]
    assert _search(client, token, "an", 50)["code"] == 0
    too_big = _search(client, token, "an", 51)
    assert too_big["status"] == 400 and too_big["code"] == 99992402
    assert _search(client, token, "")["code"] == 99992402
    assert _search(client, token, "何平")["data"]["user_list"] == []  # resigned people are not found


def test_visibility_an_engineer_cannot_find_finance_people_hr_can(sandbox: Running, client: lark.Client) -> None:
    engineer, hr, finance, ceo = (_token(sandbox, p) for p in (ENGINEER, HR, FINANCE, CEO))
    assert _search_all(client, engineer, FINANCE.name) == []
    assert _search_all(client, hr, FINANCE.name) == [FINANCE.open_id]
    assert _search_all(client, ceo, FINANCE.name) == [FINANCE.open_id]
    assert _search_all(client, finance, "马骏") == [SEED.person("majun").open_id]
    seen_by_engineer = set(_search_all(client, engineer, "an"))
    seen_by_hr = set(_search_all(client, hr, "an"))
    finance_hits = {SEED.person("fangyuan").open_id, SEED.person("yuhuan").open_id}
    assert finance_hits <= seen_by_hr and not finance_hits & seen_by_engineer
    assert seen_by_hr - seen_by_engineer == finance_hits
    assert SEED.visible_to(ENGINEER, HR) and not SEED.visible_to(ENGINEER, FINANCE) and SEED.visible_to(CEO, FINANCE)

    hidden = _get_user(client, FINANCE.open_id, engineer)
    assert hidden.code == 41050
    assert _get_user(client, FINANCE.open_id, hr).data.user.name == FINANCE.name
    assert _get_user(client, FINANCE.open_id).data.user.name == FINANCE.name  # tenant token: unchanged

    batch = BatchUserRequest.builder().user_ids([FINANCE.open_id, HR.open_id]).user_id_type("open_id").build()
    assert [u.open_id for u in client.contact.v3.user.batch(batch, _as(engineer)).data.items] == [HR.open_id]
    assert len(client.contact.v3.user.batch(batch, _as(hr)).data.items) == 2

    finance_dept = SEED.department("finance")
    assert finance_dept is not None
    members = (
        FindByDepartmentUserRequest.builder().department_id(finance_dept.open_department_id).page_size(50).build()
    )
    assert not client.contact.v3.user.find_by_department(members, _as(engineer)).data.items
    assert len(client.contact.v3.user.find_by_department(members, _as(hr)).data.items) == len(
        SEED.members_of("finance")
    )


# ---- updating one's own profile -------------------------------------------------------------------------------------
def test_patch_own_city_shows_everywhere_and_nothing_else_may_change(sandbox: Running, client: lark.Client) -> None:
    token = _token(sandbox, ENGINEER)
    changed = _patch(client, token, ENGINEER.open_id, User.builder().city("上海").description("on call").build())
    assert changed.success(), (changed.code, changed.msg)
    assert changed.data.user.city == "上海" and changed.data.user.description == "on call"
    assert sandbox.state.profiles.of(ENGINEER.open_id) == {"city": "上海", "description": "on call"}
    assert _get_user(client, ENGINEER.open_id).data.user.city == "上海"  # tenant token
    assert _get_user(client, ENGINEER.open_id, _token(sandbox, HR)).data.user.city == "上海"
    backend = SEED.department("backend")
    assert backend is not None
    members = FindByDepartmentUserRequest.builder().department_id(backend.open_department_id).page_size(50).build()
    listed = {u.open_id: u.city for u in client.contact.v3.user.find_by_department(members).data.items}
    assert listed[ENGINEER.open_id] == "上海"

    someone_else = _patch(client, token, HR.open_id, User.builder().city("上海").build())
    assert someone_else.code == 41050 and someone_else.raw.status_code == 403
    renamed = _patch(client, token, ENGINEER.open_id, User.builder().name("Evil").build())
    assert renamed.code == 99992402 and "cannot be changed with a user_access_token" in renamed.msg
    assert _get_user(client, ENGINEER.open_id).data.user.name == ENGINEER.name
    as_app = requests.patch(
        sandbox.url + f"/open-apis/contact/v3/users/{ENGINEER.open_id}", json={"city": "北京"}, timeout=5,
        headers={"Authorization": f"Bearer {_tenant_token(sandbox)}"},
    )
    assert as_app.json()["code"] == 99991668  # emulated for user tokens only

    sandbox.state.reset()
    assert _get_user(client, ENGINEER.open_id).data.user.city == ENGINEER.city


def test_control_endpoints_for_scripts(sandbox: Running, client: lark.Client) -> None:
    issued = requests.post(sandbox.url + "/_sandbox/user_token", json={"person": "shaohua"}, timeout=5).json()
    assert issued["ok"] and issued["open_id"] == HR.open_id and issued["access_token"].startswith("u-")
    assert _whoami(client, issued["access_token"]).data.open_id == HR.open_id
    assert requests.post(sandbox.url + "/_sandbox/user_token", json={"person": "heping"}, timeout=5).status_code == 404
    expired = requests.post(sandbox.url + "/_sandbox/expire_user_tokens", json={"open_id": HR.open_id}, timeout=5)
    assert expired.json()["expired"] >= 1 and _whoami(client, issued["access_token"]).code == 99991677
    revoked = requests.post(sandbox.url + "/_sandbox/revoke_refresh_tokens", json={}, timeout=5).json()
    assert revoked["revoked"] >= 1 and _refresh(client, issued["refresh_token"]).code == 20064
