"""Contact API (tenant token): users, departments, and a searchable directory index."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cachetools import LRUCache, TTLCache
from lark_oapi.api.contact.v3 import (
    ChildrenDepartmentRequest,
    FindByDepartmentUserRequest,
    GetDepartmentRequest,
    GetUserRequest,
)

from bot.feishu.caller import ApiCaller
from bot.feishu.errors import NotFound
from bot.feishu.ratelimit import Limiter
from bot.feishu.snapshot import KIND_DIRECTORY, Freshness, SnapshotStore
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


class Directory:
    """Everyone the app can see: a view of the directory snapshot (bot/feishu/snapshot.py), where each
    lookup is an indexed query. Only a bounded number of people is kept in memory (`cache`)."""

    def __init__(self, snapshots: SnapshotStore, cache: LRUCache[str, Person | None], lock: threading.Lock) -> None:
        self._snapshots = snapshots
        self._cache = cache
        self._lock = lock

    def __len__(self) -> int:
        return self._snapshots.size(KIND_DIRECTORY)

    def _cached(self, key: str, load: Callable[[], Person | None]) -> Person | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        person = load()
        with self._lock:
            self._cache[key] = person
        return person

    def person(self, open_id: str) -> Person | None:
        return self._cached(f"open_id:{open_id}", lambda: self._snapshots.person(open_id))

    def people(self, open_ids: Sequence[str]) -> list[Person | None]:
        """person() of each of `open_ids`, in their order, with one query for all those not in memory (a group
        of a thousand members is a handful of queries, not a thousand)."""
        keys = [f"open_id:{open_id}" for open_id in open_ids]
        with self._lock:
            known = {key: self._cache[key] for key in keys if key in self._cache}
        missing = [open_id for open_id, key in zip(open_ids, keys, strict=True) if key not in known]
        if missing:
            found = self._snapshots.people_by_open_id(missing)
            with self._lock:
                for open_id in missing:
                    known[f"open_id:{open_id}"] = self._cache[f"open_id:{open_id}"] = found.get(open_id)
        return [known[key] for key in keys]

    def person_by_user_id(self, user_id: str) -> Person | None:
        return self._cached(f"user_id:{user_id}", lambda: self._snapshots.person_by_user_id(user_id))

    @property
    def departments(self) -> tuple[Department, ...]:
        return self._snapshots.departments()

    def department(self, open_department_id: str) -> Department | None:
        return self._snapshots.department(open_department_id)

    def direct_reports(self, open_id: str) -> tuple[Person, ...]:
        return self._snapshots.direct_reports(open_id)

    def has_reports(self, open_id: str) -> bool:
        return self._snapshots.has_reports(open_id)

    def managers(self) -> tuple[Person, ...]:
        """Everyone with at least one direct report (active or not), in directory order."""
        return self._snapshots.managers()

    def all_reports(self, open_id: str) -> tuple[Person, ...]:
        """Direct and indirect reports, breadth first (a cycle in bad data cannot loop): one query per
        level of the hierarchy."""
        seen: dict[str, Person] = {}
        level = [open_id]
        while level:
            by_leader: dict[str, list[Person]] = {}
            for person in self._snapshots.reports_of(level):
                by_leader.setdefault(person.leader_open_id, []).append(person)
            next_level = []
            for leader in level:
                for person in by_leader.get(leader, ()):
                    if person.open_id in seen or person.open_id == open_id:
                        continue
                    seen[person.open_id] = person
                    next_level.append(person.open_id)
            level = next_level
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
        return self._snapshots.find(query, limit=limit)


class ContactClient:
    def __init__(
        self,
        caller: ApiCaller,
        *,
        limiter: Limiter,
        snapshots: SnapshotStore | None = None,
        directory_ttl: float = 600.0,
        user_ttl: float = 600.0,
        cache_size: int = 2_000,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self._caller = caller
        self._api = caller.client.contact.v3
        self._limiter = limiter
        kwargs = {"timer": timer} if timer else {}
        self._snapshots = snapshots or SnapshotStore()
        self._freshness = Freshness(self._snapshots, ttl=directory_ttl, **kwargs)
        # bounded whatever the company's size: people by id (from the snapshot, and fresh reads)
        self._people_cache: LRUCache[str, Person | None] = LRUCache(maxsize=cache_size)
        self._user_cache: TTLCache[str, Person] = TTLCache(maxsize=cache_size, ttl=user_ttl, **kwargs)
        self._dept_cache: TTLCache[str, Department] = TTLCache(maxsize=cache_size, ttl=directory_ttl, **kwargs)
        self._directory_lock = threading.Lock()  # also serialises the directory walk
        self._people_lock = threading.Lock()
        self._user_lock = threading.Lock()
        self._dept_lock = threading.Lock()
        self._directory = Directory(self._snapshots, self._people_cache, self._people_lock)
        self._seen_generation: int | None = None  # the snapshot the people cache was filled from

    def cached_entries(self) -> dict[str, int]:
        """How many entries each in-memory cache holds (each is bounded by `cache_size`)."""
        with self._people_lock, self._user_lock, self._dept_lock:
            return {"people": len(self._people_cache), "users": len(self._user_cache),
                    "departments": len(self._dept_cache)}

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
    def iter_department_members(self, open_department_id: str, *, remember: bool = True) -> Iterator[Person]:
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
                if remember:
                    self._remember(person)
                yield person

    def list_department_members(self, open_department_id: str) -> tuple[Person, ...]:
        return tuple(self.iter_department_members(open_department_id))

    def iter_all_departments(self) -> Iterator[Department]:
        """Every department below the root, recursively (fetch_child), every page followed."""

        def build(page_token: str):
            builder = (
                ChildrenDepartmentRequest.builder().department_id(ROOT_DEPARTMENT)
                .department_id_type("open_department_id").user_id_type("open_id")
                .fetch_child(True).page_size(PAGE_SIZE)
            )
            return (builder.page_token(page_token) if page_token else builder).build()

        for data in self._caller.pages("contact.department.children", self._api.department.children, build,
                                       limiter=self._limiter):
            for item in data.items or ():
                department = to_department(item)
                with self._dept_lock:
                    self._dept_cache[department.open_department_id] = department
                yield department

    def list_all_departments(self) -> tuple[Department, ...]:
        return tuple(self.iter_all_departments())

    # -- the directory index --------------------------------------------------------------------
    def directory(self, *, fresh: bool = False) -> Directory:
        """All departments and their members: walked once per TTL into the snapshot in SQL (or taken from
        another process's walk younger than the TTL) and shared by all threads."""
        with self._directory_lock:
            if fresh or not self._freshness.is_fresh(KIND_DIRECTORY):
                self._build_directory()
            elif self._seen_generation == self._freshness.generation(KIND_DIRECTORY):
                return self._directory
            self._seen_generation = self._freshness.generation(KIND_DIRECTORY)
            with self._people_lock:
                self._people_cache.clear()
            return self._directory

    def _build_directory(self) -> None:
        """Walk the departments and their members page by page, straight into a new snapshot: the same
        API calls as ever, and never more than a page of people in memory."""
        with self._snapshots.build(KIND_DIRECTORY) as writer:
            department_ids = [ROOT_DEPARTMENT]
            for department in self.iter_all_departments():
                writer.add_department(department)
                department_ids.append(department.open_department_id)
            for dept_id in department_ids:
                for person in self.iter_department_members(dept_id, remember=False):
                    writer.add_person(person)
        self._freshness.built(KIND_DIRECTORY, writer.generation)
        log.info("directory snapshot built: %d people, %d departments",
                 self._snapshots.size(KIND_DIRECTORY), len(department_ids) - 1)
