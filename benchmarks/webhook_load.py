"""Webhook acknowledgement under load: N signed, encrypted message events at concurrency C against the
bot under gunicorn, side by side with a baseline (a bare Flask app whose route only runs lark-oapi's
EventDispatcherHandler with an empty handler) under the same gunicorn settings. Prints p50/p99 answer
times and events/s for both, and the ratio. The bot really works: every event is a `help` command whose
reply goes to the sandbox.

    .venv/bin/python benchmarks/webhook_load.py [--events 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from werkzeug.serving import make_server

from bot.sandbox import create_sandbox
from bot.sandbox.delivery import EventSender, message_event
from bot.sandbox.ids import p2p_chat_id

ENV = {"FEISHU_APP_ID": "cli_load", "FEISHU_APP_SECRET": "load", "FEISHU_VERIFICATION_TOKEN": "vt-load",
       "FEISHU_ENCRYPT_KEY": "ek-load"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(target: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "16", "--bind",
                             f"127.0.0.1:{port}", "--log-level", "warning", target],
                            env={**os.environ, **env}, stderr=subprocess.PIPE, text=True)
    for _ in range(200):  # wait until it accepts connections
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("gunicorn did not start")


def load(port: int, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> tuple[list[float], float]:
    local = threading.local()

    def send(item: tuple[bytes, dict[str, str]]) -> float:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body, headers = item
        start = time.perf_counter()
        local.conn.request("POST", "/webhook/event", body=body, headers=headers)
        response = local.conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        return time.perf_counter() - start

    begin = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        times = list(pool.map(send, requests))
    return times, time.perf_counter() - begin


def report(name: str, times: list[float], wall: float) -> tuple[float, float, float]:
    ordered = sorted(times)
    p50, p99 = statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000
    rate = len(times) / wall
    print(flush=True, end="")
    print(f"{name:9} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   {rate:7.0f} events/s")
    return p50, p99, rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sandbox = create_sandbox(app_id=ENV["FEISHU_APP_ID"], app_secret=ENV["FEISHU_APP_SECRET"], rate_scale=None)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    seed = sandbox.extensions["sandbox"].seed
    sender = EventSender(lambda *a: (0, b""), encrypt_key=ENV["FEISHU_ENCRYPT_KEY"],
                         verification_token=ENV["FEISHU_VERIFICATION_TOKEN"], app_id=ENV["FEISHU_APP_ID"])
    people = seed.active_people

    def events() -> list[tuple[bytes, dict[str, str]]]:
        out = []
        for n in range(args.events):
            person = people[n % len(people)]
            out.append(sender.envelope(message_event(
                sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id), chat_type="p2p", text="帮助",
                token=ENV["FEISHU_VERIFICATION_TOKEN"], app_id=ENV["FEISHU_APP_ID"])))
        return out

    results = {}
    bot_env = {**ENV, "FEISHU_DOMAIN": f"http://127.0.0.1:{server.server_port}",
               "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bot.db", "BOT_WORKERS": "8"}
    for name, target, env in (("baseline", "benchmarks.baseline_app:app", ENV),
                              ("bot", "bot.web:create_app()", bot_env)):
        proc, port = start_gunicorn(target, env)
        try:
            load(port, events()[:50], args.concurrency)  # warm up
            results[name] = report(name, *load(port, events(), args.concurrency))
        finally:
            proc.kill()  # the bot still has replies queued (Feishu allows 50 sends/s); not part of this measure
            proc.wait(timeout=20)
    (b50, b99, brate), (p50, p99, rate) = results["baseline"], results["bot"]
    print(f"bot / baseline: p50 ×{p50 / b50:.2f}, p99 ×{p99 / b99:.2f}, throughput ×{rate / brate:.2f} "
          f"({args.events} events, concurrency {args.concurrency}, gunicorn 1 worker × 16 threads)")


if __name__ == "__main__":
    main()
