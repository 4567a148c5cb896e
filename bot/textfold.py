"""How typed text is compared with what the bot knows, one function per kind of comparison.

All three normalise Unicode (NFKC: full-width letters and digits become plain ones) and fold case; they differ
in what they do with spaces, because what is compared differs."""

from __future__ import annotations

import re
import unicodedata

# A name, or a query for one, is at most this long: longer text is not a name (no search, no echo).
MAX_NAME_CHARS = 40


def fold_word(word: str) -> str:
    """A typed word, to look up in a table of keywords or aliases (`all`, `全部`, `log`, a command's name)."""
    return unicodedata.normalize("NFKC", word).casefold()


def fold_name(text: str) -> str:
    """A name (a person's, a department's, a group's) or a query for one: leading and trailing spaces dropped,
    inner spaces kept ("Li Wei" is not "Liwei")."""
    return fold_word(text).strip()


def fold_spaceless(text: str) -> str:
    """A name people type with or without its spaces, such as an OKR period's ("2026 Q4" = "2026q4")."""
    return "".join(fold_word(text).split())


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def language_of(text: str) -> str | None:
    """zh_cn when the text has a Chinese character, en_us when it has a Latin letter, else None."""
    if _CJK.search(text):
        return "zh_cn"
    if _LATIN.search(text):
        return "en_us"
    return None
