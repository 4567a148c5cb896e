"""`python -m bot longconn` as a real process, on the sandbox's emulation of Feishu's long connection
(devkit/sandbox/longconn.py): lark-oapi's own ws client asks POST /callback/ws/endpoint for its URL, speaks
protobuf frames over a real WebSocket, pings, answers each event with an ack frame, and reconnects when the
connection drops. Replies are counted where the bot SENT them (the sandbox's request log).

One bot process serves the module (BOT_WORKERS=1: replies are made in the order messages came, so that once a
later message's reply is in, anything an earlier duplicate would have sent is in too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from devkit.cardcheck import assert_valid_card
from devkit.cardtext import buttons_of, callback_value
from devkit.sandbox.longconn import ENDPOINT_PATH, SERVICE_ID, LongConnection
from tests.conftest import APP_ID, APP_SECRET
from tests.processes import longconn, stop

WAIT = 60.0  # seconds a condition may take on a busy machine before the test fails (not a timing assertion)


@dataclass
class RunningBot:
    proc: Any
    log_path: Path
    startup_frames: list[dict[str, Any]]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def channel(sandbox) -> LongConnection:
    return sandbox.app.extensions["longconn"]


@pytest.fixture(scope="module")
def bot(sandbox, channel, tmp_path_factory):
    path = tmp_path_factory.mktemp("longconn")
    opened = len(channel.connections)
    proc = longconn(sandbox, f"sqlite:///{path}/bot.db", path, path / "bot.log", BOT_WORKERS="1")
    running = RunningBot(proc, path / "bot.log", [])
    try:
        assert channel.wait_for_connections(opened + 1, WAIT) > opened, running.log()
        # lark-oapi pings as soon as it is connected; the sandbox answers pong
        assert channel.wait_for(lambda: [f for f in channel.frames if f["type"] == "pong"], WAIT), running.log()
        running.startup_frames = channel.frames
        yield running
    finally:
        stop(proc)


@pytest.fixture(autouse=True)
def clean_channel(channel):
    channel.reset()


def replies_to(sandbox, message_id: str) -> list[dict[str, Any]]:
    """The replies the bot SENT to a message (POST /im/v1/messages/{id}/reply), duplicates included."""
    return [r for r in sandbox.state.requests.matching("/im/v1/messages", "POST")
            if r["path"].endswith(f"/{message_id}/reply")]


def wait_for_reply(sandbox, bot: RunningBot, message_id: str) -> dict[str, Any]:
    """The outbox entry of the bot's reply to `message_id` (waited for on the outbox's condition)."""
    seen = 0
    while True:
        entries = sandbox.state.outbox.entries()
        found = [e for e in entries if e.get("reply_to") == message_id]
        if found:
            return found[0]
        seen = len(entries)
        assert len(sandbox.state.outbox.wait_for(seen + 1, WAIT)) > seen, f"no reply to {message_id}\n{bot.log()}"


def ack_of(channel: LongConnection, bot: RunningBot, frame_id: str):
    ack = channel.wait_for_ack(frame_id, WAIT)
    assert ack is not None, f"no ack for frame {frame_id}\n{bot.log()}"
    return ack


def message_id_of(payload: dict[str, Any]) -> str:
    return payload["event"]["message"]["message_id"]


def reconnect(channel: LongConnection, bot: RunningBot) -> None:
    """The sandbox drops the connection; wait until the client has opened a new one."""
    opened = len(channel.connections)
    channel.drop()
    assert channel.wait_for_connections(opened + 1, WAIT) == opened + 1, bot.log()
    assert channel.connections[-1]["open"]


# -- the channel itself ------------------------------------------------------------------------------------

def test_the_endpoint_answers_the_url_and_client_config_and_refuses_wrong_credentials(sandbox):
    answer = requests.post(sandbox.url + ENDPOINT_PATH, json={"AppID": APP_ID, "AppSecret": APP_SECRET},
                           timeout=10).json()
    assert answer["code"] == 0
    url = answer["data"]["URL"]
    assert url.startswith("ws://127.0.0.1:") and "device_id=" in url and f"service_id={SERVICE_ID}" in url
    assert set(answer["data"]["ClientConfig"]) == {"ReconnectCount", "ReconnectInterval", "ReconnectNonce",
                                                   "PingInterval"}
    wrong_secret = requests.post(sandbox.url + ENDPOINT_PATH, json={"AppID": APP_ID, "AppSecret": "nope"},
                                 timeout=10).json()
    wrong_app = requests.post(sandbox.url + ENDPOINT_PATH, json={"AppID": "cli_other", "AppSecret": APP_SECRET},
                              timeout=10).json()
    assert (wrong_secret["code"], wrong_app["code"]) == (10014, 10003)
    assert wrong_secret["data"] is None and wrong_app["data"] is None


def test_a_websocket_url_the_endpoint_did_not_issue_or_already_used_is_refused(sandbox):
    url = requests.post(sandbox.url + ENDPOINT_PATH, json={"AppID": APP_ID, "AppSecret": APP_SECRET},
                        timeout=10).json()["data"]["URL"]
    with connect(url, compression=None):
        pass  # the issued URL opens once
    for refused in (url, url.replace("ticket=", "ticket=x")):
        with pytest.raises(InvalidStatus) as caught:
            connect(refused, compression=None)
        headers = caught.value.response.headers
        assert caught.value.response.status_code == 403
        assert (headers["handshake-status"], headers["handshake-msg"]) == ("403", "invalid ticket")


def test_a_bot_with_a_wrong_secret_stops_with_a_configuration_error_naming_feishus_code(sandbox, tmp_path):
    proc = longconn(sandbox, f"sqlite:///{tmp_path}/bot.db", tmp_path, tmp_path / "bot.log",
                    FEISHU_APP_SECRET="wrong-secret")
    try:
        assert proc.wait(timeout=WAIT) == 2  # a configuration error, like serve without a verification token
    finally:
        stop(proc)
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert "configuration error: Feishu refused the long connection (10014: app secret invalid)" in log, log[-3000:]
    assert "FEISHU_APP_SECRET" in log and "Traceback" not in log, log[-3000:]


def test_the_client_pings_on_the_service_it_was_given_and_the_sandbox_answers_pong_with_the_config(bot, channel):
    [ping, *_] = [f for f in bot.startup_frames if f["from"] == "client" and f["type"] == "ping"]
    assert ping["method"] == 0 and ping["service"] == SERVICE_ID  # a control frame, service_id from the URL
    [pong, *_] = [f for f in bot.startup_frames if f["from"] == "sandbox" and f["type"] == "pong"]
    assert pong["method"] == 0 and pong["payload"] == channel.client_config


# -- messages --------------------------------------------------------------------------------------------

def test_a_message_over_the_socket_is_acknowledged_and_gets_exactly_one_reply(bot, channel, sandbox):
    frame_id, payload = channel.push_message("吴桐", "查人 吴桐")
    ack = ack_of(channel, bot, frame_id)
    assert ack.code == 200 and ack.data is None  # an event's ack carries no answer
    assert "biz_rt" in ack.headers and ack.headers["type"] == "event"
    reply = wait_for_reply(sandbox, bot, message_id_of(payload))
    assert reply["content"]["header"]["title"]["content"] == "吴桐"
    assert len(replies_to(sandbox, message_id_of(payload))) == 1
    assert len(channel.acks_for(frame_id)) == 1


def test_a_payload_split_over_three_frames_arriving_out_of_order_is_joined_and_answered_once(bot, channel, sandbox):
    payload = sandbox.state.simulate_user_message("吴桐", "查人 吴桐")
    frame_id = channel.push(payload, parts=3, order=lambda seqs: seqs[::-1])
    sent = [f["headers"]["seq"] for f in channel.frames if f["from"] == "sandbox" and f["message_id"] == frame_id]
    assert sent == ["2", "1", "0"]
    ack = ack_of(channel, bot, frame_id)
    assert ack.code == 200 and ack.headers["sum"] == "3"
    wait_for_reply(sandbox, bot, message_id_of(payload))
    marker_id, marker = channel.push_message("吴桐", "帮助")  # after its reply, any late ack would be in
    wait_for_reply(sandbox, bot, message_id_of(marker))
    assert len(channel.acks_for(frame_id)) == 1  # the client acks the whole message once, not each part
    assert len(replies_to(sandbox, message_id_of(payload))) == 1


@pytest.mark.parametrize("dropped_between", [False, True], ids=["same-connection", "after-a-reconnect"])
def test_the_same_event_delivered_twice_sends_one_reply(bot, channel, sandbox, dropped_between):
    payload = sandbox.state.simulate_user_message("吴桐", "查人 吴桐")
    ack_of(channel, bot, channel.push(payload))
    wait_for_reply(sandbox, bot, message_id_of(payload))
    if dropped_between:
        reconnect(channel, bot)
    again = channel.push(payload)  # Feishu delivers it again (no ack seen in time, or the connection dropped)
    assert ack_of(channel, bot, again).code == 200
    marker_id, marker = channel.push_message("吴桐", "帮助")
    wait_for_reply(sandbox, bot, message_id_of(marker))  # one worker: a second reply would have gone out by now
    assert len(replies_to(sandbox, message_id_of(payload))) == 1


def test_an_event_delivered_again_to_a_restarted_bot_on_the_same_database_sends_one_reply(
        bot, channel, sandbox, tmp_path):
    """Only the durable inbox stands between a redelivery and a second reply once the process is new."""
    db_url = f"sqlite:///{tmp_path}/bot.db"
    payload = sandbox.state.simulate_user_message("吴桐", "查人 吴桐")
    for attempt in ("first", "restarted"):
        opened = len(channel.connections)
        proc = longconn(sandbox, db_url, tmp_path, tmp_path / f"{attempt}.log", BOT_WORKERS="1")
        started = RunningBot(proc, tmp_path / f"{attempt}.log", [])
        try:
            assert channel.wait_for_connections(opened + 1, WAIT) > opened, started.log()
            assert ack_of(channel, started, channel.push(payload)).code == 200
            marker_id, marker = channel.push_message("吴桐", "帮助")
            wait_for_reply(sandbox, started, message_id_of(marker))
        finally:
            stop(proc)
        channel.wait_for(lambda n=opened: not channel.connections[n]["open"], WAIT)  # its connection closed
    assert len(replies_to(sandbox, message_id_of(payload))) == 1


def test_after_the_sandbox_drops_the_connection_the_client_reconnects_and_the_next_message_is_answered(
        bot, channel, sandbox):
    reconnect(channel, bot)
    # the URL is single use: the client asked the endpoint for a new one
    assert sandbox.state.requests.count(ENDPOINT_PATH, "POST") >= 1
    frame_id, payload = channel.push_message("吴桐", "查人 吴桐")
    assert ack_of(channel, bot, frame_id).connection == channel.connections[-1]["number"]
    wait_for_reply(sandbox, bot, message_id_of(payload))
    assert len(replies_to(sandbox, message_id_of(payload))) == 1


# -- card callbacks --------------------------------------------------------------------------------------

def _pick_list(channel: LongConnection, bot: RunningBot, sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """周星河 asks for 张伟 (several people): a card with a 查看 button per match; (reply entry, button)."""
    _, payload = channel.push_message("周星河", "查人 张伟")
    entry = wait_for_reply(sandbox, bot, message_id_of(payload))
    assert entry["content"]["header"]["title"]["content"] == "找到多个人"
    return entry, next(b for b in buttons_of(entry["content"]) if b["text"]["content"] == "查看")


def test_a_click_sent_as_an_event_frame_gets_the_new_card_in_the_ack(bot, channel, sandbox):
    entry, button = _pick_list(channel, bot, sandbox)
    frame_id, _ = channel.push_click("陈立", entry["message_id"], callback_value(button))
    ack = ack_of(channel, bot, frame_id)
    assert ack.code == 200
    card = ack.data["card"]  # the ack's data: base64 of the callback's answer
    assert card["type"] == "raw" and card["data"]["header"]["title"]["content"] == "张伟"
    assert_valid_card(card["data"])
    # Feishu shows the answered card at once
    assert sandbox.state.messages.content(entry["message_id"])["header"]["title"]["content"] == "张伟"


def test_a_click_sent_as_a_card_frame_is_dropped_by_the_sdk_without_an_answer(bot, channel, sandbox):
    """lark-oapi 1.7.5's ws client returns on frames of type "card" before calling any handler and writes no
    ack (oapi-sdk-python issue #126): the bot never sees the click, and Feishu would show the person error
    200340 after 3 s. Feishu must send card callbacks as "event" frames for the long connection to answer them."""
    entry, button = _pick_list(channel, bot, sandbox)
    before = sandbox.state.messages.content(entry["message_id"])
    mark = len(sandbox.state.requests.entries())
    frame_id, _ = channel.push_click("陈立", entry["message_id"], callback_value(button), frame_type="card")
    marker_id, marker = channel.push_message("吴桐", "帮助")  # frames are handled in order: the card one first
    ack_of(channel, bot, marker_id)
    wait_for_reply(sandbox, bot, message_id_of(marker))
    assert channel.acks_for(frame_id) == []
    assert channel.client_frames("card") == []
    assert sandbox.state.messages.content(entry["message_id"]) == before
    asked = [(r["method"], r["path"]) for r in sandbox.state.requests.entries()[mark:]]
    assert not [a for a in asked if "/interactive/" in a[1] or a[0] == "PATCH"], asked
