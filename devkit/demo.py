"""`python -m bot demo`: the built-in Feishu sandbox and the bot on free local ports, and a chat prompt.

Every message you type goes through the real webhook, encrypted and signed as Feishu does it; the
bot answers through lark-oapi to the sandbox, whose outbox is printed here as text.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.serving import make_server

from bot.app import Bot
from bot.settings import Settings
from bot.store import KIND_OKR_REMINDER
from bot.transports.webhook import build_webhook
from devkit.cardtext import buttons_of, callback_value, render_text
from devkit.sandbox import build_seed, create_sandbox, serve_in_thread
from devkit.sandbox.event_push import At, EventSender, http_post, message_event
from devkit.sandbox.ids import p2p_chat_id

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 15.0
PAGE_PORT = 8765  # the chat page's usual port (any free one if taken)
HELP = """Type a message to the bot as the current person. Mention people with @name (e.g. `whois @陈立`).
  /as NAME       become another seeded person      /people    list seeded people
  /group KEY     talk in a seeded group (@bot)     /groups    list seeded groups
  /dm            back to the direct chat           /click N   press button N of the last card
  /approve       approve the last authorisation link (after `login`), as the current person
  /jobs          run every scheduled reminder and digest now (as the scheduler would at its time)
  /quit          leave"""


@dataclass
class DemoSession:
    """Both servers, and who is talking where."""

    state: Any
    sender: EventSender
    names: dict[str, str]
    person: Any = None
    group: Any = None
    last_card: dict[str, Any] | None = None
    last_message: dict[str, Any] = field(default_factory=dict)
    scheduler: Any = None  # DemoScheduler, when started with one
    settings: Any = None

    @property
    def seed(self) -> Any:
        return self.state.seed

    def chat_of(self, person: Any, group: Any = None) -> tuple[str, str]:
        """(chat_id, chat_type) where `person` talks: their direct chat with the bot, or `group`."""
        return (group.chat_id, "group") if group is not None else (p2p_chat_id(person.open_id), "p2p")

    def _mentions(self, text: str, group: Any, picked: Sequence[tuple[str, str]] = ()) -> tuple[str, list[At]]:
        """Turn mentions into `{n}` placeholders: `picked` (open_id, name) pairs replace their `@name` in order
        (so two people with one name stay apart); any other `@name` word is looked up in the seed. The bot is
        mentioned first in a group."""
        ats: list[At] = []
        if group is not None:
            ats.append(At(self.seed.bot_open_id, self.seed.bot_app_name))
        text = text.replace("{", "{{").replace("}", "}}")
        for open_id, name in picked:
            marker = "@" + name.replace("{", "{{").replace("}", "}}")
            if marker in text:
                ats.append(At(open_id, name))
                text = text.replace(marker, "{" + str(len(ats) - 1) + "}", 1)
        words = []
        for word in text.split(" "):
            found = self.seed.find_people(word[1:]) if word.startswith("@") and len(word) > 1 else []
            if found:
                ats.append(At(found[0].open_id, found[0].name))
                words.append("{" + str(len(ats) - 1) + "}")
            else:
                words.append(word)
        prefix = "{0} " if group is not None else ""
        return prefix + " ".join(words).strip(), ats

    def post(self, person: Any, text: str, *, group: Any = None,
             mentions: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """Send `text` from `person` through the webhook, as Feishu would; returns the event sent. The message
        is also stored in the sandbox (as Feishu stores what people write), so the bot's reply lands in the
        same chat and the chat page can show both."""
        body, ats = self._mentions(text, group, mentions)
        chat_id, chat_type = self.chat_of(person, group)
        payload = message_event(sender_open_id=person.open_id, chat_id=chat_id, chat_type=chat_type, text=body,
                                mentions=ats, token=self.sender.token, app_id=self.sender.app_id)
        message = payload["event"]["message"]
        self.state.messages.register_inbound(sender_open_id=person.open_id, chat_id=chat_id, chat_type=chat_type,
                                            msg_type="text", content=message["content"],
                                            message_id=message["message_id"])
        self.state.messages.update(message["message_id"], mentions=message["mentions"])
        status, answer = self.sender.deliver("/webhook/event", payload)
        if status != 200:
            raise RuntimeError(f"the webhook answered HTTP {status}: {answer!r}")
        return payload

    def say(self, text: str) -> list[dict[str, Any]]:
        before = len(self.state.outbox)
        payload = self.post(self.person, text, group=self.group)
        # Everything the command sent, up to and including its reply to this message.
        message_id = payload["event"]["message"]["message_id"]
        count = 1
        while True:
            entries = self.state.outbox.wait_for(count, REPLY_TIMEOUT, since=before)
            if len(entries) < count or any(e.get("reply_to") == message_id for e in entries):
                return entries
            count += 1

    def press(self, person: Any, message_id: str, value: dict[str, Any], **action: Any) -> dict[str, Any]:
        """Press a button of a card as `person` (the real card.action.trigger callback through the webhook).
        A card in the callback's answer replaces the message's card, as Feishu does; returns the answer.
        `action` adds the callback's other fields (form_value, option, name)."""
        # Built by the sandbox, so the callback carries a delayed-update token the sandbox will accept.
        payload = self.state.simulate_card_action(person, message_id, value, verification_token=self.sender.token,
                                                  **action)
        status, body = self.sender.deliver("/webhook/card", payload)
        try:
            answer = json.loads(body) if body else {}
        except ValueError:
            answer = {}
        if status != 200:
            raise RuntimeError(f"the webhook answered HTTP {status}: {body[:200]!r}")
        card = (answer.get("card") or {}).get("data")
        if isinstance(card, dict):
            self.state.messages.apply_callback_card(message_id, card)
        return answer

    def run_due_jobs(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Make every scheduled subscription due now, let the scheduler run them, and wait for them (up to
        `timeout`). Returns one entry per job: its name, the time it ran for and what it sent."""
        if self.scheduler is None:
            raise RuntimeError("the demo was started without a scheduler")
        runs = self.scheduler.run_all_now(timeout)
        for run in runs:  # "okr_reminder oc_…" -> "OKR reminder → 研发周会 Eng weekly"
            kind, _, target = run["name"].partition(" ")
            chat = self.seed.chat(target)
            where = self.names.get(target) or (chat.name if chat else target)
            run["name"] = f"{'OKR reminder' if kind == KIND_OKR_REMINDER else 'Manager digest'} → {where}"
        return runs

    def click(self, number: int) -> str:
        if not self.last_card:
            return "No card yet."
        buttons = [b for b in buttons_of(self.last_card) if callback_value(b) is not None]
        if not 1 <= number <= len(buttons):
            return f"The last card has {len(buttons)} button(s)."
        message_id = self.last_message.get("message_id", "")
        before = len(self.state.outbox)
        try:
            answer = self.press(self.person, message_id, callback_value(buttons[number - 1]) or {})
        except RuntimeError as exc:
            return str(exc)
        card = (answer.get("card") or {}).get("data")
        if card:
            self.last_card = card
            return render_text(card, self.names)
        toast = (answer.get("toast") or {}).get("content", "")
        later = [e for e in self.state.outbox.wait_for(1, REPLY_TIMEOUT, since=before)
                 if e.get("kind") != "callback_update"]
        if later:
            self.last_card = later[-1]["content"]
            return render_text(self.last_card, self.names)
        return toast or "(card unchanged)"

    def approve(self) -> str:
        """Open the last card's authorisation link and approve it as the current person, like a browser."""
        import requests

        links = [b["behaviors"][0].get("default_url", "") for b in buttons_of(self.last_card or {})
                 if b.get("behaviors") and b["behaviors"][0].get("type") == "open_url"]
        link = next((u for u in links if "/authen/v1/authorize" in u), "")
        if not link:
            return "No authorisation link on the last card; send `login` first."
        before = len(self.state.outbox)
        response = requests.get(link + "&auto_approve=" + self.person.open_id, timeout=10)
        self.state.outbox.wait_for(1, REPLY_TIMEOUT, since=before)
        return f"The authorisation page answered: HTTP {response.status_code}.\n" + self.show(
            self.state.outbox.since(before))

    def show(self, entries: list[dict[str, Any]]) -> str:
        out = []
        for entry in entries:
            if isinstance(entry.get("content"), dict):
                buttons = [b for b in buttons_of(entry["content"]) if callback_value(b) is not None]
                if buttons_of(entry["content"]) or self.last_card is None:
                    self.last_card = entry["content"]  # /click presses buttons of the last card that has some
                    self.last_message = entry
                out.append(render_text(entry["content"], self.names))
                if buttons:
                    out.append("  buttons: " + "  ".join(f"{i}) {b['text']['content']}"
                                                         for i, b in enumerate(buttons, 1)))
        return "\n".join(out) or "(no reply)"


class DemoScheduler:
    """The real scheduler of `python -m bot scheduler` (APScheduler, job store on the demo's database), run in
    this process, with a way to make every subscription due now and wait until the runs are over."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None, *, bot: Bot | None = None,
                 ) -> None:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

        from bot.scheduler import start_scheduler

        self._results: dict[str, dict[str, Any] | None] = {}
        self._changed = threading.Condition()
        self.scheduler, self.runtime = start_scheduler(settings, clock=clock, bot=bot)
        self.scheduler.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def _on_event(self, event: Any) -> None:
        with self._changed:
            if event.job_id not in self._results:
                return
            if getattr(event, "exception", None) is not None:
                outcome = {"status": "error", "error": str(event.exception)}
            elif hasattr(event, "retval"):
                outcome = {"status": "sent" if event.retval else "nothing new", "message_id": event.retval}
            else:
                outcome = {"status": "missed"}
            self._results[event.job_id] = outcome
            self._changed.notify_all()

    def run_all_now(self, timeout: float) -> list[dict[str, Any]]:
        from bot.digests import jobs

        jobs.sync_jobs(self.runtime, self.scheduler)
        due = [job for job in self.scheduler.get_jobs() if job.id.startswith("sub:")]
        names = {job.id: job.name for job in due}
        with self._changed:
            self._results.update({job_id: None for job_id in names})
        now = datetime.now(ZoneInfo(self.runtime.settings.timezone))
        for job_id in names:
            self.scheduler.modify_job(job_id, next_run_time=now)
        with self._changed:
            self._changed.wait_for(lambda: all(self._results.get(j) is not None for j in names), timeout)
            results = {j: self._results.pop(j, None) for j in names}
        return [{"job": j, "name": names[j], **(results[j] or {"status": "still running"})} for j in names]

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)


def start_demo(*, scheduler: bool = False, clock: Callable[[], datetime] | None = None,
               ) -> tuple[DemoSession, str, str]:
    """Start the sandbox and the bot (and, if asked, the scheduler); returns the session and both URLs.
    `clock` pins the bot's idea of now (tests); the default is the real time."""
    # The demo's company looks like a real team today (most people up to date, a few stale, one or two at risk);
    # the tests' seed keeps its extremes.
    today = (clock() if clock else datetime.now(ZoneInfo("Asia/Shanghai"))).astimezone(ZoneInfo("Asia/Shanghai"))
    sandbox_app = create_sandbox(app_id="cli_demo_app", app_secret="demo-secret",
                                 seed=build_seed(freshness="realistic", as_of=today.date()))
    sandbox_url = serve_in_thread(sandbox_app).url
    # The bot's URL is part of its settings (the OAuth redirect), so bind the port first.
    holder: dict[str, Any] = {}
    bot_server = make_server("127.0.0.1", 0, lambda environ, respond: holder["app"](environ, respond), threaded=True)
    bot_url = f"http://127.0.0.1:{bot_server.server_port}"
    settings = Settings(
        app_id="cli_demo_app",
        app_secret="demo-secret",
        verification_token=secrets.token_hex(8),
        encrypt_key=secrets.token_hex(16),
        domain=sandbox_url,
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='okrbot-demo-')}/bot.db",
        secret_key=secrets.token_hex(32),
        public_url=bot_url,
    )
    bot = Bot.from_settings(settings, clock=clock)  # one bot: the webhook's and the scheduler's parts
    holder["app"] = build_webhook(bot.start())
    threading.Thread(target=bot_server.serve_forever, name="bot", daemon=True).start()
    state = sandbox_app.extensions["sandbox"]
    sender = EventSender(http_post(bot_url), encrypt_key=settings.encrypt_key,
                         verification_token=settings.verification_token, app_id=settings.app_id)
    names = {p.open_id: p.name for p in state.seed.people}
    session = DemoSession(state=state, sender=sender, names=names, person=state.seed.ceo, settings=settings,
                          scheduler=DemoScheduler(settings, clock, bot=bot) if scheduler else None)
    return session, sandbox_url, bot_url


def _pick_person(session: DemoSession, name: str) -> str:
    found = session.seed.find_people(name)
    if not found:
        return f"No seeded person called {name!r}; /people lists them."
    session.person = found[0]
    return f"You are now {session.person.name} ({session.person.en_name}), {session.person.department_name}."


def _command(session: DemoSession, line: str) -> str | None:
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word in ("/quit", "/exit"):
        return None
    if word == "/as":
        return _pick_person(session, rest)
    if word == "/people":
        return "\n".join(f"  {p.name:<8} {p.en_name:<22} {p.department_name}" for p in session.seed.people[:80])
    if word == "/groups":
        return "\n".join(f"  {c.key:<16} {c.name}" for c in session.seed.chats)
    if word == "/group":
        chat = session.seed.chat(rest)
        if chat is None:
            return f"No seeded group {rest!r}; /groups lists them."
        session.group = chat
        return f"Now in the group {chat.name} (your messages @-mention the bot)."
    if word == "/dm":
        session.group = None
        return "Back in your direct chat with the bot."
    if word == "/approve":
        return session.approve()
    if word == "/jobs":
        if session.scheduler is None:
            return "This demo runs without a scheduler."
        before = len(session.state.outbox)
        runs = session.run_due_jobs()
        lines = [f"  {run['name']}: {run['status']}" for run in runs] or [
            "  no subscriptions yet: try `digest on`, or in a group `remind okr fri 17:00`"]
        return "\n".join(lines) + "\n" + session.show(session.state.outbox.since(before))
    if word == "/click":
        return session.click(int(rest)) if rest.isdigit() else "Usage: /click N"
    return HELP


def _serve_page(session: DemoSession, port: int) -> str:
    from devkit.webchat.app import serve_webchat

    try:
        _, url = serve_webchat(session, port=port)
    except OSError:  # the usual port is taken (another demo?): any free one will do
        _, url = serve_webchat(session, port=0)
    return url


def run_demo(*, as_person: str = "", say: str | None = None, group: str = "", page_port: int = PAGE_PORT) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if logging.getLogger().level == logging.INFO:
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable; --log-level DEBUG still works
    session, sandbox_url, bot_url = start_demo(scheduler=say is None)
    if as_person:
        message = _pick_person(session, as_person)
        if session.person is None or "No seeded person" in message:
            print(message)
            return 2
    if group and _command(session, f"/group {group}").startswith("No seeded"):
        print(f"No seeded group {group!r}.")
        return 2
    if say is not None:
        print(session.show(session.say(say)))
        return 0
    page_url = _serve_page(session, page_port)
    print(f"Chat page: {page_url}/    (talk to the bot as anyone, see its cards rendered)")
    print(f"Feishu sandbox: {sandbox_url}    bot webhook: {bot_url}/webhook/event")
    if not sys.stdin.isatty():
        print("No terminal attached: serving the chat page until interrupted (Ctrl-C).", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    print(f"You are {session.person.name} ({session.person.en_name}). Type 'help' for the bot, /help for the demo.")
    while True:
        where = session.group.name if session.group is not None else "DM"
        try:
            line = input(f"[{session.person.name} @ {where}] > ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line:
            continue
        if line.startswith("/"):
            out = _command(session, line)
            if out is None:
                return 0
            print(out)
            continue
        try:
            print(session.show(session.say(line)))
        except RuntimeError as exc:
            print(exc)
