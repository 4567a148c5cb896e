"""Group chats (im/v1): who owns and manages a group, and its members (every page)."""

from __future__ import annotations

from dataclasses import dataclass

from lark_oapi.api.im.v1 import GetChatMembersRequest, GetChatRequest

from bot.feishu.caller import ApiCaller
from bot.feishu.ratelimit import Limiter

MEMBERS_PAGE_SIZE = 100  # documented maximum


@dataclass(frozen=True, slots=True)
class ChatInfo:
    chat_id: str
    name: str
    owner_open_id: str
    manager_open_ids: tuple[str, ...] = ()

    def is_owner_or_manager(self, open_id: str) -> bool:
        return open_id == self.owner_open_id or open_id in self.manager_open_ids


class ChatClient:
    def __init__(self, caller: ApiCaller, *, limiter: Limiter) -> None:
        self._caller = caller
        self._api = caller.client.im.v1
        self._limiter = limiter

    def get_chat(self, chat_id: str) -> ChatInfo:
        request = GetChatRequest.builder().chat_id(chat_id).user_id_type("open_id").build()
        data = self._caller.call("im.chat.get", self._api.chat.get, request, limiter=self._limiter).data
        owner = (data.owner_id or "") if data and data.owner_id_type in (None, "open_id") else ""
        return ChatInfo(chat_id=chat_id, name=(data.name if data else "") or "", owner_open_id=owner,
                        manager_open_ids=tuple((data.user_manager_id_list if data else None) or ()))

    def list_member_ids(self, chat_id: str) -> tuple[str, ...]:
        """The open_ids of a group's members (people only; bots are not listed by Feishu)."""

        def build(page_token: str):
            builder = (GetChatMembersRequest.builder().chat_id(chat_id).member_id_type("open_id")
                       .page_size(MEMBERS_PAGE_SIZE))
            return (builder.page_token(page_token) if page_token else builder).build()

        members: list[str] = []
        for data in self._caller.pages("im.chat_members.get", self._api.chat_members.get, build,
                                       limiter=self._limiter):
            members.extend(m.member_id for m in data.items or () if m.member_id)
        return tuple(dict.fromkeys(members))
