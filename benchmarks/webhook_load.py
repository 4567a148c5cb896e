"""Webhook acknowledgement under load: N signed, encrypted message events at concurrency C against the
bot under gunicorn, side by side in the same run with a baseline (a bare Flask app whose route only runs
lark-oapi's EventDispatcherHandler with an empty handler) under the same gunicorn settings. Prints p50/p99
answer times and events/s for each, and the ratios to the baseline.

The bot really works: every event is a `help` command whose reply card goes to the sandbox (its own
process, no rate limits; the bot's own limits scaled by --rate-scale). For each bot the script then waits
until every reply has arrived and reports the round trip (event sent → reply recorded by the sandbox)
separately from the acknowledgement. Bot modes: `separate` (BOT_REPLY_WORKER=separate: the web process
records and answers, `python -m bot worker` replies) and `inline` (replies on the web process's threads);
`record` is the separate mode's web process with no worker running (what recording alone costs).

`echo` is the peer: an echo bot as people write it from Feishu's samples (benchmarks/echo_bot_app.py: the
same dispatcher, then an SDK reply with a small card on a thread pool of BOT_WORKERS threads, nothing
recorded, no limits), under the same gunicorn settings against the same sandbox. For every mode that replies
the script reports the reply throughput: replies per second from the first event sent until the last reply
arrived. Each mode's server is started only when its turn comes, so they never compete with each other.

    .venv/bin/python -u benchmarks/webhook_load.py [--events 2000] [--concurrency 32] [--modes record,separate,inline]
        [--rate-scale 100] [--workers 8] [--postgres] [--profile]

With --profile, py-spy samples each bot process (web and worker, all threads, idle ones included) during the
measured load and writes collapsed stacks (`<mode>-web.txt`, `<mode>-worker.txt`) beside the logs.

Every server's output goes to a log file in a temporary folder (printed at the end); all processes are
started in their own process group and ended with it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

from devkit.sandbox.event_push import EventSender, message_event
from devkit.sandbox.ids import p2p_chat_id
from devkit.sandbox.seed import build_seed

ENV = {"FEISHU_APP_ID": "cli_load", "FEISHU_APP_SECRET": "load", "FEISHU_VERIFICATION_TOKEN": "vt-load",
       "FEISHU_ENCRYPT_KEY": "ek-load"}
THREADS = 16
START_TIMEOUT = 60.0  # seconds for a server to start answering
REPLY_TIMEOUT = 300.0  # seconds for every reply to arrive after the load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 5.0) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        return body
    finally:
        conn.close()


class Processes:
    """Servers started in their own process groups, output to log files, all ended together."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")  # never a pipe nobody reads: a full pipe stalls the server
        proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.running.append(proc)
        return proc

    def wait_ready(self, proc: subprocess.Popen, port: int, path: str, name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.folder / name}.log")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", path)
                conn.getresponse().read()  # any answer will do: the server is up
                conn.close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{name} did not start in {START_TIMEOUT:.0f} s; see {self.folder / name}.log")

    def stop(self, proc: subprocess.Popen) -> None:
        """Kill the whole process group (gunicorn's master and its worker), then reap it."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
        self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.running):
            self.stop(proc)


def load(port: int, requests: list[tuple[str, bytes, dict[str, str]]],
         concurrency: int) -> tuple[list[float], float, dict[str, float]]:
    """Send every request; answer times, wall time, and when each message was sent (epoch seconds)."""
    local = threading.local()
    sent_at: dict[str, float] = {}

    def send(item: tuple[str, bytes, dict[str, str]]) -> float:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        message_id, body, headers = item
        sent_at[message_id] = time.time()
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
    return times, time.perf_counter() - begin, sent_at


def spy(folder: Path, name: str, pid: int) -> subprocess.Popen:
    """py-spy sampling a process (and its children: gunicorn's worker) until interrupted; idle threads too."""
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--subprocesses", "--idle", "--threads",
                             "--format", "raw", "--rate", "200", "-o", str(folder / f"{name}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.99) - 1)]


class Outbox:
    """Follows the sandbox's outbox over its control endpoint."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.next = 0
        self.replied: dict[str, float] = {}

    def read(self) -> int:
        data = json.loads(get(self.port, f"/_sandbox/outbox?since={self.next}", timeout=30))
        for entry in data["items"]:
            if entry.get("reply_to"):
                self.replied.setdefault(entry["reply_to"], entry["created_at"])
        self.next = data["next"]
        return len(data["items"])

    def wait_for(self, message_ids: set[str], timeout: float, *, alive: list) -> set[str]:
        """Poll (a benchmark may) until every message has its reply; the ones still missing."""
        deadline = time.monotonic() + timeout
        while True:
            self.read()
            missing = message_ids - self.replied.keys()
            if not missing or time.monotonic() > deadline:
                return missing
            dead = [p for p in alive if p is not None and p.poll() is not None]
            if dead:
                raise RuntimeError(f"a bot process exited ({dead[0].args}) with {len(missing)} replies missing")
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--modes", default="echo,separate,inline",
                        help="modes to run after the baseline: echo (the peer), record, separate, inline")
    parser.add_argument("--workers", type=int, default=8,
                        help="reply threads: the bot's BOT_WORKERS and the echo bot's pool")
    parser.add_argument("--rate-scale", type=float, default=100.0,
                        help="the bot's client-side rate limits ×N (the sandbox has none)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the bot's processes with py-spy during the load (stacks beside the logs)")
    parser.add_argument("--postgres", action="store_true",
                        help="the bot's DATABASE_URL on a PostgreSQL server started for the run (default: SQLite)")
    args = parser.parse_args()
    with ExitStack() as stack:
        database = ""
        if args.postgres:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.services import postgres_server  # the tests' own helper: initdb + pg_ctl on a free port

            database = stack.enter_context(postgres_server())
        run(args, database)


def fresh_database(server_url: str, name: str) -> str:
    """A new, empty database on the PostgreSQL server, one per bot mode."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS load_{name}"))
        conn.execute(text(f"CREATE DATABASE load_{name}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/load_{name}"


def run(args: argparse.Namespace, database: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="webhook-load-"))
    procs = Processes(folder)
    people = build_seed().active_people
    sender = EventSender(lambda *a: (0, b""), encrypt_key=ENV["FEISHU_ENCRYPT_KEY"],
                         verification_token=ENV["FEISHU_VERIFICATION_TOKEN"], app_id=ENV["FEISHU_APP_ID"])

    def events(n: int) -> list[tuple[str, bytes, dict[str, str]]]:
        out = []
        for i in range(n):
            person = people[i % len(people)]
            event = message_event(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                  chat_type="p2p", text="帮助", token=ENV["FEISHU_VERIFICATION_TOKEN"],
                                  app_id=ENV["FEISHU_APP_ID"])
            out.append((event["event"]["message"]["message_id"], *sender.envelope(event)))
        return out

    sandbox_port = free_port()
    try:
        sandbox = procs.start("sandbox", [sys.executable, "-m", "devkit.sandbox", "--port", str(sandbox_port),
                                          "--app-id", ENV["FEISHU_APP_ID"], "--app-secret",
                                          ENV["FEISHU_APP_SECRET"], "--no-rate-limits"], {})
        procs.wait_ready(sandbox, sandbox_port, "/_sandbox/faults", "sandbox")
        outbox = Outbox(sandbox_port)
        results: dict[str, tuple[float, float, float]] = {}
        reply_rates: dict[str, float] = {}
        for mode in ["baseline", *[m.strip() for m in args.modes.split(",") if m.strip()]]:
            port = free_port()
            gunicorn = [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(THREADS),
                        "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
            if mode == "baseline":
                env, target = ENV, "benchmarks.baseline_app:app"
            elif mode == "echo":
                env = {**ENV, "FEISHU_DOMAIN": f"http://127.0.0.1:{sandbox_port}", "BOT_WORKERS": str(args.workers)}
                target = "benchmarks.echo_bot_app:app"
            else:
                env = {**ENV, "FEISHU_DOMAIN": f"http://127.0.0.1:{sandbox_port}",
                       "DATABASE_URL": fresh_database(database, mode) if database else f"sqlite:///{folder}/{mode}.db",
                       "BOT_WORKERS": str(args.workers),
                       "BOT_REPLY_WORKER": "inline" if mode == "inline" else "separate",
                       "FEISHU_RATE_LIMIT_SCALE": str(args.rate_scale)}
                target = "bot.wsgi:app"
            web = procs.start(f"{mode}-web", [*gunicorn, target], env)
            procs.wait_ready(web, port, "/healthz", f"{mode}-web")
            worker = procs.start(f"{mode}-worker", [sys.executable, "-m", "bot", "--log-level", "WARNING", "worker"],
                                 env) if mode == "separate" else None
            warm = events(50)
            load(port, warm, args.concurrency)
            replies = mode in ("echo", "separate", "inline")  # "record": the web process alone, nobody replies
            if replies:  # the warm-up's replies are in before the measure starts
                missing = outbox.wait_for({m for m, _, _ in warm}, REPLY_TIMEOUT, alive=[web, worker])
                if missing:
                    raise RuntimeError(f"{mode}: {len(missing)} warm-up replies missing; see {folder}")
            batch = events(args.events)
            spies = [spy(folder, f"{mode}-{name}", proc.pid)
                     for name, proc in (("web", web), ("worker", worker))
                     if args.profile and proc is not None and mode not in ("baseline", "echo")]
            times, wall, sent_at = load(port, batch, args.concurrency)
            acked = time.time()
            p50, p99 = (v * 1000 for v in percentiles(times))
            results[mode] = (p50, p99, len(times) / wall)
            label = mode if mode in ("baseline", "echo") else f"bot ({mode})"
            print(f"{label:16} acknowledgement p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
                  f"{len(times) / wall:7.0f} events/s", flush=True)
            if replies:
                missing = outbox.wait_for(set(sent_at), REPLY_TIMEOUT, alive=[web, worker])
                trips = [outbox.replied[m] - sent_at[m] for m in sent_at if m in outbox.replied]
                r50, r99 = (v * 1000 for v in percentiles(trips))
                done = max(outbox.replied[m] for m in sent_at if m in outbox.replied)
                first = min(sent_at.values())
                reply_rates[mode] = len(trips) / (done - first)
                print(f"{'':16} round trip      p50 {r50:7.0f} ms   p99 {r99:7.0f} ms   all {len(trips)} replies "
                      f"in {done - first:.2f} s ({len(trips) / (done - first):.0f}/s), the last "
                      f"{max(0.0, done - acked):.2f} s after the last acknowledgement"
                      + (f"; {len(missing)} MISSING" if missing else ""), flush=True)
            for sampler in spies:
                sampler.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
                sampler.wait(timeout=60)
            for proc in (web, worker):
                if proc is not None:
                    procs.stop(proc)
        b50, b99, brate = results["baseline"]
        for mode, (p50, p99, rate) in results.items():
            if mode != "baseline":
                label = mode if mode == "echo" else f"bot ({mode})"
                print(f"{label} / baseline: p50 ×{p50 / b50:.2f}, p99 ×{p99 / b99:.2f}, "
                      f"throughput ×{rate / brate:.2f}"
                      + (f"; replies {reply_rates[mode]:.0f}/s" if mode in reply_rates else "")
                      + (f" (×{reply_rates[mode] / reply_rates['echo']:.2f} the echo bot's)"
                         if mode in reply_rates and mode != "echo" and "echo" in reply_rates else ""))
        print(f"({args.events} events, concurrency {args.concurrency}, gunicorn 1 worker × {THREADS} threads, "
              f"{args.workers} reply threads, "
              f"bot rate limits ×{args.rate_scale:g}, {'PostgreSQL' if database else 'SQLite'}; logs in {folder})")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
