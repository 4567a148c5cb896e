"""Start-up: time from launching `python -m bot serve` to the first answered event (the webhook's 200)
and to the first reply card in the sandbox.

    .venv/bin/python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests
from werkzeug.serving import make_server

from devkit.sandbox import create_sandbox
from devkit.sandbox.event_push import EventSender, http_post
from devkit.sandbox.ids import p2p_chat_id

ENV = {"FEISHU_APP_ID": "cli_start", "FEISHU_APP_SECRET": "start", "FEISHU_VERIFICATION_TOKEN": "vt",
       "FEISHU_ENCRYPT_KEY": "ek"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sandbox = create_sandbox(app_id=ENV["FEISHU_APP_ID"], app_secret=ENV["FEISHU_APP_SECRET"], rate_scale=None)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = sandbox.extensions["sandbox"]
    person = state.seed.ceo
    acks, replies = [], []
    for _ in range(args.runs):
        env = {**os.environ, **ENV, "FEISHU_DOMAIN": f"http://127.0.0.1:{server.server_port}",
               "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bot.db"}
        before = len(state.outbox)
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--log-level", "WARNING", "serve", "--port", "0"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        base = proc.stdout.readline().split()[1].rsplit("/webhook/event", 1)[0]
        sender = EventSender(http_post(base), encrypt_key=ENV["FEISHU_ENCRYPT_KEY"],
                             verification_token=ENV["FEISHU_VERIFICATION_TOKEN"], app_id=ENV["FEISHU_APP_ID"])
        while True:
            try:
                status, _, _ = sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                          chat_type="p2p", text="帮助")
                if status == 200:
                    break
            except requests.ConnectionError:
                pass
        acks.append(time.perf_counter() - start)
        state.outbox.wait_for(1, 30, since=before)
        replies.append(time.perf_counter() - start)
        proc.kill()
        proc.wait()
    print(f"start → first answered event: median {statistics.median(acks) * 1000:.0f} ms; "
          f"→ first reply card: median {statistics.median(replies) * 1000:.0f} ms ({args.runs} runs)")


if __name__ == "__main__":
    main()
