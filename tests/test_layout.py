"""The layout shows the seams: the product (bot/, cards/) never imports the devkit (the sandbox, the chat
page, the demo, the card validator and text renderer) — only the `demo` command of the CLI reaches it,
lazily; card builders import no API layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def product_files() -> list[Path]:
    return sorted(p for package in ("bot", "cards") for p in (ROOT / package).rglob("*.py"))


def test_no_product_module_imports_the_devkit_except_the_demo_command():
    assert product_files(), "no product files found"
    offenders = []
    for path in product_files():
        for module, line in imports_of(path):
            if module == "devkit" or module.startswith("devkit."):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert len(offenders) == 1 and offenders[0].startswith("bot/__main__.py:"), offenders
    assert offenders[0].endswith("imports devkit.demo"), offenders


def test_the_devkit_is_a_package_of_its_own():
    for name in ("sandbox", "webchat", "demo.py", "cardcheck.py", "cardtext.py"):
        assert (ROOT / "devkit" / name).exists(), name
    assert not (ROOT / "bot" / "sandbox").exists() and not (ROOT / "bot" / "webchat").exists()


def test_card_builders_import_only_models_and_each_other():
    """cards/ is pure: besides the standard library, a card module may import bot.models and cards' own modules
    (an API-layer error becomes plain values at the catch point, bot.router.to_error_card)."""
    import sys

    cards = sorted((ROOT / "cards").glob("*.py"))
    assert cards, "no card modules found"
    offenders = []
    for path in cards:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # relative: cards' own modules
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for module in names:
                top = module.split(".")[0]
                if module == "bot.models" or top == "cards" or top in sys.stdlib_module_names or top == "__future__":
                    continue
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert not offenders, offenders


def test_access_sits_below_the_commands_and_is_admin_is_defined_once():
    """access.py is asked by the commands and the router; it reaches up to neither."""
    offenders = [f"bot/access.py:{line} imports {module}" for module, line in imports_of(ROOT / "bot" / "access.py")
                 if module.startswith(("bot.commands", "bot.router", "bot.service", "bot.inbound"))]
    assert not offenders, offenders
    defined = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in product_files()
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.FunctionDef) and node.name == "is_admin"]
    assert defined == ["bot/access.py:" + defined[0].split(":")[1]], defined


def test_each_helper_is_defined_once():
    """Folding text, the current OKR period and reading a sent-log slot each have one definition."""
    wanted = {"fold_word", "fold_name", "fold_spaceless", "current_period_index", "from_slot", "to_slot"}
    gone = {"_fold", "fold", "current_period", "current_index"}
    found: dict[str, list[str]] = {}
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in wanted | gone:
                found.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert not (set(found) & gone), {name: found[name] for name in set(found) & gone}
    assert all(len(found.get(name, [])) == 1 for name in wanted), found
    slot_parsers = [str(p.relative_to(ROOT)) for p in product_files() if "strptime" in p.read_text(encoding="utf-8")
                    and "%Y-%m-%dT%H:%M:%SZ" in p.read_text(encoding="utf-8")]
    assert slot_parsers == ["bot/store/subscriptions.py"], slot_parsers


# A topic may have a module in each layer (commands/okr.py asks feishu/okr.py and builds with cards/okr.py); any
# other file name is a job, and names one module only. `base` is each package's shared types.
TOPICS = {"attendance", "auth", "base", "digest", "help", "okr", "roster", "subscriptions", "tokens"}


def test_no_two_product_modules_share_a_name_for_different_jobs():
    seen: dict[str, list[str]] = {}
    for path in product_files():
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    shared = {name: paths for name, paths in seen.items() if len(paths) > 1 and name not in TOPICS}
    assert not shared, shared
    assert "schedule" not in seen, "the scheduler process is bot/scheduler.py"
