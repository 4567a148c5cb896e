"""The web app for gunicorn (the Procfile's web line: `gunicorn -c python:bot.gunicorn_config 'bot.wsgi:app'`),
built from the environment.

A webhook without a verification token is refused before gunicorn forks (bot/gunicorn_config.py, exit
code 2); started without that config, a worker that finds the settings unusable exits with gunicorn's
boot-error code, which stops gunicorn instead of restarting the worker for ever.

Once the app is built, `gc.freeze()` moves everything start-up made (lark-oapi's many modules and
models, the app, the clients) out of the garbage collector's view. Without it, every few thousand
requests a full collection walks all of those objects while holding the interpreter lock: a pause of
about 0.4 s for every request in flight, which was the webhook's p99 under load.
"""

from __future__ import annotations

import gc
import logging
import sys

from bot.settings import ConfigError, Settings
from bot.transports.webhook import check_webhook_settings, create_app

WORKER_BOOT_ERROR = 3  # gunicorn halts (rather than respawning) when a worker exits with this code


def build_app():
    settings = Settings.from_env()
    for warning in check_webhook_settings(settings):
        logging.getLogger("bot").warning(warning)
    return create_app(settings)


try:
    app = build_app()
except ConfigError as exc:
    print(f"configuration error: {exc}", file=sys.stderr, flush=True)
    sys.exit(WORKER_BOOT_ERROR)
gc.freeze()
