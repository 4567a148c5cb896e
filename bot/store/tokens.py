"""People's user tokens (encrypted by bot.tokens before they get here) and the one-time OAuth states of `login`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, Part, aware, utc


class UserTokenRow(Base):
    """A person's user access token, encrypted (Fernet); never stored in clear."""

    __tablename__ = "user_tokens"
    open_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OAuthStateRow(Base):
    """An authorisation link's state: bound to the person it was made for, short-lived, single use."""

    __tablename__ = "oauth_states"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    open_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class TokenStore(Part):
    # -- user tokens and authorisation states -------------------------------------------------------------
    def save(self, open_id: str, ciphertext: str, *, expires_at: datetime,
                        refresh_expires_at: datetime) -> None:
        with self.session() as s:
            row = s.get(UserTokenRow, open_id)
            if row is None:
                s.add(UserTokenRow(open_id=open_id, ciphertext=ciphertext, expires_at=utc(expires_at),
                                   refresh_expires_at=utc(refresh_expires_at)))
            else:
                row.ciphertext, row.expires_at = ciphertext, utc(expires_at)
                row.refresh_expires_at = utc(refresh_expires_at)

    def get(self, open_id: str) -> tuple[str, datetime, datetime] | None:
        with self.session() as s:
            row = s.get(UserTokenRow, open_id)
            return (row.ciphertext, aware(row.expires_at), aware(row.refresh_expires_at)) if row else None

    def delete(self, open_id: str, *, only_if: str | None = None) -> bool:
        """Delete a person's token; with `only_if`, only while the stored ciphertext is still that one."""
        where = [UserTokenRow.open_id == open_id]
        if only_if is not None:
            where.append(UserTokenRow.ciphertext == only_if)
        with self.session() as s:
            return bool(s.execute(delete(UserTokenRow).where(*where)).rowcount)

    def ciphertexts(self) -> list[tuple[str, str]]:
        """(open_id, ciphertext) of every stored user token (key rotation)."""
        with self.session() as s:
            return [(row.open_id, row.ciphertext) for row in s.scalars(select(UserTokenRow))]

    def replace_ciphertext(self, open_id: str, *, old: str, new: str) -> bool:
        """Store a re-encrypted token, only while the stored ciphertext is still `old` (not refreshed meanwhile)."""
        with self.session() as s:
            return bool(s.execute(update(UserTokenRow).where(UserTokenRow.open_id == open_id,
                                                             UserTokenRow.ciphertext == old)
                                  .values(ciphertext=new)).rowcount)

    def add_oauth_state(self, state: str, open_id: str, *, expires_at: datetime) -> None:
        with self.session() as s:
            s.add(OAuthStateRow(state=state, open_id=open_id, expires_at=utc(expires_at), used=False))

    def use_oauth_state(self, state: str, *, at: datetime) -> str | None:
        """The open_id the state was made for, once: None when unknown, expired or already used."""
        with self.session() as s:
            row = s.get(OAuthStateRow, state)
            if row is None or row.used or aware(row.expires_at) <= aware(at):
                return None
            result = s.execute(update(OAuthStateRow).where(OAuthStateRow.state == state,
                                                           OAuthStateRow.used.is_(False)).values(used=True))
            return row.open_id if result.rowcount == 1 else None
