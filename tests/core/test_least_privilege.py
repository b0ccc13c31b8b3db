"""On PostgreSQL the application role may read and append the audit trail, nothing more
(src/harken/core/sql/least_privilege.sql, run through psql as docs/deploy.md says)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from tests.factories import CustomerFactory

import harken
from harken.core import audit
from harken.core.backup import pg_conninfo
from harken.core.models import AuditEvent

SCRIPT = Path(harken.__file__).parent / "core" / "sql" / "least_privilege.sql"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def app_role():
    """A fresh role with the script's grants; dropped (with its grants) afterwards."""
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    role = f"harken_app_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
    conninfo, env = pg_conninfo(connection.settings_dict)
    try:
        command = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"app_role={role}"]
        done = subprocess.run(
            [*command, "-d", conninfo, "-f", str(SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


def as_role(role: str, sql: str, params: list | None = None) -> str:
    """Run one statement as `role`; return "" when it succeeds, else the error message."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{role}"')
            cursor.execute(sql, params or [])
            cursor.execute("RESET ROLE")
    except DatabaseError as exc:
        return str(exc)
    return ""


def test_the_application_role_may_only_read_and_append_the_audit_trail(app_role):
    customer = CustomerFactory()
    seq = AuditEvent.objects.order_by("seq")[0].seq

    # It reads, and it appends through the application's own path.
    assert as_role(app_role, "SELECT COUNT(*) FROM core_auditevent") == ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{app_role}"')
        event = audit.record("test.appended", customer)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    # It works on the domain tables as the application must.
    assert (
        as_role(app_role, "UPDATE customers_customer SET name = name WHERE id = %s", [customer.pk])
        == ""
    )

    # It may not rewrite or remove the trail: the grant refuses before the trigger runs.
    refused = "permission denied for table core_auditevent"
    assert refused in as_role(
        app_role, "UPDATE core_auditevent SET action = 'x' WHERE seq = %s", [seq]
    )
    assert refused in as_role(app_role, "DELETE FROM core_auditevent WHERE seq = %s", [seq])
    assert refused in as_role(app_role, "TRUNCATE core_auditevent")
    # Nor empty any other table at once.
    assert "permission denied" in as_role(app_role, "TRUNCATE customers_customer CASCADE")
    assert audit.verify_chain().ok
