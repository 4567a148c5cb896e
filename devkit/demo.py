"""`python -m bot demo`: the built-in Feishu sandbox and the bot on free local ports, and a chat prompt.

Every message you type goes through the real webhook, encrypted and signed as Feishu does it; the
bot answers through lark-oapi to the sandbox, whose outbox is printed here as text.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from werkzeug.serving import make_server

from bot.app import Bot
from bot.settings import Settings
from bot.store.subscriptions import KIND_OKR_REMINDER, KIND_OKR_SCORE
from bot.transports.webhook import build_webhook
from devkit.cardtext import buttons_of, callback_value, render_text
from devkit.sandbox import build_seed, create_sandbox, serve_in_thread
from devkit.sandbox.event_push import At, EventSender, http_post, message_event, simple_event
from devkit.sandbox.ids import p2p_chat_id

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 60.0  # an upper bound on waiting for the bot (a reply, a greeting): a loaded machine can be slow
LATER_TIMEOUT = 15.0  # how long a terminal click waits for a message that may never come (an answer sent anew)
PAGE_PORT = 8765  # the chat page's usual port (any free one if taken)
# The demo company's bot admins (seed keys) unless BOT_ADMINS says otherwise: the CEO, the head of People and the
# HR business partner (the roster, stats, digests for every manager).
DEMO_ADMINS = ("ceo", "guofang", "shaohua")
CHAT_ENTERED = "im.chat.access_event.bot_p2p_chat_entered_v1"
FONT_HINT = ("No Chinese font found (fc-list :lang=zh lists none): the page will show empty boxes instead of Chinese "
             "text.\n  Install one, e.g. on Debian/Ubuntu: sudo apt-get install fonts-noto-cjk")
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
    entered: set[str] = field(default_factory=set)  # who opened their direct chat with the bot
    _entering: threading.Lock = field(default_factory=threading.Lock)

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

    def enter_chat(self, person: Any, timeout: float = REPLY_TIMEOUT) -> bool:
        """`person` opens their direct chat with the bot: the first time, Feishu's bot_p2p_chat_entered event
        goes through the webhook (the bot greets them) and this waits until the greeting is in the chat, so the
        page shows it before anything else. Returns whether the event was sent now."""
        with self._entering:
            if person.open_id in self.entered:
                return False
            self.entered.add(person.open_id)
        chat_id = p2p_chat_id(person.open_id)
        had = self._bot_messages_in(chat_id)
        before = len(self.state.outbox)
        payload = simple_event(CHAT_ENTERED, {"chat_id": chat_id, "operator_id": {"open_id": person.open_id}},
                               token=self.sender.token, app_id=self.sender.app_id)
        status, answer = self.sender.deliver("/webhook/event", payload)
        if status != 200:
            raise RuntimeError(f"the webhook answered HTTP {status}: {answer!r}")
        if not had:  # the bot greets a chat once: wait for it only where nothing was said yet
            count = 1
            while self._bot_messages_in(chat_id) == 0:
                if len(self.state.outbox.wait_for(count, timeout, since=before)) < count:
                    break
                count += 1
        return True

    def _bot_messages_in(self, chat_id: str) -> int:
        return sum(1 for m in self.state.messages.in_chat(chat_id) if m.get("origin") == "bot")

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
        return self._named(self._scheduler().run_all_now(timeout))

    def start_due_jobs(self) -> list[dict[str, Any]]:
        """Make every scheduled subscription due now; returns the runs, each "running" (see `due_job_runs`)."""
        return self._named(self._scheduler().start_all_now())

    def due_job_runs(self, wait: float = 0.0) -> list[dict[str, Any]]:
        """The runs `start_due_jobs` started, each with its outcome or "running" (waits up to `wait` s for all)."""
        return self._named(self._scheduler().runs(wait))

    def _scheduler(self) -> DemoScheduler:
        if self.scheduler is None:
            raise RuntimeError("the demo was started without a scheduler")
        return self.scheduler

    def _named(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for run in runs:  # "okr_reminder oc_…" -> "OKR reminder → 研发周会 Eng weekly"
            kind, _, target = run["name"].partition(" ")
            chat = self.seed.chat(target)
            where = self.names.get(target) or (chat.name if chat else target)
            label = {KIND_OKR_REMINDER: "OKR reminder", KIND_OKR_SCORE: "Scoring reminder"}.get(kind, "Manager digest")
            run["name"] = f"{label} → {where}"
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
        later = [e for e in self.state.outbox.wait_for(1, LATER_TIMEOUT, since=before)
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
        from bot.scheduler import start_scheduler

        self._results: dict[str, dict[str, Any] | None] = {}
        self._names: dict[str, str] = {}
        self._changed = threading.Condition()
        self.scheduler, self.runtime = start_scheduler(settings, clock=clock, bot=bot)
        self.scheduler.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
                                    | EVENT_JOB_MAX_INSTANCES)

    def _on_event(self, event: Any) -> None:
        with self._changed:
            if event.job_id not in self._results:
                return
            if event.code == EVENT_JOB_MAX_INSTANCES:  # its previous run had not ended: that one sends
                outcome = {"status": "already running"}
            elif event.code == EVENT_JOB_MISSED:
                outcome = {"status": "missed"}
            elif getattr(event, "exception", None) is not None:
                outcome = {"status": "error", "error": str(event.exception)}
            else:
                outcome = {"status": "sent" if event.retval else "nothing new", "message_id": event.retval}
            self._results[event.job_id] = outcome
            self._changed.notify_all()

    def start_all_now(self) -> list[dict[str, Any]]:
        """Make every subscription's job due now; returns one entry per job (status "running"), and the
        runs are followed by `runs()` until each has an outcome."""
        from bot.digests import jobs

        jobs.sync_jobs(self.runtime, self.scheduler)
        due = [job for job in self.scheduler.get_jobs() if job.id.startswith("sub:")]
        with self._changed:
            self._names = {job.id: job.name for job in due}
            self._results = {job_id: None for job_id in self._names}
        now = datetime.now(ZoneInfo(self.runtime.settings.timezone))
        for job_id in self._names:
            self.scheduler.modify_job(job_id, next_run_time=now)
        return self.runs()

    def runs(self, wait: float = 0.0) -> list[dict[str, Any]]:
        """The last start's jobs, each with its outcome or "running"; waits up to `wait` seconds for all to end."""
        with self._changed:
            if wait > 0:
                self._changed.wait_for(lambda: all(r is not None for r in self._results.values()), wait)
            return [{"job": j, "name": name, **(self._results.get(j) or {"status": "running"})}
                    for j, name in self._names.items()]

    def run_all_now(self, timeout: float) -> list[dict[str, Any]]:
        """Start every job now and wait for them (up to `timeout`); a job not done by then is "still running"."""
        self.start_all_now()
        return [{**run, "status": "still running"} if run["status"] == "running" else run
                for run in self.runs(wait=timeout)]

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)


def start_demo(*, scheduler: bool = False, clock: Callable[[], datetime] | None = None,
               admins: Sequence[str] | None = None) -> tuple[DemoSession, str, str]:
    """Start the sandbox and the bot (and, if asked, the scheduler); returns the session and both URLs.
    `clock` pins the bot's idea of now (tests); the default is the real time. `admins` are the bot's admins
    (open_ids, or seeded names / keys); None gives the demo company's (DEMO_ADMINS)."""
    # The demo's company looks like a real team today (most people up to date, a few stale, one or two at risk),
    # with friendly names; the tests' seed keeps its extremes and its hostile names.
    today = (clock() if clock else datetime.now(ZoneInfo("Asia/Shanghai"))).astimezone(ZoneInfo("Asia/Shanghai"))
    seed = build_seed(freshness="realistic", as_of=today.date(), names="friendly")
    sandbox_app = create_sandbox(app_id="cli_demo_app", app_secret="demo-secret", seed=seed)
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
        admins=resolve_admins(seed, DEMO_ADMINS if admins is None else admins),
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


def resolve_admins(seed: Any, entries: Sequence[str]) -> frozenset[str]:
    """Open_ids of `entries`: each an open_id as BOT_ADMINS takes it, or a seeded person's key or name."""
    found: set[str] = set()
    for entry in (e.strip() for e in entries):
        people = seed.find_people(entry) if entry else []
        found.update([people[0].open_id] if people else [entry] if entry else [])
    return frozenset(found)


def admins_from_env(environ: Mapping[str, str]) -> list[str] | None:
    """BOT_ADMINS (comma separated, as the bot reads it), or None when it is unset or empty."""
    entries = [e.strip() for e in environ.get("BOT_ADMINS", "").split(",") if e.strip()]
    return entries or None


def roles_of(seed: Any, settings: Any) -> dict[str, list[str]]:
    """Open_id -> the person's roles in the demo: "admin" (BOT_ADMINS) and "manager" (has direct reports)."""
    leaders = {p.leader_open_id for p in seed.people if p.is_active and p.leader_open_id}
    return {p.open_id: [role for role, yes in (("admin", p.open_id in settings.admins),
                                               ("manager", p.open_id in leaders)) if yes]
            for p in seed.people}


def cjk_font_installed(fc_list: str = "fc-list") -> bool | None:
    """Whether fontconfig knows a font for Chinese (`fc-list :lang=zh`); None when that cannot be told
    (no fc-list, e.g. macOS or Windows, or it failed)."""
    exe = shutil.which(fc_list)
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, ":lang=zh", "family"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None


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

    _, url = serve_webchat(session, port=port, any_port_if_taken=True)
    if port and not url.endswith(f":{port}"):
        print(f"Port {port} is taken (another demo?): the chat page uses a free port instead.")
    return url


def run_demo(*, as_person: str = "", say: str | None = None, group: str = "", page_port: int = PAGE_PORT) -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if logging.getLogger().level == logging.INFO:
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable; --log-level DEBUG still works
    session, sandbox_url, bot_url = start_demo(scheduler=say is None, admins=admins_from_env(os.environ))
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
    admins = ", ".join(session.names.get(a, a) for a in sorted(session.settings.admins))
    print(f"Bot admins: {admins or 'nobody'}    (BOT_ADMINS=open_id,... or seeded names changes them)")
    if cjk_font_installed() is False:
        print(FONT_HINT)
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
