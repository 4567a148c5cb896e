"""`python -m bot demo`: the built-in Feishu sandbox and the bot on free local ports, and a chat prompt.

Every message you type goes through the real webhook, encrypted and signed as Feishu does it; the
bot answers through lark-oapi to the sandbox, whose outbox is printed here as text.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server

from bot.sandbox import create_sandbox, serve_in_thread
from bot.sandbox.delivery import At, EventSender, http_post
from bot.sandbox.ids import p2p_chat_id
from bot.settings import Settings
from bot.web import create_app
from cards.text import buttons_of, callback_value, render_text

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 15.0
HELP = """Type a message to the bot as the current person. Mention people with @name (e.g. `whois @陈立`).
  /as NAME       become another seeded person      /people    list seeded people
  /group KEY     talk in a seeded group (@bot)     /groups    list seeded groups
  /dm            back to the direct chat           /click N   press button N of the last card
  /approve       approve the last authorisation link (after `login`), as the current person
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

    @property
    def seed(self) -> Any:
        return self.state.seed

    def _mentions(self, text: str) -> tuple[str, list[At]]:
        """Turn @name words into mentions; the bot is mentioned first in a group."""
        ats: list[At] = []
        if self.group is not None:
            ats.append(At(self.seed.bot_open_id, self.seed.bot_app_name))
        words = []
        for word in text.replace("{", "{{").replace("}", "}}").split():
            found = self.seed.find_people(word[1:]) if word.startswith("@") and len(word) > 1 else []
            if found:
                ats.append(At(found[0].open_id, found[0].name))
                words.append("{" + str(len(ats) - 1) + "}")
            else:
                words.append(word)
        prefix = "{0} " if self.group is not None else ""
        return prefix + " ".join(words), ats

    def say(self, text: str) -> list[dict[str, Any]]:
        body, ats = self._mentions(text)
        chat_id = self.group.chat_id if self.group is not None else p2p_chat_id(self.person.open_id)
        before = len(self.state.outbox)
        status, answer, payload = self.sender.say(sender_open_id=self.person.open_id, chat_id=chat_id,
                                                  chat_type="group" if self.group is not None else "p2p",
                                                  text=body, mentions=ats)
        if status != 200:
            raise RuntimeError(f"the webhook answered HTTP {status}: {answer!r}")
        # Everything the command sent, up to and including its reply to this message.
        message_id = payload["event"]["message"]["message_id"]
        count = 1
        while True:
            entries = self.state.wait_for_outbox(count, REPLY_TIMEOUT, since=before)
            if len(entries) < count or any(e.get("reply_to") == message_id for e in entries):
                return entries
            count += 1

    def click(self, number: int) -> str:
        if not self.last_card:
            return "No card yet."
        buttons = [b for b in buttons_of(self.last_card) if callback_value(b) is not None]
        if not 1 <= number <= len(buttons):
            return f"The last card has {len(buttons)} button(s)."
        value = callback_value(buttons[number - 1])
        before = len(self.state.outbox)
        status, answer = self.sender.click(operator_open_id=self.person.open_id, value=value or {},
                                           message_id=self.last_message.get("message_id", ""),
                                           chat_id=self.last_message.get("chat_id", ""))
        if status != 200:
            return f"The webhook answered HTTP {status}: {answer!r}"
        card = (answer.get("card") or {}).get("data")
        if card:
            self.last_card = card
            return render_text(card, self.names)
        toast = (answer.get("toast") or {}).get("content", "")
        later = self.state.wait_for_outbox(1, REPLY_TIMEOUT, since=before)
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
        self.state.wait_for_outbox(1, REPLY_TIMEOUT, since=before)
        return f"The authorisation page answered: HTTP {response.status_code}.\n" + self.show(
            self.state.outbox_since(before))

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


def start_demo() -> tuple[DemoSession, str, str]:
    """Start the sandbox and the bot; returns the session and both URLs."""
    sandbox_app = create_sandbox(app_id="cli_demo_app", app_secret="demo-secret")
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
        secret_key=secrets.token_hex(16),
        public_url=bot_url,
    )
    holder["app"] = create_app(settings)
    threading.Thread(target=bot_server.serve_forever, name="bot", daemon=True).start()
    state = sandbox_app.extensions["sandbox"]
    sender = EventSender(http_post(bot_url), encrypt_key=settings.encrypt_key,
                         verification_token=settings.verification_token, app_id=settings.app_id)
    names = {p.open_id: p.name for p in state.seed.people}
    session = DemoSession(state=state, sender=sender, names=names, person=state.seed.ceo)
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
    if word == "/click":
        return session.click(int(rest)) if rest.isdigit() else "Usage: /click N"
    return HELP


def run_demo(*, as_person: str = "", say: str | None = None, group: str = "") -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if logging.getLogger().level == logging.INFO:
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable; --log-level DEBUG still works
    session, sandbox_url, bot_url = start_demo()
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
    print(f"Feishu sandbox: {sandbox_url}    bot webhook: {bot_url}/webhook/event")
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
