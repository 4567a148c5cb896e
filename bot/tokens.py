"""People's user access tokens: encrypted at rest, refreshed before they expire, deleted on logout or
when a refresh fails; and the authorisation links' `state`, bound to one person, short-lived, single use.

Keys: BOT_SECRET_KEY is a Fernet key (used as is) or 32+ random bytes (HKDF-SHA256 turns them into one).
Earlier keys (BOT_SECRET_KEY_PREVIOUS) and the old derivation (one SHA-256 of a fixed prefix and the key, which
releases up to this one used) only decrypt, so stored tokens stay readable until `python -m bot rotate-keys`
re-encrypts them with the current key."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.db import checkpoint
from bot.feishu.errors import FeishuApiError
from bot.feishu.user_api import TokenSet, UserApi
from bot.settings import ConfigError, secret_key_material
from bot.store import Store

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
REFRESH_AHEAD = timedelta(minutes=5)  # refresh a token this long before it expires


HKDF_INFO = b"okr-bot user tokens v2"


def fernet_for(secret_key: str) -> Fernet:
    """The Fernet that encrypts with a strong BOT_SECRET_KEY: a Fernet key as is, other random bytes through
    HKDF-SHA256. ConfigError for a weak key."""
    material, is_fernet = secret_key_material(secret_key)
    if is_fernet:
        return Fernet(secret_key.strip())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(derived))


def legacy_fernet_for(secret_key: str) -> Fernet:
    """The old derivation (one SHA-256 of a fixed prefix and the key, any passphrase): decryption only."""
    digest = hashlib.sha256(("okr-bot user tokens:" + secret_key).encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def token_cipher(secret_key: str, previous: tuple[str, ...] = ()) -> MultiFernet:
    """Encrypts with the current key; decrypts with it, then with the old derivation of it (tokens stored
    before this release under the same key), then with each earlier key both ways."""
    keys = [fernet_for(secret_key), legacy_fernet_for(secret_key)]
    for old in previous:
        try:
            keys.append(fernet_for(old))
        except ConfigError:  # a weak earlier key only ever had the old derivation
            pass
        keys.append(legacy_fernet_for(old))
    return MultiFernet(keys)


def rotate_tokens(store: Store, *, secret_key: str, previous: tuple[str, ...] = ()) -> tuple[int, int]:
    """Re-encrypt every stored user token with the current key; (re-encrypted, unreadable). An unreadable token
    (its key is in neither BOT_SECRET_KEY nor BOT_SECRET_KEY_PREVIOUS) is left as it is and counted; a token
    refreshed meanwhile by a running bot is already under the current key and is left alone."""
    cipher = token_cipher(secret_key, previous)
    rotated = unreadable = 0
    for open_id, ciphertext in store.tokens.ciphertexts():
        try:
            fresh = cipher.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            log.warning("stored token of %s cannot be decrypted with any configured key; left as it is", open_id)
            unreadable += 1
            continue
        if store.tokens.replace_ciphertext(open_id, old=ciphertext, new=fresh):
            rotated += 1
    if rotated:
        checkpoint(store.engine)  # no copy under the old key stays in the SQLite log
    return rotated, unreadable


class TokenVault:
    def __init__(self, store: Store, users: UserApi, *, secret_key: str, previous_keys: tuple[str, ...] = ()) -> None:
        if not secret_key:
            raise ValueError("BOT_SECRET_KEY is needed to store user tokens")
        self._store = store
        self._users = users
        self._fernet = token_cipher(secret_key, previous_keys)

    # -- authorisation links ------------------------------------------------------------------------------
    def new_state(self, open_id: str, *, now: datetime) -> str:
        state = secrets.token_urlsafe(24)
        self._store.tokens.add_oauth_state(state, open_id, expires_at=now + STATE_TTL)
        return state

    def use_state(self, state: str, *, now: datetime) -> str | None:
        return self._store.tokens.use_oauth_state(state, at=now) if state else None

    # -- tokens -------------------------------------------------------------------------------------------
    def save(self, open_id: str, tokens: TokenSet) -> None:
        secret = json.dumps({"access": tokens.access_token, "refresh": tokens.refresh_token}).encode("utf-8")
        self._store.tokens.save(open_id, self._fernet.encrypt(secret).decode("ascii"),
                                    expires_at=tokens.expires_at, refresh_expires_at=tokens.refresh_expires_at)

    def forget(self, open_id: str) -> bool:
        """`logout`: delete the person's token here. Feishu has no endpoint that revokes a user access or refresh
        token (its authen API only issues and refreshes them), so deleting our only copy is what ends it: the
        row is overwritten (secure_delete) and the SQLite log emptied, so the file keeps no old copy."""
        deleted = self._store.tokens.delete(open_id)
        if deleted:
            checkpoint(self._store.engine)
        return deleted

    def has_token(self, open_id: str) -> bool:
        return self._store.tokens.get(open_id) is not None

    def access_token(self, open_id: str, *, now: datetime) -> str | None:
        """A valid access token for this person, refreshed first when it is about to expire; None when
        they have not authorised, or the refresh failed (the stored token is then deleted).

        Several processes may refresh the same token at once. Feishu takes a refresh token once, so the
        loser's refresh fails: it then uses the token the winner stored, and deletes the stored token only
        if nobody replaced it meanwhile (never the winner's)."""
        row = self._store.tokens.get(open_id)
        if row is None:
            return None
        ciphertext, expires_at, refresh_expires_at = row
        secret = self._decrypt(open_id, ciphertext)
        if secret is None:
            return None
        if expires_at - REFRESH_AHEAD > now:
            return str(secret["access"])
        if refresh_expires_at <= now or not secret.get("refresh"):
            log.info("token of %s expired and cannot be refreshed; deleted", open_id)
            self._store.tokens.delete(open_id, only_if=ciphertext)
            return None
        try:
            fresh = self._users.refresh(str(secret["refresh"]), now=now)
        except FeishuApiError as exc:
            return self._after_failed_refresh(open_id, ciphertext, exc, now=now)
        self.save(open_id, fresh)
        return fresh.access_token

    def _after_failed_refresh(self, open_id: str, ciphertext: str, exc: FeishuApiError, *,
                              now: datetime) -> str | None:
        row = self._store.tokens.get(open_id)
        if row is not None and row[0] != ciphertext:  # another process refreshed it first
            secret = self._decrypt(open_id, row[0])
            if secret is not None and row[1] > now:
                log.info("token of %s was refreshed by another process; using that one", open_id)
                return str(secret["access"])
        if self._store.tokens.delete(open_id, only_if=ciphertext):
            log.warning("refreshing the token of %s failed (%s); deleted", open_id, exc)
        return None

    def _decrypt(self, open_id: str, ciphertext: str) -> dict | None:
        try:
            return json.loads(self._fernet.decrypt(ciphertext.encode("ascii")))
        except (InvalidToken, ValueError):
            log.warning("stored token of %s cannot be decrypted (BOT_SECRET_KEY changed without listing the old "
                        "key in BOT_SECRET_KEY_PREVIOUS?); deleted", open_id)
            self._store.tokens.delete(open_id, only_if=ciphertext)
            return None
