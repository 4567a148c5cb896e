"""`python -m bot doctor` against the sandbox: right credentials and scopes pass; a wrong secret, a withheld scope, an
unreachable webhook, a database that is not there are each named with what to do; exit 0 only when all is set."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from bot.doctor import diagnose, run
from bot.inbound import InlineExecutor
from bot.transports.webhook import create_app
from tests.conftest import APP_ID, APP_SECRET, VERIFICATION_TOKEN


@pytest.fixture
def env(sandbox):
    return {"FEISHU_APP_ID": APP_ID, "FEISHU_APP_SECRET": APP_SECRET, "FEISHU_DOMAIN": sandbox.url,
            "DATABASE_URL": "sqlite://", "FEISHU_HTTP_TIMEOUT": "5"}


def lines(env, **kwargs) -> tuple[int, str]:
    out: list[str] = []
    code = run(env, out=out.append, **kwargs)
    return code, "\n".join(out)


def test_a_deployment_with_everything_passes_and_only_reads(env, sandbox):
    code, text = lines(env, transport="longconn")
    assert code == 0, text
    assert "✓ App ID and App Secret" in text and "✓ the bot: OKR 助手" in text
    assert "✓ scope ehr:employee:readonly" in text and "✓ the long connection can open" in text
    assert "✗" not in text
    assert "! login is off" in text  # a warning, not a failure
    writes = [r for r in sandbox.state.requests.entries()
              if r["method"] in ("POST", "PATCH", "DELETE", "PUT")
              and not r["path"].endswith(("/tenant_access_token/internal", "/query", "/callback/ws/endpoint"))]
    assert writes == []  # every probe reads


def test_a_wrong_secret_is_named_as_such_and_nothing_else_is_tried(env, sandbox):
    code, text = lines({**env, "FEISHU_APP_SECRET": "not-the-secret"}, transport="longconn")
    assert code == 1
    assert "✗ FEISHU_APP_SECRET is wrong" in text and "10014" in text and "凭证与基础信息" in text
    assert "scope" not in text  # no probe runs on credentials Feishu refused
    assert [r["path"] for r in sandbox.state.requests.entries()] == ["/open-apis/auth/v3/tenant_access_token/internal"]


def test_an_unknown_app_id_is_named(env):
    code, text = lines({**env, "FEISHU_APP_ID": "cli_nobody"}, transport="longconn")
    assert code == 1 and "✗ FEISHU_APP_ID is wrong" in text


def test_a_withheld_scope_is_named_with_what_breaks(env, sandbox):
    sandbox.state.scopes.withhold(["ehr:employee:readonly"])
    code, text = lines(env, transport="longconn")
    assert code == 1
    assert "✗ scope ehr:employee:readonly is not enabled: roster" in text
    assert "✓ scope okr:okr:readonly" in text  # the others still pass


def test_a_scope_with_an_alternative_passes_when_the_alternative_is_on(env, sandbox):
    sandbox.state.scopes.withhold(["okr:okr:readonly"])  # okr:okr still granted
    assert "✓ scope okr:okr:readonly or okr:okr" in lines(env, transport="longconn")[1]
    sandbox.state.scopes.withhold(["okr:okr"])
    assert "✗ scope okr:okr:readonly or okr:okr is not enabled: okr, reminders, digests" in lines(
        env, transport="longconn")[1]


def test_missing_settings_are_a_configuration_finding(env):
    findings = diagnose({k: v for k, v in env.items() if k != "FEISHU_APP_ID"})
    assert findings[0].ok is False and "FEISHU_APP_ID" in findings[0].text


def test_a_database_that_is_not_there_is_named(env):
    code, text = lines({**env, "DATABASE_URL": "sqlite:////nonexistent-dir/bot.db"}, transport="longconn")
    assert code == 1 and "✗ the database at DATABASE_URL" in text


@pytest.fixture
def webhook_port(settings):
    app = create_app(settings.with_(verification_token=VERIFICATION_TOKEN), executor=InlineExecutor())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join()


def test_the_webhook_is_checked_at_bot_public_url(env, webhook_port):
    webhook = {**env, "FEISHU_VERIFICATION_TOKEN": VERIFICATION_TOKEN, "FEISHU_ENCRYPT_KEY": "k"}
    code, text = lines({**webhook, "BOT_PUBLIC_URL": f"http://127.0.0.1:{webhook_port}"})
    assert code == 0, text
    assert f"✓ the webhook answers at http://127.0.0.1:{webhook_port}" in text and "/webhook/card" in text
    code, text = lines({**webhook, "BOT_PUBLIC_URL": f"http://127.0.0.1:{webhook_port}",
                        "FEISHU_APP_ID": APP_ID, "FEISHU_VERIFICATION_TOKEN": ""})
    assert code == 1 and "✗ FEISHU_VERIFICATION_TOKEN is not set" in text


def test_a_webhook_nobody_answers_or_another_app_answers_is_a_problem(env, webhook_port, sandbox):
    code, text = lines({**env, "FEISHU_VERIFICATION_TOKEN": VERIFICATION_TOKEN, "BOT_PUBLIC_URL": "http://127.0.0.1:9"})
    assert code == 1 and "✗ the webhook is not reachable at http://127.0.0.1:9" in text
    assert "✗ the webhook needs BOT_PUBLIC_URL" in lines(env, transport="webhook")[1]


def test_python_m_bot_doctor_exits_1_on_a_wrong_secret_and_0_when_all_is_set(env, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FEISHU_", "BOT_", "DATABASE_URL", "REDIS_URL"))}
    command = [sys.executable, "-m", "bot", "doctor", "--transport", "longconn"]
    wrong = subprocess.run(command, env={**base, **env, "FEISHU_APP_SECRET": "x"}, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1 and "FEISHU_APP_SECRET is wrong" in wrong.stdout
    right = subprocess.run(command, env={**base, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert right.returncode == 0, right.stdout + right.stderr
