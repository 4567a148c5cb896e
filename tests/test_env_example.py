"""`.env.example` lists every setting the bot reads, with the default README's Configuration table gives it; the
table lists every variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_settings() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("| variable | default | meaning |")
    rows = readme[start:readme.index("\n\n", start)].splitlines()[2:]
    found = {}
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        found[cells[0].strip("`")] = cells[1].strip("`")
    return found


def _read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        names |= set(re.findall(r'(?:env\.get\(|_float\(env, |env\[|environ\.get\()"([A-Z][A-Z_]+)"', path.read_text()))
    return names


def test_the_readme_documents_every_variable_the_code_reads():
    assert _read_by_the_code() - set(_readme_settings()) == set()


def test_env_example_has_every_variable_with_its_default():
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name, default in _readme_settings().items():
        if default == "(required)":
            assert re.search(rf"^{name}=$", example, re.M), name  # to fill in
        else:
            value = "" if default in ("empty", "host:pid") else default
            assert re.search(rf"^# {name}={re.escape(value)}$", example, re.M), name  # commented: the default
