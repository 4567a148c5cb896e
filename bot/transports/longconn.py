"""The long-connection transport (`python -m bot longconn`): lark-oapi's ws.Client with the same dispatcher as
the webhook, for a deployment without a public URL. The client asks FEISHU_DOMAIN/callback/ws/endpoint where
to connect, authenticates with the app's id and secret, and reconnects by itself; events arrive already
trusted, so the dispatcher gets no verification token or encrypt key. No Flask app is built."""

from __future__ import annotations

import lark_oapi as lark
from lark_oapi.ws.exception import ClientException

from bot.app import Bot
from bot.settings import ConfigError
from bot.transports.lark_events import build_dispatcher


def build_client(bot: Bot) -> lark.ws.Client:
    settings = bot.settings
    dispatcher = build_dispatcher(settings.with_(encrypt_key="", verification_token=""), bot.pipeline)
    return lark.ws.Client(settings.app_id, settings.app_secret, event_handler=dispatcher, domain=settings.domain,
                          log_level=lark.LogLevel.INFO)


def run_longconn(bot: Bot) -> None:
    """Start the bot and receive events until the process ends (the client's loop blocks)."""
    client = build_client(bot)
    bot.start()
    try:
        client.start()
    except ClientException as exc:  # Feishu refused the app (wrong id or secret, long connection not enabled)
        raise ConfigError(
            f"Feishu refused the long connection ({exc}). Check FEISHU_APP_ID and FEISHU_APP_SECRET (developer "
            "console → Credentials & Basic Info), and that Events & Callbacks is set to receive events through a "
            "persistent connection (使用长连接接收事件/回调).") from exc
    finally:
        bot.stop()
