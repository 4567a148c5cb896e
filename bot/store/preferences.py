"""What the bot remembers about a person: the language to speak to them in (`lang`, or learned from what they
write), for everything sent to them later — digests, nudges, their own reminder cards, greetings, DMs."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from cachetools import TTLCache
from sqlalchemy import Boolean, DateTime, String, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from bot.store.base import Base, Part, utc

LOCALES = ("zh_cn", "en_us")
IN_CHUNK = 900  # ids per IN (…) list: under SQLite's oldest limit of bound parameters (999)
# Every message reads the sender's language and remembers the language of its words: a process keeps what it read or
# wrote for this long, so a conversation costs no database round trip per message. Another process sees a change
# (`lang en` answered elsewhere) at most this much later; the process that made it sees it at once.
KNOWN_TTL = 30.0
KNOWN_MAX = 10_000


class PersonPrefRow(Base):
    """A person's language: `explicit` when they chose it (`lang en`), else learned from what they wrote."""

    __tablename__ = "people_prefs"
    open_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8))
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _checked(locale: str) -> str:
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (expected one of {', '.join(LOCALES)})")
    return locale


class PeopleStore(Part):
    def __init__(self, engine: Engine, sessions: sessionmaker) -> None:
        super().__init__(engine, sessions)
        self._known: TTLCache[str, tuple[str | None, bool]] = TTLCache(maxsize=KNOWN_MAX, ttl=KNOWN_TTL)
        self._lock = threading.Lock()

    def language(self, open_id: str) -> str | None:
        """"zh_cn" or "en_us"; None when the bot knows nothing of this person's language."""
        return self._row(open_id)[0]

    def setting(self, open_id: str) -> tuple[str | None, bool]:
        """(the remembered language or None, whether they chose it) — what bare `lang` shows."""
        with self.session() as s:
            row = s.execute(select(PersonPrefRow.locale, PersonPrefRow.explicit)
                            .where(PersonPrefRow.open_id == open_id)).first()
        found = (row.locale, bool(row.explicit)) if row else (None, False)
        self._remember(open_id, found)
        return found

    def _row(self, open_id: str) -> tuple[str | None, bool]:
        """(locale, explicit) as this process last read or wrote it (within KNOWN_TTL), else from the database."""
        with self._lock:
            known = self._known.get(open_id)
        return known if known is not None else self.setting(open_id)

    def _remember(self, open_id: str, row: tuple[str | None, bool] | None) -> None:
        with self._lock:
            if row is None:
                self._known.pop(open_id, None)
            else:
                self._known[open_id] = row

    def languages(self, open_ids: Iterable[str]) -> dict[str, str]:
        """The remembered language of each of `open_ids` that has one (one query, for digests and reminders)."""
        wanted = [i for i in dict.fromkeys(open_ids) if i]
        found: dict[str, str] = {}
        with self.session() as s:
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start:start + IN_CHUNK]
                rows = s.execute(select(PersonPrefRow.open_id, PersonPrefRow.locale)
                                 .where(PersonPrefRow.open_id.in_(chunk)))
                found.update((open_id, locale) for open_id, locale in rows)
        return found

    def remember_language(self, open_id: str, locale: str, now: datetime) -> None:
        """Learned from what they wrote (called for every message): never overrides a language they chose, and
        writes only when it changes — a read, then a write only for a new or different language."""
        _checked(locale)
        known, explicit = self._row(open_id)
        if known is not None and (explicit or known == locale):
            return
        self._write(open_id, locale, now, explicit=False)
        self._remember(open_id, None)  # the write may have lost to a choice made meanwhile: read it again next time

    def set_language(self, open_id: str, locale: str, now: datetime) -> None:
        """Chosen (`lang en`): kept until they choose again or send `lang auto`."""
        self._write(open_id, _checked(locale), now, explicit=True)
        self._remember(open_id, (locale, True))

    def clear_language(self, open_id: str) -> None:
        """`lang auto`: forget, and learn again from what they write."""
        with self.session() as s:
            s.execute(delete(PersonPrefRow).where(PersonPrefRow.open_id == open_id))
        self._remember(open_id, (None, False))

    def _write(self, open_id: str, locale: str, now: datetime, *, explicit: bool) -> None:
        """Insert or update; a learned language (explicit=False) changes only a row that was learned too, even
        when someone chose theirs between the caller's read and this write."""
        values = {"open_id": open_id, "locale": locale, "explicit": explicit, "updated_at": utc(now)}
        table = PersonPrefRow.__table__
        upsert = self.upsert
        if upsert is not None:
            statement = upsert(table).values(**values)
            statement = statement.on_conflict_do_update(
                index_elements=["open_id"], set_={k: v for k, v in values.items() if k != "open_id"},
                where=None if explicit else table.c.explicit.is_(False))
            with self.engine.begin() as conn:
                conn.execute(statement)
            return
        for _ in range(2):  # another database: update, else insert, else (inserted meanwhile) update
            try:
                with self.session() as s:
                    where = [PersonPrefRow.open_id == open_id]
                    if not explicit:
                        where.append(PersonPrefRow.explicit.is_(False))
                    if not s.execute(update(PersonPrefRow).where(*where).values(**values)).rowcount:
                        if explicit or s.get(PersonPrefRow, open_id) is None:
                            s.add(PersonPrefRow(**values))
                return
            except IntegrityError:
                continue
