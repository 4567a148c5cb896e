"""Reading 1,000 people's OKRs through the client-side limiter, against the sandbox's enforced limit.

The OKR API allows 100 requests a minute. Both the sandbox and the bot are scaled by --scale (20 turns a
minute into 3 s) so the run takes about half a minute. The floor is the least time the limit allows:
the first 100 calls go at once, every further 100 need another window, so
floor = (ceil(N / 100) - 1) * window. Prints the elapsed time, the ratio to the floor (target: 1.00 to
1.10) and how many rate-limit answers the sandbox gave (target: 0).

    .venv/bin/python benchmarks/okr_rate_limit.py [--reads 1000] [--scale 20] [--threads 8]
"""

from __future__ import annotations

import argparse
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from werkzeug.serving import make_server

from bot.feishu.clients import FeishuClients
from bot.settings import Settings
from devkit.sandbox import create_sandbox

LIMIT, PERIOD = 100, 60.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    sandbox = create_sandbox(app_id="cli_bench", app_secret="bench", rate_scale=args.scale)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = sandbox.extensions["sandbox"]
    settings = Settings(app_id="cli_bench", app_secret="bench", domain=f"http://127.0.0.1:{server.server_port}",
                        rate_limit_scale=args.scale)
    clients = FeishuClients.create(settings)
    people = [p.open_id for p in state.seed.active_people]
    clients.contact.directory()  # token and directory outside the measured window (other API families)
    window = PERIOD / args.scale
    time.sleep(window)  # start with an empty window on both sides (setup used none of the OKR budget)

    start = time.perf_counter()
    current = clients.okr.list_periods()[-2].id  # the first OKR call of the run
    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(lambda n: clients.okr.list_user_okrs(people[n % len(people)], period_ids=(current,),
                                                            fresh=True), range(args.reads - 1)))
    elapsed = time.perf_counter() - start

    okr_calls = [r for r in state.requests.entries() if r["path"].startswith("/open-apis/okr/")]
    limited = [r for r in okr_calls if r["status"] == 429]
    floor = (math.ceil(args.reads / LIMIT) - 1) * window
    print(f"{args.reads} OKR reads with {args.threads} threads, limit {LIMIT}/{window:g}s (scale {args.scale:g}): "
          f"{elapsed:.2f} s, floor {floor:.2f} s, ratio {elapsed / floor:.3f}, "
          f"rate-limit answers {len(limited)} of {len(okr_calls)} calls")


if __name__ == "__main__":
    main()
