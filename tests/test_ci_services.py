"""A service a test needs (Redis, PostgreSQL, Chromium) that cannot start never lets the run pass unnoticed:
under CI (CI=true) the test fails; elsewhere it is skipped and pytest prints the reason (`-rs` in the
project's addopts). Checked by running pytest, with the project's configuration, on a small generated test
file whose services are pointed at binaries that do not exist (or exit at once)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NEEDS_SERVICES = '''
from tests.browser import chromium
from tests.services import postgres_server, redis_server


def test_needs_redis():
    with redis_server():
        raise AssertionError("never reached: there is no redis-server")


def test_needs_postgres():
    with postgres_server():
        raise AssertionError("never reached: there is no PostgreSQL")


def test_needs_chromium():
    with chromium():
        raise AssertionError("never reached: there is no Chromium")
'''

REASONS = ("redis-server could not be run", "PostgreSQL did not start", "Chromium is not installed")


def run_pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_needs_services.py").write_text(NEEDS_SERVICES)
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", "TEST_REDIS_URL", "TEST_POSTGRES_URL", "PYTEST_ADDOPTS")}
    clean.update(PYTHONPATH=str(ROOT), TEST_REDIS_SERVER=str(tmp_path / "no-such-redis-server"),
                 TEST_POSTGRES_BIN=str(tmp_path / "no-such-postgresql"), CHROMIUM=str(tmp_path / "no-such-chromium"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path),
         "-p", "no:cacheprovider", str(tmp_path / "test_needs_services.py")],
        env={**clean, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_under_ci_a_service_that_cannot_start_fails_the_run(tmp_path):
    result = run_pytest(tmp_path, CI="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3 failed" in result.stdout, result.stdout
    for reason in REASONS:
        assert f"{reason}" in result.stdout, result.stdout
    assert result.stdout.count("CI=true: a service that cannot start fails the run") >= 3


@pytest.mark.parametrize("ci", ["", "false"])
def test_elsewhere_it_is_skipped_and_the_reason_is_shown(tmp_path, ci):
    result = run_pytest(tmp_path, **({"CI": ci} if ci else {}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 skipped" in result.stdout, result.stdout
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]  # -rs in addopts
    assert len(skipped) == 3, result.stdout
    for reason in REASONS:
        assert any(f"NOT RUN: {reason}" in line for line in skipped), result.stdout


def test_a_service_that_is_there_but_exits_at_once_is_reported_too(tmp_path):
    result = run_pytest(tmp_path, CI="true", TEST_REDIS_SERVER="/bin/false", CHROMIUM="/bin/false")
    assert result.returncode == 1 and "3 failed" in result.stdout, result.stdout
    assert "redis-server did not start (exit code 1)" in result.stdout, result.stdout
    assert "Chromium (/bin/false) did not start" in result.stdout, result.stdout
