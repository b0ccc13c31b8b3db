"""Backups and restores: one archive with a consistent database snapshot, every stored
file, and a manifest of hashes.

The archive is a tar file (gzipped when asked) holding:

- `database/harken.sqlite3` (SQLite's online backup API, a page-consistent copy of the
  live database) or `database/harken.pgdump` (`pg_dump --format=custom`);
- `files/<storage path>` for every evidence file the snapshot refers to;
- `manifest.json`, written last: the Harken version, database vendor, applied
  migrations, row counts per table, the audit chain's head, and the SHA-256 and size
  of every other member.

Everything the manifest says is read from the snapshot itself, never from the live
database, so the counts and the chain head match the dump exactly: on SQLite the
copy is opened and counted; on PostgreSQL one REPEATABLE READ transaction exports its
snapshot to `pg_dump --snapshot` and counts in the same snapshot. Stored files are
content-addressed and never overwritten (core/files.py), so a file the snapshot names
is still there, byte for byte, while the archive is written.

A restore goes only into an empty instance (a database without tables): it checks
every member against the manifest before it changes anything, then restores the
files and the database, and proves the result — row counts, the audit chain
recomputed up to the manifest's head, and every stored file's hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

import harken

from . import audit

FORMAT = "harken-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FILES_PREFIX = "files/"
DATABASE_MEMBERS = {
    "sqlite": "database/harken.sqlite3",
    "postgresql": "database/harken.pgdump",
}
CHUNK = 1024 * 1024
# libpq settings that may sit in the database OPTIONS and that pg_dump/pg_restore must
# see too (the rest of OPTIONS is Django's own).
LIBPQ_OPTIONS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslpassword",
        "connect_timeout",
        "application_name",
        "options",
        "passfile",
        "service",
        "target_session_attrs",
    }
)

Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Facts:
    """What a database snapshot holds, as the manifest records it."""

    tables: dict[str, int]
    migrations: dict[str, list[str]]
    audit_events: int
    audit_head_seq: int | None
    audit_head_hash: str
    files: list[tuple[str, str]]  # (storage path, SHA-256), one per stored file


@dataclass
class BackupResult:
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]
    missing_files: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    tables: int
    rows: int
    files_restored: int
    files_present: int
    audit_events: int
    audit_head_hash: str
    pending_migrations: list[str]


# -- reading a snapshot ------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_facts(cursor: Any, vendor: str) -> Facts:
    """Count and describe a database through a DB-API cursor (SQLite or psycopg)."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    else:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() ORDER BY c.relname"
        )
    names = [row[0] for row in cursor.fetchall()]
    tables = {}
    for name in names:
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(name)}")  # noqa: S608 - a quoted table name from the catalogue
        tables[name] = int(cursor.fetchone()[0])
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    head_seq, head_hash = None, audit.GENESIS_HASH
    files: list[tuple[str, str]] = []
    if "core_auditevent" in tables:
        cursor.execute("SELECT seq, hash FROM core_auditevent ORDER BY seq DESC LIMIT 1")
        row = cursor.fetchone()
        if row:
            head_seq, head_hash = int(row[0]), str(row[1])
    if "core_evidencefile" in tables:
        # Files a retention rule disposed of are gone on purpose (core/retention.py).
        cursor.execute(
            "SELECT DISTINCT path, sha256 FROM core_evidencefile "
            "WHERE disposed_at IS NULL ORDER BY path"
        )
        files = [(str(path), str(sha)) for path, sha in cursor.fetchall()]
    return Facts(
        tables=tables,
        migrations=migrations,
        audit_events=tables.get("core_auditevent", 0),
        audit_head_seq=head_seq,
        audit_head_hash=head_hash,
        files=files,
    )


def _sqlite_snapshot(connection: Any, target: Path) -> Facts:
    """Copy the live SQLite database with the online backup API and describe the copy."""
    connection.ensure_connection()
    source = connection.connection
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1) copies every page under one read lock: a consistent image
        # even while other processes write.
        source.backup(copy)
        # A self-contained file: no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        return read_facts(copy.cursor(), "sqlite")
    finally:
        copy.close()


def pg_conninfo(settings_dict: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and an environment carrying it
    (so the password never shows in a process list)."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, str] = {"dbname": str(settings_dict["NAME"])}
    for key, name in (("USER", "user"), ("HOST", "host"), ("PORT", "port")):
        if settings_dict.get(key):
            params[name] = str(settings_dict[key])
    for key, value in (settings_dict.get("OPTIONS") or {}).items():
        if key in LIBPQ_OPTIONS and value is not None:
            params[key] = str(value)
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return make_conninfo(**params), env


def _client_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client programs "
            "(the server's major version or newer; on Debian `apt install postgresql-client`)."
        )
    return program


def _postgres_snapshot(connection: Any, target: Path) -> Facts:
    """`pg_dump --format=custom` and the manifest facts, both from one exported snapshot."""
    import psycopg

    pg_dump = _client_program("pg_dump")
    conninfo, env = pg_conninfo(connection.settings_dict)
    with psycopg.connect(conninfo, password=env.get("PGPASSWORD")) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]  # type: ignore[index]
            facts = read_facts(cursor, "postgresql")
        # The exported snapshot lives as long as this transaction: dump before ending it.
        done = subprocess.run(  # noqa: S603 - fixed program, arguments built here
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={conninfo}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        conn.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip() or done.returncode}")
    return facts


# -- writing the archive -----------------------------------------------------------------


class _HashingReader:
    """Reads through to `raw`, hashing and counting the bytes on the way."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _safe_member_path(path: str) -> str:
    """A storage path as it may appear inside the archive (relative, no `..`)."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path:
        raise BackupError(f"refusing the unsafe file path {path!r}")
    return str(pure)


def _add_member(archive: tarfile.TarFile, name: str, stream: IO[bytes], size: int) -> str:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    reader = _HashingReader(stream)
    archive.addfile(info, reader)
    return reader.digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def create_backup(
    out: Path | str,
    *,
    compress: bool | None = None,
    using: str = DEFAULT_DB_ALIAS,
    progress: Progress | None = None,
) -> BackupResult:
    """Write the archive to `out` (via a `.partial` file renamed at the end).

    `compress` gzips the tar; by default it follows the name (`.gz`, `.tgz`).
    Records `backup.created` in the audit trail once the archive is complete.
    """
    out = Path(out)
    if compress is None:
        compress = out.name.endswith((".gz", ".tgz"))
    if out.exists():
        raise BackupError(f"{out} already exists; a backup never overwrites a file.")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent} is not a directory.")
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}.")
    if connection.in_atomic_block:
        # SQLite's backup would wait for this very transaction's write lock; on
        # PostgreSQL the snapshot would not see what the transaction has written.
        raise BackupError("a backup cannot run inside a database transaction.")
    partial = out.with_name(out.name + ".partial")
    members: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".harken-backup-") as tmp:
            dump = Path(tmp) / "database"
            if progress:
                progress("database", 0, 1)
            if vendor == "sqlite":
                facts = _sqlite_snapshot(connection, dump)
            else:
                facts = _postgres_snapshot(connection, dump)
            created_at = timezone.now()
            with tarfile.open(partial, "w:gz" if compress else "w") as archive:
                name = DATABASE_MEMBERS[vendor]
                size = dump.stat().st_size
                with dump.open("rb") as handle:
                    members[name] = {
                        "sha256": _add_member(archive, name, handle, size),
                        "size": size,
                    }
                if progress:
                    progress("database", 1, 1)
                for index, (path, sha) in enumerate(facts.files, start=1):
                    name = FILES_PREFIX + _safe_member_path(path)
                    if not default_storage.exists(path):
                        missing.append(path)
                        continue
                    size = default_storage.size(path)
                    with default_storage.open(path, "rb") as handle:
                        digest = _add_member(archive, name, handle, size)
                    if digest != sha:
                        raise BackupError(
                            f"the stored file {path} no longer matches its recorded SHA-256 "
                            f"({digest} instead of {sha}): it was altered or damaged on disk."
                        )
                    members[name] = {"sha256": digest, "size": size}
                    if progress:
                        progress("files", index, len(facts.files))
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "harken_version": harken.__version__,
                    "created_at": created_at.astimezone(dt.UTC).isoformat(),
                    "database": {"vendor": vendor, "member": DATABASE_MEMBERS[vendor]},
                    "migrations": facts.migrations,
                    "tables": facts.tables,
                    "audit": {
                        "events": facts.audit_events,
                        "head_seq": facts.audit_head_seq,
                        "head_hash": facts.audit_head_hash,
                    },
                    "files": {"count": len(facts.files) - len(missing), "missing": missing},
                    "members": members,
                }
                data = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(created_at.timestamp())
                info.mode = 0o600
                archive.addfile(info, io.BytesIO(data))
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    sha = _file_sha256(out)
    audit.record(
        "backup.created",
        object_type="core.backup",
        object_label=out.name,
        changes={
            "archive": out.name,
            "sha256": sha,
            "audit_head_seq": facts.audit_head_seq,
            "audit_head_hash": facts.audit_head_hash,
            "files": len(facts.files) - len(missing),
            "missing_files": len(missing),
        },
    )
    return BackupResult(
        path=out, sha256=sha, size=out.stat().st_size, manifest=manifest, missing_files=missing
    )


# -- reading and checking an archive -----------------------------------------------------


@contextmanager
def open_archive(path: Path | str) -> Iterator[tarfile.TarFile]:
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        archive = tarfile.open(path, "r:*")
    except tarfile.TarError as exc:
        raise BackupError(f"{path} is not a Harken backup (not a tar archive: {exc}).") from exc
    try:
        yield archive
    finally:
        archive.close()


def read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    """The manifest, checked for the fields a restore relies on."""
    try:
        member = archive.getmember(MANIFEST)
    except KeyError as exc:
        raise BackupError("the archive has no manifest.json: not a Harken backup.") from exc
    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError("manifest.json is not a regular file.")
    try:
        manifest = json.loads(handle.read())
    except ValueError as exc:
        raise BackupError(f"manifest.json is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("manifest.json does not describe a Harken backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"backup format version {manifest.get('format_version')!r} is not supported "
            f"(this Harken reads version {FORMAT_VERSION})."
        )
    for key in ("database", "members", "tables", "audit", "migrations"):
        if not isinstance(manifest.get(key), dict):
            raise BackupError(f"manifest.json lacks its {key!r} section.")
    return manifest


def _member_stream(archive: tarfile.TarFile, member: tarfile.TarInfo | str) -> IO[bytes]:
    handle = archive.extractfile(member)
    if handle is None:
        name = member if isinstance(member, str) else member.name
        raise BackupError(f"member {name} is not a regular file; refusing the archive.")
    return handle


def verify_archive(
    archive: tarfile.TarFile, manifest: dict[str, Any], progress: Progress | None = None
) -> None:
    """Every member is listed, safe, and has the size and SHA-256 the manifest says;
    every listed member is present. Raises BackupError naming the first that is not."""
    expected: dict[str, dict[str, Any]] = manifest["members"]
    seen: set[str] = set()
    members = [m for m in archive.getmembers() if m.name != MANIFEST]
    for index, member in enumerate(members, start=1):
        name = member.name
        if not member.isfile():
            raise BackupError(f"member {name} is not a regular file; refusing the archive.")
        _safe_member_path(name)
        if name not in expected:
            raise BackupError(f"member {name} is not listed in the manifest; refusing the archive.")
        if name in seen:
            raise BackupError(f"member {name} appears twice; refusing the archive.")
        seen.add(name)
        handle = _member_stream(archive, member)
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != expected[name].get("sha256") or member.size != expected[name].get(
            "size"
        ):
            raise BackupError(
                f"member {name} does not match the manifest (SHA-256 {digest.hexdigest()}, "
                f"expected {expected[name].get('sha256')}): the archive was altered or damaged."
            )
        if progress:
            progress("verifying", index, len(members))
    absent = sorted(set(expected) - seen)
    if absent:
        raise BackupError(f"member {absent[0]} is listed in the manifest but missing.")
    database = manifest["database"].get("member")
    if database not in seen:
        raise BackupError("the archive holds no database snapshot.")


# -- restoring ---------------------------------------------------------------------------


def target_tables(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    connection = connections[using]
    with connection.cursor() as cursor:
        return list(connection.introspection.table_names(cursor))


def unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    """Migrations the backup had applied that this version of Harken does not know."""
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in sorted(manifest["migrations"].items())
        for name in names
        if (app, name) not in known
    ]


def pending_migrations(using: str = DEFAULT_DB_ALIAS) -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def _check_target(manifest: dict[str, Any], using: str) -> None:
    connection = connections[using]
    vendor = manifest["database"].get("vendor")
    if vendor != connection.vendor:
        raise BackupError(
            f"the backup holds a {vendor} database but this instance uses {connection.vendor}; "
            "restore into the same kind of database."
        )
    tables = target_tables(using)
    if tables:
        raise BackupError(
            f"the target database is not empty: it has {len(tables)} tables "
            f"({', '.join(sorted(tables)[:3])}, …). Restore only into a new, empty database: "
            "create one, point HARKEN_DATABASE_URL at it, and do not run `harken migrate` on it "
            "first. Nothing was changed."
        )
    unknown = unknown_migrations(manifest)
    if unknown:
        raise BackupError(
            f"the backup was made by a newer Harken (it has applied {unknown[0]}, which this "
            "version does not know). Install that version or newer, then restore."
        )


def _extract_to(archive: tarfile.TarFile, name: str, target: Path, sha256: str) -> None:
    handle = _member_stream(archive, name)
    reader = _HashingReader(handle)
    with target.open("wb") as out:
        while chunk := reader.read(CHUNK):
            out.write(chunk)
    if reader.digest.hexdigest() != sha256:  # the archive changed since it was verified
        raise BackupError(f"member {name} changed while it was being restored.")


def _restore_file(archive: tarfile.TarFile, member: tarfile.TarInfo, sha256: str) -> bool:
    """Put one stored file in place; False when the same bytes were there already."""
    path = member.name[len(FILES_PREFIX) :]
    if default_storage.exists(path):
        digest = hashlib.sha256()
        with default_storage.open(path, "rb") as existing:
            while chunk := existing.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            raise BackupError(
                f"the target storage already has a different {path}; restore into empty storage."
            )
        return False
    handle = _member_stream(archive, member)
    with tempfile.TemporaryFile() as spool:
        reader = _HashingReader(handle)
        while chunk := reader.read(CHUNK):
            spool.write(chunk)
        if reader.digest.hexdigest() != sha256:
            raise BackupError(f"member {member.name} changed while it was being restored.")
        spool.seek(0)
        saved = default_storage.save(path, File(spool))
    if saved != path:
        raise BackupError(f"the storage stored {path} as {saved}.")
    return True


def _restore_sqlite(snapshot: Path, using: str) -> None:
    connection = connections[using]
    name = str(connection.settings_dict["NAME"])
    connection.close()
    source = sqlite3.connect(snapshot)
    target = sqlite3.connect(name)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgres(dump: Path, using: str) -> None:
    pg_restore = _client_program("pg_restore")
    connection = connections[using]
    conninfo, env = pg_conninfo(connection.settings_dict)
    connection.close()
    done = subprocess.run(  # noqa: S603 - fixed program, arguments built here
        [
            pg_restore,
            "--no-password",
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip() or done.returncode}")


def restore_backup(
    path: Path | str,
    *,
    expect_sha256: str = "",
    using: str = DEFAULT_DB_ALIAS,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore an archive into this (empty) instance and prove the result.

    Order: the archive's own hash (when given) → the manifest → every member's hash →
    the target is empty and of the same vendor → files → database → checks (row counts,
    audit chain up to the manifest's head, every stored file's hash). Nothing is
    written before every member has been verified. Records `backup.restored` once the
    checks pass.
    """
    path = Path(path)
    if expect_sha256:
        actual = _file_sha256(path)
        if actual != expect_sha256.strip().lower():
            raise BackupError(
                f"{path.name} has SHA-256 {actual}, not the expected {expect_sha256}; "
                "nothing was changed."
            )
    with open_archive(path) as archive:
        manifest = read_manifest(archive)
        verify_archive(archive, manifest, progress)
        _check_target(manifest, using)
        members = manifest["members"]
        restored = present = 0
        file_members = [m for m in archive.getmembers() if m.name.startswith(FILES_PREFIX)]
        for index, member in enumerate(file_members, start=1):
            if _restore_file(archive, member, members[member.name]["sha256"]):
                restored += 1
            else:
                present += 1
            if progress:
                progress("files", index, len(file_members))
        database = manifest["database"]["member"]
        with tempfile.TemporaryDirectory(prefix="harken-restore-") as tmp:
            snapshot = Path(tmp) / "database"
            _extract_to(archive, database, snapshot, members[database]["sha256"])
            if progress:
                progress("database", 0, 1)
            if manifest["database"]["vendor"] == "sqlite":
                _restore_sqlite(snapshot, using)
            else:
                _restore_postgres(snapshot, using)
            if progress:
                progress("database", 1, 1)
    return _prove(manifest, using, restored, present, path.name)


def _prove(
    manifest: dict[str, Any], using: str, restored: int, present: int, archive_name: str
) -> RestoreResult:
    """Check the restored instance against the manifest; BackupError on any difference."""
    from .files import verify_file
    from .models import EvidenceFile

    connection = connections[using]
    with connection.cursor() as cursor:
        facts = read_facts(cursor, connection.vendor)
    if facts.tables != manifest["tables"]:
        differing = sorted(
            name
            for name in set(facts.tables) | set(manifest["tables"])
            if facts.tables.get(name) != manifest["tables"].get(name)
        )
        raise BackupError(
            f"the restored database differs from the manifest in {len(differing)} tables, "
            f"first {differing[0]}: {facts.tables.get(differing[0])} rows instead of "
            f"{manifest['tables'].get(differing[0])}."
        )
    result = audit.verify_chain(using=using)
    expected_audit = manifest["audit"]
    if not result.ok:
        raise BackupError(
            f"the restored audit chain is broken at event {result.broken_seq}: {result.reason}."
        )
    if result.head_hash != expected_audit["head_hash"] or result.count != expected_audit["events"]:
        raise BackupError(
            f"the restored audit chain ends at {result.head_hash} after {result.count} events; "
            f"the manifest says {expected_audit['head_hash']} after {expected_audit['events']}."
        )
    missing = set(manifest.get("files", {}).get("missing", []))
    live = EvidenceFile.objects.using(using).filter(disposed_at__isnull=True)
    for evidence in live.exclude(path__in=missing).iterator():
        if not default_storage.exists(evidence.path) or not verify_file(evidence):
            raise BackupError(
                f"evidence file {evidence.pk} ({evidence.path}) is missing or does not match "
                "its SHA-256 after the restore."
            )
    audit.record(
        "backup.restored",
        object_type="core.backup",
        object_label=archive_name,
        changes={
            "archive": archive_name,
            "created_at": manifest.get("created_at"),
            "harken_version": manifest.get("harken_version"),
            "audit_head_seq": expected_audit.get("head_seq"),
            "audit_head_hash": expected_audit["head_hash"],
        },
    )
    return RestoreResult(
        manifest=manifest,
        tables=len(facts.tables),
        rows=sum(facts.tables.values()),
        files_restored=restored,
        files_present=present,
        audit_events=result.count,
        audit_head_hash=result.head_hash,
        pending_migrations=pending_migrations(using),
    )
