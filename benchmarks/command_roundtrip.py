"""Command round trip (event in → reply card recorded by the sandbox) for `okr`, `whois`, `roster`, with
cold caches (a freshly started bot) and warm caches (the same command again).

    .venv/bin/python benchmarks/command_roundtrip.py [--cold 10] [--warm 100]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from devkit.demo import start_demo

COMMANDS = (("okr", "我的OKR"), ("whois", "查人 张伟"), ("roster", "花名册"))


def timed(session, text: str) -> float:
    start = time.perf_counter()
    entries = session.say(text)
    assert entries, "no reply"
    return time.perf_counter() - start


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", type=int, default=10)
    parser.add_argument("--warm", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # werkzeug sets INFO on its logger itself
    for name, text in COMMANDS:
        cold, warm = [], []
        for _ in range(args.cold):
            session, _, _ = start_demo()
            session.person = session.seed.person("wanglei")  # a manager: the roster answers for his team
            cold.append(timed(session, text))
        for _ in range(args.warm):
            warm.append(timed(session, text))
        print(f"{name:7} cold median {statistics.median(cold) * 1000:6.1f} ms p99 {p99(cold) * 1000:6.1f} ms | "
              f"warm median {statistics.median(warm) * 1000:6.1f} ms p99 {p99(warm) * 1000:6.1f} ms "
              f"(cold n={args.cold}, warm n={args.warm})")


if __name__ == "__main__":
    main()
