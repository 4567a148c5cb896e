"""Which Open Platform API the bot calls, which scope each needs, and what breaks without it.

The README's scope table is this list; `tests/test_scopes.py` takes the bot through every command and
checks that each request the sandbox saw is one of these, that each of these was called, and that the
README names every scope here exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiScope:
    method: str
    path: str  # as in Feishu's docs, `:name` for a path parameter
    scopes: tuple[str, ...]  # the scope to enable (first); any one of these suffices. () = none needed
    needed_by: str  # the commands or features that break without it
    token: str = "tenant"  # "tenant", "user" (the person's own token after `login`) or "app"
    field_scopes: tuple[str, ...] = ()  # scopes for fields the bot reads, returned only when enabled

    def matches(self, method: str, path: str) -> bool:
        pattern = "^" + re.sub(r":[a-z_]+", "[^/]+", self.path) + "$"
        return method.upper() == self.method and re.match(pattern, path.split("?")[0]) is not None


SCOPES: tuple[ApiScope, ...] = (
    ApiScope("POST", "/open-apis/auth/v3/tenant_access_token/internal", (), "everything (App ID and Secret)",
             token="app"),
    ApiScope("POST", "/open-apis/auth/v3/app_access_token/internal", (), "login (exchanging the code)",
             token="app"),
    ApiScope("GET", "/open-apis/bot/v3/info", (), "telling whether a group message @-mentions the bot "
             "(the Bot ability must be on)"),
    ApiScope("POST", "/open-apis/im/v1/messages", ("im:message:send_as_bot", "im:message"),
             "private answers, digests, reminders, nudges, greetings"),
    ApiScope("POST", "/open-apis/im/v1/messages/:message_id/reply", ("im:message:send_as_bot", "im:message"),
             "every answer to a command"),
    ApiScope("POST", "/open-apis/interactive/v1/card/update", (),
             "slow card buttons (the callback's own token updates the card)"),
    ApiScope("GET", "/open-apis/im/v1/chats/:chat_id", ("im:chat:readonly", "im:chat"),
             "remind (who owns and manages the group), okr @someone in a group"),
    ApiScope("GET", "/open-apis/im/v1/chats", ("im:chat:readonly", "im:chat"),
             "python -m bot doctor (one page of the bot's groups, to check this scope)"),
    ApiScope("GET", "/open-apis/im/v1/chats/:chat_id/members",
             ("im:chat:readonly", "im:chat.members:read", "im:chat"), "group reminders (who is in the group)"),
    ApiScope("GET", "/open-apis/contact/v3/users/:user_id", ("contact:user.base:readonly",),
             "whois, team, okr, digests (a person's name and department)",
             field_scopes=("contact:user.department:readonly", "contact:user.employee:readonly",
                           "contact:user.email:readonly", "contact:user.employee_id:readonly")),
    ApiScope("GET", "/open-apis/contact/v3/users/find_by_department",
             ("contact:user.base:readonly", "contact:contact.base:readonly"),
             "the directory: whois by name, team, managers and their reports (roster, attendance, digests)",
             field_scopes=("contact:user.department:readonly", "contact:user.employee:readonly",
                           "contact:user.email:readonly", "contact:user.employee_id:readonly")),
    ApiScope("GET", "/open-apis/contact/v3/departments/:department_id", ("contact:department.base:readonly",),
             "team, roster dept, the directory"),
    ApiScope("GET", "/open-apis/contact/v3/departments/:department_id/children",
             ("contact:department.base:readonly",), "the directory (walking every department)"),
    ApiScope("GET", "/open-apis/okr/v1/periods", ("okr:okr:readonly", "okr:okr"), "okr, reminders, digests"),
    ApiScope("GET", "/open-apis/okr/v1/users/:user_id/okrs", ("okr:okr:readonly", "okr:okr"),
             "okr, reminders, digests"),
    ApiScope("POST", "/open-apis/okr/v1/progress_records", ("okr:okr.progress:writeonly", "okr:okr"),
             "progress (check-ins by text and by the update form)"),
    ApiScope("GET", "/open-apis/ehr/v1/employees", ("ehr:employee:readonly",),
             "roster, reminders (who is leaving), digests (roster changes)",
             field_scopes=("contact:user.employee_id:readonly",)),
    ApiScope("GET", "/open-apis/attendance/v1/groups", ("attendance:rule:readonly", "attendance:rule"),
             "attendance, digests (reports in no attendance group)"),
    ApiScope("POST", "/open-apis/attendance/v1/groups/search", ("attendance:rule:readonly", "attendance:rule"),
             "attendance <group name>"),
    ApiScope("GET", "/open-apis/attendance/v1/groups/:group_id", ("attendance:rule:readonly", "attendance:rule"),
             "attendance <group id>"),
    ApiScope("GET", "/open-apis/attendance/v1/groups/:group_id/list_user",
             ("attendance:rule:readonly", "attendance:rule"), "attendance, digests"),
    ApiScope("POST", "/open-apis/attendance/v1/user_tasks/query", ("attendance:task:readonly",),
             "attendance … today (punch results)"),
    ApiScope("POST", "/open-apis/attendance/v1/user_approvals/query", ("attendance:task:readonly",),
             "reminders (who is on approved leave that day)"),
    ApiScope("POST", "/open-apis/authen/v1/oidc/access_token", (), "login", token="app"),
    ApiScope("POST", "/open-apis/authen/v1/oidc/refresh_access_token", (), "keeping a login alive", token="app"),
    ApiScope("GET", "/open-apis/authen/v1/user_info", (), "login (who approved)", token="user"),
    ApiScope("GET", "/open-apis/search/v1/user", ("contact:user:search",), "whois after login", token="user"),
    ApiScope("GET", "/open-apis/contact/v3/users/:user_id", ("contact:user.base:readonly",), "me", token="user"),
    ApiScope("PATCH", "/open-apis/contact/v3/users/:user_id", ("contact:user.base",), "me set city", token="user"),
)


def scope_for(method: str, path: str) -> ApiScope | None:
    """The entry that covers one request (path with or without its query string)."""
    return next((entry for entry in SCOPES if entry.matches(method, path)), None)


def required_scopes() -> tuple[str, ...]:
    """Every scope to enable, in order, each once (the first of each entry, then field scopes)."""
    wanted: list[str] = []
    for entry in SCOPES:
        wanted.extend(entry.scopes[:1])
        wanted.extend(entry.field_scopes)
    return tuple(dict.fromkeys(wanted))
