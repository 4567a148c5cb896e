"""Resident memory of a bot process after loading the directory index and the roster, for a company of
10,000 and of 50,000 people (sandbox in this process, the bot in a child process that reports its own RSS).

The directory and roster snapshots live in the database (a SQLite file here, as with the default
DATABASE_URL); the process keeps only caches bounded by PEOPLE_CACHE_SIZE. The child loads both, then
answers a mix of lookups (name search, people by id past the cache bound, reports, manager chains, a
manager's roster) and reports RSS after each step and its peak.

    .venv/bin/python benchmarks/memory.py [--sizes 10000 50000]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import subprocess
import sys
import tempfile
import threading
import time

from werkzeug.serving import make_server

BASE_PEOPLE = 66  # the seeded company before extra people are added
LOOKUPS = 2_000  # people looked up by name, by id and up their manager chain, spread over the company


def memory_mb() -> tuple[float, float]:
    """(RSS, peak RSS) of this process, MB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", 0.0), found.get("VmHWM", 0.0)


def child(url: str, database: str, cache_size: int) -> None:
    from bot.feishu.clients import FeishuClients
    from bot.settings import Settings

    # the sandbox runs without rate limits and the bot's are lifted too: this measures memory, not the
    # EHR budget (at 100 calls a minute a 50,000-person roster takes five minutes to read)
    settings = Settings(app_id="cli_mem", app_secret="mem", domain=url, database_url=database,
                        people_cache_size=cache_size, rate_limit_scale=1000.0)
    clients = FeishuClients.create(settings)
    clients.bot.open_id()
    gc.collect()
    before, _ = memory_mb()
    start = time.perf_counter()
    directory = clients.contact.directory()
    employees = clients.roster.count()
    loaded = time.perf_counter() - start
    gc.collect()
    after_load, _ = memory_mb()

    # a working day's lookups: search, people by id (far past the cache bound), reports, chains, roster
    found = [p for query in ("张", "王", "li", "staff 1", "staff 2", "陈", "zhou", "Staff 0") for p in
             directory.find(query, limit=8)]
    people = 0
    staff = len(directory) - BASE_PEOPLE
    for number in range(0, staff, max(1, staff // LOOKUPS)):  # the same number of lookups at every size
        hit = directory.find(f"Staff {number:05d}", limit=1)
        if hit:
            people += directory.person(hit[0].open_id) is not None
            directory.manager_chain(hit[0].open_id)
    del found
    gc.collect()
    after_lookups, _ = memory_mb()

    # the biggest team's reports and their roster records: a manager's answer, as large as the team
    managers = directory.managers()
    for manager in managers:
        directory.has_reports(manager.open_id)
    biggest = max(managers, key=lambda m: len(directory.direct_reports(m.open_id)))
    team = [p.open_id for p in directory.all_reports(biggest.open_id)]
    records = len(clients.roster.list_employees((2, 4), open_ids=team))
    del team
    gc.collect()
    after_team, peak = memory_mb()
    print(json.dumps({"people": len(directory), "employees": employees, "before": before, "loaded": after_load,
                      "used": after_lookups, "team": after_team, "team_size": records, "peak": peak,
                      "lookups": people, "seconds": loaded,
                      "cached": clients.contact.cached_entries()}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--cache-size", type=int, default=2_000, help="PEOPLE_CACHE_SIZE for the bot")
    parser.add_argument("--child", nargs=3, default=None, metavar=("URL", "DATABASE_URL", "CACHE_SIZE"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from devkit.sandbox import build_seed, create_sandbox

    results = []
    for size in args.sizes:
        start = time.perf_counter()
        seed = build_seed(extra_people=size - BASE_PEOPLE, activity=False)  # people and roster only
        built = time.perf_counter() - start
        sandbox = create_sandbox(app_id="cli_mem", app_secret="mem", seed=seed, rate_scale=None)
        server = make_server("127.0.0.1", 0, sandbox, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, __file__, "--child", f"http://127.0.0.1:{server.server_port}",
                                  f"sqlite:///{tmp}/bot.db", str(args.cache_size)],
                                 capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        results.append(r)
        print(f"{r['people']:6d} people, {r['employees']:6d} roster records (seed built in {built:.0f} s, loaded "
              f"in {r['seconds']:.1f} s): RSS {r['before']:.0f} MB before, {r['loaded']:.0f} MB after loading "
              f"(+{r['loaded'] - r['before']:.1f} MB), {r['used']:.0f} MB after {r['lookups']:,} people looked up "
              f"by name, id and manager chain (+{r['used'] - r['before']:.1f} MB), {r['team']:.0f} MB after reading "
              f"the biggest team ({r['team_size']:,} roster records, +{r['team'] - r['before']:.1f} MB), peak "
              f"{r['peak']:.0f} MB; cached entries {r['cached']}", flush=True)
        server.shutdown()
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(f"from {first['people']:,} to {last['people']:,} people: RSS after loading "
              f"{last['loaded'] - first['loaded']:+.1f} MB, after the lookups {last['used'] - first['used']:+.1f} MB, "
              f"after the biggest team {last['team'] - first['team']:+.1f} MB", flush=True)


if __name__ == "__main__":
    main()
