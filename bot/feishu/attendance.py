"""Attendance API (attendance/v1): groups, their members, punch results. 50 requests/second, cached.

Attendance names people by employee_id (the tenant's user_id), never by open_id; callers map the ids
through the contact API. Only group ids and names, member ids, department ids, clock types and the
day's check-in/check-out results leave this module: punch locations, photos, times and approval
reasons never reach a model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from cachetools import TTLCache
from lark_oapi.api.attendance.v1 import (
    GetGroupRequest,
    ListGroupRequest,
    ListUserGroupRequest,
    QueryUserApprovalRequest,
    QueryUserApprovalRequestBody,
    QueryUserTaskRequest,
    QueryUserTaskRequestBody,
    SearchGroupRequest,
    SearchGroupRequestBody,
)

from bot.feishu.caller import ApiCaller
from bot.feishu.errors import FeishuApiError
from bot.feishu.ratelimit import Limiter
from bot.models import AttendanceGroup, AttendanceMember, PunchResult

PAGE_SIZE = 50  # documented maximum for groups and list_user
TASK_BATCH = 50  # user_tasks/query takes at most 50 user_ids per request
EMPLOYEE_TYPE = "employee_id"  # = the contact API's user_id
MUST_CLOCK, NO_NEED_TO_CLOCK = 1, 2  # list_user's member_clock_type
INVALID_PARAMETER = 1220001  # what get answers for a group id that does not exist


def to_group(meta: Any) -> AttendanceGroup:
    """SDK GroupMeta (or Group) -> AttendanceGroup."""
    return AttendanceGroup(group_id=str(meta.group_id or ""), name=meta.group_name or "")


def to_member(user: Any, *, must_clock: bool) -> AttendanceMember:
    """SDK UserBase -> AttendanceMember; department_ids run from the direct department to the root."""
    return AttendanceMember(
        employee_id=user.user_id or "",
        department_ids=tuple(d for d in user.department_ids or () if d),
        must_clock=must_clock,
    )


def to_day(value: Any) -> date | None:
    """Feishu's yyyyMMdd integer -> date."""
    try:
        number = int(value)
        return date(number // 10000, number // 100 % 100, number % 100)
    except (TypeError, ValueError):
        return None


def to_yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def to_punch_results(task: Any) -> tuple[PunchResult, ...]:
    """SDK UserTask -> one PunchResult per shift record of that day (usually one)."""
    day = to_day(task.day)
    if day is None or not task.user_id:
        return ()
    return tuple(
        PunchResult(employee_id=task.user_id, day=day, check_in=record.check_in_result or "",
                    check_out=record.check_out_result or "")
        for record in task.records or ()
    )


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class AttendanceClient:
    """Groups (list, search by name, get by id), group members (list_user), punch results (user_tasks)."""

    def __init__(self, caller: ApiCaller, *, limiter: Limiter, ttl: float = 600.0,
                 task_ttl: float = 60.0, timer: Callable[[], float] | None = None) -> None:
        self._caller = caller
        self._api = caller.client.attendance.v1
        self._limiter = limiter
        kwargs = {"timer": timer} if timer else {}
        self._group_cache: TTLCache[str, Any] = TTLCache(maxsize=1_000, ttl=ttl, **kwargs)
        self._member_cache: TTLCache[str, tuple[AttendanceMember, ...]] = TTLCache(maxsize=200, ttl=ttl, **kwargs)
        self._task_cache: TTLCache[tuple[str, int], tuple[PunchResult, ...]] = TTLCache(
            maxsize=20_000, ttl=task_ttl, **kwargs)
        self._group_lock = threading.Lock()
        self._member_lock = threading.Lock()
        self._task_lock = threading.Lock()

    # -- groups -----------------------------------------------------------------------------------
    def list_groups(self, *, fresh: bool = False) -> tuple[AttendanceGroup, ...]:
        """Every attendance group of the tenant, every page followed."""
        if not fresh:
            with self._group_lock:
                cached = self._group_cache.get("list:")
            if cached is not None:
                return cached
        def build(page_token: str):
            builder = ListGroupRequest.builder().page_size(PAGE_SIZE)
            return (builder.page_token(page_token) if page_token else builder).build()

        groups = [to_group(g) for data in self._caller.pages("attendance.group.list", self._api.group.list, build,
                                                             limiter=self._limiter)
                  for g in data.group_list or ()]
        result = tuple(groups)
        with self._group_lock:
            self._group_cache["list:"] = result
        return result

    def find_groups(self, name: str) -> tuple[AttendanceGroup, ...]:
        """Groups whose name contains `name` (Feishu answers at most 10; ~2 s behind edits)."""
        key = f"search:{name}"
        with self._group_lock:
            cached = self._group_cache.get(key)
        if cached is not None:
            return cached
        body = SearchGroupRequestBody.builder().group_name(name).exactly_matched(False).build()
        request = SearchGroupRequest.builder().request_body(body).build()
        resp = self._caller.call("attendance.group.search", self._api.group.search, request, limiter=self._limiter)
        result = tuple(to_group(g) for g in (resp.data.group_list if resp.data else None) or ())
        with self._group_lock:
            self._group_cache[key] = result
        return result

    def get_group(self, group_id: str) -> AttendanceGroup | None:
        """One group by id, or None when there is no such group."""
        key = f"id:{group_id}"
        with self._group_lock:
            cached = self._group_cache.get(key)
        if cached is not None:
            return cached
        request = (
            GetGroupRequest.builder().group_id(group_id).employee_type(EMPLOYEE_TYPE).dept_type("od").build()
        )
        try:
            resp = self._caller.call("attendance.group.get", self._api.group.get, request, limiter=self._limiter)
        except FeishuApiError as exc:
            if exc.code == INVALID_PARAMETER:
                return None
            raise
        if resp.data is None or not resp.data.group_id:
            return None
        group = to_group(resp.data)
        with self._group_lock:
            self._group_cache[key] = group
        return group

    # -- members ----------------------------------------------------------------------------------
    def list_members(self, group_id: str, *, fresh: bool = False) -> tuple[AttendanceMember, ...]:
        """Everyone in the group: those who must clock in, then those who need not, every page read."""
        if not fresh:
            with self._member_lock:
                cached = self._member_cache.get(group_id)
            if cached is not None:
                return cached
        members = (*self._list_users(group_id, MUST_CLOCK), *self._list_users(group_id, NO_NEED_TO_CLOCK))
        with self._member_lock:
            self._member_cache[group_id] = members
        return members

    def _list_users(self, group_id: str, clock_type: int) -> tuple[AttendanceMember, ...]:
        def build(page_token: str):
            builder = (
                ListUserGroupRequest.builder().group_id(group_id).employee_type(EMPLOYEE_TYPE).dept_type("open_id")
                .member_clock_type(clock_type).page_size(PAGE_SIZE)
            )
            return (builder.page_token(page_token) if page_token else builder).build()

        return tuple(
            to_member(u, must_clock=clock_type == MUST_CLOCK)
            for data in self._caller.pages("attendance.group.list_user", self._api.group.list_user, build,
                                           limiter=self._limiter)
            for u in data.users or () if u.user_id
        )

    # -- punch results ----------------------------------------------------------------------------
    def list_punch_results(self, employee_ids: Iterable[str], day: date, *,
                           fresh: bool = False) -> dict[str, tuple[PunchResult, ...]]:
        """Each person's check-in/check-out results for `day`, by employee_id (empty: no result).

        At most 50 user_ids go into one user_tasks/query request; results seen within `task_ttl`
        are reused.
        """
        number = to_yyyymmdd(day)
        wanted = list(dict.fromkeys(i for i in employee_ids if i))
        found: dict[str, tuple[PunchResult, ...]] = {}
        if not fresh:
            with self._task_lock:
                for employee_id in wanted:
                    cached = self._task_cache.get((employee_id, number))
                    if cached is not None:
                        found[employee_id] = cached
        missing = [i for i in wanted if i not in found]
        for batch in _batches(missing, TASK_BATCH):
            body = (
                QueryUserTaskRequestBody.builder().user_ids(batch).check_date_from(number).check_date_to(number)
                .build()
            )
            request = (
                QueryUserTaskRequest.builder().employee_type(EMPLOYEE_TYPE).ignore_invalid_users(True)
                .request_body(body).build()
            )
            resp = self._caller.call("attendance.user_task.query", self._api.user_task.query, request,
                                     limiter=self._limiter)
            results: dict[str, list[PunchResult]] = {i: [] for i in batch}
            for task in (resp.data.user_task_results if resp.data else None) or ():
                for punch in to_punch_results(task):
                    if punch.employee_id in results and punch.day == day:
                        results[punch.employee_id].append(punch)
            with self._task_lock:
                for employee_id, punches in results.items():
                    found[employee_id] = self._task_cache[(employee_id, number)] = tuple(punches)
        return {i: found[i] for i in wanted}

    # -- approvals --------------------------------------------------------------------------------
    def list_on_leave(self, employee_ids: Iterable[str], day: date) -> frozenset[str]:
        """Employee ids with an approved leave on `day` (user_approvals/query, ≤ 50 ids a request).
        Only the ids leave this method: leave types and reasons are never read."""
        number = to_yyyymmdd(day)
        on_leave: set[str] = set()
        for batch in _batches(list(dict.fromkeys(i for i in employee_ids if i)), TASK_BATCH):
            body = (
                QueryUserApprovalRequestBody.builder().user_ids(batch).check_date_from(number)
                .check_date_to(number).status(2).build()
            )
            request = QueryUserApprovalRequest.builder().employee_type(EMPLOYEE_TYPE).request_body(body).build()
            resp = self._caller.call("attendance.user_approval.query", self._api.user_approval.query, request,
                                     limiter=self._limiter)
            for approval in (resp.data.user_approvals if resp.data else None) or ():
                if approval.leaves and approval.user_id:
                    on_leave.add(approval.user_id)
        return frozenset(on_leave)
