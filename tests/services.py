"""Real Redis and PostgreSQL servers for the scale-out tests, started by the tests themselves on free
loopback ports (the way `.ci/run` gets them: Debian's redis-server and postgresql packages).

A service that cannot start (not installed, or it fails) never lets a test pass: under CI (`CI=true`) the
test fails, so a CI run cannot go green without the tests it was meant to run; elsewhere the test is
skipped and pytest (`-rs` in pyproject.toml) prints why. `unavailable()` makes that choice, for Chromium
(tests/browser.py) too. TEST_REDIS_SERVER and TEST_POSTGRES_BIN (the directory of initdb and pg_ctl) pick
other binaries than the installed ones; TEST_REDIS_URL and TEST_POSTGRES_URL use running servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    """A service the test needs cannot start: fail under CI (CI=true), skip with the reason elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a service that cannot start fails the run)", pytrace=False)
    pytest.skip(f"NOT RUN: {reason}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server() -> Iterator[str]:
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    exe = os.environ.get("TEST_REDIS_SERVER") or shutil.which("redis-server")
    if exe is None:
        unavailable("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port = free_port()
    try:
        proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as exc:
        proc, failure = None, str(exc)
    if proc is None:
        unavailable(f"redis-server could not be run: {failure}")
    output = []
    for line in proc.stdout:  # wait for the server's own "ready" line
        if "Ready to accept connections" in line:
            break
        output.append(line)
    else:
        proc.wait()
        said = "".join(output[-5:]).strip()
        unavailable(f"redis-server did not start (exit code {proc.returncode}){': ' + said if said else ''}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def postgres_server() -> Iterator[str]:
    if os.environ.get("TEST_POSTGRES_URL"):
        yield os.environ["TEST_POSTGRES_URL"]
        return
    bindir = os.environ.get("TEST_POSTGRES_BIN") or (sorted(glob("/usr/lib/postgresql/*/bin")) or [""])[-1]
    if not bindir:
        unavailable("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    initdb, pg_ctl = os.path.join(bindir, "initdb"), os.path.join(bindir, "pg_ctl")
    data = tempfile.mkdtemp(prefix="okrbot-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    failure = ""
    for command in ([initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                    [pg_ctl, "-D", data, "-o", options, "-w", "-l", os.path.join(data, "log"), "start"]):
        try:
            done = subprocess.run([*as_user, *command], capture_output=True, text=True)
        except OSError as exc:
            failure = str(exc)
        else:
            if done.returncode != 0:
                failure = f"{os.path.basename(command[0])} exited with {done.returncode}: " + (
                    done.stderr or done.stdout).strip()[-300:]
        if failure:
            shutil.rmtree(data, ignore_errors=True)
            unavailable(f"PostgreSQL did not start ({bindir}): {failure}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)
