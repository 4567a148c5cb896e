"""The outbox: the one place that sends. Its keys keep the uuids Feishu already knows, nothing else in the
product calls the messenger, a command's extra message (a nudge) goes out once through a real click, and the
per-chat limit keeps a burst to one chat under Feishu's 5 a second. Counted in the sandbox's request log."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.inbound import InlineExecutor
from bot.outbox import Key, Outbox, Purpose
from bot.store import Store
from bot.transports.webhook import create_app
from devkit.cardtext import buttons_of
from tests.conftest import NOW, Chat, card_title

ROOT = Path(__file__).resolve().parent.parent
CHINA = timezone(timedelta(hours=8))


# -- keys ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "uuid"), [
    # What the code before the outbox sent (to_uuid with these parts, in this order): a message retried across
    # an upgrade must carry the same uuid, or Feishu posts it twice.
    (Key.reply("om_dc13264520392913993dd051dba21dcf"), "om_dc13264520392913993dd051dba21dcf:r"),
    (Key.dm("om_1"), "om_1:dm"),
    (Key.private_note("om_1"), "om_1:note"),
    (Key.error("om_1"), "om_1:err"),
    (Key.welcome("oc_a0553eda9014c201e6969b478895c230"), "welcome:oc_a0553eda9014c201e6969b478895c230"),
    (Key.scheduled(12, datetime(2026, 11, 27, 17, 0, tzinfo=CHINA), "ou_0123456789abcdef0123456789abcdef"),
     "e83748bdca7a85ed049b3ffd9c39f35d4f8f1a64e3f3cf4a30"),  # over 50 characters: sha256, cut to 50
    (Key.nudge("3:2026-11-27T09:00:00Z:ou_abc"), "nudge:3:2026-11-27T09:00:00Z:ou_abc"),
    (Key.login_done("Zx9-state"), "oauth-ok:Zx9-state"),
])
def test_keys_keep_the_uuids_sent_before_the_outbox(key, uuid):
    assert key.uuid == uuid
    assert len(key.uuid) <= 50


def test_every_purpose_has_a_constructor_and_distinct_uuids():
    keys = [Key.reply("x"), Key.dm("x"), Key.private_note("x"), Key.error("x"), Key.welcome("x"),
            Key.scheduled(1, NOW, "x"), Key.nudge("x"), Key.login_done("x")]
    assert {k.purpose for k in keys} == set(Purpose)
    assert len({k.uuid for k in keys}) == len(keys)


@pytest.mark.parametrize("make", [lambda: Key.reply(""), lambda: Key.welcome(""), lambda: Key.scheduled(1, NOW, ""),
                                  lambda: Key.login_done("")])
def test_a_key_with_an_empty_part_is_refused(make):
    # "" would give every such message the same uuid, and Feishu would drop all but the first for an hour.
    with pytest.raises(ValueError):
        make()


# -- nothing else sends -----------------------------------------------------------------------------------------

SENDERS = {"bot/outbox.py", "bot/feishu/messenger.py"}
SEND_METHODS = {"send", "reply", "delayed_update", "update", "patch", "create", "send_ephemeral"}
IM_SEND_URIS = ("/im/v1/messages", "/interactive/v1/card/update", "/ephemeral/v1/")
SCOPE_TABLE = "bot/feishu/scopes.py"  # names each endpoint with its scopes for `doctor`; sends nothing


def _product_modules():
    for path in sorted((ROOT / "bot").rglob("*.py")):
        yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))


def _named_messenger(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr in ("messenger", "_messenger")) or (
        isinstance(node, ast.Name) and node.id in ("messenger", "_messenger"))


def test_only_the_outbox_calls_the_messenger():
    """No product module but the outbox (and the messenger itself) sends, replies or updates a card: not through
    the messenger, not with its uuid helper, not with lark-oapi's message calls or the raw send URIs."""
    found = []
    for name, tree in _product_modules():
        if name in SENDERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in SEND_METHODS and _named_messenger(node.func.value):
                found.append(f"{name}:{node.lineno} calls the messenger's {node.func.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module == "bot.feishu.messenger" \
                    and any(a.name != "Messenger" for a in node.names):
                found.append(f"{name}:{node.lineno} imports {[a.name for a in node.names]} from the messenger")
            elif isinstance(node, ast.Attribute) and node.attr == "message" and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "v1":
                found.append(f"{name}:{node.lineno} uses lark-oapi's im.v1.message")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and name not in SCOPE_TABLE \
                    and any(uri in node.value for uri in IM_SEND_URIS):
                found.append(f"{name}:{node.lineno} names a send URI: {node.value!r}")
    assert found == []


def test_the_guard_sees_a_send_around_the_outbox():
    tree = ast.parse("def f(ctx):\n    ctx.clients.messenger.send('ou_1', {}, uuid='x')\n")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in SEND_METHODS and _named_messenger(n.func.value)]
    assert len(calls) == 1


# -- a command's extra message, through a real click ----------------------------------------------------------

@pytest.fixture
def bot(settings, sandbox, tmp_path):
    admin = settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                           database_url=f"sqlite:///{tmp_path}/bot.db")
    store = Store(admin.database_url)
    app = create_app(admin, executor=InlineExecutor(), clock=lambda: NOW, store=store)
    return Chat(app.test_client(), sandbox, admin)


def _posts_to(sandbox, receive_id: str) -> list[dict]:
    return [r for r in sandbox.state.requests.matching("/im/v1/messages", "POST")
            if isinstance(r["body"], dict) and r["body"].get("receive_id") == receive_id]


def test_a_nudge_is_sent_once_through_the_outbox_with_its_key(bot, sandbox):
    manager = sandbox.seed.person("wanglei").open_id
    digest = next(e for e in bot.say("王磊", "digest now") if e["receive_id"] == manager)
    value = next(b for b in buttons_of(digest["content"]) if b["text"]["content"] == "Nudge")["behaviors"][0]["value"]
    target = value["target"]
    assert _posts_to(sandbox, target) == []

    status, answer = bot.click("王磊", digest, "Nudge")
    assert status == 200 and answer["toast"]["content"].startswith("Nudged")
    assert "Nudged ✓" in str(answer["card"])  # the digest redrawn in place; the nudge went to the report
    [post] = _posts_to(sandbox, target)
    assert post["body"]["uuid"] == Key.nudge(f"{value.get('sub')}:{value.get('slot')}:{target}").uuid
    assert "OKR" in card_title(next(e for e in sandbox.state.outbox.entries() if e["receive_id"] == target))

    status, answer = bot.click("王磊", digest, "Nudge")
    assert answer["toast"]["content"] == "Already nudged."
    assert len(_posts_to(sandbox, target)) == 1  # sent once: the request log, not the sandbox's outbox


# -- the per-chat limit -----------------------------------------------------------------------------------------

def test_a_burst_to_one_chat_stays_under_feishus_per_chat_limit(bot, sandbox):
    """Feishu takes 5 messages a second per chat; the outbox holds the sixth back instead of letting Feishu
    refuse it (time compressed 5 times on both sides: 5 per 200 ms)."""
    outbox = Outbox(bot.client.application.extensions["bot"].clients.messenger, scale=5.0)
    chat = sandbox.seed.chats[0].chat_id
    sandbox.state.limiter.set_scale(5.0)
    try:
        for i in range(12):
            outbox.send(chat, {"schema": "2.0", "body": {"elements": []}}, Key.welcome(f"{chat}-{i}"))
    finally:
        sandbox.state.limiter.set_scale(None)
    posts = _posts_to(sandbox, chat)
    assert len(posts) == 12
    assert [p["status"] for p in posts] == [200] * 12  # never refused for the rate: nothing was retried
