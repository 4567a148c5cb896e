"""Authorising with one's own Feishu account: the OAuth flow, its state checks, encrypted tokens that
refresh before they expire, searching as the asker, and confirmed profile changes."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bot.inbound import InlineExecutor
from bot.settings import new_secret_key
from bot.transports.webhook import create_app
from devkit.cardtext import buttons_of
from tests.conftest import NOW, Chat, card_title

PUBLIC_URL = "http://bot.example.test"
SECRET_KEY = new_secret_key()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "bot.db"


@pytest.fixture
def bot(settings, sandbox, clock, db_path):
    configured = settings.with_(secret_key=SECRET_KEY, public_url=PUBLIC_URL,
                                database_url=f"sqlite:///{db_path}")
    app = create_app(configured, executor=InlineExecutor(), clock=clock)
    return Chat(app.test_client(), sandbox, configured)


def _authorize_link(bot, name):
    [entry] = bot.say(name, "授权")
    assert card_title(entry) == "用你的飞书身份授权"
    [link] = [b["behaviors"][0]["default_url"] for b in buttons_of(entry["content"])]
    return link


def _approve(bot, link, approver):
    """What the person's browser does: the consent page redirects to the bot's callback."""
    answer = requests.get(link + "&auto_approve=" + bot.person(approver).open_id, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == PUBLIC_URL and target.path == "/oauth/callback"
    return target.query


def _callback(bot, query):
    response = bot.client.get("/oauth/callback?" + query)
    return response.status_code, response.get_data(as_text=True)


def login(bot, name, approver=None):
    return _callback(bot, _approve(bot, _authorize_link(bot, name), approver or name))


def _note(entry):
    return entry["content"]["body"]["elements"][-1]["content"]


def test_login_then_whois_searches_as_you_and_logout_falls_back(bot, sandbox):
    status, page = login(bot, "杨帆")
    assert status == 200 and "授权成功" in page
    assert card_title(sandbox.state.outbox.entries()[-1]) == "授权成功"  # told in chat too
    [entry] = bot.say("杨帆", "查人 吴桐")
    assert card_title(entry) == "吴桐" and "按你的飞书可见范围搜索" in _note(entry)
    [entry] = bot.say("杨帆", "取消授权")
    assert card_title(entry) == "取消授权"
    [entry] = bot.say("杨帆", "查人 吴桐")
    assert "按公司通讯录搜索" in _note(entry)


def test_two_people_get_different_results(bot, sandbox):
    login(bot, "杨帆")
    login(bot, "邵华")
    [engineer] = bot.say("杨帆", "查人 卢静")
    [hr] = bot.say("邵华", "查人 卢静")
    assert card_title(engineer) == "没有找到"
    assert card_title(hr) == "卢静"


def test_a_link_approved_by_someone_else_is_refused(bot, sandbox):
    status, page = _callback(bot, _approve(bot, _authorize_link(bot, "杨帆"), "邵华"))
    assert status == 403 and "发给别人" in page
    [entry] = bot.say("杨帆", "查人 吴桐")
    assert "按公司通讯录搜索" in _note(entry)  # nothing was attached to 杨帆
    [entry] = bot.say("邵华", "查人 吴桐")
    assert "按公司通讯录搜索" in _note(entry)  # nor to 邵华


def test_an_expired_link_is_refused(bot, clock):
    link = _authorize_link(bot, "杨帆")
    query = _approve(bot, link, "杨帆")
    clock.now = NOW + timedelta(minutes=11)
    status, page = _callback(bot, query)
    assert status == 400 and "过期" in page


def test_a_replayed_callback_or_code_is_refused(bot):
    query = _approve(bot, _authorize_link(bot, "杨帆"), "杨帆")
    assert _callback(bot, query)[0] == 200
    assert _callback(bot, query)[0] == 400  # the state was used
    code = parse_qs(query)["code"][0]
    fresh_state = parse_qs(urlsplit(_authorize_link(bot, "杨帆")).query)["state"][0]
    status, page = _callback(bot, f"code={code}&state={fresh_state}")
    assert status == 400 and "没有接受" in page  # the code was used


def test_cancel_on_the_consent_page(bot):
    link = _authorize_link(bot, "杨帆")
    state = parse_qs(urlsplit(link).query)["state"][0]
    assert _callback(bot, f"error=access_denied&state={state}")[0] == 400


def test_token_is_refreshed_before_it_expires(bot, sandbox, clock):
    login(bot, "杨帆")
    vault = bot.client.application.extensions["bot"].router.vault
    first = vault.access_token(bot.person("杨帆").open_id, now=clock())
    clock.now = NOW + timedelta(hours=1, minutes=57)  # 3 minutes before the 2-hour expiry
    [entry] = bot.say("杨帆", "查人 吴桐")
    assert "按你的飞书可见范围搜索" in _note(entry)
    second = vault.access_token(bot.person("杨帆").open_id, now=clock())
    assert second != first


def test_a_failed_refresh_deletes_the_token_and_falls_back(bot, sandbox, clock):
    login(bot, "杨帆")
    sandbox.state.user_auth.revoke_refresh(bot.person("杨帆").open_id)
    clock.now = NOW + timedelta(hours=2)
    [entry] = bot.say("杨帆", "查人 吴桐")
    assert "按公司通讯录搜索" in _note(entry)
    vault = bot.client.application.extensions["bot"].router.vault
    assert not vault.has_token(bot.person("杨帆").open_id)


def test_two_processes_refreshing_one_token_at_once_keep_it(bot, settings, sandbox, clock, db_path):
    """Feishu takes a refresh token once: the process that loses the race uses the winner's new token
    instead of deleting it."""
    login(bot, "杨帆")
    open_id = bot.person("杨帆").open_id
    configured = settings.with_(secret_key=SECRET_KEY, public_url=PUBLIC_URL,
                                database_url=f"sqlite:///{db_path}")
    first = bot.client.application.extensions["bot"].router.vault
    second = create_app(configured, executor=InlineExecutor(), clock=clock).extensions["bot"].router.vault
    clock.now = NOW + timedelta(hours=1, minutes=57)  # both see a token about to expire
    refreshes = sandbox.state.user_auth.refreshes(open_id)
    held = sandbox.state.faults.inject("/open-apis/authen/v1/oidc/refresh_access_token", delay=600.0)
    answers: dict[str, str | None] = {}
    racing = threading.Thread(target=lambda: answers.update(first=first.access_token(open_id, now=clock())))
    racing.start()
    try:
        assert sandbox.state.faults.wait_for(held) == 1  # the first process read the token; its refresh is held
        won = second.access_token(open_id, now=clock())  # the second refreshes with the same refresh token
        assert won and won.startswith("u-")
    finally:
        sandbox.state.faults.clear()  # the held refresh now reaches Feishu, with a refresh token already used
        racing.join(timeout=30)
    assert answers == {"first": won}
    assert first.has_token(open_id) and sandbox.state.user_auth.refreshes(open_id) == refreshes + 1
    [entry] = bot.say("杨帆", "查人 吴桐")
    assert "按你的飞书可见范围搜索" in _note(entry)


def _database_bytes(db_path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name))


def test_logout_leaves_no_copy_of_the_token_in_the_database_files(bot, db_path):
    """Feishu cannot revoke a user token, so logout must erase the only copy: file and log."""
    login(bot, "杨帆")
    store = bot.client.application.extensions["bot"].router.vault._store
    ciphertext, _, _ = store.tokens.get(bot.person("杨帆").open_id)
    assert ciphertext.encode() in _database_bytes(db_path)
    [entry] = bot.say("杨帆", "取消授权")
    assert card_title(entry) == "取消授权" and "已删除" in bot.text_of(entry)
    assert ciphertext.encode() not in _database_bytes(db_path)
    assert ciphertext[:40].encode() not in _database_bytes(db_path)


def test_tokens_are_encrypted_at_rest(bot, db_path, clock):
    login(bot, "杨帆")
    vault = bot.client.application.extensions["bot"].router.vault
    token = vault.access_token(bot.person("杨帆").open_id, now=clock())
    assert token and token.startswith("u-")
    data = db_path.read_bytes()
    assert token.encode() not in data
    assert b"ur-" not in data  # refresh tokens neither


def test_profile_change_needs_the_owners_confirmation(bot, sandbox):
    [entry] = bot.say("杨帆", "me set city Hangzhou")
    assert card_title(entry) == "Not available to you" and "login" in bot.text_of(entry)
    login(bot, "杨帆")
    [entry] = bot.say("杨帆", "我 设置 城市 杭州")
    assert card_title(entry) == "确认修改"
    status, answer = bot.click("邵华", entry, "确认修改")
    assert "card" not in answer and answer["toast"]["type"] == "warning"
    assert sandbox.state.profiles.of(bot.person("杨帆").open_id) in (None, {})
    status, answer = bot.click("杨帆", entry, "确认修改")
    assert answer["toast"]["content"] == "已修改。"
    assert answer["card"]["data"]["config"]["enable_forward"] is False  # one's own profile stays private
    assert sandbox.state.profiles.of(bot.person("杨帆").open_id)["city"] == "杭州"
    [entry] = bot.say("杨帆", "我")
    assert "杭州" in bot.text_of(entry)


def test_login_without_configuration_says_so(settings, sandbox):
    app = create_app(settings, executor=InlineExecutor(), clock=lambda: NOW)
    chat = Chat(app.test_client(), sandbox, settings)
    [entry] = chat.say("杨帆", "login")
    assert card_title(entry) == "Not configured"


def test_a_login_after_feishu_revoked_the_apps_tokens_fetches_fresh_ones(bot, sandbox):
    """The code exchange uses the app access token lark-oapi caches per process: after Feishu revokes the app's
    tokens (99991663) the bot drops both cached app-level tokens and tries once more, and the login succeeds."""
    assert login(bot, "杨帆")[0] == 200  # the app token is cached now
    sandbox.state.tokens.revoke()
    status, page = login(bot, "邵华")
    assert status == 200 and "授权成功" in page


def test_a_query_longer_than_any_name_is_not_sent_to_feishus_search(bot, sandbox):
    """A logged-in person's whois searches with their token (an API call): a 300-character "name" is answered
    "no match" without calling Feishu."""
    login(bot, "周星河")
    before = len(sandbox.state.requests.matching("/search/v1/user"))
    [entry] = bot.say("周星河", "whois " + "x" * 300)
    assert len(sandbox.state.requests.matching("/search/v1/user")) == before
    assert "x" * 31 not in bot.text_of(entry)
    bot.say("周星河", "whois 张伟")  # a name is searched as before
    assert len(sandbox.state.requests.matching("/search/v1/user")) == before + 1
