"""Resident memory of a bot process after loading the directory index and the roster into its caches,
for a company of 10,000 and of 50,000 people (sandbox in this process, the bot in a child process that
reports its own RSS).

    .venv/bin/python benchmarks/memory.py [--sizes 10000 50000]
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import threading

from werkzeug.serving import make_server


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(url: str) -> None:
    from bot.feishu.clients import FeishuClients
    from bot.settings import Settings

    clients = FeishuClients.create(Settings(app_id="cli_mem", app_secret="mem", domain=url))
    clients.bot.open_id()
    before = rss_mb()
    directory = clients.contact.directory()
    roster = clients.roster.list_employees()
    after = rss_mb()
    print(f"{len(directory.people)} {len(roster)} {before:.1f} {after:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from bot.sandbox import build_seed, create_sandbox

    for size in args.sizes:
        seed = build_seed(extra_people=size - 66)
        sandbox = create_sandbox(app_id="cli_mem", app_secret="mem", seed=seed, rate_scale=None)
        server = make_server("127.0.0.1", 0, sandbox, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        out = subprocess.run([sys.executable, __file__, "--child", f"http://127.0.0.1:{server.server_port}"],
                             capture_output=True, text=True, check=True).stdout.split()
        people, employees, before, after = int(out[0]), int(out[1]), float(out[2]), float(out[3])
        print(f"{people:6d} people, {employees:6d} roster records: RSS {before:.0f} MB before, {after:.0f} MB "
              f"after loading (+{after - before:.0f} MB, {(after - before) * 1024 / people:.1f} KB a person)",
              flush=True)
        server.shutdown()


if __name__ == "__main__":
    main()
