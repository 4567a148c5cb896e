"""The directory and roster snapshots, kept in SQL (DATABASE_URL) instead of process memory.

A process keeps only bounded caches in memory; the whole company lives here, so a web worker's memory
stays flat however large the company grows, and every lookup (a person by id, someone's reports, name
search by prefix) is an indexed query.

A snapshot is written page by page as the API walk goes, under a new generation number, and becomes
current in one step when the walk is complete (a head row per kind points at its generation); rows of
generations no head points at are then deleted. Every query reads the current head, so the processes
sharing the database (web workers, instances, the scheduler) all see one snapshot, and a process that
finds one younger than its TTL, built by another process, uses it instead of walking the API again.

Only allow-listed fields are stored: those of `Person`, `Department` and `Employee` (bot/models.py).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from bot.db import create_tables, is_memory, open_engine
from bot.models import Department, Employee, Person
from bot.textfold import fold_name

KIND_DIRECTORY = "directory"
BATCH = 500  # rows per insert while a snapshot is written, ids per IN (...) while it is read
STALE_BUILD = 24 * 3600.0  # a build marker this old belongs to a process that died mid-walk
_TOP = "\U0010ffff"  # sorts after every character: [q, q + _TOP) holds exactly the strings starting with q

# Name search compares strings by code point: SQLite's BINARY collation does, PostgreSQL needs "C".
_Term = String().with_variant(String(collation="C"), "postgresql")

metadata = MetaData()

heads = Table(
    "snapshot_heads", metadata,
    Column("kind", String(64), primary_key=True),  # "directory", "roster:2,4", or "build:<generation>"
    Column("generation", BigInteger, nullable=False),
    Column("built_at", Float, nullable=False),  # wall clock (time.time), comparable across processes
    Column("size", Integer, nullable=False, default=0),
)

people = Table(
    "snapshot_people", metadata,
    Column("generation", BigInteger, primary_key=True),
    Column("open_id", String(64), primary_key=True),
    Column("ordinal", Integer, nullable=False),  # order of the directory walk
    Column("user_id", String(64), nullable=False, default=""),
    Column("name", String, nullable=False, default=""),
    Column("en_name", String, nullable=False, default=""),
    Column("nickname", String, nullable=False, default=""),
    Column("department_ids", Text, nullable=False, default="[]"),  # JSON list
    Column("job_title", String, nullable=False, default=""),
    Column("city", String, nullable=False, default=""),
    Column("email", String, nullable=False, default=""),
    Column("leader_open_id", String(64), nullable=False, default=""),
    Column("is_active", Boolean, nullable=False, default=True),
)

names = Table(
    "snapshot_names", metadata,
    Column("generation", BigInteger, primary_key=True),
    Column("term", _Term, primary_key=True),  # a folded name (whole = 1) or one word of it (whole = 0)
    Column("whole", Integer, primary_key=True),
    Column("open_id", String(64), primary_key=True),
)

departments = Table(
    "snapshot_departments", metadata,
    Column("generation", BigInteger, primary_key=True),
    Column("open_department_id", String(64), primary_key=True),
    Column("ordinal", Integer, nullable=False),
    Column("name", String, nullable=False, default=""),
    Column("en_name", String, nullable=False, default=""),
    Column("parent_id", String(64), nullable=False, default=""),
    Column("leader_open_id", String(64), nullable=False, default=""),
)

employees = Table(
    "snapshot_employees", metadata,
    Column("generation", BigInteger, primary_key=True),
    Column("ordinal", Integer, primary_key=True),  # order of the roster pages
    Column("open_id", String(64), nullable=False, default=""),
    Column("name", String, nullable=False, default=""),
    Column("en_name", String, nullable=False, default=""),
    Column("department_id", String(64), nullable=False, default=""),
    Column("job", String, nullable=False, default=""),
    Column("job_level", String, nullable=False, default=""),
    Column("work_location", String, nullable=False, default=""),
    Column("employee_type", Integer, nullable=False, default=0),
    Column("status", Integer, nullable=False, default=0),
    Column("hire_date", Date),
    Column("conversion_date", Date),
    Column("last_day", Date),
    Column("manager_user_id", String(64), nullable=False, default=""),
    Column("manager_name", String, nullable=False, default=""),
)

Index("ix_snapshot_people_user", people.c.generation, people.c.user_id)
Index("ix_snapshot_people_leader", people.c.generation, people.c.leader_open_id, people.c.ordinal)
Index("ix_snapshot_employees_open_id", employees.c.generation, employees.c.open_id)
Index("ix_snapshot_employees_department", employees.c.generation, employees.c.department_id)

DATA_TABLES = (people, names, departments, employees)


def name_terms(person: Person) -> set[tuple[str, int]]:
    """(term, whole) for each of the person's names: the folded name, and each word of it."""
    terms: set[tuple[str, int]] = set()
    for raw in (person.name, person.en_name, person.nickname):
        folded = fold_name(raw) if raw else ""
        if folded:
            terms.add((folded, 1))
            terms.update((word, 0) for word in folded.split())
    return terms


def _to_person(row: Any) -> Person:
    return Person(open_id=row.open_id, name=row.name, user_id=row.user_id, en_name=row.en_name,
                  nickname=row.nickname, department_ids=tuple(json.loads(row.department_ids)),
                  job_title=row.job_title, city=row.city, email=row.email, leader_open_id=row.leader_open_id,
                  is_active=bool(row.is_active))


def _to_department(row: Any) -> Department:
    return Department(open_department_id=row.open_department_id, name=row.name, en_name=row.en_name,
                      parent_id=row.parent_id, leader_open_id=row.leader_open_id)


def _to_employee(row: Any) -> Employee:
    return Employee(open_id=row.open_id, name=row.name, en_name=row.en_name, department_id=row.department_id,
                    job=row.job, job_level=row.job_level, work_location=row.work_location,
                    employee_type=row.employee_type, status=row.status, hire_date=row.hire_date,
                    conversion_date=row.conversion_date, last_day=row.last_day,
                    manager_user_id=row.manager_user_id, manager_name=row.manager_name)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


@dataclass(frozen=True, slots=True)
class Head:
    generation: int
    built_at: float
    size: int


class SnapshotStore:
    """The snapshot tables on one database; thread-safe, shared by the contact and roster clients."""

    def __init__(self, url: str = "sqlite://", *, clock: Callable[[], float] = time.time) -> None:
        memory = is_memory(url)
        self.engine = open_engine(url)
        create_tables(self.engine, metadata)
        self.clock = clock
        # one in-memory SQLite connection is shared by every thread: take turns on it
        self._lock: Any = threading.RLock() if memory else nullcontext()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            yield conn

    # -- heads ------------------------------------------------------------------------------------
    def head(self, kind: str) -> Head | None:
        with self.begin() as conn:
            row = conn.execute(select(heads).where(heads.c.kind == kind)).first()
        return Head(row.generation, row.built_at, row.size) if row else None

    def current(self, kind: str):
        """The current generation of `kind`, as a scalar subquery (every query reads the head it runs with)."""
        return select(heads.c.generation).where(heads.c.kind == kind).scalar_subquery()

    @contextmanager
    def build(self, kind: str) -> Iterator[SnapshotWriter]:
        """Write a new generation of `kind`; it becomes current when the block ends without an error."""
        writer = SnapshotWriter(self, kind)
        self._set_head(f"build:{writer.generation}", writer.generation, size=0)
        try:
            yield writer
            writer.flush()
            writer.publish()
        finally:
            self._purge(f"build:{writer.generation}")

    def _set_head(self, kind: str, generation: int, *, size: int) -> None:
        values = {"generation": generation, "built_at": self.clock(), "size": size}
        for _ in range(3):
            try:
                with self.begin() as conn:
                    if conn.execute(update(heads).where(heads.c.kind == kind).values(**values)).rowcount:
                        return
                    conn.execute(insert(heads).values(kind=kind, **values))
                    return
            except IntegrityError:  # another process inserted the same head first: update it
                continue

    def _purge(self, build_marker: str) -> None:
        """Drop the build marker, stale markers of processes that died mid-walk, and every row of a
        generation no head points at."""
        with self.begin() as conn:
            conn.execute(delete(heads).where(heads.c.kind == build_marker))
            conn.execute(delete(heads).where(heads.c.kind.like("build:%"),
                                             heads.c.built_at < self.clock() - STALE_BUILD))
            live = select(heads.c.generation)
            for table in DATA_TABLES:
                conn.execute(delete(table).where(table.c.generation.not_in(live)))

    def _insert_ignoring_duplicates(self, table: Table):
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            return pg_insert(table).on_conflict_do_nothing()
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert
            return sqlite_insert(table).on_conflict_do_nothing()
        return insert(table)

    # -- directory queries --------------------------------------------------------------------------
    def _rows(self, *where: Any, limit: int | None = None) -> list[Any]:
        query = select(people).where(people.c.generation == self.current(KIND_DIRECTORY), *where)
        query = query.order_by(people.c.ordinal)
        if limit is not None:
            query = query.limit(limit)
        with self.begin() as conn:
            return list(conn.execute(query))

    def _people(self, *where: Any, limit: int | None = None) -> tuple[Person, ...]:
        return tuple(_to_person(row) for row in self._rows(*where, limit=limit))

    def person(self, open_id: str) -> Person | None:
        found = self._people(people.c.open_id == open_id)
        return found[0] if found else None

    def people_by_open_id(self, open_ids: Iterable[str]) -> dict[str, Person]:
        """Those of `open_ids` in the directory, by open_id: one query per BATCH ids, not one each."""
        return {p.open_id: p for chunk in _chunks(sorted(set(open_ids)))
                for p in self._people(people.c.open_id.in_(chunk))}

    def person_by_user_id(self, user_id: str) -> Person | None:
        found = self._people(people.c.user_id == user_id, limit=1) if user_id else ()
        return found[0] if found else None

    def direct_reports(self, open_id: str) -> tuple[Person, ...]:
        return self._people(people.c.leader_open_id == open_id) if open_id else ()

    def reports_of(self, open_ids: list[str]) -> tuple[Person, ...]:
        """The direct reports of any of `open_ids`, in directory order."""
        rows = [row for chunk in _chunks(sorted(set(open_ids)))
                for row in self._rows(people.c.leader_open_id.in_(chunk))]
        rows.sort(key=lambda row: row.ordinal)
        return tuple(_to_person(row) for row in rows)

    def has_reports(self, open_id: str) -> bool:
        query = select(exists().where(people.c.generation == self.current(KIND_DIRECTORY),
                                      people.c.leader_open_id == open_id))
        with self.begin() as conn:
            return bool(open_id) and bool(conn.scalar(query))

    def managers(self) -> tuple[Person, ...]:
        """Everyone with at least one direct report, in directory order."""
        reports = people.alias("reports")
        return self._people(exists().where(reports.c.generation == people.c.generation,
                                           reports.c.leader_open_id == people.c.open_id))

    def find(self, query: str, *, limit: int) -> tuple[Person, ...]:
        """Name search by prefix: exact names first, then names starting with the query, then names with a
        word starting with it; active people before those who left; directory order within each."""
        q = fold_name(query)
        if not q:
            return ()
        rank = func.min(case((and_(names.c.term == q, names.c.whole == 1), 0), (names.c.whole == 1, 1),
                             else_=2)).label("rank")
        matches = (select(names.c.open_id, rank)
                   .where(names.c.generation == self.current(KIND_DIRECTORY), names.c.term >= q,
                          names.c.term < q + _TOP)
                   .group_by(names.c.open_id).subquery())
        inactive = case((people.c.is_active, literal(0)), else_=literal(10))
        rows = (select(people).join(matches, people.c.open_id == matches.c.open_id)
                .where(people.c.generation == self.current(KIND_DIRECTORY))
                .order_by(matches.c.rank + inactive, people.c.ordinal).limit(limit))
        with self.begin() as conn:
            return tuple(_to_person(row) for row in conn.execute(rows))

    def departments(self) -> tuple[Department, ...]:
        query = (select(departments).where(departments.c.generation == self.current(KIND_DIRECTORY))
                 .order_by(departments.c.ordinal))
        with self.begin() as conn:
            return tuple(_to_department(row) for row in conn.execute(query))

    def department(self, open_department_id: str) -> Department | None:
        query = select(departments).where(departments.c.generation == self.current(KIND_DIRECTORY),
                                          departments.c.open_department_id == open_department_id)
        with self.begin() as conn:
            row = conn.execute(query).first()
        return _to_department(row) if row else None

    def size(self, kind: str) -> int:
        head = self.head(kind)
        return head.size if head else 0

    # -- roster queries ---------------------------------------------------------------------------------
    def employees(self, kind: str, *, department_ids: Iterable[str] | None = None,
                  open_ids: Iterable[str] | None = None) -> tuple[Employee, ...]:
        """The roster records of `kind`, in page order, optionally only those in `department_ids` and of
        `open_ids`."""
        base = select(employees).where(employees.c.generation == self.current(kind))
        if department_ids is not None:
            base = base.where(employees.c.department_id.in_(sorted(set(department_ids))))
        if open_ids is None:
            with self.begin() as conn:
                return tuple(_to_employee(r) for r in conn.execute(base.order_by(employees.c.ordinal)))
        rows = []
        with self.begin() as conn:
            for chunk in _chunks(sorted(set(open_ids))):
                rows.extend(conn.execute(base.where(employees.c.open_id.in_(chunk))))
        rows.sort(key=lambda r: r.ordinal)
        return tuple(_to_employee(r) for r in rows)


class SnapshotWriter:
    """One generation being written: rows are buffered and inserted `BATCH` at a time."""

    def __init__(self, store: SnapshotStore, kind: str) -> None:
        self.store = store
        self.kind = kind
        self.generation = secrets.randbits(62)
        self._rows: dict[Table, list[dict[str, Any]]] = {t: [] for t in DATA_TABLES}
        self._ordinal = 0

    def _add(self, table: Table, row: dict[str, Any]) -> None:
        self._rows[table].append(row)
        if len(self._rows[table]) >= BATCH:
            self.flush()

    def add_person(self, person: Person) -> None:
        self._ordinal += 1
        self._add(people, {
            "generation": self.generation, "open_id": person.open_id, "ordinal": self._ordinal,
            "user_id": person.user_id, "name": person.name, "en_name": person.en_name,
            "nickname": person.nickname, "department_ids": json.dumps(list(person.department_ids)),
            "job_title": person.job_title, "city": person.city, "email": person.email,
            "leader_open_id": person.leader_open_id, "is_active": person.is_active,
        })
        for term, whole in name_terms(person):
            self._add(names, {"generation": self.generation, "term": term, "whole": whole,
                              "open_id": person.open_id})

    def add_department(self, department: Department) -> None:
        self._ordinal += 1
        self._add(departments, {
            "generation": self.generation, "open_department_id": department.open_department_id,
            "ordinal": self._ordinal, "name": department.name, "en_name": department.en_name,
            "parent_id": department.parent_id, "leader_open_id": department.leader_open_id,
        })

    def add_employee(self, employee: Employee) -> None:
        self._ordinal += 1
        self._add(employees, {
            "generation": self.generation, "ordinal": self._ordinal, "open_id": employee.open_id,
            "name": employee.name, "en_name": employee.en_name, "department_id": employee.department_id,
            "job": employee.job, "job_level": employee.job_level, "work_location": employee.work_location,
            "employee_type": employee.employee_type, "status": employee.status, "hire_date": employee.hire_date,
            "conversion_date": employee.conversion_date, "last_day": employee.last_day,
            "manager_user_id": employee.manager_user_id, "manager_name": employee.manager_name,
        })

    def flush(self) -> None:
        """Insert the buffered rows; a person met again in a second department keeps their first row."""
        with self.store.begin() as conn:
            for table, rows in self._rows.items():
                if rows:
                    conn.execute(self.store._insert_ignoring_duplicates(table), rows)
                    rows.clear()

    def publish(self) -> None:
        table = people if self.kind == KIND_DIRECTORY else employees
        with self.store.begin() as conn:
            size = conn.scalar(select(func.count()).select_from(table).where(table.c.generation == self.generation))
        self.store._set_head(self.kind, self.generation, size=int(size or 0))


class Freshness:
    """When this process last built or adopted each snapshot, and until when it trusts it (its TTL).
    Bounded by the number of snapshot kinds."""

    def __init__(self, store: SnapshotStore, *, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._ttl = ttl
        self._timer = timer
        self._until: dict[str, float] = {}
        self._generation: dict[str, int] = {}

    def generation(self, kind: str) -> int | None:
        return self._generation.get(kind)

    def is_fresh(self, kind: str) -> bool:
        """True while this process's TTL for `kind` runs, or when another process published a newer
        generation within the TTL (adopted for the rest of its TTL, at no API cost)."""
        if self._until.get(kind, float("-inf")) > self._timer():
            return True
        head = self._store.head(kind)
        if head is None or head.generation == self._generation.get(kind):
            return False
        age = self._store.clock() - head.built_at
        if not 0 <= age < self._ttl:
            return False
        self._generation[kind] = head.generation
        self._until[kind] = self._timer() + self._ttl - age
        return True

    def built(self, kind: str, generation: int) -> None:
        self._generation[kind] = generation
        self._until[kind] = self._timer() + self._ttl
