"""The bot's durable state, split by concern over one engine (SQLAlchemy; SQLite by default, PostgreSQL
through DATABASE_URL):

- `store.subscriptions`: subscriptions, the sent-log, "why?" decisions, nudges and snoozes;
- `store.inbox`: the durable inbox of messages and card clicks;
- `store.tokens`: user tokens and OAuth states;
- `store.usage`: API call counts and cool-downs;
- `store.people`: each person's language (chosen with `lang`, or learned from what they write);
- `store.checkins`: the progress people wrote through the bot (`progress`), for "checked in via chat".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from bot.db import create_tables, open_engine
from bot.store.base import Base, add_missing_columns
from bot.store.checkins import CheckinStore
from bot.store.inbox import InboxRow, InboxStore
from bot.store.preferences import PeopleStore
from bot.store.subscriptions import (
    KIND_MANAGER_DIGEST,
    KIND_OKR_REMINDER,
    SEND_RETRY,
    SendRetry,
    SentRow,
    Subscription,
    SubscriptionRow,
    SubscriptionStore,
    from_slot,
    to_slot,
)
from bot.store.tokens import TokenStore
from bot.store.usage import UsageStore

__all__ = ["KIND_MANAGER_DIGEST", "KIND_OKR_REMINDER", "SEND_RETRY", "Base", "InboxRow", "SendRetry", "Store",
           "Subscription", "from_slot", "to_slot"]


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url)
        create_tables(self.engine, Base.metadata)
        add_missing_columns(self.engine, InboxRow.__table__)
        add_missing_columns(self.engine, SentRow.__table__)
        add_missing_columns(self.engine, SubscriptionRow.__table__)  # a group reminder's mention and details
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.subscriptions = SubscriptionStore(self.engine, self._sessions)
        self.inbox = InboxStore(self.engine, self._sessions)
        self.tokens = TokenStore(self.engine, self._sessions)
        self.usage = UsageStore(self.engine, self._sessions)
        self.people = PeopleStore(self.engine, self._sessions)
        self.checkins = CheckinStore(self.engine, self._sessions)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session
