"""Typed domain objects. Raw Feishu JSON never leaves bot/feishu/; these do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Person:
    """A directory entry, reduced to the allow-listed fields a card may show."""

    open_id: str
    name: str
    en_name: str = ""
    nickname: str = ""
    department_ids: tuple[str, ...] = ()
    job_title: str = ""
    city: str = ""
    email: str = ""
    leader_open_id: str = ""
    is_active: bool = True

    def display_name(self, locale: str) -> str:
        if locale == "en_us" and self.en_name:
            return self.en_name
        return self.name or self.en_name or self.open_id


@dataclass(frozen=True, slots=True)
class Department:
    open_department_id: str
    name: str
    en_name: str = ""
    parent_id: str = ""
    leader_open_id: str = ""

    def display_name(self, locale: str) -> str:
        if locale == "en_us" and self.en_name:
            return self.en_name
        return self.name or self.en_name


@dataclass(frozen=True, slots=True)
class Mention:
    """Someone @-mentioned in a message, in the order they appear."""

    key: str
    open_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Chat:
    chat_id: str
    chat_type: str  # "p2p" | "group"
