"""BOT_SECRET_KEY: a weak key is refused at start, `python -m bot secret-key` makes a strong one, tokens stored
under an earlier key (or the old derivation) stay readable until `python -m bot rotate-keys` re-encrypts them."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken

from bot.__main__ import main
from bot.feishu.user_api import TokenSet
from bot.inbound import InlineExecutor
from bot.settings import ConfigError, Settings, new_secret_key
from bot.store import Store
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from tests.conftest import NOW, Chat, card_title

OLD_PASSPHRASE = "okr-bot-2025"  # what deployments used to set; the stored token fell to a dictionary guess
NAME = "杨帆"


def _env(**extra: str) -> dict[str, str]:
    return {"FEISHU_APP_ID": "cli_x", "FEISHU_APP_SECRET": "s", **extra}


@pytest.mark.parametrize("weak", [
    "x",
    OLD_PASSPHRASE,
    "correct horse battery staple correct horse battery staple",
    secrets.token_hex(16),  # 16 random bytes: too few
    "0" * 64,  # 32 bytes, all the same
    "ab" * 40,  # hex, but two byte values
    base64.b64encode(b"password" * 5).decode(),  # base64 of a repeated word
    base64.urlsafe_b64encode(secrets.token_bytes(24)).decode(),  # base64 of 24 bytes
])
def test_a_weak_secret_key_is_refused_naming_the_variable_and_the_command(weak):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(_env(BOT_SECRET_KEY=weak))
    message = str(refused.value)
    assert "BOT_SECRET_KEY" in message and "python -m bot secret-key" in message
    assert len(weak) < 8 or weak not in message  # never echoed into a log


@pytest.mark.parametrize("strong", [
    new_secret_key(),  # a Fernet key
    Fernet.generate_key().decode(),
    secrets.token_hex(32),  # `openssl rand -hex 32`
    base64.b64encode(secrets.token_bytes(32)).decode(),  # `openssl rand -base64 32`
    base64.b64encode(secrets.token_bytes(48)).decode(),
])
def test_a_strong_secret_key_is_accepted(strong):
    assert Settings.from_env(_env(BOT_SECRET_KEY=strong)).secret_key == strong


def test_no_secret_key_means_no_user_tokens_not_an_error():
    assert Settings.from_env(_env()).secret_key == ""


def test_serve_with_a_weak_key_exits_2_and_says_how_to_make_one(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # no .env
    for key, value in _env(BOT_SECRET_KEY="x", FEISHU_VERIFICATION_TOKEN="v").items():
        monkeypatch.setenv(key, value)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "BOT_SECRET_KEY must be a strong random key" in err and "python -m bot secret-key" in err


def test_secret_key_command_prints_a_new_strong_key_each_time(capsys):
    assert main(["secret-key"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["secret-key"]) == 0
    second = capsys.readouterr().out.strip()
    assert first != second
    assert Settings.from_env(_env(BOT_SECRET_KEY=first)).secret_key == first
    Fernet(first)  # a Fernet key as it is


def test_a_weak_key_given_in_code_is_refused_too(settings, sandbox):
    with pytest.raises(ConfigError):
        create_app(settings.with_(secret_key="test-secret-key"), executor=InlineExecutor())


# ---- tokens stored before: the old derivation, earlier keys, rotation ------------------------------------------
def _old_release_fernet(secret_key: str) -> Fernet:
    """How the previous release turned BOT_SECRET_KEY into a Fernet key (one SHA-256, fixed prefix)."""
    digest = hashlib.sha256(("okr-bot user tokens:" + secret_key).encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'bot.db'}"


def _store_token_as_the_old_release(sandbox, db_url, secret_key) -> tuple[str, str]:
    """A live sandbox token for 杨帆, stored exactly as the previous release stored it."""
    open_id = sandbox.seed.find_people(NAME)[0].open_id
    pair = sandbox.state.user_auth.issue_tokens(open_id)
    secret = json.dumps({"access": pair["access_token"], "refresh": pair["refresh_token"]}).encode()
    Store(db_url).tokens.save(open_id, _old_release_fernet(secret_key).encrypt(secret).decode(),
                                  expires_at=NOW + timedelta(hours=2), refresh_expires_at=NOW + timedelta(days=30))
    return open_id, pair["access_token"]


def _chat(settings, sandbox, db_url, **keys) -> Chat:
    configured = settings.with_(database_url=db_url, public_url="http://bot.example.test", **keys)
    return Chat(create_app(configured, executor=InlineExecutor(), clock=lambda: NOW).test_client(), sandbox,
                configured)


def _profile_title(chat: Chat) -> str:
    [entry] = chat.say(NAME, "我")
    return card_title(entry)


def test_an_old_token_is_readable_with_its_key_in_previous_and_after_rotate_keys_with_the_new_key_alone(
        settings, sandbox, db_url, monkeypatch, tmp_path, capsys):
    open_id, _ = _store_token_as_the_old_release(sandbox, db_url, OLD_PASSPHRASE)
    new_key = new_secret_key()
    assert _profile_title(_chat(settings, sandbox, db_url, secret_key=new_key,
                                secret_key_previous=(OLD_PASSPHRASE,))) == NAME  # read with the earlier key

    monkeypatch.chdir(tmp_path)
    for key, value in _env(BOT_SECRET_KEY=new_key, BOT_SECRET_KEY_PREVIOUS=f"an-even-older-one, {OLD_PASSPHRASE}",
                           DATABASE_URL=db_url).items():
        monkeypatch.setenv(key, value)
    [(_, old_ciphertext)] = Store(db_url).tokens.ciphertexts()
    assert main(["rotate-keys"]) == 0
    assert "re-encrypted 1 user token(s)" in capsys.readouterr().out
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("bot.db"))
    assert old_ciphertext[:40].encode() not in files  # no copy under the old key is left in the file or its log

    [(_, ciphertext)] = Store(db_url).tokens.ciphertexts()
    with pytest.raises(InvalidToken):
        _old_release_fernet(OLD_PASSPHRASE).decrypt(ciphertext.encode())
    Fernet(new_key).decrypt(ciphertext.encode())  # a Fernet key is used as it is
    assert _profile_title(_chat(settings, sandbox, db_url, secret_key=new_key)) == NAME  # the new key alone


def test_without_the_earlier_key_an_old_token_is_unreadable_and_the_person_is_asked_to_log_in(
        settings, sandbox, db_url):
    _store_token_as_the_old_release(sandbox, db_url, OLD_PASSPHRASE)
    chat = _chat(settings, sandbox, db_url, secret_key=new_secret_key())
    [entry] = chat.say(NAME, "我")
    assert card_title(entry) != NAME and "先发送「授权」" in chat.text_of(entry)
    assert Store(db_url).tokens.ciphertexts() == []  # the unreadable token is deleted when used


def test_a_strong_key_kept_as_it_was_still_reads_tokens_stored_under_the_old_derivation(settings, sandbox, db_url):
    key = secrets.token_hex(32)  # already strong before this release: nothing to configure
    _store_token_as_the_old_release(sandbox, db_url, key)
    assert _profile_title(_chat(settings, sandbox, db_url, secret_key=key)) == NAME


def test_new_tokens_use_hkdf_not_the_old_sha256_derivation(settings, sandbox, db_url):
    key = secrets.token_hex(32)
    chat = _chat(settings, sandbox, db_url, secret_key=key)
    vault = chat.client.application.extensions["bot"].router.vault
    open_id = sandbox.seed.find_people(NAME)[0].open_id
    pair = sandbox.state.user_auth.issue_tokens(open_id)
    vault.save(open_id, TokenSet(pair["access_token"], pair["refresh_token"], NOW + timedelta(hours=2),
                                 NOW + timedelta(days=30)))
    [(_, ciphertext)] = Store(db_url).tokens.ciphertexts()
    with pytest.raises(InvalidToken):
        _old_release_fernet(key).decrypt(ciphertext.encode())
    assert vault.access_token(open_id, now=NOW) == pair["access_token"]


def test_rotate_keys_reports_tokens_no_configured_key_reads_and_leaves_them(
        sandbox, db_url, monkeypatch, tmp_path, capsys):
    _store_token_as_the_old_release(sandbox, db_url, OLD_PASSPHRASE)
    monkeypatch.chdir(tmp_path)
    for key, value in _env(BOT_SECRET_KEY=new_secret_key(), DATABASE_URL=db_url).items():
        monkeypatch.setenv(key, value)
    before = Store(db_url).tokens.ciphertexts()
    assert main(["rotate-keys"]) == 1
    assert "re-encrypted 0 user token(s) with BOT_SECRET_KEY; 1 unreadable" in capsys.readouterr().out
    assert Store(db_url).tokens.ciphertexts() == before


# ---- private cards cannot be forwarded -------------------------------------------------------------------------
@pytest.fixture
def admin_chat(settings, sandbox, tmp_path):
    """郭芳 (head of HR) is an admin; 杨帆 has authorised the bot (for `me`)."""
    configured = settings.with_(admins=frozenset({sandbox.seed.person("guofang").open_id}),
                                database_url=f"sqlite:///{tmp_path / 'bot.db'}", secret_key=new_secret_key(),
                                public_url="http://bot.example.test")
    app = create_app(configured, executor=InlineExecutor(), clock=lambda: NOW)
    open_id = sandbox.seed.find_people(NAME)[0].open_id
    pair = sandbox.state.user_auth.issue_tokens(open_id)
    app.extensions["bot"].router.vault.save(open_id, TokenSet(pair["access_token"], pair["refresh_token"],
                                                              NOW + timedelta(hours=2), NOW + timedelta(days=30)))
    return Chat(app.test_client(), sandbox, configured)


def _forwardable(entry) -> bool:
    assert_valid_card(entry["content"])  # enable_forward is part of the card JSON 2.0 config
    return entry["content"]["config"]["enable_forward"]


@pytest.mark.parametrize(("who", "text", "title"), [
    ("郭芳", "花名册", "花名册"),
    ("郭芳", "考勤组 总部考勤组", "考勤组：总部考勤组"),
    ("王磊", "周报 立即", "王磊 的团队周报"),
    (NAME, "我", NAME),
])
def test_private_cards_cannot_be_forwarded(admin_chat, who, text, title):
    entries = [e for e in admin_chat.say(who, text) if card_title(e).startswith(title)]
    assert entries and not any(_forwardable(e) for e in entries)


@pytest.mark.parametrize(("text", "title"), [("help", "What I can do"), ("okr", "Lei Wang's OKRs")])
def test_public_cards_may_be_forwarded(admin_chat, text, title):
    [entry] = admin_chat.say("王磊", text)
    assert card_title(entry) == title and _forwardable(entry)
