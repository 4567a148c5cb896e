"""gunicorn settings for the Procfile's web line (`gunicorn -c python:bot.gunicorn_config 'bot.wsgi:app'`):
check the settings once in the master, before any worker is forked, so a webhook that would check nothing
(no FEISHU_VERIFICATION_TOKEN) or an unusable setting stops gunicorn with exit code 2 and one clear line."""

from __future__ import annotations

import sys


def on_starting(_server) -> None:
    from bot.settings import ConfigError, Settings
    from bot.transports.webhook import check_webhook_settings

    try:
        check_webhook_settings(Settings.from_env())
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr, flush=True)
        sys.exit(2)
