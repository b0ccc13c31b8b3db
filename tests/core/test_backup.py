"""`harken backup` and `harken restore`: a round trip into a fresh, empty database keeps
every record, every stored file and the audit chain; a tampered archive and a non-empty
target are refused before anything changes.

The tests commit their data (transactional tests): a backup reads committed data only,
and refuses to run inside a transaction."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    FeedbackItemFactory,
    PerceptionSourceFactory,
    persona,
)

from harken.core.backup import (
    MANIFEST,
    BackupError,
    create_backup,
    pg_conninfo,
    restore_backup,
)
from harken.core.choices import Role
from harken.core.files import store_bytes
from harken.core.models import AuditEvent, EvidenceFile
from harken.feedback.models import ImportBatch

ON_POSTGRES = connection.vendor == "postgresql"


def build_records() -> list[EvidenceFile]:
    """People, customers, feedback, an import batch with its original, and attachments."""
    persona(Role.QUALITY_MANAGER, "backup-qm")
    customer = CustomerFactory(name="Backup Customer Ltd")
    ContactFactory(customer=customer, name="Ada Backup")
    source = PerceptionSourceFactory(name="Backup inbox")
    files = [
        store_bytes(b"date,score\n2026-01-05,9\n", name="survey.csv", purpose="import"),
        store_bytes(b"%PDF-1.4 drawing\n", name="drawing.pdf", purpose="attachment"),
        # The same bytes again: one stored file, two records.
        store_bytes(b"%PDF-1.4 drawing\n", name="drawing-copy.pdf", purpose="attachment"),
        store_bytes(bytes(range(256)) * 64, name="photo.bin", purpose="attachment"),
    ]
    batch = ImportBatch.objects.create(source=source, file=files[0], preset="generic")
    for n in range(5):
        FeedbackItemFactory(source=source, customer=customer, text=f"Late delivery {n} — ünïcode")
    FeedbackItemFactory(source=source, import_batch=batch)
    return files


def run_harken(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real `harken` command against another instance (its own database and files)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("HARKEN_")}
    full.pop("DJANGO_SETTINGS_MODULE", None)
    full.update({"HARKEN_DEBUG": "1", **env})
    return subprocess.run(
        [sys.executable, "-m", "harken", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def fresh_instance(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An empty instance: a data directory, and a new SQLite file or PostgreSQL database."""
    data_dir = tmp_path / "restored"
    data_dir.mkdir()
    if not ON_POSTGRES:
        database = data_dir / "harken.sqlite3"
        yield {"data_dir": data_dir, "url": f"sqlite:///{database}", "sqlite": database}
        return
    import psycopg

    name = f"harken_restore_{uuid.uuid4().hex[:12]}"
    settings = {**connection.settings_dict, "NAME": "postgres"}
    conninfo, env = pg_conninfo(settings)
    with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    target = {**connection.settings_dict, "NAME": name}
    user = target.get("USER") or ""
    password = f":{target['PASSWORD']}" if target.get("PASSWORD") else ""
    at = "@" if user else ""
    url = f"postgres://{user}{password}{at}{target.get('HOST') or ''}:{target.get('PORT') or 5432}/{name}"
    try:
        yield {"data_dir": data_dir, "url": url, "postgres": target}
    finally:
        with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def raw_source() -> Any:
    """A plain DB-API connection to the test database (no Django type conversions)."""
    if ON_POSTGRES:
        import psycopg

        conninfo, env = pg_conninfo(connection.settings_dict)
        return psycopg.connect(conninfo, password=env.get("PGPASSWORD"))
    return sqlite3.connect(connection.settings_dict["NAME"], uri=True)


def raw_target(instance: dict[str, Any]) -> Any:
    if ON_POSTGRES:
        import psycopg

        conninfo, env = pg_conninfo(instance["postgres"])
        return psycopg.connect(conninfo, password=env.get("PGPASSWORD"))
    return sqlite3.connect(instance["sqlite"])


def all_rows(conn: Any, tables: list[str], head_seq: int) -> dict[str, list[str]]:
    """Every row of every table, as sorted text; audit events up to the backup's head."""
    rows = {}
    cursor = conn.cursor()
    for table in tables:
        where = f" WHERE seq <= {int(head_seq)}" if table == "core_auditevent" else ""
        cursor.execute(f'SELECT * FROM "{table}"{where}')  # noqa: S608 - names from the manifest
        rows[table] = sorted(repr(tuple(row)) for row in cursor.fetchall())
    return rows


def read_archive(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    with tarfile.open(path, "r:*") as archive:
        contents = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    return json.loads(contents.pop(MANIFEST)), contents


def write_archive(path: Path, manifest: dict[str, Any], contents: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in [*contents.items(), (MANIFEST, json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_keeps_every_record_file_and_the_audit_chain(tmp_path, fresh_instance):
    files = build_records()
    archive = tmp_path / "harken-backup.tar.gz"

    result = create_backup(archive)

    manifest = result.manifest
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["tables"]["feedback_feedbackitem"] == 6
    assert manifest["tables"]["core_evidencefile"] == 4
    assert manifest["files"] == {"count": 3, "missing": []}  # two records share one file
    head = AuditEvent.objects.get(seq=manifest["audit"]["head_seq"])
    assert manifest["audit"]["head_hash"] == head.hash
    assert manifest["audit"]["events"] == head.seq
    assert "0001_initial" in manifest["migrations"]["core"]
    # The backup itself is on the record, after the snapshot it describes.
    latest = AuditEvent.objects.order_by("-seq")[0]
    assert latest.action == "backup.created"
    assert latest.seq == head.seq + 1
    assert latest.changes["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()

    env = {
        "HARKEN_DATA_DIR": str(fresh_instance["data_dir"]),
        "HARKEN_DATABASE_URL": fresh_instance["url"],
    }
    done = run_harken("restore", str(archive), "--expect-sha256", result.sha256, env=env)
    assert done.returncode == 0, done.stderr
    assert f"{head.seq} events verified; head hash {head.hash} matches" in done.stdout
    assert "3 files restored" in done.stdout

    # Every record: each table's rows are the same, value for value.
    tables = sorted(manifest["tables"])
    with raw_source() as source, raw_target(fresh_instance) as target:
        assert all_rows(target, tables, head.seq) == all_rows(source, tables, head.seq)
    # Every stored file, byte for byte.
    for evidence in files:
        restored = fresh_instance["data_dir"] / "files" / evidence.path
        assert hashlib.sha256(restored.read_bytes()).hexdigest() == evidence.sha256
    # The audit chain: intact up to the backup's head, then the restore itself.
    verify = run_harken("audit", "verify", env=env)
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith(f"OK: {head.seq + 1} events verified")
    with raw_target(fresh_instance) as target:
        cursor = target.cursor()
        cursor.execute("SELECT action, prev_hash FROM core_auditevent ORDER BY seq DESC LIMIT 1")
        assert cursor.fetchone() == ("backup.restored", head.hash)


@pytest.mark.django_db(transaction=True)
def test_a_tampered_archive_is_refused_naming_the_member_and_nothing_is_restored(
    tmp_path, fresh_instance
):
    files = build_records()
    archive = tmp_path / "backup.tar"
    create_backup(archive)
    manifest, contents = read_archive(archive)
    member = f"files/{files[1].path}"
    contents[member] = b"%PDF-1.4 a different drawing\n"
    tampered = tmp_path / "tampered.tar"
    write_archive(tampered, manifest, contents)

    env = {
        "HARKEN_DATA_DIR": str(fresh_instance["data_dir"]),
        "HARKEN_DATABASE_URL": fresh_instance["url"],
    }
    done = run_harken("restore", str(tampered), env=env)

    assert done.returncode == 1
    assert f"member {member} does not match the manifest" in done.stderr
    assert not (fresh_instance["data_dir"] / "files").exists()
    with raw_target(fresh_instance) as target:
        cursor = target.cursor()
        if ON_POSTGRES:
            cursor.execute("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
        else:
            cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_member_missing_from_the_manifest_or_the_archive_is_refused(tmp_path):
    build_records()
    archive = tmp_path / "backup.tar"
    create_backup(archive)
    manifest, contents = read_archive(archive)

    extra = tmp_path / "extra.tar"
    write_archive(extra, manifest, {**contents, "files/../../etc/cron.d/x": b"* * * * * root"})
    with pytest.raises(BackupError, match=r"refusing the unsafe file path"):
        restore_backup(extra)

    dropped = tmp_path / "dropped.tar"
    name = next(n for n in contents if n.startswith("files/"))
    write_archive(dropped, manifest, {k: v for k, v in contents.items() if k != name})
    with pytest.raises(BackupError, match=rf"member {name} is listed in the manifest but missing"):
        restore_backup(dropped)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_already_holds_data(tmp_path):
    build_records()
    archive = tmp_path / "backup.tar.gz"
    create_backup(archive)
    events = AuditEvent.objects.count()

    with pytest.raises(BackupError, match=r"the target database is not empty: it has \d+ tables"):
        restore_backup(archive)

    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_an_archive_whose_hash_is_not_the_expected_one(tmp_path):
    archive = tmp_path / "backup.tar"
    create_backup(archive)
    with pytest.raises(BackupError, match=r"not the expected 0{64}; nothing was changed"):
        restore_backup(archive, expect_sha256="0" * 64)


@pytest.mark.django_db(transaction=True)
def test_backup_never_overwrites_and_refuses_a_file_damaged_on_disk(tmp_path):
    existing = tmp_path / "already.tar"
    existing.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        create_backup(existing)
    assert existing.read_bytes() == b"keep me"

    evidence = store_bytes(uuid.uuid4().bytes, name="photo.jpg")
    try:
        with default_storage.open(evidence.path, "wb") as handle:
            handle.write(b"bit rot")
        target = tmp_path / "damaged.tar"
        with pytest.raises(BackupError, match=rf"stored file {evidence.path} no longer matches"):
            create_backup(target)
    finally:
        default_storage.delete(evidence.path)
    assert not target.exists()
    assert not (tmp_path / "damaged.tar.partial").exists()


def test_backup_refuses_to_run_inside_a_transaction(tmp_path, db):
    with pytest.raises(BackupError, match="cannot run inside a database transaction"):
        create_backup(tmp_path / "b.tar")


@pytest.mark.django_db(transaction=True)
def test_backup_command_prints_the_archive_hash_and_counts(tmp_path):
    from django.core.management import call_command

    build_records()
    out = io.StringIO()
    call_command("backup", "--out", str(tmp_path / "b.tar.gz"), stdout=out)
    text = out.getvalue()
    digest = hashlib.sha256((tmp_path / "b.tar.gz").read_bytes()).hexdigest()
    assert f"SHA-256 {digest}" in text
    assert tarfile.is_tarfile(tmp_path / "b.tar.gz")
