"""The app's scopes (应用身份权限): which the tenant granted, and Feishu's refusal when an API needs one it lacks.

Every scope is granted unless withheld (`withhold`), so that `python -m bot doctor` and the bot's error cards can be
driven against an app whose admin has not enabled, say, `ehr:employee:readonly`. Feishu answers a tenant-token call
to an API none of whose scopes the app has with HTTP 400, code 99991672 and a message naming the scopes, any one of
which would do, with the console link to enable them (open.feishu.cn troubleshooting, "99991672").

The table lists, for the APIs the sandbox serves, the scopes Feishu's API pages document (any one suffices).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

ACCESS_DENIED = 99991672

_TABLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("POST", r"/open-apis/im/v1/messages(/[^/]+/reply)?", ("im:message:send_as_bot", "im:message")),
    ("GET", r"/open-apis/im/v1/chats(/[^/]+)?", ("im:chat:readonly", "im:chat")),
    ("GET", r"/open-apis/im/v1/chats/[^/]+/members", ("im:chat:readonly", "im:chat.members:read", "im:chat")),
    ("GET", r"/open-apis/contact/v3/users/find_by_department", ("contact:user.base:readonly",
                                                               "contact:contact.base:readonly")),
    ("GET", r"/open-apis/contact/v3/users/[^/]+", ("contact:user.base:readonly",)),
    ("GET", r"/open-apis/contact/v3/departments/[^/]+(/children)?", ("contact:department.base:readonly",)),
    ("GET", r"/open-apis/okr/v1/(periods|users/[^/]+/okrs)", ("okr:okr:readonly", "okr:okr")),
    ("POST", r"/open-apis/okr/v1/progress_records", ("okr:okr", "okr:okr.progress:writeonly")),
    ("PUT", r"/open-apis/okr/v1/progress_records/[^/]+", ("okr:okr", "okr:okr.progress:writeonly")),
    ("GET", r"/open-apis/okr/v1/progress_records/[^/]+", ("okr:okr:readonly", "okr:okr.progress:readonly",
                                                         "okr:okr")),
    ("DELETE", r"/open-apis/okr/v1/progress_records/[^/]+", ("okr:okr", "okr:okr.progress:delete")),
    ("GET", r"/open-apis/ehr/v1/employees", ("ehr:employee:readonly",)),
    ("GET", r"/open-apis/attendance/v1/groups(/[^/]+(/list_user)?)?", ("attendance:rule:readonly", "attendance:rule")),
    ("POST", r"/open-apis/attendance/v1/groups/search", ("attendance:rule:readonly", "attendance:rule")),
    ("POST", r"/open-apis/attendance/v1/(user_tasks|user_approvals)/query", ("attendance:task:readonly",)),
)
_COMPILED = tuple((method, re.compile(path + "$"), scopes) for method, path, scopes in _TABLE)


class AppScopes:
    """The scopes withheld from the app (thread-safe); everything else is granted."""

    def __init__(self, withheld: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._withheld: set[str] = set(withheld)

    def withhold(self, scopes: Iterable[str]) -> None:
        with self._lock:
            self._withheld.update(scopes)

    def grant_all(self) -> None:
        with self._lock:
            self._withheld.clear()

    @property
    def withheld(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._withheld)

    def missing(self, method: str, path: str) -> tuple[str, ...]:
        """The scopes the API needs (any one) when the app has none of them; () when it may call it."""
        for wanted_method, pattern, scopes in _COMPILED:
            if wanted_method == method.upper() and pattern.match(path):
                with self._lock:
                    return () if any(s not in self._withheld for s in scopes) else scopes
        return ()


def refusal_message(app_id: str, scopes: tuple[str, ...]) -> str:
    listed = ", ".join(scopes)
    return (f"Access denied. One of the following scopes is required: [{listed}].应用尚未开通所需的应用身份权限："
            f"[{listed}]，点击链接申请并开通任一权限即可：https://open.feishu.cn/app/{app_id}/auth?q={','.join(scopes)}"
            "&op_from=openapi&token_type=tenant")
