"""How typed text is compared with what the bot knows, one function per kind of comparison.

All three normalise Unicode (NFKC: full-width letters and digits become plain ones) and fold case; they differ
in what they do with spaces, because what is compared differs."""

from __future__ import annotations

import unicodedata


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
