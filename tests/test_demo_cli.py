"""`python -m bot demo` as a newcomer starts it: the chat page's port when another program holds it, the demo
company's bot admins (and BOT_ADMINS overriding them), the hint about a missing Chinese font, and the seed a
newcomer sees (friendly names; the tests' seed keeps its hostile ones)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devkit.demo import DEMO_ADMINS, FONT_HINT, cjk_font_installed, roles_of, start_demo
from devkit.sandbox import build_seed
from devkit.sandbox.seed_okr import HOSTILE_OBJECTIVE
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def demo_process(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """`python -m bot demo ARGS` with no terminal; yields the process and its output lines up to the page's URL."""
    proc = subprocess.Popen([sys.executable, "-m", "bot", "demo", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    lines: list[str] = []
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line.rstrip("\n"))
            if line.startswith("No terminal attached"):
                break
        yield proc, lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def page_url(lines: list[str]) -> str:
    urls = [line.split()[2] for line in lines if line.startswith("Chat page: ")]
    assert urls, "the demo printed no chat page:\n" + "\n".join(lines)
    return urls[0]


def test_a_taken_page_port_falls_back_to_a_free_one():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    taken = holder.getsockname()[1]
    try:
        with demo_process("--page-port", str(taken), env={"BOT_ADMINS": ""}) as (proc, lines):
            assert proc.poll() is None, "\n".join(lines)  # still serving, not exited with "Address already in use"
            url = page_url(lines)
            assert url.startswith("http://127.0.0.1:") and not url.rstrip("/").endswith(f":{taken}")
            assert f"Port {taken} is taken" in "\n".join(lines)
            with urllib.request.urlopen(url, timeout=10) as response:  # the URL printed is the one served
                assert "cards.js" in response.read().decode()
    finally:
        holder.close()


def test_a_free_page_port_is_used_as_asked():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with demo_process("--page-port", str(port)) as (_, lines):
        assert page_url(lines) == f"http://127.0.0.1:{port}/"
        assert "is taken" not in "\n".join(lines)


def _say(*args: str, admins: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "BOT_ADMINS"}
    if admins is not None:
        env["BOT_ADMINS"] = admins
    done = subprocess.run([sys.executable, "-m", "bot", "demo", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_ceo_is_an_admin_of_the_demo_and_bot_admins_overrides_it():
    assert "Statistics are for bot admins" not in _say("--as", "周星河", "--say", "stats")
    assert "Statistics are for bot admins" in _say("--as", "陈立", "--say", "stats")
    cto = build_seed().person("cto").open_id
    # BOT_ADMINS takes open_ids, as the bot does (the demo also takes seeded names)
    assert "Statistics are for bot admins" not in _say("--as", "陈立", "--say", "stats", admins=cto)
    assert "Statistics are for bot admins" in _say("--as", "周星河", "--say", "stats", admins="陈立")


def test_demo_admins_see_the_roster_and_turn_on_every_managers_digest():
    session, _, _ = start_demo(clock=lambda: NOW)
    assert {session.names[a] for a in session.settings.admins} == {"周星河", "郭芳", "邵华"}
    assert len(DEMO_ADMINS) == 3
    roles = roles_of(session.seed, session.settings)
    assert roles[session.seed.ceo.open_id] == ["admin", "manager"]
    assert roles[session.seed.person("shaohua").open_id] == ["admin"]
    assert roles[session.seed.person("cto").open_id] == ["manager"]
    assert roles[session.seed.person("yangfan").open_id] == []

    session.person = session.seed.ceo
    everyone = session.show(session.say("digest on all"))
    assert "Not available to you" not in everyone and "managers" in everyone
    session.person = session.seed.person("shaohua")  # the HR business partner: the whole roster
    roster = session.show(session.say("roster"))
    assert "Not available to you" not in roster and "Employed 64" in roster  # everyone, not only HR


# ---- the Chinese font hint -------------------------------------------------------------------------------------


def _fontconfig(tmp_path: Path, *, chinese: bool) -> dict[str, str]:
    """A fontconfig of the machine's fonts; `chinese` declares them able to show Chinese (so fc-list :lang=zh
    finds one), else no font at all is known."""
    scan = ('<match target="scan"><edit name="lang" mode="assign"><langset><string>zh-cn</string></langset>'
            "</edit></match>") if chinese else ""
    fonts = "<dir>/usr/share/fonts</dir>" if chinese else f"<dir>{tmp_path / 'empty'}</dir>"
    (tmp_path / "empty").mkdir(exist_ok=True)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><fontconfig>{fonts}<cachedir>{tmp_path / "cache"}</cachedir>{scan}'
                    "</fontconfig>")
    return {"FONTCONFIG_FILE": str(conf)}


@pytest.fixture
def fc_list() -> None:
    if cjk_font_installed() is None:
        pytest.skip("fc-list (fontconfig) is not installed")


def test_start_up_says_how_to_install_a_chinese_font_when_none_is_found(tmp_path, fc_list):
    with demo_process("--page-port", "0", env=_fontconfig(tmp_path, chinese=False)) as (_, lines):
        out = "\n".join(lines)
    assert FONT_HINT in out and "fonts-noto-cjk" in out


def test_start_up_says_nothing_about_fonts_when_a_chinese_one_is_there(tmp_path, fc_list):
    with demo_process("--page-port", "0", env=_fontconfig(tmp_path, chinese=True)) as (_, lines):
        out = "\n".join(lines)
    assert "Chat page: " in out and "fonts-noto-cjk" not in out


def test_without_fc_list_the_font_check_cannot_tell():
    assert cjk_font_installed("no-such-fc-list") is None


# ---- what a newcomer sees -------------------------------------------------------------------------------------


def test_the_demo_seed_has_friendly_names_and_the_tests_seed_keeps_its_hostile_ones():
    tests_seed = build_seed()
    assert build_seed(names="test") == tests_seed  # the default is the tests' seed, unchanged
    assert "<at id=all>" in tests_seed.person("lixing").en_name
    assert any(str(o.get("content", "")).startswith(HOSTILE_OBJECTIVE[0])
               for batch in tests_seed.okrs_of(tests_seed.person("alex")) for o in batch["objective_list"])

    friendly = build_seed(names="friendly")
    text = repr((friendly.people, dict(friendly.okrs)))
    for markup in ("<at ", "**", "](http", "`", "<b>"):
        assert markup not in text, markup
    assert friendly.person("lixing").en_name == "Xing Li"
    assert [p.open_id for p in friendly.people] == [p.open_id for p in tests_seed.people]
    with pytest.raises(ValueError, match="names must be one of"):
        build_seed(names="hostile")
