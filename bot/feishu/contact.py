"""Contact API (tenant token): users, departments, and a searchable directory index."""

from __future__ import annotations

import functools
import logging
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from lark_oapi.api.contact.v3 import (
    ChildrenDepartmentRequest,
    FindByDepartmentUserRequest,
    GetDepartmentRequest,
    GetUserRequest,
)

from bot.feishu.caller import ApiCaller
from bot.feishu.errors import NotFound
from bot.feishu.ratelimit import Limiter
from bot.models import Department, Person

log = logging.getLogger(__name__)

ROOT_DEPARTMENT = "0"
PAGE_SIZE = 50  # documented maximum for find_by_department and department children


def to_person(user: Any) -> Person:
    """SDK `User` -> Person, copying only the allow-listed fields."""
    status = getattr(user, "status", None)
    inactive = bool(status and (status.is_resigned or status.is_exited or status.is_frozen))
    return Person(
        open_id=user.open_id or "",
        name=user.name or "",
        user_id=user.user_id or "",
        en_name=user.en_name or "",
        nickname=user.nickname or "",
        department_ids=tuple(user.department_ids or ()),
        job_title=user.job_title or "",
        city=user.city or "",
        email=user.enterprise_email or user.email or "",
        leader_open_id=user.leader_user_id or "",
        is_active=not inactive,
    )


def to_department(dept: Any) -> Department:
    i18n = getattr(dept, "i18n_name", None)
    return Department(
        open_department_id=dept.open_department_id or "",
        name=dept.name or "",
        en_name=(i18n.en_us if i18n else "") or "",
        parent_id=dept.parent_department_id or "",
        leader_open_id=dept.leader_user_id or "",
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


@dataclass(frozen=True)
class Directory:
    """Everyone the app can see, indexed by id, by manager and for name search."""

    people: tuple[Person, ...]
    departments: tuple[Department, ...]

    @functools.cached_property
    def _by_open_id(self) -> dict[str, Person]:
        return {p.open_id: p for p in self.people}

    @functools.cached_property
    def _by_user_id(self) -> dict[str, Person]:
        return {p.user_id: p for p in self.people if p.user_id}

    @functools.cached_property
    def _reports(self) -> dict[str, tuple[Person, ...]]:
        reports: dict[str, list[Person]] = {}
        for p in self.people:
            if p.leader_open_id:
                reports.setdefault(p.leader_open_id, []).append(p)
        return {k: tuple(v) for k, v in reports.items()}

    def person(self, open_id: str) -> Person | None:
        return self._by_open_id.get(open_id)

    def person_by_user_id(self, user_id: str) -> Person | None:
        return self._by_user_id.get(user_id)

    def department(self, open_department_id: str) -> Department | None:
        return next((d for d in self.departments if d.open_department_id == open_department_id), None)

    def direct_reports(self, open_id: str) -> tuple[Person, ...]:
        return self._reports.get(open_id, ())

    def all_reports(self, open_id: str) -> tuple[Person, ...]:
        """Direct and indirect reports, breadth first (a cycle in bad data cannot loop)."""
        seen: dict[str, Person] = {}
        queue = list(self.direct_reports(open_id))
        while queue:
            person = queue.pop(0)
            if person.open_id in seen or person.open_id == open_id:
                continue
            seen[person.open_id] = person
            queue.extend(self.direct_reports(person.open_id))
        return tuple(seen.values())

    def manager_chain(self, open_id: str) -> tuple[str, ...]:
        """The open_ids of this person's manager, their manager, … up to the top."""
        chain: list[str] = []
        person = self.person(open_id)
        while person is not None and person.leader_open_id and person.leader_open_id not in chain:
            chain.append(person.leader_open_id)
            person = self.person(person.leader_open_id)
        return tuple(chain)

    def find(self, query: str, *, limit: int = 10) -> tuple[Person, ...]:
        """Match Chinese name, English name and nickname, case-insensitively, by prefix.

        Exact matches come first, then prefix matches of the whole name, then prefix matches of a
        single word of it ("zhou" finds "Xinghe Zhou"). Active people before those who left.
        """
        q = _fold(query)
        if not q:
            return ()
        ranked: list[tuple[int, int, Person]] = []
        for index, person in enumerate(self.people):
            names = [_fold(n) for n in (person.name, person.en_name, person.nickname) if n]
            if any(n == q for n in names):
                rank = 0
            elif any(n.startswith(q) for n in names):
                rank = 1
            elif any(word.startswith(q) for n in names for word in n.split()):
                rank = 2
            else:
                continue
            ranked.append((rank + (0 if person.is_active else 10), index, person))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return tuple(person for _, _, person in ranked[:limit])


class ContactClient:
    def __init__(
        self,
        caller: ApiCaller,
        *,
        limiter: Limiter,
        directory_ttl: float = 600.0,
        user_ttl: float = 600.0,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._caller = caller
        self._api = caller.client.contact.v3
        self._limiter = limiter
        kwargs = {"timer": timer} if timer else {}
        self._directory_cache: TTLCache[str, Directory] = TTLCache(maxsize=1, ttl=directory_ttl, **kwargs)
        self._user_cache: TTLCache[str, Person] = TTLCache(maxsize=20_000, ttl=user_ttl, **kwargs)
        self._dept_cache: TTLCache[str, Department] = TTLCache(maxsize=5_000, ttl=directory_ttl, **kwargs)
        self._directory_lock = threading.Lock()  # also serialises the directory walk
        self._user_lock = threading.Lock()
        self._dept_lock = threading.Lock()

    # -- single records -------------------------------------------------------------------------
    def get_user(self, user_id: str, *, id_type: str = "open_id", fresh: bool = False) -> Person:
        """One user by open_id (default) or by the tenant's user_id (`id_type="user_id"`)."""
        key = f"{id_type}:{user_id}"
        if not fresh:
            with self._user_lock:
                cached = self._user_cache.get(key)
            if cached is not None:
                return cached
        request = (
            GetUserRequest.builder().user_id(user_id).user_id_type(id_type)
            .department_id_type("open_department_id").build()
        )
        resp = self._caller.call("contact.user.get", self._api.user.get, request, limiter=self._limiter)
        if resp.data is None or resp.data.user is None:
            raise NotFound(41050, f"user {user_id} not found", api="contact.user.get")
        person = to_person(resp.data.user)
        self._remember(person)
        return person

    def _remember(self, person: Person) -> None:
        with self._user_lock:
            self._user_cache[f"open_id:{person.open_id}"] = person
            if person.user_id:
                self._user_cache[f"user_id:{person.user_id}"] = person

    def get_department(self, open_department_id: str) -> Department:
        with self._dept_lock:
            cached = self._dept_cache.get(open_department_id)
        if cached is not None:
            return cached
        request = (
            GetDepartmentRequest.builder().department_id(open_department_id)
            .department_id_type("open_department_id").user_id_type("open_id").build()
        )
        resp = self._caller.call("contact.department.get", self._api.department.get, request,
                                 limiter=self._limiter)
        department = to_department(resp.data.department)
        with self._dept_lock:
            self._dept_cache[open_department_id] = department
        return department

    # -- lists (every page followed) ------------------------------------------------------------
    def iter_department_members(self, open_department_id: str) -> Iterator[Person]:
        """Direct members of one department, page by page."""

        def build(page_token: str):
            builder = (
                FindByDepartmentUserRequest.builder().department_id(open_department_id)
                .department_id_type("open_department_id").user_id_type("open_id").page_size(PAGE_SIZE)
            )
            return (builder.page_token(page_token) if page_token else builder).build()

        for data in self._caller.pages("contact.user.find_by_department", self._api.user.find_by_department, build,
                                       limiter=self._limiter):
            for user in data.items or ():
                person = to_person(user)
                self._remember(person)
                yield person

    def list_department_members(self, open_department_id: str) -> tuple[Person, ...]:
        return tuple(self.iter_department_members(open_department_id))

    def list_all_departments(self) -> tuple[Department, ...]:
        """Every department below the root, recursively (fetch_child), every page followed."""

        def build(page_token: str):
            builder = (
                ChildrenDepartmentRequest.builder().department_id(ROOT_DEPARTMENT)
                .department_id_type("open_department_id").user_id_type("open_id")
                .fetch_child(True).page_size(PAGE_SIZE)
            )
            return (builder.page_token(page_token) if page_token else builder).build()

        departments = tuple(
            to_department(d)
            for data in self._caller.pages("contact.department.children", self._api.department.children, build,
                                           limiter=self._limiter)
            for d in data.items or ()
        )
        with self._dept_lock:
            for department in departments:
                self._dept_cache[department.open_department_id] = department
        return departments

    # -- the directory index --------------------------------------------------------------------
    def directory(self, *, fresh: bool = False) -> Directory:
        """All departments and their members, walked once per TTL and shared by all threads."""
        with self._directory_lock:
            cached = None if fresh else self._directory_cache.get("all")
            if cached is not None:
                return cached
            departments = self.list_all_departments()
            seen: dict[str, Person] = {}
            for dept_id in (ROOT_DEPARTMENT, *(d.open_department_id for d in departments)):
                for person in self.iter_department_members(dept_id):
                    seen.setdefault(person.open_id, person)
            directory = Directory(people=tuple(seen.values()), departments=departments)
            self._directory_cache["all"] = directory
            log.info("directory index built: %d people, %d departments", len(seen), len(departments))
            return directory
