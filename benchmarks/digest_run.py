"""A scheduled run for a company of 1,000 people against the sandbox's enforced rate limits.

Every manager has a digest and the all-hands group (everyone) has an OKR reminder, all due at the same
time; the jobs share one run, so each person's OKRs are read once. OKR reads dominate (100/minute);
both the sandbox and the bot are scaled by --scale. The floor is the least time the OKR limit allows
for the OKR calls the run made: (ceil(calls / 100) - 1) * window. Prints the elapsed time, the ratio
to the floor, the API calls per family, and the rate-limit answers the sandbox gave (target: 0).

    .venv/bin/python benchmarks/digest_run.py [--people 1000] [--scale 30]
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

from werkzeug.serving import make_server

from bot.digests.jobs import run_at, start_run
from bot.digests.runtime import Runtime
from bot.settings import Settings
from bot.store import KIND_MANAGER_DIGEST, KIND_OKR_REMINDER
from devkit.sandbox import build_seed, create_sandbox
from devkit.sandbox.company import PEOPLE

SPEC = {"minute": "0", "hour": "9", "day": "*", "month": "*", "day_of_week": "mon", "timezone": "Asia/Shanghai"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("bot.digests.delivery").setLevel(logging.WARNING)
    seed = build_seed(extra_people=max(0, args.people - len([p for p in PEOPLE if p.in_contact])))
    sandbox = create_sandbox(app_id="cli_bench", app_secret="bench", seed=seed, rate_scale=args.scale)
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state = sandbox.extensions["sandbox"]
    settings = Settings(app_id="cli_bench", app_secret="bench", domain=f"http://127.0.0.1:{server.server_port}",
                        rate_limit_scale=args.scale, database_url=f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    runtime = Runtime.create(settings)
    directory = runtime.clients.contact.directory()
    managers = [p.open_id for p in directory.managers()]
    subs = [runtime.store.subscriptions.add(kind=KIND_MANAGER_DIGEST, target=m, created_by=m, schedule=SPEC)
            for m in managers]
    subs.append(runtime.store.subscriptions.add(kind=KIND_OKR_REMINDER, target=seed.chat("all_hands").chat_id,
                                               created_by=seed.ceo.open_id, schedule=SPEC))
    mark = len(state.requests.entries())
    gc.freeze()  # set-up's objects out of the collector's view, as the bot's processes do after start-up
    window = 60.0 / args.scale
    time.sleep(window)  # setup used none of the OKR budget; start the measurement on a fresh window

    wall_start = time.time()
    start = time.perf_counter()
    data = start_run(runtime, monday)  # as the scheduler's first job of the run does (run_subscription)
    with ThreadPoolExecutor(args.threads) as pool:
        sent = list(pool.map(lambda sub: run_at(runtime, sub, monday, data), subs))
    elapsed = time.perf_counter() - start

    calls = state.requests.entries()[mark:]
    families = Counter(r["path"].split("/")[2] for r in calls)
    okr_calls = sum(1 for r in calls if r["path"].startswith("/open-apis/okr/"))
    limited = Counter(r["path"].split("/")[2] for r in calls if r["status"] == 429)
    floor = (math.ceil(okr_calls / 100) - 1) * window
    print(f"{len(directory)} people, {len(managers)} manager digests + 1 all-hands reminder "
          f"({sum(1 for s in sent if s)} cards sent): {elapsed:.2f} s; OKR calls {okr_calls}, floor {floor:.2f} s "
          f"(100 per {window:g} s), ratio {elapsed / floor:.3f}; rate-limit answers {limited.total()}"
          f"{' ' + str(dict(limited)) if limited else ''}; "
          f"API calls by family {dict(families)}")
    print("timeline (s from the start, first-last call): " + ", ".join(
        f"{family} {first - wall_start:.2f}-{last - wall_start:.2f}"
        for family, (first, last) in spans(calls).items()))
    leaving = {p.open_id for p in seed.people if p.ehr_status in (4, 5)}
    in_vain = sum(1 for r in calls if r["path"].startswith("/open-apis/okr/v1/users/")
                  and r["path"].split("/")[5] in leaving)
    print(f"OKR reads of people the roster shows leaving (read before the roster came, used by no plan): {in_vain}")
    okr_times = [float(r["time"]) - wall_start for r in calls if r["path"].startswith("/open-apis/okr/")]
    print("every 100th OKR call at (s): " + ", ".join(f"{t:.2f}" for t in okr_times[99::100]))


def spans(calls: list[dict]) -> dict[str, tuple[float, float]]:
    """Per API family, when its first and last call of the run were answered (epoch seconds)."""
    out: dict[str, tuple[float, float]] = {}
    for r in calls:
        at = r["time"].timestamp() if hasattr(r["time"], "timestamp") else float(r["time"])
        family = r["path"].split("/")[2]
        first, last = out.get(family, (at, at))
        out[family] = (min(first, at), max(last, at))
    return out


if __name__ == "__main__":
    main()
