"""Start-up and memory of `python -m bot serve`, side by side in the same run with a process that only
imports lark_oapi (and is kept alive), the floor any bot built on the SDK pays.

For each run, in turn:
- baseline: `python -c "import lark_oapi"`, then it prints a line and sleeps: time from launch to that
  line, and its resident memory (VmRSS) then;
- bot: `python -m bot serve` against an in-process sandbox: time from launch to the first answered event
  (the webhook's 200), to the first reply card in the sandbox, and its resident memory after that reply.

Prints the medians and the bot's ratios to the baseline. With --trees, the bot is started from each of
several checkouts in turn (e.g. the base commit in a `git worktree` beside the working tree), so that a
before/after pair is measured in the same run under the same load.

    .venv/bin/python benchmarks/startup.py [--runs 5] [--trees /tmp/base,.]
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
from pathlib import Path

import requests
from werkzeug.serving import make_server

from devkit.sandbox import create_sandbox
from devkit.sandbox.event_push import EventSender, http_post
from devkit.sandbox.ids import p2p_chat_id

ENV = {"FEISHU_APP_ID": "cli_start", "FEISHU_APP_SECRET": "start", "FEISHU_VERIFICATION_TOKEN": "vt",
       "FEISHU_ENCRYPT_KEY": "ek"}
BASELINE = "import lark_oapi, sys, time; print('ready', flush=True); time.sleep(3600)"


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def run_baseline(tree: Path) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", BASELINE], cwd=tree, stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        return time.perf_counter() - start, rss_mb(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def run_bot(tree: Path, state, port: int) -> tuple[float, float, float]:
    person = state.seed.ceo
    env = {**os.environ, **ENV, "FEISHU_DOMAIN": f"http://127.0.0.1:{port}",
           "DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/bot.db"}
    env.pop("PYTHONPATH", None)
    before = len(state.outbox)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--log-level", "WARNING", "serve", "--port", "0"],
                            cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"`python -m bot serve` in {tree} exited with {proc.wait()}")
        base = line.split()[1].rsplit("/webhook/event", 1)[0]
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
        ack = time.perf_counter() - start
        state.outbox.wait_for(1, 30, since=before)
        return ack, time.perf_counter() - start, rss_mb(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trees", default=".", help="comma-separated checkouts to start the bot from")
    args = parser.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",") if t]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sandbox = create_sandbox(app_id=ENV["FEISHU_APP_ID"], app_secret=ENV["FEISHU_APP_SECRET"], rate_scale=None)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = sandbox.extensions["sandbox"]
    baseline: list[tuple[float, float]] = []
    bots: dict[Path, list[tuple[float, float, float]]] = {tree: [] for tree in trees}
    for _ in range(args.runs):  # interleaved, so that a change in the machine's load hits every side alike
        baseline.append(run_baseline(trees[-1]))
        for tree in trees:
            bots[tree].append(run_bot(tree, state, server.server_port))
    b_time = statistics.median(t for t, _ in baseline)
    b_rss = statistics.median(m for _, m in baseline)
    print(f"baseline (import lark_oapi, kept alive): ready in {b_time * 1000:.0f} ms, RSS {b_rss:.1f} MB")
    for tree, rows in bots.items():
        ack = statistics.median(r[0] for r in rows)
        reply = statistics.median(r[1] for r in rows)
        rss = statistics.median(r[2] for r in rows)
        print(f"bot serve ({tree}): first answered event {ack * 1000:.0f} ms (×{ack / b_time:.2f}), "
              f"first reply card {reply * 1000:.0f} ms, RSS after it {rss:.1f} MB (×{rss / b_rss:.2f})")
    print(f"(medians of {args.runs} runs, interleaved; load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
