"""The `harken` commands: audit verify, adduser, token, tick, demo, createsuperuser."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from tests.factories import CustomerFactory, UserFactory

from harken.core.models import AuditEvent
from harken.customers.models import Customer

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: str = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out, stderr=err)
    finally:
        sys.stdin = old_stdin
    return out.getvalue(), err.getvalue()


def test_audit_verify_passes_on_an_untouched_database():
    CustomerFactory()
    out, _ = run("audit", "verify")
    assert out.startswith(f"OK: {AuditEvent.objects.count()} events verified")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="edits the SQLite file directly")
def test_audit_verify_exits_1_naming_the_tampered_event():
    for _ in range(3):
        CustomerFactory()
    target = AuditEvent.objects.order_by("seq")[1].seq
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET changes = %s WHERE seq = %s", ['{"name": "forged"}', target]
        )
    with pytest.raises(SystemExit) as exit_info:
        run("audit", "verify")
    assert exit_info.value.code == 1


def test_adduser_reads_the_password_from_stdin_and_sets_the_role():
    out, _ = run("adduser", "newqm", "--role", "quality_manager", stdin="a-long-enough-pass-2026\n")
    assert "Created newqm" in out
    user = get_user_model().objects.get(username="newqm")
    assert user.check_password("a-long-enough-pass-2026")
    assert user.roles == {"quality_manager"}


def test_adduser_refuses_a_weak_password():
    with pytest.raises(CommandError, match="Password refused"):
        run("adduser", "weak", "--role", "auditor", stdin="123\n")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_adduser_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        run("adduser", "x", "--role", "king", stdin="a-long-enough-pass-2026\n")


def test_token_is_created_once_and_rotated_on_request():
    UserFactory(username="tokenuser")
    first, _ = run("token", "tokenuser")
    again, _ = run("token", "tokenuser")
    rotated, _ = run("token", "tokenuser", "--rotate")
    assert first == again
    assert rotated != first
    assert AuditEvent.objects.filter(action="user.token_issued").count() == 2


def test_as_records_the_named_user_as_actor():
    UserFactory(username="cliuser")
    run("token", "cliuser", "--as", "cliuser")
    event = AuditEvent.objects.filter(action="user.token_issued").get()
    assert event.actor_label == "cliuser"
    assert event.request_id.startswith("cli-")


def test_as_an_unknown_user_is_refused():
    with pytest.raises(CommandError, match="no active user"):
        run("token", "whoever", "--as", "ghost")


def test_tick_runs_the_registered_duties():
    CustomerFactory()
    out, _ = run("tick")
    assert "audit chain:" in out
    assert "events verified" in out
    assert out.strip().endswith("1 ok, 0 failed") or "0 failed" in out


def test_demo_builds_the_company_deterministically_and_only_once():
    out, _ = run("demo", "--seed", "7")
    assert "customers: 5 regions, 8 product lines, 300 customers" in out
    names = list(Customer.objects.order_by("number").values_list("name", flat=True)[:5])
    assert Customer.objects.count() == 300
    again, _ = run("demo", "--seed", "7")
    assert "loaded already" in again
    assert Customer.objects.count() == 300
    demo_user = get_user_model().objects.get(username="auditor")
    assert demo_user.roles == {"auditor"}
    assert names == list(Customer.objects.order_by("number").values_list("name", flat=True)[:5])


def test_createsuperuser_works_without_a_prompt(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-pass-2026")
    run("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.com")
    assert get_user_model().objects.get(username="root").is_superuser


ROOT = Path(__file__).resolve().parents[2]


def harken(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harken", *args],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "harken.settings", **env},
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="works on a SQLite file")
def test_editing_one_row_of_a_real_sqlite_file_is_named_by_verify(tmp_path):
    import sqlite3

    env = {
        "HARKEN_DEBUG": "1",
        "HARKEN_TESTING": "",
        "HARKEN_DATA_DIR": str(tmp_path),
        "HARKEN_DATABASE_URL": "",
    }
    assert harken("migrate", "-v", "0", env=env).returncode == 0
    for name in ("ann", "bob", "cem"):
        created = harken("adduser", name, "--role", "auditor", env=env, stdin="long-pass-2026-x\n")
        assert created.returncode == 0, created.stderr
    ok = harken("audit", "verify", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: ")
    assert " events verified; head hash " in ok.stdout

    database = sqlite3.connect(tmp_path / "harken.sqlite3")
    database.execute("UPDATE core_auditevent SET actor_label = 'someone' WHERE seq = 3")
    database.commit()
    database.close()
    broken = harken("audit", "verify", env=env)
    assert broken.returncode == 1
    assert "BROKEN at event 3: its content does not match its hash" in broken.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = harken(
        "check",
        env={
            "HARKEN_DEBUG": "0",
            "HARKEN_TESTING": "0",
            "HARKEN_SECRET_KEY": "",
            "HARKEN_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode != 0
    assert "HARKEN_SECRET_KEY" in result.stderr


def production_env(data_dir: Path) -> dict[str, str]:
    """Settings as a production instance has them (the test settings left out)."""
    return {
        "HARKEN_DEBUG": "0",
        "HARKEN_TESTING": "0",
        "HARKEN_SECRET_KEY": "x" * 60 + "-production-key-for-the-check-only",
        "HARKEN_ALLOWED_HOSTS": "harken.example.com",
        "HARKEN_HTTPS": "1",
        "HARKEN_DATA_DIR": str(data_dir),
    }


def test_deploy_check_passes_with_production_settings(tmp_path):
    result = harken(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_cookies_carry_the_host_prefix(tmp_path):
    result = harken(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.SESSION_COOKIE_DOMAIN, s.SESSION_COOKIE_PATH)",
        env=production_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "None",
        "/",
    ]


@pytest.mark.parametrize(("given", "expected"), [(["--nice", "7"], [7]), ([], [])])
def test_the_worker_lowers_its_priority_only_when_asked(monkeypatch, given, expected):
    """`harken serve` starts its worker with `--nice 10`; alone it runs at full speed."""
    from harken.core.management.commands import worker

    lowered: list[int] = []
    started: list[tuple[str, ...]] = []
    monkeypatch.setattr(os, "nice", lowered.append)
    monkeypatch.setattr(worker, "call_command", lambda *args: started.append(args))
    run("worker", "--batch", *given)
    assert lowered == expected
    assert started and started[0][0] == "db_worker" and "--batch" in started[0]
