"""The peer for the webhook benchmark: an "echo bot" as people write it from Feishu's samples — a Flask route
running lark-oapi's EventDispatcherHandler whose message handler hands an SDK reply
(`client.im.v1.message.reply`, a small card) to a thread pool and returns. No durable record, no dedup
beyond the SDK's, no rate limiting: what our bot is measured against for acknowledgement and reply
throughput (same credentials, same gunicorn settings, same sandbox)."""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import lark_oapi as lark
from flask import Flask
from lark_oapi.adapter.flask import parse_req, parse_resp
from lark_oapi.api.im.v1 import ReplyMessageRequest, ReplyMessageRequestBody

log = logging.getLogger("echo_bot")
POOL = ThreadPoolExecutor(int(os.environ.get("BOT_WORKERS", "8")), thread_name_prefix="echo")
client = (
    lark.Client.builder().app_id(os.environ["FEISHU_APP_ID"]).app_secret(os.environ["FEISHU_APP_SECRET"])
    .domain(os.environ["FEISHU_DOMAIN"]).log_level(lark.LogLevel.WARNING).build()
)


def card(text: str) -> str:
    return json.dumps({"schema": "2.0", "header": {"title": {"tag": "plain_text", "content": "echo"}},
                       "body": {"elements": [{"tag": "markdown", "content": text[:200]}]}}, ensure_ascii=False)


def reply(message_id: str, text: str) -> None:
    body = ReplyMessageRequestBody.builder().msg_type("interactive").content(card(text)).uuid(message_id).build()
    response = client.im.v1.message.reply(ReplyMessageRequest.builder().message_id(message_id)
                                          .request_body(body).build())
    if not response.success():
        log.error("reply to %s failed: %s %s", message_id, response.code, response.msg)


def on_message(data: lark.im.v1.P2ImMessageReceiveV1) -> None:
    message = data.event.message
    POOL.submit(reply, message.message_id, json.loads(message.content).get("text", ""))


handler = (
    lark.EventDispatcherHandler.builder(os.environ["FEISHU_ENCRYPT_KEY"], os.environ["FEISHU_VERIFICATION_TOKEN"])
    .register_p2_im_message_receive_v1(on_message)
    .build()
)
app = Flask("echo_bot")


@app.post("/webhook/event")
def event():
    return parse_resp(handler.do(parse_req()))


@app.get("/healthz")
def healthz():
    return "ok"
