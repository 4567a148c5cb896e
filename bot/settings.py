"""Settings: one frozen value built from the environment, once, at start-up."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

DEFAULT_DOMAIN = "https://open.feishu.cn"
OKR_VISIBILITY_CHOICES = ("all", "team", "self")
REPLY_WORKER_CHOICES = ("inline", "separate")


class ConfigError(ValueError):
    """A required setting is missing or has a value we cannot use."""


def _load_dotenv(path: str = ".env") -> dict[str, str]:
    """Read KEY=VALUE lines from a .env file, if there is one (no interpolation)."""
    values: dict[str, str] = {}
    if not os.path.isfile(path):
        return values
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{key} must be a number, got {raw!r}") from exc


SECRET_KEY_MIN_BYTES = 32  # BOT_SECRET_KEY carries at least this many random bytes
_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+=*")


def new_secret_key() -> str:
    """A fresh BOT_SECRET_KEY: a Fernet key (URL-safe base64 of 32 random bytes), as `python -m bot secret-key`
    prints it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key_material(value: str, *, name: str = "BOT_SECRET_KEY") -> tuple[bytes, bool]:
    """The random bytes a secret key carries and whether it is a Fernet key (used as is); ConfigError, naming
    `name` and never echoing the value, for anything that is not a Fernet key, 64+ hex characters or padded
    base64 of 32+ bytes. Bytes repeating a few values ("000…", "abab…") are refused too: they are not random."""
    text = value.strip()
    raw: bytes | None = None
    if _HEX.fullmatch(text):  # hex only counts as hex: 48 hex characters are 24 bytes, whatever base64 says
        raw = bytes.fromhex(text) if len(text) % 2 == 0 else None
    elif _BASE64.fullmatch(text) and len(text) % 4 == 0:
        try:
            raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < SECRET_KEY_MIN_BYTES or len(set(raw)) < SECRET_KEY_MIN_BYTES // 2:
        raise ConfigError(
            f"{name} must be a strong random key: a Fernet key, or at least {SECRET_KEY_MIN_BYTES} random bytes as "
            f"{2 * SECRET_KEY_MIN_BYTES}+ hex characters or base64 (a passphrase is refused). Generate one with "
            "`python -m bot secret-key`. Tokens stored under an earlier key stay readable while that key is listed "
            "in BOT_SECRET_KEY_PREVIOUS; `python -m bot rotate-keys` then re-encrypts them with the new key."
        )
    is_fernet = len(raw) == 32 and len(text) == 44 and "+" not in text and "/" not in text
    return raw, is_fernet


DEDUP_TTL = 12 * 3600.0  # seconds an event id / message id is remembered (Feishu retries for ~7 h)


@dataclass(frozen=True, slots=True)
class Settings:
    app_id: str
    app_secret: str
    verification_token: str = ""
    encrypt_key: str = ""
    domain: str = DEFAULT_DOMAIN
    database_url: str = "sqlite:///bot.db"
    redis_url: str = ""
    admins: frozenset[str] = field(default_factory=frozenset)
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_cn"
    okr_visibility: str = "all"
    # People authorise the bot to act as them (user token). Tokens are encrypted with a key derived
    # from secret_key; public_url is where Feishu sends people back (`{public_url}/oauth/callback`).
    secret_key: str = ""
    # Earlier keys (BOT_SECRET_KEY_PREVIOUS, comma-separated, any strength): decrypt only, until rotate-keys.
    secret_key_previous: tuple[str, ...] = ()
    public_url: str = ""
    workers: int = 8
    http_timeout: float = 10.0
    # Scales every client-side rate limit (1.0 = Feishu's documented limits). The demo and
    # benchmarks use a larger value together with a sandbox scaled the same way.
    rate_limit_scale: float = 1.0
    retry_attempts: int = 4
    retry_base_delay: float = 0.5
    retry_max_delay: float = 30.0
    directory_ttl: float = 600.0
    # People each process keeps in memory, per cache (lookups by id, fresh user reads, departments);
    # the whole directory and roster live in the database (DATABASE_URL), so memory does not grow
    # with the company.
    people_cache_size: int = 2_000
    okr_ttl: float = 120.0
    roster_ttl: float = 600.0
    # Feishu waits 3 s for a card callback's answer; past this budget we answer with a toast and
    # update the card later with the callback's delayed-update token.
    callback_budget: float = 2.0
    dedup_ttl: float = DEDUP_TTL
    dedup_max_keys: int = 100_000
    # Where replies are worked out and sent: "inline" on the web process's thread pool, or "separate":
    # the web process only records messages and `python -m bot worker` takes them from the inbox table.
    reply_worker: str = "inline"
    worker_poll_interval: float = 0.1  # seconds between looks at the inbox table when it was empty
    claim_timeout: float = 60.0  # a claim not renewed for this long is stale (its worker died): re-taken
    # `python -m bot worker` lowers its CPU priority by this much (os.nice): on a machine it shares with the
    # web process, acknowledging within Feishu's 3 s goes first; replies, which have no deadline, take what is left.
    worker_nice: int = 5
    worker_id: str = ""  # names this worker's claims; a stable id lets a restarted worker re-take its own at once
    # Answered messages (what people wrote) are deleted from the inbox table after this many seconds.
    # At least the dedup window: the inbox row is also what refuses a message delivered again.
    inbox_retention: float = 7 * 86400.0
    # Quota guards: a subscription fires at most once per this many minutes; a group holds at most this many
    # active reminders; `remind run` (per group) and `digest now` (per person) at most once per cool-down.
    min_schedule_minutes: float = 60.0
    max_group_reminders: int = 5
    run_cooldown_minutes: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        if env is None:
            env = {**_load_dotenv(), **os.environ}
        missing = [key for key in ("FEISHU_APP_ID", "FEISHU_APP_SECRET") if not env.get(key)]
        if missing:
            raise ConfigError(
                "missing required setting(s): " + ", ".join(missing)
                + ". Set them in the environment or a .env file (see README, 'Configuration'),"
                " or run `python -m bot demo` to try the bot against the built-in sandbox."
            )
        visibility = env.get("OKR_VISIBILITY", "all").strip().lower() or "all"
        if visibility not in OKR_VISIBILITY_CHOICES:
            raise ConfigError(f"OKR_VISIBILITY must be one of {', '.join(OKR_VISIBILITY_CHOICES)}")
        domain = env.get("FEISHU_DOMAIN", "").strip().rstrip("/") or DEFAULT_DOMAIN
        workers = int(_float(env, "BOT_WORKERS", 8))
        reply_worker = env.get("BOT_REPLY_WORKER", "").strip().lower() or "inline"
        if reply_worker not in REPLY_WORKER_CHOICES:
            raise ConfigError(f"BOT_REPLY_WORKER must be one of {', '.join(REPLY_WORKER_CHOICES)}")
        retention_days = _float(env, "BOT_INBOX_RETENTION_DAYS", 7.0)
        if retention_days * 86400 < DEDUP_TTL:
            raise ConfigError(f"BOT_INBOX_RETENTION_DAYS must be at least {DEDUP_TTL / 86400:g} "
                              "(the dedup window: the inbox also refuses a message delivered again)")
        secret_key = env.get("BOT_SECRET_KEY", "")
        if secret_key.strip():
            secret_key_material(secret_key)  # refuses a weak key at start
        return cls(
            app_id=env["FEISHU_APP_ID"],
            app_secret=env["FEISHU_APP_SECRET"],
            verification_token=env.get("FEISHU_VERIFICATION_TOKEN", ""),
            encrypt_key=env.get("FEISHU_ENCRYPT_KEY", ""),
            domain=domain,
            database_url=env.get("DATABASE_URL", "").strip() or "sqlite:///bot.db",
            redis_url=env.get("REDIS_URL", "").strip(),
            admins=frozenset(a.strip() for a in env.get("BOT_ADMINS", "").split(",") if a.strip()),
            timezone=env.get("BOT_TIMEZONE", "").strip() or "Asia/Shanghai",
            default_locale="en_us" if env.get("BOT_LOCALE", "").lower().startswith("en") else "zh_cn",
            okr_visibility=visibility,
            secret_key=secret_key,
            secret_key_previous=tuple(k.strip() for k in env.get("BOT_SECRET_KEY_PREVIOUS", "").split(",")
                                      if k.strip()),
            public_url=env.get("BOT_PUBLIC_URL", "").strip().rstrip("/"),
            workers=max(1, workers),
            http_timeout=_float(env, "FEISHU_HTTP_TIMEOUT", 10.0),
            rate_limit_scale=_float(env, "FEISHU_RATE_LIMIT_SCALE", 1.0),
            reply_worker=reply_worker,
            worker_poll_interval=max(0.01, _float(env, "BOT_WORKER_POLL", 0.1)),
            claim_timeout=max(1.0, _float(env, "BOT_CLAIM_TIMEOUT", 60.0)),
            worker_nice=min(19, max(0, int(_float(env, "BOT_WORKER_NICE", 5)))),
            worker_id=env.get("BOT_WORKER_ID", "").strip()[:64],
            people_cache_size=max(1, int(_float(env, "PEOPLE_CACHE_SIZE", 2_000))),
            inbox_retention=retention_days * 86400,
            min_schedule_minutes=max(1.0, _float(env, "BOT_MIN_SCHEDULE_MINUTES", 60.0)),
            max_group_reminders=max(1, int(_float(env, "BOT_MAX_GROUP_REMINDERS", 5))),
            run_cooldown_minutes=max(0.0, _float(env, "BOT_RUN_COOLDOWN_MINUTES", 10.0)),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)
