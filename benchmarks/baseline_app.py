"""The baseline for the webhook benchmark: a bare Flask app whose route only runs lark-oapi's
EventDispatcherHandler with an empty handler (same credentials, same gunicorn settings)."""

from __future__ import annotations

import os

import lark_oapi as lark
from flask import Flask
from lark_oapi.adapter.flask import parse_req, parse_resp

handler = (
    lark.EventDispatcherHandler.builder(os.environ["FEISHU_ENCRYPT_KEY"], os.environ["FEISHU_VERIFICATION_TOKEN"])
    .register_p2_im_message_receive_v1(lambda data: None)
    .build()
)
app = Flask("baseline")


@app.post("/webhook/event")
def event():
    return parse_resp(handler.do(parse_req()))
