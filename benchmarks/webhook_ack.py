"""Webhook answer time for a command, and the full round trip to the reply.

Starts the sandbox and the bot on loopback (real HTTP, the bot's thread pool), sends N signed and
encrypted `help` / `whois` events one after another, and prints the median and tail of
  - ack: the time until the webhook's HTTP answer (what Feishu waits for, limit 3 s);
  - round trip: the time until the reply card reached the sandbox.

    .venv/bin/python benchmarks/webhook_ack.py [--events 200]
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time

from devkit.demo import start_demo
from devkit.sandbox.ids import p2p_chat_id


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--pace", type=float, default=40.0,
                        help="events per second (Feishu lets an app send 50 messages/s; above that the "
                             "round trip measures the bot's send limiter)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    session, _, _ = start_demo()
    session.say("help")  # warm up: tenant token, bot info
    people = session.seed.active_people
    for text in ("help", "whois 张伟"):
        acks, trips = [], []
        for n in range(args.events):
            # Rotate the sender: Feishu allows 5 messages per second into one chat, and the bot's
            # limiter keeps to that, which would measure the limit rather than the bot.
            person = people[n % len(people)]
            before = len(session.state.outbox)
            start = time.perf_counter()
            status, _, _ = session.sender.say(sender_open_id=person.open_id, chat_id=p2p_chat_id(person.open_id),
                                              chat_type="p2p", text=text)
            acks.append(time.perf_counter() - start)
            assert status == 200
            session.state.outbox.wait_for(1, 10.0, since=before)
            trips.append(time.perf_counter() - start)
            time.sleep(max(0.0, 1 / args.pace - (time.perf_counter() - start)))  # pacing, not synchronisation
        print(f"{text!r:14} ack median {statistics.median(acks) * 1000:.2f} ms, p99 {percentile(acks, 99) * 1000:.2f}"
              f" ms | round trip median {statistics.median(trips) * 1000:.2f} ms,"
              f" p99 {percentile(trips, 99) * 1000:.2f} ms  (n={args.events}, {args.pace:g}/s)")
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")


if __name__ == "__main__":
    main()
