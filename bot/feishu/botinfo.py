"""The bot's own identity (open_id, name), fetched once from /bot/v3/info."""

from __future__ import annotations

import json
import threading

from lark_oapi.core.enum import AccessTokenType, HttpMethod
from lark_oapi.core.model import BaseRequest

from bot.feishu.caller import ApiCaller
from bot.feishu.errors import FeishuApiError


class BotInfo:
    def __init__(self, caller: ApiCaller) -> None:
        self._caller = caller
        self._lock = threading.Lock()
        self._open_id = ""
        self._name = ""

    def _load(self) -> None:
        request = (
            BaseRequest.builder().http_method(HttpMethod.GET).uri("/open-apis/bot/v3/info")
            .token_types({AccessTokenType.TENANT}).build()
        )
        resp = self._caller.call("bot.info", self._caller.client.request, request)
        try:
            bot = json.loads(resp.raw.content).get("bot") or {}
        except (AttributeError, ValueError, TypeError) as exc:
            raise FeishuApiError(-1, "bot info: unreadable answer", api="bot.info") from exc
        if not bot.get("open_id"):
            raise FeishuApiError(-1, "bot info: no open_id (is the bot ability enabled?)", api="bot.info")
        self._open_id = bot["open_id"]
        self._name = bot.get("app_name") or ""

    def open_id(self) -> str:
        with self._lock:
            if not self._open_id:
                self._load()
            return self._open_id

    def name(self) -> str:
        self.open_id()
        return self._name
