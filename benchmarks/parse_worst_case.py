"""Worst-case parse time: every parser of user text on pathological shapes (repeated `-`, `+`, `/`, digits, `mon-`,
zone paths `A/a/a/…`, non-ASCII digits, mixes) at 1 KB, 10 KB and 100 KB. Prints the slowest shape per parser and
size, in milliseconds (each the median of --repeat runs, so one scheduling hiccup on a busy machine does not
count as the parser's cost).

    .venv/bin/python benchmarks/parse_worst_case.py [--repeat 3] [--verbose] [--before REV]

`parse_when (no cap)` lifts MAX_PHRASE_CHARS to show that the patterns themselves are linear (10× the text should
cost about 10× the time, not 100×). `--before REV` also times `parse_when("mon-" * 8000)` with the timephrase.py of
git revision REV (e.g. the commit before the cap) for a before/after number.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import bot.timephrase as timephrase
from bot.commands import ALL
from bot.commands.attendance import parse_args
from bot.commands.base import Context
from bot.commands.okr import choose_period
from bot.commands.remind import _pick, _stale_days
from bot.models import Chat, Mention, OkrPeriod
from bot.router import parse_command
from bot.store import KIND_OKR_REMINDER, Store

TZ = "Asia/Shanghai"
SIZES = (1_000, 10_000, 100_000)
SHAPES = {
    "-": "-", "+": "+", "/": "/", "digits": "9", "digits+space": "9 ", "mon-": "mon-", "a-": "a-",
    "A/a/": "A/a/", "Asia/a/": "Asia/a/", "᧚": "᧚", "周一、": "周一、", "9:": "9:", "utc+": "utc+", "㍻": "㍻",
    "mix": "mon-9/a+ 周一A/a/", "stale": "stale 5 days ",
}  # fmt: skip
ALIASES = {a.casefold(): c.name for c in ALL for a in (c.name, *c.aliases)}
MENTIONS = (Mention("@_user_1", "ou_bot", "OKR 助手"),)
ROOT = Path(__file__).resolve().parent.parent


def shape(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def timed(fn: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    try:
        fn(text)
    except timephrase.WhenError:
        pass
    return (time.perf_counter() - start) * 1000


def parsers() -> dict[str, Callable[[str], object]]:
    store = Store("sqlite://")
    spec = {"minute": "0", "hour": "17", "day": "*", "month": "*", "day_of_week": "fri", "timezone": TZ}
    store.subscriptions.add(kind=KIND_OKR_REMINDER, target="oc_group", created_by="ou_owner", schedule=spec,
                           stale_days=7, locale="en_us")
    now = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo(TZ))
    ctx = Context(sender_open_id="ou_owner", chat=Chat("oc_group", "group"), clients=None, settings=None,  # type: ignore[arg-type]
                  now=now, store=store)
    periods = tuple(OkrPeriod(f"p{m}", f"2026 年 {m} 月", f"2026 {m}", datetime(2026, m, 1, tzinfo=ZoneInfo(TZ)),
                              datetime(2026, m, 1, tzinfo=ZoneInfo(TZ)) + timedelta(days=180)) for m in (1, 7))

    def command(text: str):
        return parse_command("@_user_1 remind okr " + text, MENTIONS, bot_open_id="ou_bot", aliases=ALIASES)

    def when_uncapped(text: str):
        cap = timephrase.MAX_PHRASE_CHARS
        timephrase.MAX_PHRASE_CHARS = 10**9
        try:
            return timephrase.parse_when(text, default_tz=TZ)
        finally:
            timephrase.MAX_PHRASE_CHARS = cap

    def router_then(fn: Callable[[list[str]], object]) -> Callable[[str], object]:
        return lambda text: fn(list(command(text).args[1:]))  # what a handler gets: the router's capped words

    return {
        "parse_command": command,
        "parse_when": lambda text: timephrase.parse_when(text, default_tz=TZ),
        "parse_when (no cap)": when_uncapped,
        "remind okr → parse_when": router_then(lambda words: timephrase.parse_when(" ".join(words), default_tz=TZ)),
        "remind _stale_days": router_then(_stale_days),
        "remind _stale_days (no cap)": lambda text: _stale_days(text.split()),
        "remind _pick": router_then(lambda words: _pick(ctx, words)),
        "okr choose_period": router_then(lambda words: choose_period(periods, " ".join(words), ctx)),
        "attendance parse_args": router_then(lambda words: parse_args(tuple(words))),
    }


def load_timephrase(rev: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{rev}:bot/timephrase.py"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout
    module = types.ModuleType(f"timephrase_{rev}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:bot/timephrase.py", "exec"), module.__dict__)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="runs per parser, shape and size (the median is kept)")
    parser.add_argument("--verbose", action="store_true", help="print every shape, not only the slowest")
    parser.add_argument("--before", metavar="REV", help="also time mon-×8000 with timephrase.py at git REV")
    args = parser.parse_args()

    mon = "mon-" * 8000
    after = statistics.median(timed(lambda text: timephrase.parse_when(text, default_tz=TZ), mon)
                              for _ in range(args.repeat))
    print(f'parse_when("mon-" * 8000), 32 KB: {after:.2f} ms (this tree)')
    if args.before:
        old = load_timephrase(args.before)
        start = time.perf_counter()
        try:
            old.parse_when(mon, default_tz=TZ)
        except ValueError:
            pass
        print(f'parse_when("mon-" * 8000), 32 KB: {(time.perf_counter() - start) * 1000:.0f} ms at {args.before}')
    print()

    header = f"{'parser':30}" + "".join(f"{f'{size // 1000} KB worst ms':>16}{'(shape)':>14}" for size in SIZES)
    print(header)
    print("-" * len(header))
    for name, fn in parsers().items():
        cells = []
        for size in SIZES:
            worst = (0.0, "")
            for label, unit in SHAPES.items():
                text = shape(unit, size)
                ms = statistics.median(timed(fn, text) for _ in range(args.repeat))
                if args.verbose:
                    print(f"  {name:30} {size:>7} {label:>14} {ms:10.2f} ms")
                worst = max(worst, (ms, label))
            cells.append(f"{worst[0]:16.2f}{worst[1]:>14}")
        print(f"{name:30}" + "".join(cells))


if __name__ == "__main__":
    main()
