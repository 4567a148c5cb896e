"""Calls made as a person (user access token): OAuth code exchange and refresh, who am I, user search,
users as that person may see them, updating one's own profile.

lark-oapi only honours a per-request user token on a client built with `enable_set_token(True)`, and
`/search/v1/user` is not in its typed API, so search goes through its raw request (FEISHU_FACTS §6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import lark_oapi as lark
from lark_oapi.api.authen.v1 import (
    CreateOidcAccessTokenRequest,
    CreateOidcAccessTokenRequestBody,
    CreateOidcRefreshAccessTokenRequest,
    CreateOidcRefreshAccessTokenRequestBody,
    GetUserInfoRequest,
)
from lark_oapi.api.contact.v3 import GetUserRequest, PatchUserRequest, User
from lark_oapi.core.enum import AccessTokenType, HttpMethod
from lark_oapi.core.model import BaseRequest, RequestOption

from bot.feishu.caller import ApiCaller
from bot.feishu.contact import to_person
from bot.feishu.errors import FeishuApiError
from bot.feishu.ratelimit import Limiter
from bot.models import Person

SEARCH_PAGE_SIZE = 50  # the contract's maximum
SEARCH_CAP = 100  # results read per search, at most
EDITABLE_FIELDS = ("city",)  # what a person may change about themselves here


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime
    refresh_expires_at: datetime


def _as_user(token: str) -> RequestOption:
    return RequestOption.builder().user_access_token(token).build()


def _token_set(data: Any, now: datetime) -> TokenSet:
    if data is None or not data.access_token:
        raise FeishuApiError(-1, "no token in the answer", api="authen.oidc")
    return TokenSet(
        access_token=data.access_token, refresh_token=data.refresh_token or "",
        expires_at=now + timedelta(seconds=int(data.expires_in or 0)),
        refresh_expires_at=now + timedelta(seconds=int(data.refresh_expires_in or 0)),
    )


class UserApi:
    def __init__(self, caller: ApiCaller, *, domain: str, app_id: str, limiter: Limiter) -> None:
        self._caller = caller
        self._client: lark.Client = caller.client
        self._domain = domain
        self._app_id = app_id
        self._limiter = limiter

    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = urlencode({"app_id": self._app_id, "redirect_uri": redirect_uri, "state": state})
        return f"{self._domain}/open-apis/authen/v1/authorize?{query}"

    def exchange_code(self, code: str, *, now: datetime) -> TokenSet:
        body = CreateOidcAccessTokenRequestBody.builder().grant_type("authorization_code").code(code).build()
        request = CreateOidcAccessTokenRequest.builder().request_body(body).build()
        resp = self._caller.call("authen.oidc.access_token", self._client.authen.v1.oidc_access_token.create,
                                 request)
        return _token_set(resp.data, now)

    def refresh(self, refresh_token: str, *, now: datetime) -> TokenSet:
        body = (CreateOidcRefreshAccessTokenRequestBody.builder().grant_type("refresh_token")
                .refresh_token(refresh_token).build())
        request = CreateOidcRefreshAccessTokenRequest.builder().request_body(body).build()
        resp = self._caller.call("authen.oidc.refresh", self._client.authen.v1.oidc_refresh_access_token.create,
                                 request)
        return _token_set(resp.data, now)

    def whoami(self, token: str) -> tuple[str, str]:
        """(open_id, name) of the token's owner."""
        resp = self._caller.call("authen.user_info", self._client.authen.v1.user_info.get,
                                 GetUserInfoRequest.builder().build(), option=_as_user(token))
        data = resp.data
        return (data.open_id or "", data.name or "") if data else ("", "")

    def get_user(self, token: str, open_id: str) -> Person:
        """A user as the token's owner may see them (allow-listed fields)."""
        request = (GetUserRequest.builder().user_id(open_id).user_id_type("open_id")
                   .department_id_type("open_department_id").build())
        resp = self._caller.call("contact.user.get(user)", self._client.contact.v3.user.get, request,
                                 limiter=self._limiter, option=_as_user(token))
        return to_person(resp.data.user)

    def search(self, token: str, query: str, *, cap: int = SEARCH_CAP) -> list[tuple[str, str, tuple[str, ...]]]:
        """(open_id, name, department_ids) of the people matching `query` that the owner may see."""
        found: list[tuple[str, str, tuple[str, ...]]] = []
        page_token = ""
        while len(found) < cap:
            queries = [("query", query), ("page_size", str(SEARCH_PAGE_SIZE))]
            if page_token:
                queries.append(("page_token", page_token))
            request = (BaseRequest.builder().http_method(HttpMethod.GET).uri("/open-apis/search/v1/user")
                       .token_types({AccessTokenType.USER}).queries(queries).build())
            resp = self._caller.call("search.user", self._client.request, request, limiter=self._limiter,
                                     option=_as_user(token))
            data = json.loads(resp.raw.content).get("data") or {}
            for user in data.get("user_list") or data.get("users") or []:
                name = user.get("name")
                if isinstance(name, dict):
                    name = name.get("zh_cn") or name.get("en_us") or ""
                found.append((user.get("open_id") or user.get("user_id") or "", str(name or ""),
                              tuple(user.get("department_ids") or ())))
            page_token = data.get("page_token") or ""
            if not (data.get("has_more") and page_token):
                break
        return found[:cap]

    def update_me(self, token: str, open_id: str, field: str, value: str) -> None:
        if field not in EDITABLE_FIELDS:
            raise ValueError(f"{field} cannot be changed here")
        user = User.builder().city(value).build()
        request = (PatchUserRequest.builder().user_id(open_id).user_id_type("open_id")
                   .department_id_type("open_department_id").request_body(user).build())
        self._caller.call("contact.user.patch(user)", self._client.contact.v3.user.patch, request,
                          limiter=self._limiter, option=_as_user(token))
