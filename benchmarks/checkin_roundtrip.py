"""A check-in's round trip: the person submits the update form (the real card.action.trigger callback through the
bot's webhook, over HTTP) → the answer carrying their OKR card, updated in place. Median and p99 over N submits, each
changing one key result (so each writes one progress record), against the demo's sandbox at Feishu's real rate
limits (OKR: 100 requests/minute for the app; a submit reads the person's OKRs fresh and writes one record).

    .venv/bin/python benchmarks/checkin_roundtrip.py [--submits 30]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from bot.commands.base import CommandCall, action_value
from devkit.cardtext import form_fields
from devkit.demo import start_demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    session, _, _ = start_demo()
    session.person = session.seed.person("wanglei")
    [form_entry] = [e for e in session.say("进度") if e["content"].get("body")][-1:]
    form = form_entry["content"]
    prefilled = {name: f.get("default_value", f.get("initial_option", "")) for name, f in form_fields(form).items()}
    percent_field = next(name for name in prefilled if name.startswith("p_"))
    submit = action_value(CommandCall(name="progress", locale="zh_cn"), submit=True)
    times: list[float] = []
    for n in range(args.submits):
        values = {**prefilled, percent_field: str((n * 7) % 100 + 1), "note": f"benchmark {n}"}
        start = time.perf_counter()
        answer = session.press(session.person, form_entry["message_id"], submit, form_value=values)
        times.append(time.perf_counter() - start)
        card = (answer.get("card") or {}).get("data") or {}
        assert "刚刚更新" in str(card) or "Updated just now" in str(card), answer
    ordered = sorted(times)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    print(f"check-in submit → card updated in place: median {statistics.median(times) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms (n={len(times)}, real rate limits)")


if __name__ == "__main__":
    main()
